"""A second process for a cold visualize's independent work, so that the call uses two cores.

The layout of the whole graph (igraph's Kamada-Kawai, seconds on Cora, holding the GIL all the
while, so no thread can run beside it) needs only the edges, which are known as soon as
``graph.pt`` is read, before PyG is imported; nothing after that (importing PyG, the forward
passes, the 2-D projections) needs the layout. So visualize forks one helper as soon as it has the
edges (``Helper``), hands it the pure ``compute_layout``, and later half of the figures to draw,
and takes the answers back when it needs them.

The helper only computes: it reads and writes no file (cache entries and figures are written
here, so every file operation stays in this process, where its failures are reported), and it gets
its tasks and returns its answers through two pipes (pickled; no queue, no feeder thread, no lock
another process could die holding). It ignores Ctrl-C (the terminal sends it to the whole process
group: this process decides what an interrupt means), dies with this process
(``PR_SET_PDEATHSIG`` where Linux offers it) and is killed and reaped by ``close``, which
visualize calls on every way out, an error or a signal included. An exception in a task comes
back and is raised here, by ``result``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from typing import Any


class Helper:
    """One forked process running the tasks ``submit`` hands it, in order; ``result(ticket)`` waits
    for one's answer. Use as a context manager (or call ``close``): it never outlives the block."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._answers, answers = context.Pipe(duplex=False)
        tasks, self._tasks = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, args=(tasks, answers, os.getpid()), name="gnnviz-helper", daemon=True)
        self._process.start()
        tasks.close()
        answers.close()
        self._sent = 0
        self._got: list[tuple[bool, Any, float]] = []
        self.cpu_seconds = 0.0  # the helper's CPU time for the tasks answered so far

    def submit(self, fn: Callable[..., Any], *args: Any) -> int:
        """Hand ``fn(*args)`` over (both pickled: a module-level function); returns its ticket.

        One task at a time: this first waits for the answer to the one before. (Otherwise a big
        task could fill the pipe while the helper, still busy, blocks on sending a big answer
        nobody reads: both would wait for ever.)"""
        if self._sent:
            self._answer(self._sent - 1)
        self._tasks.send((fn, args))
        self._sent += 1
        return self._sent - 1

    def result(self, ticket: int) -> Any:
        """What the task ``ticket`` returned; its exception, re-raised, if it raised one."""
        ok, value, _ = self._answer(ticket)
        if not ok:
            raise value
        return value

    def _answer(self, ticket: int) -> tuple[bool, Any, float]:
        while len(self._got) <= ticket:
            try:
                answer = self._answers.recv()
            except EOFError:
                self._process.join()
                raise RuntimeError(f"the helper process ended without an answer (exit code {self._process.exitcode})") from None
            self._got.append(answer)
            self.cpu_seconds += answer[2]
        return self._got[ticket]

    def close(self) -> None:
        """Stop the helper if it still runs (SIGKILL: it holds nothing worth saving) and reap it."""
        self._tasks.close()
        self._answers.close()
        if self._process.is_alive():
            self._process.kill()
        self._process.join()

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(tasks: Any, answers: Any, parent: int) -> None:
    from gnnviz.distributed import parent_death_signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)  # the parent died before the death signal was armed
    while True:
        try:
            fn, args = tasks.recv()
        except (EOFError, OSError):
            os._exit(0)  # the parent closed its end: nothing more to do
        start = time.process_time()
        try:
            answer = (True, fn(*args), time.process_time() - start)
        except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
            answer = (False, exc, time.process_time() - start)
        try:
            try:
                answers.send(answer)
            except (BrokenPipeError, OSError):
                raise
            except Exception as exc:  # noqa: BLE001 - an answer pickle refuses: say what it was
                answers.send((False, RuntimeError(f"the helper's answer could not be sent back: {exc!r}"), answer[2]))
        except (BrokenPipeError, OSError):
            os._exit(0)  # the parent no longer listens: it is ending already
