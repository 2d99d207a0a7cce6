"""Distributed training: N processes (ranks) started by torchrun, each on its share of the seed nodes.

torchrun (``torch.distributed.run``) starts the ranks and gives each its place in the
environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, the rendezvous address). ``World`` reads
it; ``join`` connects the ranks (gloo on CPU, NCCL on CUDA, one GPU per local rank); training
(``training.steps.make_steps``) splits every batch of seed nodes across them and wraps the model in
DistributedDataParallel. Only rank 0 writes the run directory (``experiment.train``).

``gnnviz train --nproc N`` runs torchrun itself in this process (``launch``): with its output
quietened, the run directory named in advance, and the ranks' failures turned into one line
(``failure_line``) and a run that ends ``failed`` or ``interrupted``, never ``running``
(``settle``). ``torchrun --nproc-per-node N -m gnnviz train ...`` works as well, with torchrun's
own reporting.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gnnviz.errors import ConfigError, ExitCode, PeerLost, Terminated

T = TypeVar("T")

# Set by ``launch`` for its ranks: they leave error lines to the launcher (it prints one).
LAUNCHED_ENV = "GNNVIZ_LAUNCHED"
LAUNCHER_PID_ENV = "GNNVIZ_LAUNCHER_PID"  # the pid ranks watch (set by ``launch``; else their parent)
# Error kinds a rank reports to the launcher (first word of its error-file message).
CONSEQUENCES = ("peer-lost", "interrupted", "terminated")
# How long a rank waits in a collective for the others (``join``): the hang timeout. A rank that
# gives up after waiting this long says so with WAITED; the ranks that did not are the hung ones.
TIMEOUT_ENV = "GNNVIZ_DIST_TIMEOUT"
WAITED = "no answer from another rank within"


def timeout_s() -> float:
    """Seconds a collective waits for every rank (``GNNVIZ_DIST_TIMEOUT``, default 600)."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, "600"))
    except ValueError:
        raise ConfigError(f"{TIMEOUT_ENV}={os.environ[TIMEOUT_ENV]!r} must be a number of seconds, e.g. 600") from None
    if not 0 < value < 10**7:
        raise ConfigError(f"{TIMEOUT_ENV}={value:g} must be between 0 and 10**7 seconds, e.g. 600")
    return value


@dataclass(frozen=True)
class World:
    """This process's place among the ranks training one model; a plain run is rank 0 of 1."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def leader(self) -> bool:
        """Rank 0: the one that writes the run directory and logs."""
        return self.rank == 0

    def all_sum(self, t: T) -> T:
        """``t`` (a tensor) summed over every rank, in place; the same numbers on each."""
        if self.size > 1:
            import torch.distributed as dist

            self.guard(dist.all_reduce)(t)
        return t

    def from_leader(self, t: T) -> T:
        """Rank 0's ``t`` (a tensor) on every rank, in place."""
        if self.size > 1:
            import torch.distributed as dist

            self.guard(dist.broadcast)(t, 0)
        return t

    def guard(self, fn: Callable[..., T]) -> Callable[..., T]:
        """``fn`` with a failed collective (another rank gone) raised as ``PeerLost``."""
        if self.size == 1:
            return fn

        def run(*args: Any, **kwargs: Any) -> T:
            start = time.monotonic()
            try:
                return fn(*args, **kwargs)
            except RuntimeError as exc:
                if not collective_failure(exc):
                    raise
                waited, limit = time.monotonic() - start, timeout_s()
                if waited >= 0.9 * limit:  # the others are alive but one did not come: it hangs
                    raise PeerLost(f"{WAITED} {limit:g} s ({TIMEOUT_ENV})") from None
                # A Ctrl-C or SIGTERM that reached every rank makes the others leave first: give
                # its handler the chance to run here, so that this rank too says "interrupted".
                time.sleep(0.5)
                raise PeerLost(f"another rank stopped during training ({_first_line(exc)})") from None

        return run


def collective_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says a collective could not complete because a peer is gone or timed out."""
    import torch.distributed as dist

    if isinstance(exc, getattr(dist, "DistError", ())):
        return True
    text = str(exc).lower()
    return any(
        s in text for s in ("connection closed", "connection reset", "broken pipe", "gloo", "nccl", "timed out", "peer", "socket")
    )


def from_env() -> World:
    """The place torchrun gave this process, or rank 0 of 1 outside torchrun."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        raise ConfigError(
            "WORLD_SIZE, RANK and LOCAL_RANK must be whole numbers; start ranks with torchrun or gnnviz train --nproc"
        ) from None
    return World(rank, size, local) if size > 1 else World()


def join(world: World, device_spec: str):
    """Connect this rank to the others and return its device: ``cuda:LOCAL_RANK`` with NCCL when
    CUDA is there (and ``run.device`` allows it), else the CPU with gloo."""
    import datetime

    import torch
    import torch.distributed as dist

    check_device(device_spec)
    tie_to_launcher()
    use_cuda = device_spec != "cpu" and torch.cuda.is_available()
    if device_spec == "cuda" and not use_cuda:
        raise ConfigError(
            f"--device cuda asked for CUDA, but CUDA is not available here (torch {torch.__version__}); use --device cpu or auto"
        )
    if use_cuda:
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    # A peer that is gone fails the next collective at once; the timeout bounds a peer that hangs.
    timeout = datetime.timedelta(seconds=timeout_s())
    dist.init_process_group("nccl" if use_cuda else "gloo", timeout=timeout)
    return device


# A rank that outlived its launcher is stopped by SIGTERM (it saves and ends with 143, as after any
# SIGTERM); if it is still there this many seconds later (blocked in a collective), it is ended.
ORPHAN_GRACE_S = 30.0


def tie_to_launcher(poll_s: float = 0.5) -> None:
    """End this rank when the process that started it ends, however that ends (SIGKILL, out of memory).

    Two ties: the kernel's parent-death signal (Linux ``PR_SET_PDEATHSIG``: SIGTERM the moment the
    parent dies), and a daemon thread that watches the parent pid on every system (the parent-death
    signal follows the parent *thread*, and is not there off Linux). A rank whose launcher is already
    gone when it starts is stopped at once."""
    import threading

    recorded = os.environ.get(LAUNCHER_PID_ENV, "")
    parent = int(recorded) if recorded.isdigit() else os.getppid()  # gnnviz's launcher names itself
    armed = parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent:  # it died before the signal was armed
        armed = False
    args = (parent, poll_s, armed)
    threading.Thread(target=_watch_parent, args=args, name="gnnviz-launcher-watch", daemon=True).start()


def parent_death_signal(sig: int) -> bool:
    """Ask the kernel to send ``sig`` when the parent dies; False where it cannot."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, int(sig), 0, 0, 0) == 0  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return False  # the watching thread still ties the rank to its launcher


def _watch_parent(parent: int, poll_s: float, armed: bool) -> None:
    while os.getppid() == parent:
        time.sleep(poll_s)
    if not armed:  # else the kernel has sent it already
        os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(ORPHAN_GRACE_S)
    os._exit(ExitCode.TERMINATED)


def check_device(device_spec: str) -> None:
    """Ranks take the GPU of their local rank: a config naming one GPU cannot be followed."""
    if device_spec not in ("auto", "cpu", "cuda"):
        raise ConfigError(
            f"run.device={device_spec} names one GPU, but each rank takes the GPU of its local rank; use auto, cuda or cpu"
        )


def leave() -> None:
    """Disconnect from the other ranks (nothing outside torchrun)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


# ----------------------------------------------------------------------------- the launcher


def report_to_launcher(kind: str, line: str) -> bool:
    """Hand a rank's one-line error to the launcher through torchrun's error file; False outside torchrun."""
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if not path:
        return False
    data = {"message": f"{kind}: {line}", "timestamp": int(time.time())}
    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f)
    except OSError:
        return False
    return True


def launch(rank_args: list[str], nproc: int, run_dir: Path) -> None:
    """Run ``python -m gnnviz train RANK_ARGS`` as ``nproc`` ranks on this machine under torchrun
    (``torch.distributed.run``, standalone rendezvous on localhost) and wait for them.

    A failure is raised as ``RankFailed`` with one line naming the rank and the cause (after
    ``settle`` made the run directory say so); Ctrl-C or SIGTERM here reach the ranks through
    torchrun, and come back as ``KeyboardInterrupt`` / ``Terminated`` once they have saved.
    """
    import logging

    os.environ[LAUNCHED_ENV] = "1"
    os.environ[LAUNCHER_PID_ENV] = str(os.getpid())
    # torchrun sets 1 thread per rank and says so in a banner; split the cores instead, quietly.
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    from torch.distributed import run as torchrun
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith("torch.distributed"):
            logging.getLogger(name).disabled = True  # torchrun's banners and failure tables
    args = torchrun.parse_args(["--standalone", f"--nproc-per-node={nproc}", "--module", "gnnviz", "train", *rank_args])
    try:
        torchrun.run(args)
    except ChildFailedError as exc:
        failures = {rank: (f.exitcode, f.message, f.pid) for rank, f in exc.failures.items()}
        line, code = failure_line(failures)
        settle(run_dir, line, interrupted=code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED))
        if code == ExitCode.INTERRUPTED:
            raise KeyboardInterrupt from None
        if code == ExitCode.TERMINATED:
            raise Terminated() from None
        raise RankFailed(line, code) from None
    except SignalException as exc:
        settle(run_dir, None, interrupted=True)
        if exc.sigval == signal.SIGINT:
            raise KeyboardInterrupt from None
        raise Terminated() from None


class RankFailed(Exception):
    """A rank failed: ``line`` says which and why; ``code`` is the exit code to end with."""

    def __init__(self, line: str, code: int):
        super().__init__(line)
        self.line, self.code = line, code


def failure_line(failures: dict[int, tuple[int, str, int]]) -> tuple[str, int]:
    """The root cause among ranks' failures ``{rank: (exit code, error-file message, pid)}``, as
    one line and the exit code to end with.

    A rank that ended because another one did is not the cause: it lost its peer, or torchrun
    stopped it (SIGTERM, or our Terminated/KeyboardInterrupt). Of the rest, the lowest rank.
    Where ranks gave up waiting for the others in a collective (``WAITED``), a rank that did not
    give up, and was stopped (or killed, unanswering) by torchrun afterwards, hung: it is named so.
    """
    causes: list[tuple[str, int]] = []
    stopped: list[tuple[str, int]] = []
    waiting = [m.partition(": ")[2] for _, m, _ in failures.values() if (m or "").startswith(f"peer-lost: {WAITED}")]
    for rank, (code, message, pid) in sorted(failures.items()):
        kind, _, text = (message or "").partition(": ")
        if waiting and not text.startswith(WAITED) and (kind in ("terminated", "interrupted") or code < 0):
            limit = waiting[0].removeprefix(WAITED).strip()
            line = f"rank {rank} (pid {pid}) hung: the other ranks had no answer from it within {limit}; it was stopped"
            causes.append((line, ExitCode.FAILURE))
            continue
        if kind in CONSEQUENCES:
            continue
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            line = f"rank {rank} (pid {pid}) was killed by {name}; the other ranks were stopped"
            (stopped if -code in (signal.SIGTERM, signal.SIGINT) else causes).append((line, ExitCode.FAILURE))
        elif kind == "error":
            causes.append((f"rank {rank}: {text}" if rank else text, code))
        else:
            line = f"rank {rank} (pid {pid}) exited with code {code}; rerun with --debug for its traceback"
            causes.append((line, code or ExitCode.FAILURE))
    if causes or stopped:
        return (causes or stopped)[0]
    kinds = {(m or "").partition(": ")[0] for _, m, _ in failures.values()}
    if "interrupted" in kinds:
        return "interrupted", ExitCode.INTERRUPTED
    if "terminated" in kinds:
        return "terminated", ExitCode.TERMINATED
    return f"rank {min(failures)} lost contact with the other ranks", ExitCode.FAILURE


def settle(run_dir: Path, reason: str | None, *, interrupted: bool) -> None:
    """After the ranks are gone: a run directory that still says ``running`` (rank 0 died before
    it could write its ending), or that says ``interrupted`` or ``failed`` with a lost peer because
    torchrun stopped rank 0 after another rank failed, is made to say ``failed`` with ``reason``
    (``interrupted`` when the launcher itself was stopped). A folder with nothing worth keeping
    is removed. ``reason`` None: no rank failed of its own accord."""
    import shutil

    from gnnviz.runs.store import read_summary, record_final

    summary_path = run_dir / "summary.json"
    if not summary_path.is_file():
        return
    try:
        summary = read_summary(summary_path)
    except Exception:  # noqa: BLE001 - a damaged summary is reported by readers as it is
        return
    status, error = summary.get("status"), str(summary.get("error") or "")
    if status == "running":
        if not ((run_dir / "checkpoint.pt").is_file() or _rows(run_dir / "metrics.csv") > 0):
            shutil.rmtree(run_dir, ignore_errors=True)  # as a run stopped before its first epoch
            return
        if interrupted:
            ending = {"status": "interrupted", "error": "interrupted (Ctrl-C / SIGINT)"}
        else:
            ending = {"status": "failed", "error": reason or "rank 0 died"}
    elif (
        not interrupted and reason and ((status == "failed" and error.startswith("PeerLost")) or status == "interrupted")
    ):  # torchrun stopped rank 0 (SIGTERM) because another rank failed: that failure is the ending
        ending = {"status": "failed", "error": reason}
    else:
        return
    record_final(run_dir, {**summary, **ending})


def _rows(path: Path) -> int:
    try:
        with open(path, encoding="utf-8") as f:
            return max(sum(1 for line in f if line.strip()) - 1, 0)
    except OSError:
        return 0


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
