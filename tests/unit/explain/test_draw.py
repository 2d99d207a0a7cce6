"""A hub's explanation figure: above the edge limit it keeps the node's own and the known
explanation's edges, whatever their scores, and says how many of how many it draws."""

from __future__ import annotations

import numpy as np

from gnnviz.explain.draw import thin_edges


def hub(own: int = 30, motif: int = 12, rest: int = 450, seed: int = 0):
    """Node 0's computation edges: ``own`` into and out of it with the weakest scores, ``motif``
    known-explanation edges among the others, also weak, and ``rest`` strong edges elsewhere."""
    rng = np.random.default_rng(seed)
    src = np.concatenate([np.arange(1, own // 2 + 1), np.zeros(own - own // 2, int), rng.integers(1, 60, motif + rest)])
    dst = np.concatenate([np.zeros(own // 2, int), np.arange(1, own - own // 2 + 1), rng.integers(60, 120, motif + rest)])
    weak = rng.uniform(0.0, 0.01, own + motif)
    scores = {
        "saliency": np.concatenate([weak, rng.uniform(0.5, 1.0, rest)]),
        "gnnexplainer": np.concatenate([weak, rng.uniform(0.2, 0.9, rest)]),
    }
    truth = np.zeros(src.size, dtype=bool)
    truth[own : own + motif] = True
    return src, dst, scores, truth


def test_thinning_keeps_the_nodes_own_and_the_motifs_edges_then_the_strongest():
    src, dst, scores, truth = hub()
    limit = 400
    pick, note = thin_edges(src, dst, scores, node=0, truth=truth, limit=limit)
    assert pick.size == limit and np.all(np.diff(pick) > 0)
    own = np.flatnonzero((src == 0) | (dst == 0))
    assert set(own) <= set(pick) and set(np.flatnonzero(truth)) <= set(pick)  # the weakest, kept all the same
    # The rest: the strongest by the largest share of a panel's maximum.
    strength = np.max([s / s.max() for s in scores.values()], axis=0)
    rest = np.setdiff1d(np.arange(src.size), np.concatenate([own, np.flatnonzero(truth)]))
    chosen = np.intersect1d(pick, rest)
    dropped = np.setdiff1d(rest, chosen)
    assert chosen.size == limit - own.size - truth.sum() and strength[chosen].min() >= strength[dropped].max()
    assert (
        note
        == f"{limit} of {src.size} computation edges drawn: node 0's own and the known explanation's, then the strongest of the rest"
    )
    # Without a known explanation: the node's own still kept; at or under the limit: everything, no note.
    pick, note = thin_edges(src, dst, scores, node=0, truth=None, limit=limit)
    assert set(own) <= set(pick) and pick.size == limit and "known explanation" not in note
    assert thin_edges(src[:limit], dst[:limit], {m: s[:limit] for m, s in scores.items()}, node=0, limit=limit)[1] == ""
    # Own and motif edges alone above the limit: kept, nothing else.
    pick, _ = thin_edges(src, dst, scores, node=0, truth=truth, limit=10)
    assert sorted(pick) == sorted(np.concatenate([own, np.flatnonzero(truth)]))
