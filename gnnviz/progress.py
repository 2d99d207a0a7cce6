"""A one-line progress bar on stderr that switches itself off when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def shown(text: str) -> str:
    """``text`` with the bytes of a path that are not UTF-8 (lone surrogates in a ``str``) written as
    ``\\xff``: printable and writable as UTF-8 anywhere, and it still says which byte it was."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def to_stderr(msg: str) -> None:
    """One log line on stderr (stdout carries only result paths, for scripts); a closed stream is ignored.

    Started with stderr closed (``2>&-``), ``sys.stderr`` is None, and ``print(file=None)`` would
    write to stdout, where scripts read the run directory: the line is dropped instead."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        print(shown(msg), file=stream, flush=True)
    except (BrokenPipeError, OSError):
        pass


class Progress:
    def __init__(self, total: int, label: str, metric: str, *, enabled: bool | None = None, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.enabled = enabled
        self.total, self.label, self.metric = total, label, metric
        self.start = time.perf_counter()
        self._last = 0.0
        self._width = 0

    def update(self, row: dict[str, float]) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        epoch = int(row["epoch"])
        if now - self._last < 0.1 and epoch != self.total:
            return  # redraw at most ten times a second
        self._last = now
        done = epoch / self.total
        elapsed = now - self.start
        eta = elapsed / max(epoch, 1) * (self.total - epoch)
        filled = int(done * 20)
        bar = "#" * filled + "-" * (20 - filled)
        line = (
            f"{self.label} [{bar}] epoch {epoch}/{self.total} loss {row['train_loss']:.4f} "
            f"val {self.metric} {row['val_metric']:.4f} ETA {_clock(eta)} (max; early stopping may end sooner)"
        )
        pad = max(self._width - len(line), 0)
        self._width = len(line)
        try:
            self.stream.write("\r" + line + " " * pad)
            self.stream.flush()
        except (BrokenPipeError, OSError):
            self.enabled = False

    def close(self) -> None:
        if self.enabled and self._width:
            try:
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()
            except (BrokenPipeError, OSError):
                pass
        self.enabled = False


class Stages:
    """On a terminal, a line as each long stage starts and a bar for a stage with steps, so a slow
    stage reads as working, not hung; nothing at all when stderr is not a terminal (logs and
    scripts see only the summary lines)."""

    def __init__(self, label: str, *, enabled: bool | None = None, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = self.stream is not None and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.enabled = enabled
        self.label = label
        self._width = 0
        self._last = 0.0

    def start(self, what: str) -> None:
        """One line: ``label: what ...``."""
        self._clear()
        self._write(f"{self.label}: {what} ...\n")

    def step(self, done: int, total: int, what: str) -> None:
        """Redraw the bar in place: ``[####----] done/total what``."""
        now = time.perf_counter()
        if not self.enabled or (now - self._last < 0.1 and done != total):
            return
        self._last = now
        filled = int(done / max(total, 1) * 20)
        line = f"  [{'#' * filled}{'-' * (20 - filled)}] {done}/{total} {what}"
        pad = max(self._width - len(line), 0)
        self._width = len(line)
        self._write("\r" + line + " " * pad)

    def end_bar(self) -> None:
        """Clear the bar (the stage's steps are done)."""
        self._clear()

    def close(self) -> None:
        self._clear()
        self.enabled = False

    def _clear(self) -> None:
        if self._width:
            self._write("\r" + " " * self._width + "\r")
            self._width = 0

    def _write(self, text: str) -> None:
        if not self.enabled:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.enabled = False


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
