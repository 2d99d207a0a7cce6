"""The one error family. Library code raises these; only ``cli.py`` prints them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TypeVar

T = TypeVar("T")


class GnnvizError(Exception):
    """A problem the user can fix. The message is one line: what is wrong and what to do.

    ``exit_code`` follows the CLI contract: 2 for usage/config errors (nothing started),
    1 for failures at run time.
    """

    exit_code = 1


class ConfigError(GnnvizError):
    """Bad config, option or argument: detected before anything is created."""

    exit_code = 2


class DataError(GnnvizError):
    """A dataset cannot be found, read or prepared."""


class RunError(GnnvizError):
    """A run directory or checkpoint is missing, incomplete or foreign."""


class DivergedError(GnnvizError):
    """Training produced a non-finite loss."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def lookup(table: Mapping[str, T], name: str, kind: str, error: type[GnnvizError] = ConfigError) -> T:
    """``table[name]``, or an error listing the valid choices and a close match."""
    if name in table:
        return table[name]
    choices = ", ".join(sorted(table))
    raise error(f"unknown {kind} '{name}'; choose one of {choices}{did_you_mean(name, table)}")


class Terminated(BaseException):
    """SIGTERM, turned into an exception so training can save and shut down cleanly.

    A BaseException (like KeyboardInterrupt) so that no ``except Exception`` swallows it.
    """
