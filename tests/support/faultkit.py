"""Fault injection at the OS boundary, as SQLite tests its I/O errors.

``Faults`` counts every file operation the code under test makes on files under one folder
(``open``, ``read``, ``write``, ``fsync``, ``rename``) and makes the N-th one of a kind fail with a
chosen errno, or runs an action there instead (e.g. sends SIGINT). It wraps Python's own entry
points (``builtins.open``/``io.open``/``os.fdopen`` file objects, ``os.replace``, ``os.rename``,
``os.fsync``, ``os.pwrite``), not gnnviz functions: it keeps working however gnnviz is organised.

Used in-process by ``tests/contracts/test_faults.py`` and ``tests/contracts/test_faults_visualize.py`` (through
``tests/support/faultcases.py``) and, for signals, in a subprocess through
``python -m tests.support.faultkit SPEC -- gnnviz-args...`` where SPEC is ``kind:N:SIGNAME``.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

KINDS = ("open", "read", "write", "fsync", "rename")
_REAL = {
    "open": builtins.open,
    "fdopen": os.fdopen,
    "replace": os.replace,
    "rename": os.rename,
    "fsync": os.fsync,
    "pwrite": os.pwrite,
}


class Faults:
    """Count file operations under ``root``; fail (or act at) the ``n``-th one of ``kind``."""

    def __init__(
        self,
        root: Path,
        kind: str | None = None,
        n: int = 0,
        err: int = errno.EIO,
        action: Callable[[], None] | None = None,
        persistent: bool = False,
    ):
        self.root = os.path.realpath(root)
        self.kind, self.n, self.err, self.action, self.persistent = kind, n, err, action, persistent
        self.counts: Counter[str] = Counter()
        self.fired: tuple[str, str] | None = None  # (kind, path) of the injected failure

    # -------------------------------------------------------------- the one decision point

    def hit(self, kind: str, path: str | None) -> None:
        if path is None or not _under(path, self.root):
            return
        self.counts[kind] += 1
        if kind != self.kind:
            return
        if self.counts[kind] == self.n or (self.persistent and self.counts[kind] > self.n):
            self.fired = self.fired or (kind, path)
            if self.action is not None:
                self.action()
                return
            # As the kernel reports it: open and rename name the file, read/write/fsync do not.
            named = path if kind in ("open", "rename") else None
            raise OSError(self.err, os.strerror(self.err), named)

    # -------------------------------------------------------------- installing

    def __enter__(self) -> Faults:
        faults = self

        def open_(file, mode="r", *args, **kwargs):
            path = _path_of(file)
            faults.hit("open", path)
            f = _REAL["open"](file, mode, *args, **kwargs)
            return _Proxy(f, faults, path) if path is not None and _under(path, faults.root) else f

        def fdopen(fd, *args, **kwargs):
            f = _REAL["fdopen"](fd, *args, **kwargs)
            try:
                path = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                return f
            return _Proxy(f, faults, path) if _under(path, faults.root) else f

        def replace(src, dst, *args, **kwargs):
            faults.hit("rename", _path_of(dst))
            return _REAL["replace"](src, dst, *args, **kwargs)

        def rename(src, dst, *args, **kwargs):
            faults.hit("rename", _path_of(dst))
            return _REAL["rename"](src, dst, *args, **kwargs)

        def fsync(fd):
            faults.hit("fsync", _fd_path(fd))
            return _REAL["fsync"](fd)

        def pwrite(fd, data, offset):
            faults.hit("write", _fd_path(fd))
            return _REAL["pwrite"](fd, data, offset)

        builtins.open = io.open = open_
        os.fdopen, os.replace, os.rename, os.fsync, os.pwrite = fdopen, replace, rename, fsync, pwrite
        return self

    def __exit__(self, *exc) -> None:
        builtins.open = io.open = _REAL["open"]
        os.fdopen, os.replace, os.rename = _REAL["fdopen"], _REAL["replace"], _REAL["rename"]
        os.fsync, os.pwrite = _REAL["fsync"], _REAL["pwrite"]


class _Proxy:
    """A file object whose reads and writes pass through ``Faults.hit`` first."""

    def __init__(self, f, faults: Faults, path: str):
        self._f, self._faults, self._path = f, faults, path

    def _op(self, kind: str, name: str):
        method = getattr(self._f, name)

        def call(*args, **kwargs):
            self._faults.hit(kind, self._path)
            return method(*args, **kwargs)

        return call

    def __getattr__(self, name: str):
        if name in ("read", "readinto", "readline", "readlines", "read1", "readinto1"):
            return self._op("read", name)
        if name in ("write", "writelines"):
            return self._op("write", name)
        return getattr(self._f, name)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def _path_of(file) -> str | None:
    if isinstance(file, int):
        return _fd_path(file)
    try:
        return os.path.realpath(os.fsdecode(os.fspath(file)))
    except TypeError:
        return None


def _fd_path(fd) -> str | None:
    try:
        return os.readlink(f"/proc/self/fd/{int(fd)}")
    except (OSError, TypeError, ValueError):
        return None


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


# ----------------------------------------------------------------------------- subprocess runner


def main(argv: list[str]) -> None:
    """``python -m tests.support.faultkit ROOT kind:N:SIGNAL -- gnnviz args``: send SIGNAL to ourselves at
    the N-th file operation of ``kind`` under ROOT, then run the CLI as ``gnnviz`` would."""
    root, spec, sep, *args = argv
    assert sep == "--"
    kind, n, signame = spec.split(":")
    sig = getattr(signal, signame)
    faults = Faults(Path(root), kind, int(n), action=lambda: os.kill(os.getpid(), sig))
    from gnnviz import cli

    with faults:
        cli.main(args)


if __name__ == "__main__":
    main(sys.argv[1:])
