"""The padded tables that ``gnnviz datasets`` and ``gnnviz runs`` print."""

from __future__ import annotations

from collections.abc import Sequence


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """``rows`` (a header first) as lines: each cell padded to its column's widest, two spaces
    apart; the last column is not padded, so its cells may be of any length (a status, a date)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows]
