"""Ctrl-C (SIGINT) and SIGTERM in library code: held while a write or a drawing must not be cut.

The handlers themselves belong to the command: ``gnnviz.cli.exits`` installs them (SIGINT raises
``KeyboardInterrupt``, SIGTERM raises ``errors.Terminated``) and turns them into exit codes 130
and 143 (``errors.ExitCode``). Library code never installs a handler of its own and never imports
the CLI; where a signal must wait, it holds it here and hands it to whatever handler was there:

- ``held()``: around the final writes of a run (summary, checkpoint, removing a folder), so that
  a second Ctrl-C cannot leave a summary saying ``running``; the first signal is delivered after
  the block, unless the block failed (its error is the one to report).
- ``taken(into)``: around the last steps of training, after its states exist and before they are
  saved: a signal then is held and its exception (``KeyboardInterrupt``, ``Terminated``) put in
  ``into`` instead of raised, so that it cannot cut the states off from the save that follows.
- ``deferred()``: around a loop of steps (drawing figures, where an exception raised inside
  matplotlib's C++ renderer would come out as a ``ValueError``); ``deliver()`` runs the held
  signals' handlers between two steps, and the block's end runs them in any case.

Both hold only in the main thread, the only one where Python runs signal handlers, and leave alone
a handler installed outside Python (``getsignal`` gives None).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from gnnviz.errors import Terminated

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _holding(held: list[int], skip: tuple[Any, ...]) -> Iterator[dict[int, Any]]:
    """Note SIGINT/SIGTERM in ``held`` instead of handling them; yield the handlers replaced
    (those not in ``skip``), each restored at the end."""
    if threading.current_thread() is not threading.main_thread():
        yield {}
        return
    saved = {s: signal.getsignal(s) for s in _SIGNALS}
    saved = {s: h for s, h in saved.items() if h not in skip}

    def hold(signum: int, frame: Any) -> None:  # noqa: ARG001
        held.append(signum)

    for s in saved:
        signal.signal(s, hold)
    try:
        yield saved
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while the final files are written, then deliver them as usual."""
    pending: list[int] = []
    with _holding(pending, skip=(None,)):  # None: installed outside Python, leave it
        yield
    for s in pending[:1]:
        signal.raise_signal(s)  # the original handler: KeyboardInterrupt, Terminated or the default


@contextlib.contextmanager
def taken(into: list[BaseException]) -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while the block runs; then run the first one's handler and append
    the exception it raises to ``into`` (the caller records it as the ending) instead of raising it."""
    pending: list[int] = []
    with _holding(pending, skip=(None,)):
        yield
    for s in pending[:1]:
        try:
            signal.raise_signal(s)  # the handler: sets the command's flags and raises
        except (KeyboardInterrupt, Terminated) as exc:
            into.append(exc)


@contextlib.contextmanager
def deferred() -> Iterator[Callable[[], None]]:
    """Hold SIGINT/SIGTERM while a step runs; ``deliver()`` runs the held ones' own handlers.

    Handlers that ignore a signal are left alone.
    """
    held: list[int] = []
    saved: dict[int, Any] = {}

    def deliver() -> None:
        while held:
            signum = held.pop(0)
            handler = saved[signum]
            if callable(handler):
                handler(signum, None)
            else:  # SIG_DFL: end the way the signal itself would
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

    try:
        with _holding(held, skip=(signal.SIG_IGN, None)) as replaced:
            saved.update(replaced)
            yield deliver
    finally:
        deliver()
