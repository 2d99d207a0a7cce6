"""Where dataset files live and how they get there: the data root, the offline mirror (raw files
copied from a read-only folder instead of downloaded), the per-dataset lock, the stamp that says
a processed cache matches its raw files, and the messages that name a damaged raw file.

Knows a dataset only by its ``DatasetSpec`` (folder, files, download function); never parses one.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

from gnnviz import env
from gnnviz.datasets.base import DatasetSpec
from gnnviz.errors import DataError
from gnnviz.io import atomic_copy

# Written after a processed cache loaded once, holding the raw files' sizes and times; its absence
# or other raw files mean "rebuild".
_DONE = ".gnnviz-complete"


# ----------------------------------------------------------------------------- locations


def default_data_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gnnviz" / "datasets"


def data_root(explicit: str | Path | None = None) -> Path:
    """``--data-root``, else ``$GNNVIZ_DATA_ROOT``, else ``~/.cache/gnnviz/datasets``."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("GNNVIZ_DATA_ROOT")
    return Path(env).expanduser() if env else default_data_root()


def data_mirror() -> Path | None:
    """``$GNNVIZ_DATA_MIRROR``: a read-only folder laid out as ``<Folder>/raw/<files>``."""
    env = os.environ.get("GNNVIZ_DATA_MIRROR")
    return Path(env).expanduser() if env else None


# ----------------------------------------------------------------------------- preparing a dataset folder


@contextlib.contextmanager
def prepared(spec: DatasetSpec, base: Path) -> Iterator[Path]:
    """Lock the dataset folder, make its raw files present, and clean up on failure."""
    if base.exists() and not base.is_dir():
        raise DataError(f"data root {base} is a file, not a folder; pass --data-root DIR or set GNNVIZ_DATA_ROOT")
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create data root {base}: {exc.strerror}; pass a writable --data-root DIR") from None
    if not os.access(base, os.W_OK | os.X_OK):
        raise DataError(f"data root {base} is not writable; pass a writable --data-root DIR or set GNNVIZ_DATA_ROOT")
    folder = base / spec.folder
    lock_path = base / f".{spec.folder}.lock"
    with open(lock_path, "a") as lock:
        # Two runs preparing the same dataset: the second waits for the first, then reuses its work.
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            existed = folder.exists()
            before = set(_listing(folder))
            try:
                _fill_raw(spec, folder)
                processed = folder / "processed"
                stamp = _raw_stamp(spec, folder)
                if processed.exists() and _done_stamp(processed) != stamp:
                    # From an interrupted run, or built from other raw files than those here now.
                    shutil.rmtree(processed)
                yield folder
                processed.mkdir(parents=True, exist_ok=True)
                (processed / _DONE).write_text(stamp, encoding="utf-8")
            except BaseException:
                # Never leave a half-made dataset behind: drop what this attempt created.
                shutil.rmtree(folder / "processed", ignore_errors=True)
                if not existed:
                    shutil.rmtree(folder, ignore_errors=True)
                else:
                    for path in set(_listing(folder)) - before:
                        with contextlib.suppress(OSError):
                            path.unlink()
                raise
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _raw_stamp(spec: DatasetSpec, folder: Path) -> str:
    """Size and modification time of every raw file: a processed cache is valid for these only."""
    lines = []
    for f in spec.files:
        st = (folder / f).stat()
        lines.append(f"{f} {st.st_size} {st.st_mtime_ns}")
    return "\n".join(lines) + "\n"


def _done_stamp(processed: Path) -> str | None:
    try:
        return (processed / _DONE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _listing(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _fill_raw(spec: DatasetSpec, folder: Path) -> None:
    missing = [f for f in spec.files if not (folder / f).is_file()]
    mirror = data_mirror()
    if missing and mirror is not None:
        source = mirror / spec.folder
        found = [f for f in missing if (source / f).is_file()]
        for f in found:
            target = folder / f
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_copy(source / f, target)
        missing = [f for f in missing if f not in found]
    if missing:
        _download(spec, folder, missing)


def _download(spec: DatasetSpec, folder: Path, missing: list[str]) -> None:
    # Files all under raw/ (Planetoid, PPI) are named within it; OGB's also live in split/.
    under = "raw" if all(f.startswith("raw/") for f in spec.files) else ""
    inside = (
        f"{spec.folder}/{under}/"
        if under
        else f"{spec.folder}/ ({', '.join(sorted({f.split('/')[0] + '/' for f in spec.files}))})"
    )
    hint = f"put them in {folder / under if under else folder} or set GNNVIZ_DATA_MIRROR to a folder holding {inside} (e.g. ../shared/datasets)"
    names = [f.removeprefix(f"{under}/") if under else f for f in missing]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    if env.flag("GNNVIZ_OFFLINE"):
        raise DataError(f"{spec.folder} raw files missing ({shown}) and GNNVIZ_OFFLINE is set; {hint}")
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)
    try:
        with quiet():
            spec.download(spec, folder)
    except Exception as exc:  # noqa: BLE001 - any download failure means the same thing to the user
        reason = type(exc).__name__
        raise DataError(f"{spec.folder} raw files missing ({shown}) and the download failed ({reason}); {hint}") from None
    finally:
        socket.setdefaulttimeout(old)
    still = [f for f in spec.files if not (folder / f).is_file()]
    if still:
        raise DataError(f"{spec.folder} download did not provide {', '.join(still[:3])}; {hint}")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    # PyG prints "Processing..." and download progress; the CLI owns the terminal.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def damaged(path: Path, why: str) -> DataError:
    """A raw file that cannot be read as what it should be: named, with how to get a good copy."""
    return DataError(
        f"raw file {path} is truncated or corrupt ({why}); delete it and run again to copy it "
        f"from GNNVIZ_DATA_MIRROR (or download it)"
    )


def exception_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:120]}"


def read_failure(spec: DatasetSpec, folder: Path, exc: Exception) -> DataError:
    why = exception_text(exc)
    bad = _bad_raw_file(spec, folder)
    if bad is not None:
        return damaged(bad, why)
    return DataError(
        f"cannot prepare {spec.folder} from {folder / 'raw'} ({why}); its processed cache was removed: run again, "
        f"and if this repeats delete {folder} so the raw files are fetched again"
    )


def _bad_raw_file(spec: DatasetSpec, folder: Path) -> Path | None:
    """The first raw file that does not parse, found without unpickling (nothing in it runs)."""
    import json
    import pickletools

    import numpy as np

    for name in spec.files:
        path = folder / name
        try:
            data = path.read_bytes()
            if name.endswith(".npy"):
                np.load(io.BytesIO(data), allow_pickle=False)
            elif name.endswith(".json"):
                json.loads(data)
            elif name.endswith(".index"):
                [int(v) for v in data.split()]
            else:
                for _ in pickletools.genops(data):  # walks the opcodes to STOP; fails on a cut file
                    pass
        except Exception:  # noqa: BLE001 - any parse failure means this file is the bad one
            return path
    return None
