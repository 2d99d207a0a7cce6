"""Shared pieces of the fault-injection tests (``tests/contracts/test_faults.py`` for ``train``,
``tests/contracts/test_faults_visualize.py`` for ``visualize``; two files so that the parallel test run can
give them a worker each): the invariants every injected command must
keep, the private data root with an earlier run that nothing may touch, and the signal sweep.

The fast subset (``make test``, also in CI) samples N; ``GNNVIZ_FULL_FAULTS=1`` runs every N (over an hour).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gnnviz import env
from tests.support.cli import run_cli
from tests.support.faultkit import Faults

REPO = Path(__file__).resolve().parents[2]
FULL = env.flag("GNNVIZ_FULL_FAULTS")
ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EIO)
KARATE_YAML = "dataset:\n  name: karate\nmodel:\n  name: gat\n  hidden: 16\n  heads: 2\ntraining:\n  epochs: 4\n  patience: 0\n"
TEMP_MARKS = (".tmp", ".partial")
# Every stage of visualize (layout, t-SNE, attention, drawing, page) with the fewest figures: the sweep's cost.
VIZ_SMALL = ("--top-k", "0", "--layers", "0", "--heads", "0")


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and a hash of its bytes."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.name.endswith(TEMP_MARKS) or p.name.startswith(".tmp")]


def sample(count: int, wanted: int) -> list[int]:
    """All of 1..count in the full sweep; else about ``wanted`` of them, first and last included."""
    if FULL or count <= wanted:
        return list(range(1, count + 1))
    step = count / (wanted - 1)
    return sorted({1, count, *(int(1 + i * step) for i in range(wanted - 1))})


def broken_invariants(code: int, err: str, faults: Faults, *, allowed=(0, 1)) -> list[str]:
    """What is wrong with one injected command's exit and stderr (empty: nothing)."""
    problems = []
    if faults.fired is None:
        allowed = (0,)
    if code not in allowed:
        problems.append(f"exit {code}, expected one of {allowed}")
    if "Traceback" in err:
        problems.append("a traceback on stderr")
    lines = err.strip().splitlines()
    if code != 0:
        if len(lines) != 1 or not lines[0].startswith("error: "):
            problems.append(f"stderr is not one error line: {err!r}")
        elif "unexpected" in lines[0]:
            problems.append(f"catch-all message: {lines[0]}")
        elif faults.action is None and faults.fired is not None:
            name = errno.errorcode[faults.err]
            if name not in lines[0] and os.strerror(faults.err) not in lines[0]:
                problems.append(f"the cause ({name}) is not named: {lines[0]}")
            if "a file operation failed" in lines[0] or "/" not in lines[0]:
                problems.append(f"no file named: {lines[0]}")
    elif err.strip():
        problems.append(f"stderr on success: {err!r}")
    return problems


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    """A private data root, cache and output folder; an earlier run that nothing may touch."""
    root = tmp_path_factory.mktemp("faults")
    (root / "karate.yaml").write_text(KARATE_YAML)
    # One CPU: in this (threaded) pytest process visualize then draws in-process instead of forking
    # a pool, which can deadlock after a fork from a threaded parent; and the sweep leaves the
    # other cores to the rest of the suite.
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GNNVIZ_DATA_ROOT", str(root / "data"))
        mp.setenv("GNNVIZ_CACHE_DIR", str(root / "cache"))
        mp.setenv("OMP_NUM_THREADS", "1")
        mp.delenv("GNNVIZ_DEBUG", raising=False)
        try:
            yield root
        finally:
            os.sched_setaffinity(0, cpus)


def train_args(space: Path, name: str) -> list:
    return ["train", "--config", space / "karate.yaml", "--out", space / "out", "--name", name, "--quiet"]


@pytest.fixture(scope="module")
def earlier(space):
    """A trained and visualized run, made before any injection."""
    from gnnviz import cli

    for args in (train_args(space, "earlier"), ["visualize", "--run", space / "out" / "earlier", "--quiet"]):
        with pytest.raises(SystemExit) as exc:
            cli.main([str(a) for a in args])
        assert exc.value.code == 0
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return space / "out" / "earlier"


# ----------------------------------------------------------------------------- a signal at every file operation


def _env(space: Path) -> dict[str, str]:
    env = {**os.environ, "GNNVIZ_OFFLINE": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    env.update(GNNVIZ_DATA_ROOT=str(space / "data"), GNNVIZ_CACHE_DIR=str(space / "cache"))
    env.pop("GNNVIZ_DEBUG", None)
    return env


def _signalled(space: Path, spec: str, args: list) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.support.faultkit", str(space), spec, "--", *map(str, args)],
        cwd=REPO, capture_output=True, text=True, env=_env(space), timeout=300,
    )  # fmt: skip


SIGNALS = {"SIGINT": 130, "SIGTERM": 143}


def signal_sweep(space: Path, earlier: Path, capsys, command: str) -> list[str]:
    """Phases are separated by file operations (dataset cache, config, each epoch's row, the
    checkpoint, the layout and t-SNE caches, each figure, the page): a signal at each of them."""
    if command == "train":

        def args(i):
            return train_args(space, f"sig-{i}")
    else:

        def args(i):
            return ["visualize", "--run", earlier, "--out", space / f"sigviz-{i}", "--quiet", *VIZ_SMALL]

    with Faults(space) as probe:
        code, _, err = run_cli(capsys, *args("probe"))
    assert code == 0, err
    total = sum(probe.counts[k] for k in ("write", "rename", "read"))
    points = [(k, n) for k in ("write", "rename", "read") for n in range(1, probe.counts[k] + 1)]
    assert len(points) == total
    chosen = points if FULL else [points[i] for i in sample(len(points), 6)[:-1]] + [points[-1]]
    before = digest(earlier)
    problems = []
    for i, (kind, n) in enumerate(chosen):
        signame = "SIGINT" if i % 2 == 0 else "SIGTERM"
        r = _signalled(space, f"{kind}:{n}:{signame}", args(i))
        where = f"{command}, {signame} at {kind} #{n}"
        if r.returncode not in (0, SIGNALS[signame]):
            problems.append(f"{where}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
        if "Traceback" in r.stderr or "unexpected" in r.stderr:
            problems.append(f"{where}: {r.stderr.strip()[-300:]}")
        problems += [f"{where}: left {p}" for p in leftovers(space)]
        if command == "train":
            run = space / "out" / f"sig-{i}"
            if run.exists():
                summary = json.loads((run / "summary.json").read_text())
                if summary.get("status") == "running":
                    problems.append(f"{where}: summary.json says running")
                if not any((run / f).is_file() for f in ("checkpoint.pt", "metrics.csv")):
                    problems.append(f"{where}: an empty run directory was left")
            shutil.rmtree(run, ignore_errors=True)
        else:
            shutil.rmtree(space / f"sigviz-{i}", ignore_errors=True)
        if digest(earlier) != before:
            problems.append(f"{where}: the earlier run changed")
    code, _, err = run_cli(capsys, *args("after"))
    if code != 0:
        problems.append(f"the next {command} failed: {err.strip()}")
    return problems


# ----------------------------------------------------------------------------- every file read, damaged


def damages(data: bytes) -> dict[str, bytes]:
    half = data[: len(data) // 2]
    flipped = bytearray(data)
    for i in range(len(flipped) // 3, len(flipped), max(len(flipped) // 7, 1)):
        flipped[i] ^= 0x5A
    return {"empty": b"", "truncated": half, "corrupt": bytes(flipped), "garbage": b"\xff\xfe\x00not a file\x00" * 3}


def parses_same(a: bytes, b: bytes) -> bool:
    try:
        return json.loads(a) == json.loads(b)
    except ValueError:
        return False
