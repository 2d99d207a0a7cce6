"""The one writer of visualize's files: figures, ``index.html`` and JSON, each written atomically.

``render_all`` draws figure descriptions (``figures.FigureSpec``) into bytes in this process
(``draw/encode.py`` turns one description into PNG or SVG bytes), and where a cold visualize has
its helper process (``viz/helper.py``, which laid the graph out) every second figure there
meanwhile. That helper is no pool: one process, one task at a time through its own pipes, nothing
shared to deadlock on (a forked pool of two drawers once deadlocked here with a worker stuck on the
pool's queue lock, and was never faster on a loaded machine: docs/performance.md). Drawing here
stops at once on Ctrl-C or SIGTERM (after the figure being drawn: see ``signals.deferred``), and
the wait for the helper's figures is an ordinary interruptible read. Every figure is drawn before the first file is written, and each file goes to a
temporary name in its folder and is renamed into place: a failure or a signal leaves each file
either as it was or complete, and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

from gnnviz import signals
from gnnviz.io import atomic_write_bytes
from gnnviz.progress import shown
from gnnviz.viz import cache
from gnnviz.viz.draw.encode import render_figure


def render_all(
    specs: list[Any],
    fmt: str,
    dpi: int,
    seconds: dict[str, float] | None = None,
    step: Callable[[int, int, str], Any] | None = None,
    helper: Any = None,
    theirs: list[int] | None = None,
) -> list[bytes]:
    """Every figure's bytes, in order; ``seconds``, if given, gets each figure's drawing time by
    stem; ``step(done, total, stem)`` is called after each figure. ``helper`` (a ``helper.Helper``),
    if given, draws the figures at the positions ``theirs`` (default: every second one) meanwhile
    (the same bytes: the same code on a fork of this process).

    Ctrl-C and SIGTERM take effect between two figures: an exception raised inside matplotlib's
    C++ renderer comes out as ``ValueError: Invalid bounding box`` (seen in ``make stress``), which
    would read as a bug and exit 1 instead of 130/143.
    """
    if helper is None:
        theirs = []
    elif theirs is None:
        theirs = list(range(1, len(specs), 2))
    ticket = None
    if theirs:
        try:
            ticket = helper.submit(draw_each, [specs[i] for i in theirs], fmt, dpi)
        except (pickle.PicklingError, TypeError, AttributeError):
            theirs = []  # a description that cannot be pickled (a lambda): all drawn here
    images: list[bytes] = [b""] * len(specs)
    done = 0

    def finished(i: int, took: float) -> None:
        nonlocal done
        done += 1
        if seconds is not None:
            seconds[specs[i].stem] = took
        if step is not None:
            step(done, len(specs), specs[i].stem)

    with signals.deferred() as deliver:
        for i in sorted(set(range(len(specs))) - set(theirs)):
            tick = time.perf_counter()
            images[i] = render_figure(specs[i], fmt, dpi)
            finished(i, time.perf_counter() - tick)
            deliver()
    if ticket is not None:
        for i, (data, took) in zip(theirs, helper.result(ticket), strict=True):
            images[i] = data
            finished(i, took)
    return images


def draw_each(specs: list[Any], fmt: str, dpi: int) -> list[tuple[bytes, float]]:
    """(bytes, seconds) of each figure: what the helper process runs for ``render_all``."""
    out = []
    for spec in specs:
        tick = time.perf_counter()
        out.append((render_figure(spec, fmt, dpi), time.perf_counter() - tick))
    return out


def render_cached(
    specs: list[Any],
    fmt: str,
    dpi: int,
    seconds: dict[str, float] | None = None,
    step: Callable[[int, int, str], Any] | None = None,
    helper: Any = None,
) -> tuple[list[bytes], bool]:
    """``render_all``, or the same bytes from the cache when these figures were drawn before:
    (images, whether they came from the cache).

    The key is everything a figure is drawn from: each description (plot function's name, its
    arguments), the format and dpi, gnnviz's source and matplotlib's version, so that a warm
    ``visualize`` or ``compare`` with the same options draws nothing. One entry holds all the
    figures of one call, with a SHA-256 of their bytes: a damaged entry is drawn again, never
    served. Descriptions that cannot be pickled are drawn every time. ``helper``: see ``render_all``.
    """
    key = figures_key(specs, fmt, dpi)
    path = cache.entry("figures", key) if key is not None else None
    images = _read_figures(path, key, specs) if path is not None else None
    if images is not None:
        if seconds is not None:
            seconds.update({spec.stem: 0.0 for spec in specs})
        return images, True
    images = render_all(specs, fmt, dpi, seconds, step, helper)
    if path is not None:
        blob = np.frombuffer(b"".join(images), dtype=np.uint8)
        cache.write(
            path,
            key=np.array(key),
            stems=np.array([spec.stem for spec in specs], dtype=str),
            sizes=np.array([len(i) for i in images], dtype=np.int64),
            blob=blob,
            digest=np.frombuffer(hashlib.sha256(blob).digest(), dtype=np.uint8),
        )
    return images, False


def figures_key(specs: list[Any], fmt: str, dpi: int) -> str | None:
    """A hash of what ``specs`` draw as ``fmt`` at ``dpi``; None if a description cannot be pickled."""
    h = hashlib.sha256(_code_digest())
    h.update(f"{fmt}:{dpi}".encode())
    for spec in specs:
        try:
            h.update(pickle.dumps((spec.stem, spec.plot.__module__, spec.plot.__qualname__, spec.args, spec.kwargs), protocol=4))
        except Exception:  # noqa: BLE001 - an argument pickle refuses (a lambda...): no caching, not an error
            return None
    return h.hexdigest()


@functools.cache
def _code_digest() -> bytes:
    """gnnviz's own source and matplotlib's version: a change to either draws every figure again."""
    h = hashlib.sha256(matplotlib.__version__.encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        with contextlib.suppress(OSError):
            h.update(path.read_bytes())
    return h.digest()


def _read_figures(path: Path, key: str, specs: list[Any]) -> list[bytes] | None:
    """The cached figures at ``path`` if the entry is whole, was written for ``key`` (not copied
    from another entry) and holds exactly ``specs``' stems."""
    got = cache.read(path)
    if got is None or set(got) != {"key", "stems", "sizes", "blob", "digest"}:
        return None
    stems, sizes, blob = got["stems"], got["sizes"], got["blob"]
    if (
        got["key"].shape != ()
        or str(got["key"]) != key
        or stems.tolist() != [spec.stem for spec in specs]
        or sizes.shape != (len(specs),)
        or blob.dtype != np.uint8
        or int(sizes.sum()) != blob.size
        or (sizes < 0).any()
        or hashlib.sha256(blob).digest() != got["digest"].tobytes()
    ):
        return None
    data = blob.tobytes()
    ends = np.cumsum(sizes).tolist()
    return [data[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def to_json(obj: Any) -> str:
    """Strict JSON (no NaN/Infinity, which browsers and jq refuse): non-finite numbers become null."""

    def clean(x: Any) -> Any:
        if isinstance(x, (float, np.floating)):
            return float(x) if np.isfinite(x) else None
        if isinstance(x, np.integer):
            return int(x)
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj), indent=2, allow_nan=False) + "\n"


class Writer:
    """Writes files under ``out`` atomically; remembers what it wrote (paths relative to ``out``)."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.written: list[str] = []

    def bytes(self, name: str, data: bytes) -> str:
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
        self.written.append(name)
        return name

    def text(self, name: str, text: str) -> str:
        """UTF-8. A path with bytes that are not UTF-8 (held in ``str`` as lone surrogates) is shown
        with those bytes escaped, as ``\\xff``: the file stays valid UTF-8 and says which byte it was."""
        return self.bytes(name, shown(text).encode("utf-8"))

    def json(self, name: str, obj: Any) -> str:
        return self.text(name, to_json(obj))
