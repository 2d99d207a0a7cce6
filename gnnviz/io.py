"""The one way gnnviz writes a file: atomically, fsynced, named on failure.

Every writer (run files, figures, caches, dataset copies) goes through ``atomic_write_bytes`` (or
its streaming forms ``atomic_write_stream`` and ``atomic_copy``) so that a file holds its old bytes
or its new ones, never a mix, and an ``OSError`` names the file it was writing (see
``gnnviz.errors.os_error_message``). Knows nothing of what a file means.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, flush to disk, then rename over ``path``.

    Any ``OSError`` is raised with ``path`` as its filename (a failed ``write`` names no file),
    and the temporary file is gone: ``path`` holds the old bytes or the new ones, never a mix.
    """
    atomic_write_stream(path, lambda f: f.write(data))


def atomic_write_stream(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """``atomic_write_bytes`` for a writer that streams into the open file (``torch.save(obj, f)``),
    so that a large file is never held in memory whole."""
    tmp = _written(path, write)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        _drop(tmp)
        raise named(exc, path) from None
    except BaseException:
        _drop(tmp)
        raise


def atomic_write_files(files: Sequence[tuple[Path, bytes]]) -> None:
    """Several files replaced as one: each is first written in full to a temporary name in its
    folder and flushed to disk, and only when every one is written are they renamed into place, in
    the order given (a folder's index file last). A failure while writing (a full disk, a file-size
    limit: the ``OSError`` names the file) or a signal leaves every path as it was and no temporary
    file behind; only a rename, which needs no space, can fail between the first and the last."""
    tmps: list[str] = []
    try:
        for path, data in files:
            tmps.append(_written(path, lambda f, data=data: f.write(data)))
    except BaseException:
        for tmp in tmps:
            _drop(tmp)
        raise
    for i, ((path, _), tmp) in enumerate(zip(files, tmps, strict=True)):
        try:
            os.replace(tmp, path)
        except BaseException as exc:
            for rest in tmps[i:]:
                _drop(rest)
            if isinstance(exc, OSError):
                raise named(exc, path) from None
            raise


def _written(path: Path, write: Callable[[BinaryIO], object]) -> str:
    """A temporary file beside ``path`` holding what ``write`` wrote, flushed to disk, with normal
    permissions; on any failure it is gone and an ``OSError`` names ``path``."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        return tmp
    except OSError as exc:
        _drop(tmp)
        raise named(exc, path) from None
    except BaseException:
        _drop(tmp)
        raise


def atomic_copy(source: Path, path: Path) -> None:
    """``path`` becomes a copy of ``source``, written as ``atomic_write_bytes`` writes, in blocks."""
    with open(source, "rb") as src:
        atomic_write_stream(path, lambda f: shutil.copyfileobj(src, f))


def _drop(tmp: str | None) -> None:
    if tmp is not None:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def named(exc: OSError, path: Path | str) -> OSError:
    """``exc`` with ``path`` as its filename, so the message can name the file."""
    if exc.filename is None or str(exc.filename).startswith(str(Path(path).parent / ".")):
        return type(exc)(exc.errno, exc.strerror or str(exc), str(path))
    return exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_torch_save(path: Path, obj: Any) -> None:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())
