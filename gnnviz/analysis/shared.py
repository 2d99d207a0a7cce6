"""Nodes that share all their neighbours, and how each splits its attention over them: the
picture behind ranking agreement (``insight.ranking_agreement``).

Static attention (GAT) orders every target's neighbours by a score of the neighbour alone, so
targets with the same neighbours rank them alike: every row has its largest weights in the same
columns, in the same order (rows may still be sharper or flatter: GAT's LeakyReLU has another
slope where the target's term makes a score negative). Dynamic attention (GATv2) may give each
row its own peak. On ``dictionary_lookup`` the queries of one copy share its k keys,
and with rows and columns sorted by label a query attending to its own key is a diagonal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SharedBlock:
    """targets [T] and sources [S] node ids (sorted by label, then id); weights [T, S]: each target's
    attention (head mean) over the sources, renormalised over its neighbours (self-loop left out);
    group: how many targets have exactly these in-neighbours (T may show fewer)."""

    targets: np.ndarray
    sources: np.ndarray
    weights: np.ndarray
    group: int


def shared_block(
    edge_index: np.ndarray, alpha: np.ndarray, labels: np.ndarray, *, max_targets: int = 12, max_sources: int = 12
) -> SharedBlock | None:
    """The largest group of targets with the same in-neighbours (2 or more of them, self-loops
    aside), ties to the group with the lowest target id; None when no two targets share a whole
    neighbourhood. edge_index: [2, E]; alpha: [E] or [E, H] (averaged over heads); labels: [N]
    class ids or [N, C] (then sorted by id only)."""
    ei = np.asarray(edge_index, dtype=np.int64)
    a = np.asarray(alpha, dtype=np.float64)
    a = a.mean(1) if a.ndim == 2 else a
    nb = ei[0] != ei[1]
    src, dst, w = ei[0, nb], ei[1, nb], a[nb]
    if src.size == 0:
        return None
    n = int(ei.max()) + 1
    order = np.lexsort((src, dst))
    src, dst, w = src[order], dst[order], w[order]
    targets, start, degree = np.unique(dst, return_index=True, return_counts=True)
    # A fingerprint of each target's neighbour set (two hashes and the degree); groups are checked exactly below.
    h1 = np.add.reduceat((src * 0x9E3779B1) % (2**31 - 1), start)
    h2 = np.add.reduceat((src * src + 7 * src) % (2**31 - 19), start)
    keep = degree >= 2
    if not keep.any():
        return None
    keys = np.stack([degree[keep], h1[keep], h2[keep]], axis=1)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    if counts.max() < 2:
        return None
    firsts = np.full(counts.size, n)
    np.minimum.at(firsts, inverse, targets[keep])
    best = np.lexsort((firsts, -counts))[0]
    members = np.flatnonzero(inverse == best)
    rows = np.flatnonzero(keep)[members]  # indices into targets/start/degree
    sets = [src[start[r] : start[r] + degree[r]] for r in rows]
    rows = [r for r, s in zip(rows, sets, strict=True) if np.array_equal(s, sets[0])]
    if len(rows) < 2:
        return None
    y = np.asarray(labels)

    def by_label(ids: np.ndarray) -> np.ndarray:
        return ids[np.lexsort((ids, y[ids]))] if y.ndim == 1 else np.sort(ids)

    shown_t = by_label(targets[rows])[:max_targets]
    shown_s = by_label(sets[0])[:max_sources]
    weights = np.zeros((shown_t.size, shown_s.size))
    where = {int(t): r for t, r in zip(targets[rows], rows, strict=True)}
    for i, t in enumerate(shown_t):
        r = where[int(t)]
        s, ws = src[start[r] : start[r] + degree[r]], w[start[r] : start[r] + degree[r]]
        total = ws.sum()
        weights[i] = ws[np.searchsorted(s, shown_s)] / total if total > 0 else np.nan
    return SharedBlock(shown_t, shown_s, weights, len(rows))
