"""The ``gnnviz`` command: parse, validate at the edge, call one library function, print paths.

- ``app``: the Typer app and its commands (train, visualize, compare, datasets, runs) and ``main``,
  the console script (``gnnviz = "gnnviz.cli:main"``, ``python -m gnnviz``).
- ``exits``: how the process ends: signal handlers, every error turned into one stderr line and
  an exit code (``errors.ExitCode``: 0, 1, 2, 130, 143), stdout flushed and closed, the result path.
- ``launch``: ``train --nproc N``, the command as N ranks under torchrun.
- ``tables``: the padded tables of ``datasets`` and ``runs``.
"""

from gnnviz.cli.app import main

__all__ = ["main"]
