"""Warnings from the libraries a command uses (numpy, scikit-learn, torch, ...) never reach the
terminal line by line: ``exits.run`` notes every warning raised while the command runs and, when
the command succeeded, prints one summary line unless it was given ``--quiet`` (a failed command
keeps its one ``error:`` line)::

    note: 6 warnings from numpy, sklearn (RuntimeWarning: invalid value encountered in divide); GNNVIZ_DEBUG=1 shows them

With ``--debug`` or ``GNNVIZ_DEBUG=1`` each warning is shown as Python shows it, when it happens.
The filters stay as they are (Python's defaults hide DeprecationWarning): only the showing changes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import PurePath


def source(filename: str) -> str:
    """The top-level package a warning was raised in (``numpy``, ``sklearn``, ``gnnviz``): the part
    of ``filename`` below the deepest ``sys.path`` folder holding it, else the file's own name."""
    path = PurePath(filename)
    roots = [PurePath(p) for p in sys.path if p and os.path.isabs(p)]
    inside = [r for r in roots if path.is_relative_to(r) and len(path.parts) > len(r.parts)]
    if inside:
        return PurePath(path.parts[len(max(inside, key=lambda r: len(r.parts)).parts)]).stem
    return path.stem or "python"


@contextlib.contextmanager
def noted(debugging: Callable[[], bool]) -> Iterator[list[warnings.WarningMessage]]:
    """Collect the warnings shown inside the block (or show them at once while ``debugging()``)."""
    seen: list[warnings.WarningMessage] = []
    with warnings.catch_warnings():

        def note(message, category, filename, lineno, file=None, line=None):
            if debugging():  # as Python prints it, to stderr
                if sys.stderr is not None:
                    with contextlib.suppress(OSError, ValueError):
                        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
            else:
                seen.append(warnings.WarningMessage(message, category, filename, lineno, file, line))

        warnings.showwarning = note
        yield seen


def summary(seen: list[warnings.WarningMessage]) -> str | None:
    """One line for the warnings ``noted`` collected: how many, from where, the first one."""
    if not seen:
        return None
    sources = ", ".join(dict.fromkeys(source(w.filename) for w in seen))
    first = seen[0]
    text = (str(first.message).strip().splitlines() or [""])[0]
    text = text if len(text) <= 100 else text[:99] + "..."
    many = f"{len(seen)} warnings" if len(seen) > 1 else "1 warning"
    return f"note: {many} from {sources} ({first.category.__name__}: {text}); GNNVIZ_DEBUG=1 shows them"


def quiet_flag(group, state: dict) -> None:
    """Make each command of ``group`` with a ``quiet`` option record it in ``state["quiet"]`` when it
    runs (so the summary is left out for ``--quiet``); one place for every command, present and future."""
    state["quiet"] = False
    for command in getattr(group, "commands", {}).values():
        if command.callback is None or not any(p.name == "quiet" for p in command.params):
            continue

        @functools.wraps(command.callback)
        def callback(*args, _real=command.callback, **kwargs):
            state["quiet"] = bool(kwargs.get("quiet"))
            return _real(*args, **kwargs)

        command.callback = callback
