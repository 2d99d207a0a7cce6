"""Fault injection into ``gnnviz visualize`` of a karate run (issue 8; the invariants are listed in
``tests/contracts/test_faults.py``): every file operation of a whole visualize, warm and cold, fails in turn,
a signal arrives at every file operation, and every file it reads (run files, cache entries) is
emptied, cut short, bit-flipped or replaced by garbage.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from tests.support import faultcases
from tests.support.cli import run_cli
from tests.support.faultcases import (
    ERRNOS,
    FULL,
    VIZ_SMALL,
    Faults,
    broken_invariants,
    damages,
    digest,
    leftovers,
    parses_same,
    sample,
    signal_sweep,
)

# The shared fixtures: a private data root, and an earlier run that nothing may touch.
space = faultcases.space
earlier = faultcases.earlier


def _sweep_visualize(space: Path, earlier: Path, capsys, kind: str, wanted: int, cold: bool) -> tuple[int, list[str]]:
    before = digest(earlier)
    cache = space / "cache"

    def args(out: Path) -> list:
        return ["visualize", "--run", earlier, "--out", out, "--quiet", *VIZ_SMALL]

    if cold:
        shutil.rmtree(cache, ignore_errors=True)
    with Faults(space) as probe:
        code, _, err = run_cli(capsys, *args(space / "viz-probe"))
    assert code == 0, err
    shutil.rmtree(space / "viz-probe")
    problems: list[str] = []
    ns = sample(probe.counts[kind], wanted)
    for n in ns:
        out = space / f"viz-{kind}-{n}"
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        faults = Faults(space, kind, n, ERRNOS[n % len(ERRNOS)])
        with faults:
            code, stdout, err = run_cli(capsys, *args(out))
        where = f"visualize ({'cold' if cold else 'warm'}), {kind} #{n} ({errno.errorcode[faults.err]} at {faults.fired[1] if faults.fired else '-'})"
        problems += [f"{where}: {p}" for p in broken_invariants(code, err, faults)]
        problems += [f"{where}: left {p}" for p in leftovers(space)]
        if code == 0 and stdout.strip().splitlines()[-1:] != [str(out)]:
            problems.append(f"{where}: stdout's last line is not the output folder: {stdout!r}")
        if digest(earlier) != before:
            problems.append(f"{where}: the run or its earlier figures changed")
        again, _, err = run_cli(capsys, *args(out))
        if again != 0:
            problems.append(f"{where}: the next visualize failed: {err.strip()}")
        shutil.rmtree(out, ignore_errors=True)
    return len(ns), problems


@pytest.mark.parametrize("kind", ["write", "rename", "fsync", "read", "open"])
@pytest.mark.parametrize("cold", [False, True], ids=["warm", "cold"])
def test_every_file_operation_of_visualize_may_fail(space, earlier, capsys, kind, cold):
    done, problems = _sweep_visualize(space, earlier, capsys, kind, wanted=3, cold=cold)
    assert done >= 1
    assert problems == [], "\n".join(problems)


# ----------------------------------------------------------------------------- a signal at every file operation


def test_a_signal_at_every_file_operation_of_visualize(space, earlier, capsys):
    """Phases are separated by file operations (the layout and t-SNE caches, each figure, the
    page): a signal at each of them."""
    problems = signal_sweep(space, earlier, capsys, "visualize")
    assert problems == [], "\n".join(problems)


# ----------------------------------------------------------------------------- every file read, damaged


@pytest.mark.parametrize(
    "which",
    [
        "run",
        "cache",
    ],
)
def test_every_file_visualize_reads_may_be_damaged(space, earlier, capsys, tmp_path, which):
    """Every file of the run directory and every cache entry: emptied, cut in half, bit-flipped,
    replaced by garbage. A damaged run file is named (exit 1); a damaged cache entry is recomputed."""
    # Warm the cache, then learn which files visualize reads.
    code, _, err = run_cli(capsys, "visualize", "--run", earlier, "--out", tmp_path / "probe", "--quiet")
    assert code == 0, err
    run_files = sorted(p for p in earlier.iterdir() if p.is_file())
    cache_files = sorted(p for p in (space / "cache").rglob("*") if p.is_file())
    assert cache_files, "visualize wrote no cache entries"
    problems = []
    for path in run_files if which == "run" else cache_files:
        original = path.read_bytes()
        for how, data in damages(original).items():
            if how != "truncated" and not FULL and path in cache_files[1:]:
                continue
            work = tmp_path / "run"
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(earlier, work)
            target = work / path.name if path in run_files else path
            target.write_bytes(data)
            code, out, err = run_cli(capsys, "visualize", "--run", work, "--out", tmp_path / "v", "--quiet")
            where = f"visualize with {how} {path.name}"
            lines = err.strip().splitlines()
            if "Traceback" in err or "unexpected" in err:
                problems.append(f"{where}: {err.strip()[-300:]}")
            elif path in cache_files:
                if code != 0:
                    problems.append(f"{where}: a damaged cache entry was not recomputed: {err.strip()}")
            elif code == 0:
                # summary.json is padded with spaces: its first half can still be the whole JSON.
                same = path.name == "summary.json" and parses_same(data, original)
                if path.name not in ("metrics.csv",) and data != original and not same:
                    # A damaged metrics.csv may still draw (rows cut by a kill are dropped); others may not.
                    problems.append(f"{where}: accepted silently")
            elif code != 1 or len(lines) != 1 or path.name not in lines[0]:
                problems.append(f"{where}: exit {code}, expected one line naming {path.name}: {err.strip()}")
            if path in cache_files:
                path.write_bytes(original)
            shutil.rmtree(tmp_path / "v", ignore_errors=True)
    assert problems == [], "\n".join(problems)
