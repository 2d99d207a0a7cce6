"""The ``gnnviz`` command: parse, validate at the edge, call one library function, print paths.

- ``main`` (here): the console script (``gnnviz = "gnnviz.cli:main"``, ``python -m gnnviz``). It
  holds SIGINT/SIGTERM before anything heavy is imported, so a signal during start-up waits for
  the command's handlers and ends as 130/143, never as a traceback from an import.
- ``app``: the Typer app and its commands (train, visualize, compare, datasets, runs).
- ``exits``: how the process ends: signal handlers, every error turned into one stderr line and
  an exit code (``errors.ExitCode``: 0, 1, 2, 130, 143), stdout flushed and closed, the result path.
- ``launch``: ``train --nproc N``, the command as N ranks under torchrun.
- ``tables``: the padded tables of ``datasets`` and ``runs``.
"""

import signal

_STOPS = {signal.SIGINT, signal.SIGTERM}


def main(argv: list[str] | None = None) -> None:
    """Run ``gnnviz ARGS`` (``argv``, or the command line); end with its exit code.

    With ``argv`` None this process *is* the command (the console script, ``python -m gnnviz``):
    it leaves through ``os._exit`` with SIGINT/SIGTERM blocked, so that a signal arriving while
    Python shuts down (when its handlers are already reset) cannot replace the decided code by a
    death by signal. With ``argv`` given (tests, a caller in Python) it raises ``SystemExit``.
    """
    # First thing, before Typer, torch or anything slow is imported: a signal now stays pending
    # until exits.run has installed the command's handlers, and then ends the command as usual.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        from gnnviz.cli import exits
        from gnnviz.cli.app import app
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise
    exits.run(app, argv, held=held, process=argv is None)


__all__ = ["main"]
