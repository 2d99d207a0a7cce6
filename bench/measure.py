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
    """What one command cost. Its "tree" is the command and every process it forks (they stay in
    the launcher's process group; ``gnnviz explain`` and ``visualize`` fork ``viz/helper.py``)."""

    seconds: float  # wall clock, start to exit
    # The largest peak resident set of any one process of the tree (os.wait4: Linux reports the max
    # over the command and the descendants it reaped, never their sum), not that of the largest
    # child this bench ran so far. A fork's RSS includes the pages it shares with its parent.
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    # User + system CPU time of the tree (reaped descendants included): what load cannot inflate much.
    cpu_seconds: float = float("nan")
    # With ``run_process(sample=...)``, the peak over samples of the tree's summed memory
    # (/proc/PID/smaps_rollup): Pss splits each shared page among the processes that map it (their
    # sum is what the tree holds of the machine's memory); Rss counts a shared page in each (an
    # upper bound). A peak shorter than the sampling interval can be missed; nan without sampling.
    tree_pss_mb: float = float("nan")
    tree_rss_mb: float = float("nan")

    @property
    def peak_mb(self) -> float:
        """The tree's peak memory, as far as measured: the larger of ``max_rss_mb`` (one process's
        pages are all held by the tree) and ``tree_pss_mb``."""
        return self.max_rss_mb if math.isnan(self.tree_pss_mb) else max(self.max_rss_mb, self.tree_pss_mb)


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


def run_process(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 900,
    sample: float | None = None,
) -> Proc:
    """Run ``args`` to completion; a run past ``timeout`` seconds is killed (returncode -9).
    ``sample``: seconds between samples of the tree's memory (``Proc.tree_pss_mb``), or None."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-c", _LAUNCHER, rss.name, *args], stdout=out, stderr=err, env=env, cwd=cwd)
        timer = threading.Timer(timeout, lambda: _kill(p.pid))
        timer.start()
        peaks = [float("nan"), float("nan")]
        sampler = None
        if sample is not None:
            sampler = threading.Thread(target=_sample_tree, args=(p, sample, peaks), daemon=True)
            sampler.start()
        try:
            p.wait()
        finally:
            timer.cancel()
            if sampler is not None:
                sampler.join()
        seconds = time.perf_counter() - start
        killed = p.returncode < 0
        out.seek(0)
        err.seek(0)
        peak, _, cpu = rss.read().strip().partition(" ")
        return Proc(
            seconds, int(peak) / 1024 if peak else float("nan"), -9 if killed else p.returncode,
            out.read().decode(errors="replace"), err.read().decode(errors="replace"), float(cpu) if cpu else float("nan"),
            *peaks,
        )  # fmt: skip


def _sample_tree(p: subprocess.Popen, interval: float, peaks: list[float]) -> None:
    """Until ``p`` (the launcher) exits: every ``interval`` seconds, sum Pss and Rss (MB) over the
    processes of its group but itself; the largest sums go to ``peaks`` ([pss, rss]) at the end."""
    best_pss = best_rss = 0
    while p.poll() is None:
        pss = rss = 0
        for pid in _group(p.pid):
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            pss += int(line.split()[1])
                        elif line.startswith("Rss:"):
                            rss += int(line.split()[1])
            except (OSError, ValueError, IndexError):
                pass  # ended meanwhile
        best_pss, best_rss = max(best_pss, pss), max(best_rss, rss)
        time.sleep(interval)
    if best_rss:
        peaks[:] = [best_pss / 1024, best_rss / 1024]


def _group(pgid: int) -> list[int]:
    """The processes of process group ``pgid`` but its leader (the launcher)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == pgid:
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after its last ')'
        if int(stat.rpartition(")")[2].split()[2]) == pgid:
            found.append(int(name))
    return found


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def load() -> float:
    """The 1-minute load average: other work on the machine inflates every timing."""
    return round(os.getloadavg()[0], 2)
