"""A run's status: which process writes it, whether that process still runs, whether it finished.

``process_fields`` go into ``summary.json`` while training; ``process_alive`` tells a live
``running`` run from a dead one; ``_check_status`` turns an unfinished run into the error that
says why (still running, died, failed or interrupted).
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from gnnviz.errors import RunError


def process_fields() -> dict[str, Any]:
    """Who is writing this run: enough for a reader to tell a live run from a dead one."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "pid_started": _process_start(os.getpid()),
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _process_start(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def process_alive(summary: dict[str, Any]) -> bool | None:
    """Whether the process that wrote a ``running`` summary still runs: None when it cannot be told
    (another host, no pid recorded)."""
    pid = summary.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    if summary.get("host") not in (None, socket.gethostname()):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):
        return None  # not a pid of this machine (the summary's schema refuses it first)
    except OSError:
        pass  # EPERM: it exists, owned by someone else
    started = summary.get("pid_started")
    return not (isinstance(started, int) and _process_start(pid) not in (None, started))


def _check_status(path: Path, summary: dict[str, Any]) -> None:
    """A run that is not finished says why: still running, died, failed or stopped early."""
    status = summary.get("status")
    if status == "running":
        alive = process_alive(summary)
        pid = summary.get("pid")
        if alive is False:
            raise RunError(
                f"the run died (process {pid} gone) before it finished: {path} has no final state; train again with 'gnnviz train --config ...'"
            )
        if alive:
            raise RunError(
                f"{path} is still training (process {pid}); wait for it to finish ('gnnviz runs' shows how far it is), then run this again"
            )
        host = summary.get("host")
        where = f" on {host}" if host else ""
        raise RunError(f"{path} says it is still training{where} (or it died there); wait for it or train again")
    if status == "failed" and not (path / "checkpoint.pt").is_file():
        reason = summary.get("error") or "no reason recorded"
        raise RunError(f"{path} failed ({reason}) and has no checkpoint; fix the cause and train again")
    if status == "interrupted" and not (path / "checkpoint.pt").is_file():
        raise RunError(f"{path} was interrupted before it saved a checkpoint; train again")
