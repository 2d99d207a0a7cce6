"""Fault injection as a test suite (issue 8, items 2-5): every file operation of a whole ``train`` and a
whole ``visualize`` of the karate graph fails in turn (``visualize``: ``tests/contracts/test_faults_visualize.py``), a signal arrives at every file operation,
and every file the commands read is truncated or corrupted. After each injection the invariants hold:

- the exit code is 0 (the fault only hit a cache) or 1 (130/143 for signals);
- stderr is exactly one ``error: ...`` line naming the cause (and the file), no traceback, and
  never the catch-all ``unexpected`` message;
- no temporary or partial file is left anywhere;
- a run directory that exists tells the truth: ``summary.json`` parses and never says
  ``running``; a failure before the first epoch leaves no run directory;
- nothing that existed before (an earlier run, its figures) changed;
- the same command, run again without the fault, succeeds.

The fast subset (``make test``, also in CI) samples N; ``GNNVIZ_FULL_FAULTS=1`` runs every N (over an hour).
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pytest

from tests.support import faultcases
from tests.support.cli import run_cli
from tests.support.faultcases import (
    ERRNOS,
    Faults,
    broken_invariants,
    damages,
    digest,
    leftovers,
    sample,
    signal_sweep,
    train_args,
)

# The shared fixtures: a private data root, and an earlier run that nothing may touch.
space = faultcases.space
earlier = faultcases.earlier


# ----------------------------------------------------------------------------- every write, rename, fsync, read, open


def _sweep_train(space: Path, earlier: Path, capsys, kind: str, wanted: int) -> tuple[int, list[str]]:
    before = digest(earlier)
    with Faults(space) as probe:
        code, _, err = run_cli(capsys, *train_args(space, "probe-" + kind))
    assert code == 0, err
    shutil.rmtree(space / "out" / ("probe-" + kind))
    problems: list[str] = []
    ns = sample(probe.counts[kind], wanted)
    for n in ns:
        name = f"{kind}-{n}"
        run = space / "out" / name
        faults = Faults(space, kind, n, ERRNOS[n % len(ERRNOS)])
        with faults:
            code, out, err = run_cli(capsys, *train_args(space, name))
        where = f"train, {kind} #{n} ({errno.errorcode[faults.err]} at {faults.fired[1] if faults.fired else '-'})"
        # ENOSPC, EFBIG and EIO are the machine's failures (exit 1), reading the config included; only a
        # wrong path (EACCES, ENOENT...) makes an unreadable config a usage error (exit 2).
        problems += [f"{where}: {p}" for p in broken_invariants(code, err, faults)]
        problems += [f"{where}: left {p}" for p in leftovers(space)]
        if code == 0 and out.strip().splitlines()[-1:] != [str(run)]:
            problems.append(f"{where}: stdout's last line is not the run directory: {out!r}")
        if run.exists():
            try:
                summary = json.loads((run / "summary.json").read_text())
            except (OSError, ValueError) as exc:
                problems.append(f"{where}: summary.json unreadable after the failure: {exc}")
            else:
                if summary.get("status") == "running":
                    problems.append(f"{where}: summary.json still says running")
                if code != 0 and summary.get("status") in ("failed",) and not summary.get("error"):
                    problems.append(f"{where}: a failed run records no reason")
                if summary.get("status") in ("completed", "early_stopped") and not (run / "checkpoint.pt").is_file():
                    problems.append(f"{where}: says {summary['status']} but has no checkpoint")
            if not any((run / f).is_file() for f in ("checkpoint.pt", "metrics.csv")):
                problems.append(f"{where}: an empty run directory was left: {sorted(p.name for p in run.iterdir())}")
        if digest(earlier) != before:
            problems.append(f"{where}: the earlier run changed")
        again, _, err = run_cli(capsys, *train_args(space, name + "-again"))
        if again != 0:
            problems.append(f"{where}: the next run failed: {err.strip()}")
        for p in (run, space / "out" / (name + "-again")):
            shutil.rmtree(p, ignore_errors=True)
    return len(ns), problems


@pytest.mark.parametrize("kind", ["write", "rename", "fsync", "read", "open"])
def test_every_file_operation_of_train_may_fail(space, earlier, capsys, kind):
    done, problems = _sweep_train(space, earlier, capsys, kind, wanted=4)
    assert done >= 1
    assert problems == [], "\n".join(problems)


# ----------------------------------------------------------------------------- a signal at every file operation


def test_a_signal_at_every_file_operation_of_train(space, earlier, capsys):
    """Phases are separated by file operations (dataset cache, config, each epoch's row, the
    checkpoint): a signal at each of them."""
    problems = signal_sweep(space, earlier, capsys, "train")
    assert problems == [], "\n".join(problems)


# ----------------------------------------------------------------------------- every file read, damaged


def test_every_file_train_reads_may_be_damaged(space, capsys, tmp_path):
    """The config and every file of the karate dataset cache: a damaged one is named or rebuilt,
    and never poisons the next run."""
    code, _, err = run_cli(capsys, *train_args(space, "cachefill"))
    assert code == 0, err
    shutil.rmtree(space / "out" / "cachefill")
    data_files = sorted(p for p in (space / "data").rglob("*") if p.is_file() and not p.name.startswith("."))
    problems = []
    config = space / "karate.yaml"
    for path in [config, *data_files]:
        original = path.read_bytes()
        for how, data in damages(original).items():
            path.write_bytes(data)
            name = f"dmg-{path.name}-{how}"
            code, out, err = run_cli(capsys, *train_args(space, name))
            where = f"train with {how} {path.name}"
            if "Traceback" in err or "unexpected" in err:
                problems.append(f"{where}: {err.strip()[-300:]}")
            elif code not in (0, 1, 2) or (code != 0 and len(err.strip().splitlines()) != 1):
                problems.append(f"{where}: exit {code}: {err.strip()}")
            elif code != 0 and path == config and str(path) not in err:
                problems.append(f"{where}: the config is not named: {err.strip()}")
            path.write_bytes(original)
            shutil.rmtree(space / "out" / name, ignore_errors=True)
            again, _, err = run_cli(capsys, *train_args(space, name + "-again"))
            if again != 0:
                problems.append(f"{where}: the next run (good files) failed: {err.strip()}")
            shutil.rmtree(space / "out" / (name + "-again"), ignore_errors=True)
    assert problems == [], "\n".join(problems)
