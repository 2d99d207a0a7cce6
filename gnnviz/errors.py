"""The one error family and the exit codes it maps to. Library code raises these; only
``gnnviz.cli.exits`` prints them and ends the process with an ``ExitCode``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import TypeVar

T = TypeVar("T")


class ExitCode(IntEnum):
    """The ``gnnviz`` command's exit status: the contract scripts rely on (the README's table).

    Here, not in the CLI, because the library reports them too: an error's ``exit_code``, and the
    launcher of ``train --nproc`` turning its ranks' exits into one.
    """

    OK = 0
    FAILURE = 1  # a failure at run time (a run directory may say ``failed``)
    USAGE = 2  # bad config, option or argument: nothing was created
    INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + 2, as shells report a process the signal ended
    TERMINATED = 143  # SIGTERM: 128 + 15


class GnnvizError(Exception):
    """A problem the user can fix. The message is one line: what is wrong and what to do.

    ``exit_code`` follows the CLI contract: ``USAGE`` for usage/config errors (nothing started),
    ``FAILURE`` for failures at run time.
    """

    exit_code = ExitCode.FAILURE


class ConfigError(GnnvizError):
    """Bad config, option or argument: detected before anything is created."""

    exit_code = ExitCode.USAGE


class DataError(GnnvizError):
    """A dataset cannot be found, read or prepared."""


class RunError(GnnvizError):
    """A run directory or checkpoint is missing, incomplete or foreign."""


class DivergedError(GnnvizError):
    """Training produced a non-finite loss."""


class PeerLost(GnnvizError):
    """Distributed training: another rank stopped (died, was killed or failed), so this one cannot go on."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def lookup(table: Mapping[str, T], name: str, kind: str, error: type[GnnvizError] = ConfigError) -> T:
    """``table[name]``, or an error listing the valid choices and a close match."""
    if name in table:
        return table[name]
    choices = ", ".join(sorted(table))
    raise error(f"unknown {kind} '{name}'; choose one of {choices}{did_you_mean(name, table)}")


class Terminated(BaseException):
    """SIGTERM, turned into an exception so training can save and shut down cleanly.

    A BaseException (like KeyboardInterrupt) so that no ``except Exception`` swallows it.
    """


# ----------------------------------------------------------------------------- the environment

# errno -> (what it means to a user, what to do). Every OSError reaches the user through this
# table: a full disk or a read-only folder is something to fix, never "unexpected".
_OS_CAUSES: dict[str, tuple[str, str]] = {
    "ENOSPC": ("no space left on the device", "free some space or write elsewhere (--out, --data-root, GNNVIZ_CACHE_DIR)"),
    "EDQUOT": ("disk quota exceeded", "free some space or write elsewhere (--out, --data-root, GNNVIZ_CACHE_DIR)"),
    "EFBIG": ("file too large for the file-size limit", "raise the limit ('ulimit -f unlimited') or write elsewhere"),
    "EIO": ("input/output error from the device", "check the disk (dmesg) and try again"),
    "EROFS": ("read-only file system", "write elsewhere (--out, --data-root, GNNVIZ_CACHE_DIR)"),
    "EACCES": ("permission denied", "fix the permissions or use a folder you own"),
    "EPERM": ("operation not permitted", "fix the permissions or use a folder you own"),
    "EMFILE": ("too many open files", "raise the limit ('ulimit -n 4096') and try again"),
    "ENFILE": ("too many open files on the system", "close other programs and try again"),
    "ENOMEM": ("out of memory", "close other programs or use a smaller dataset"),
    "ENOENT": ("no such file or folder", "check the path"),
    "ENOTDIR": ("a part of the path is a file, not a folder", "check the path"),
    "EISDIR": ("is a folder, not a file", "check the path"),
    "ENAMETOOLONG": ("file name too long", "use a shorter --name or --out"),
    "ELOOP": ("too many symbolic links", "check the path"),
    "ESTALE": ("stale network file handle", "remount the file system and try again"),
    "ENXIO": ("no such device", "check the path"),
    "ETXTBSY": ("file busy", "try again when the other program has finished"),
    "EBUSY": ("device or resource busy", "try again when the other program has finished"),
    "EAGAIN": ("resource temporarily unavailable", "try again"),
    "EINTR": ("interrupted system call", "try again"),
    "EEXIST": ("already exists", "remove it or choose another name"),
    "EXDEV": ("crosses file systems", "keep the folder on one file system"),
    "ENODEV": ("no such device", "check the path"),
    "EINVAL": ("invalid argument for this file system", "use a local folder"),
    "EBADF": ("bad file descriptor (a closed stream?)", "run the command with its streams open"),
}


def os_error_message(exc: OSError, doing: str | None = None) -> str:
    """One line for an ``OSError``: the file, the cause in words (with its errno name), what to do."""
    import errno as errno_mod
    import os

    name = errno_mod.errorcode.get(exc.errno or 0, "")
    cause, todo = _OS_CAUSES.get(name, (exc.strerror or type(exc).__name__, "check the file and try again"))
    where = exc.filename if exc.filename is not None else None
    if isinstance(where, bytes):
        where = os.fsdecode(where)
    subject = f"{doing} {where}" if doing and where else doing or (f"{where}" if where else "a file operation failed")
    code = f" ({name})" if name else ""
    return f"{subject}: {cause}{code}; {todo}"


def memory_message(exc: BaseException) -> str:
    return (
        f"out of memory ({type(exc).__name__}); close other programs, train on a smaller dataset or batch "
        f"(--set dataset.batch_size=...), or use another --device"
    )


def is_out_of_memory(exc: BaseException) -> bool:
    """MemoryError, torch's OutOfMemoryError, or a RuntimeError from an allocator that gave up."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text or "DefaultCPUAllocator" in text
    )
