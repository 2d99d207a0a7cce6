"""Environment switches (``GNNVIZ_DEBUG``, ``GNNVIZ_OFFLINE``, ...) mean what they say: one reading
for all of them, so ``GNNVIZ_OFFLINE=0`` is off, as ``0``, ``false``, ``no`` and ``off`` are for every
switch, and an unset or empty variable is off too."""

from __future__ import annotations

import os

OFF = ("", "0", "false", "no", "off")


def flag(name: str) -> bool:
    """Whether the switch ``name`` is on: set to anything but one of ``OFF`` (any case, spaces aside)."""
    return os.environ.get(name, "").strip().lower() not in OFF
