"""Which nodes ``gnnviz explain`` explains when ``--nodes`` is not given: a seeded sample."""

from __future__ import annotations

import numpy as np

SPLITS = ("train", "val", "test")


def default_nodes(y: np.ndarray, pred: np.ndarray, split: np.ndarray, seed: int, per_class: int) -> list[int]:
    """Up to ``per_class`` nodes of each true class in each split, then up to ``per_class``
    misclassified nodes of each split not already chosen; drawn with ``numpy``'s generator seeded
    by ``seed``, returned in ascending order. ``y``, ``pred``, ``split``: [N]."""
    rng = np.random.default_rng(seed)
    chosen: set[int] = set()
    for s in SPLITS:
        for c in np.unique(y):
            pool = np.flatnonzero((split == s) & (y == c))
            chosen.update(int(v) for v in rng.choice(pool, size=min(per_class, pool.size), replace=False))
    for s in SPLITS:
        pool = np.array([v for v in np.flatnonzero((split == s) & (y != pred)) if int(v) not in chosen], dtype=np.int64)
        chosen.update(int(v) for v in rng.choice(pool, size=min(per_class, pool.size), replace=False))
    return sorted(chosen)
