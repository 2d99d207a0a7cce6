"""2-D t-SNE projections of node embeddings: seeded, subsampled when large, cached on disk.

scikit-learn's exact defaults take 8 s on Cora's 2708 x 64 hidden layer. Reducing to at most 50
dimensions with PCA first (t-SNE's neighbour search then works on fewer, denoised dimensions)
and stopping after 500 iterations (250 of them early exaggeration) gives the same clusters in
well under half the time; the result is cached by the embedding's bytes, so a second visualize
of the same run costs nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from gnnviz.viz import cache

TSNE_VERSION = 1  # bump when parameters change so old cache entries stop matching
MAX_POINTS = 5000  # above this, a seeded random subsample is projected (t-SNE is O(n log n) but slow)
PCA_DIMS = 50
MAX_ITER = 500
PERPLEXITY = 30.0


@dataclass(frozen=True)
class Projection:
    """coords: [M, 2]; index: [M] node ids of the rows (all nodes unless subsampled).

    note: what was done, for the figure title ("perplexity 30", "random 5000 of 56944 nodes").
    """

    coords: np.ndarray
    index: np.ndarray
    note: str
    cached: bool = False


def perplexity_for(n: int) -> float:
    """scikit-learn's default 30, lowered for tiny graphs: it must stay below the sample count.

    (n - 1) / 3 keeps about 3 perplexities' worth of neighbours available per point.
    """
    return float(max(1.0, min(PERPLEXITY, (n - 1) / 3)))


def subsample(n: int, max_points: int, seed: int) -> np.ndarray:
    """Sorted node ids [min(n, max_points)]: all nodes, or a seeded random subset."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def tsne(x: np.ndarray, *, seed: int = 0, max_points: int = MAX_POINTS, use_cache: bool = True) -> Projection:
    """Seeded t-SNE of x: [N, D] float. Identical inputs and seed give identical coordinates."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    n = x.shape[0]
    index = subsample(n, max_points, seed)
    rows = x[index]
    perplexity = perplexity_for(len(index))
    note = f"perplexity {perplexity:g}"
    if len(index) < n:
        note += f", random {len(index)} of {n} nodes"
    key = hashlib.sha256(rows.tobytes() + f"|{rows.shape}|seed={seed}|v={TSNE_VERSION}".encode()).hexdigest()
    path = cache.entry("tsne", key)
    if use_cache:
        hit = cache.read(path)
        if hit is not None and hit.get("coords", np.empty(0)).shape == (len(index), 2):
            return Projection(hit["coords"], index, note, cached=True)
    coords = _fit(rows, perplexity, seed)
    if use_cache:
        cache.write(path, coords=coords)
    return Projection(coords, index, note)


def _fit(rows: np.ndarray, perplexity: float, seed: int) -> np.ndarray:
    n = rows.shape[0]
    if n < 4:
        # Nothing to embed non-linearly: spread the few points on a line so they stay visible.
        return np.stack([np.arange(n, dtype=float), np.zeros(n)], axis=1)
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if rows.shape[1] > PCA_DIMS and n > PCA_DIMS:
        rows = PCA(PCA_DIMS, random_state=seed).fit_transform(rows)
    if np.ptp(rows, axis=0).max() == 0:
        # All embeddings equal (e.g. a dead layer): t-SNE has no distances to preserve.
        return np.zeros((n, 2))
    model = TSNE(2, perplexity=perplexity, max_iter=MAX_ITER, init="pca", random_state=seed, method="barnes_hut")
    return model.fit_transform(rows).astype(np.float64)
