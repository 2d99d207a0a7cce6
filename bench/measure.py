"""Timing helpers: alternating in-process rounds, and child processes with their own peak RSS."""

from __future__ import annotations

import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


def alternate(
    contenders: dict[str, Callable[[], Any]], rounds: int, warmup: int = 3, budget: float = math.inf, min_rounds: int = 5
) -> dict[str, list[float]]:
    """Seconds per call of each contender, called once per round in an order that rotates every
    round (so that none always runs right after another), after ``warmup`` untimed rounds.

    Stops after ``min_rounds`` once ``budget`` seconds have passed: a busy machine can make the
    reference 20x slower, and the whole suite must still finish in minutes."""
    names = list(contenders)
    start = time.perf_counter()
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        if r >= min_rounds and time.perf_counter() - start > budget:
            break
        k = r % len(names)
        for name in names[k:] + names[:k]:
            t0 = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


@dataclass
class Proc:
    seconds: float  # wall clock, start to exit
    max_rss_mb: float  # the child's own peak resident set (os.wait4), not the largest child so far
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = float("nan")  # the child's user + system CPU time: what load cannot inflate much


# Linux carries a process's peak RSS across fork and exec, so a child forked straight from this
# (large) process would report at least our own size. A small launcher forks the command instead
# and writes the command's own peak (KiB) to the file named first. It leads a process group of
# its own (to be killed as one on timeout) but stays in our session: Linux schedules sessions as
# groups, and every contender should get the same share of the machine.
_LAUNCHER = """
import os, sys
os.setpgid(0, 0)
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def run_process(args: Sequence[str], *, env: dict[str, str] | None = None, cwd: str | None = None, timeout: float = 900) -> Proc:
    """Run ``args`` to completion; a run past ``timeout`` seconds is killed (returncode -9)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-c", _LAUNCHER, rss.name, *args], stdout=out, stderr=err, env=env, cwd=cwd)
        timer = threading.Timer(timeout, lambda: _kill(p.pid))
        timer.start()
        try:
            p.wait()
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        killed = p.returncode < 0
        out.seek(0)
        err.seek(0)
        peak, _, cpu = rss.read().strip().partition(" ")
        return Proc(
            seconds, int(peak) / 1024 if peak else float("nan"), -9 if killed else p.returncode,
            out.read().decode(errors="replace"), err.read().decode(errors="replace"), float(cpu) if cpu else float("nan"),
        )  # fmt: skip


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def load() -> float:
    """The 1-minute load average: other work on the machine inflates every timing."""
    return round(os.getloadavg()[0], 2)
