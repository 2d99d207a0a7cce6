"""A second process for a cold visualize's graph layout, so that the call uses two cores.

The layout of the whole graph (igraph's Kamada-Kawai, seconds on Cora, holding the GIL all the
while, so no thread can run beside it) needs only the edges, which are known as soon as
``graph.pt`` is read; everything after it (importing PyG, the forward passes, the 2-D projections)
does not need the layout. So visualize forks one helper as soon as it has the edges (``Helper``),
hands it the pure ``compute_layout`` and takes the coordinates back when it draws.

The helper only computes: it reads and writes no file (the cache entry is written here, so every
file operation stays in this process, where its failures are reported), and it gets its arguments
and returns its result through one pipe (pickled; no queue, no feeder thread, no lock another
process could die holding). It ignores Ctrl-C (the terminal sends it to the whole process group:
this process decides what an interrupt means), dies with this process (``PR_SET_PDEATHSIG``
where Linux offers it) and is killed and reaped by ``close``, which visualize calls on every way
out, an error or a signal included. An exception in the helper comes back and is raised here.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from typing import Any


class Helper:
    """One forked process running ``fn(*args)`` for this one; ``result()`` waits for the answer.

    Use as a context manager (or call ``close``): the process never outlives the block.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, args=(child, os.getpid(), fn, args), name="gnnviz-helper", daemon=True)
        self._process.start()
        child.close()
        self._done = False
        self._value: Any = None
        self.cpu_seconds = 0.0  # the helper's CPU time for fn, once result() returned

    def result(self) -> Any:
        """What ``fn(*args)`` returned; its exception, re-raised, if it raised one."""
        if not self._done:
            try:
                ok, value, self.cpu_seconds = self._conn.recv()
            except EOFError:
                code = self._process.join() or self._process.exitcode
                raise RuntimeError(f"the layout helper process ended without an answer (exit code {code})") from None
            self._done, self._value = True, (ok, value)
        ok, value = self._value
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Stop the helper if it still runs (SIGKILL: it holds nothing worth saving) and reap it."""
        self._conn.close()
        if self._process.is_alive():
            self._process.kill()
        self._process.join()

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(conn: Any, parent: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    from gnnviz.distributed import parent_death_signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)  # the parent died before the death signal was armed
    start = time.process_time()
    try:
        answer = (True, fn(*args), time.process_time() - start)
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        answer = (False, exc, time.process_time() - start)
    try:
        conn.send(answer)
    except (BrokenPipeError, OSError):
        os._exit(0)  # the parent no longer listens: it is ending already
    conn.close()
