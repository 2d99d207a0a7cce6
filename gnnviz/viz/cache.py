"""The on-disk cache for layouts and t-SNE coordinates: one ``.npz`` per key, written atomically.

A cache is an optimisation: a missing, unreadable or unwritable entry means "compute again",
never an error.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from pathlib import Path

import numpy as np

from gnnviz.io import atomic_write_bytes


def cache_root() -> Path:
    """``$GNNVIZ_CACHE_DIR``, else ``$XDG_CACHE_HOME/gnnviz`` (``~/.cache/gnnviz``).

    Kinds live in sub-folders: ``layouts/``, ``tsne/``, ``umap/``, ``pca/``.
    """
    env = os.environ.get("GNNVIZ_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gnnviz"


def entry(kind: str, key: str) -> Path:
    return cache_root() / kind / f"{key}.npz"


# np.load parses each array header with ast.literal_eval, and CPython 3.11's parser is not
# thread-safe (SystemError "AST constructor recursion depth mismatch"); t-SNE reads from threads.
_READ_LOCK = threading.Lock()

_KEY = "__gnnviz_key__"  # the array holding the key an entry was written under


def read(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays stored at ``path``, or None if absent or unreadable. Safe to call from threads.

    Any failure to read counts as a miss: a truncated entry raises BadZipFile or EOFError, random
    bytes raise ValueError or OSError, a damaged member zlib.error or ValueError. Callers still
    check the shapes of what they get (a readable entry can hold the wrong arrays). An entry whose
    recorded key is not its file name (moved, copied or swapped from another key) is a miss too.
    """
    try:
        with _READ_LOCK, np.load(path, allow_pickle=False) as z:
            if not hasattr(z, "files"):  # a bare .npy, not our archive
                return None
            arrays = {k: z[k] for k in z.files}
    except Exception:  # noqa: BLE001 - a cache entry that cannot be read is computed again
        return None
    # An entry carries the key it was written under: one copied or renamed to another key (another
    # run's numbers under this run's name) is foreign, and computed again.
    name = arrays.pop(_KEY, None)
    if name is None or name.shape != () or str(name) != path.stem:
        return None
    return arrays


def write(path: Path, **arrays: np.ndarray) -> None:
    """Store arrays at ``path`` atomically (``gnnviz.io``): readers never see half a file.

    A failure to write (``OSError``) is silent: the entry is computed again next time.
    """
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez(buf, **arrays, **{_KEY: np.array(path.stem)})
        atomic_write_bytes(path, buf.getvalue())
