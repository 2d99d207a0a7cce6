"""2-D projections of node embeddings (t-SNE, UMAP, PCA): seeded, subsampled when large, cached on disk.

``project(x, method)`` is the one entry point; ``METHODS`` names what each method is called and
which settings its figure titles state. All three share the subsample (``MAX_POINTS``), the
cache (``viz/cache.py``, one folder per method, keyed by the rows' bytes, the seed and the
method's version) and the fallbacks for tiny or constant inputs.

t-SNE (openTSNE).
scikit-learn's defaults take 11 s of CPU on Cora's 2708 x 64 hidden layer. Reducing to at most 50
dimensions with PCA first and a coarser Barnes-Hut angle (0.8) keep the same clusters. openTSNE's
optimiser (learning rate n/12, exact neighbours below its Annoy threshold) reaches a lower KL
divergence in 175 iterations (100 of them early exaggeration) than scikit-learn in 400 (250), at
the same trustworthiness, in less than half the CPU time (docs/performance.md, bench/tsne_impl.py). The result is cached
by the embedding's bytes, so a second visualize of the same run costs nothing.

UMAP (``umap-learn``, the optional ``umap`` extra: ``pip install gnnviz[umap]``): its defaults
(15 neighbours, min_dist 0.1, spectral initialisation), fewer neighbours on tiny graphs; seeded,
which makes umap-learn run on one thread. PCA (scikit-learn): the first two principal components,
the share of variance they explain in the title; no randomness beyond the solver's seed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from gnnviz.errors import ConfigError
from gnnviz.viz import cache

TSNE_VERSION = 3  # bump when parameters change so old cache entries stop matching
UMAP_VERSION = 1
PCA_VERSION = 1
MAX_POINTS = 5000  # above this, a seeded random subsample is projected (t-SNE is O(n log n) but slow)
PCA_DIMS = 50
MAX_ITER = 175  # all iterations, the early exaggeration's included
EXAGGERATION_ITER = 100
ANGLE = 0.8  # Barnes-Hut accuracy/speed trade-off (openTSNE, scikit-learn: 0.5); same clusters, 1.5x faster
PERPLEXITY = 30.0
UMAP_NEIGHBOURS = 15  # umap-learn's default
UMAP_MIN_DIST = 0.1  # umap-learn's default
UMAP_MISSING = "--embedding umap needs the umap-learn package: pip install gnnviz[umap] (or pass --embedding tsne or pca)"


@dataclass(frozen=True)
class Projection:
    """coords: [M, 2]; index: [M] node ids of the rows (all nodes unless subsampled).

    note: what was done, for the figure title ("perplexity 30", "random 5,000 of 56,944 nodes").
    method: a key of ``METHODS``; ``label`` is its name in titles ("t-SNE"). sample: the
    subsample's part of the note ("random 5,000 of 56,944 nodes"), or "" for all nodes.
    """

    coords: np.ndarray
    index: np.ndarray
    note: str
    cached: bool = False
    method: str = "tsne"
    sample: str = ""

    @property
    def label(self) -> str:
        return METHODS[self.method].label


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


def umap_neighbours_for(n: int) -> int:
    """umap-learn's default 15 neighbours, fewer for tiny graphs: at most n - 1, at least 2."""
    return int(max(2, min(UMAP_NEIGHBOURS, n - 1)))


def check_method(method: str) -> None:
    """Raise a one-line ``ConfigError`` for an unknown method, or for umap without umap-learn."""
    if method not in METHODS:
        raise ConfigError(f"--embedding '{method}' is not supported; choose one of {', '.join(METHODS)}")
    if method == "umap" and importlib.util.find_spec("umap") is None:
        raise ConfigError(UMAP_MISSING)


def project(
    x: np.ndarray, method: str = "tsne", *, seed: int = 0, max_points: int | None = None, use_cache: bool = True
) -> Projection:
    """Seeded 2-D projection of x: [N, D] float by ``method`` (tsne, umap, pca).

    Identical inputs and seed give identical coordinates. max_points: subsample above this many
    nodes (default ``MAX_POINTS``). Raises ``ConfigError`` for an unknown method or a missing package.
    """
    check_method(method)
    spec = METHODS[method]
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    n = x.shape[0]
    index = subsample(n, MAX_POINTS if max_points is None else max_points, seed)
    rows = x[index]
    sample = f"random {len(index):,} of {n:,} nodes" if len(index) < n else ""
    key = hashlib.sha256(rows.tobytes() + f"|{rows.shape}|seed={seed}|v={spec.version}".encode()).hexdigest()
    path = cache.entry(method, key)
    if use_cache:
        hit = cache.read(path)
        coords = hit.get("coords") if hit is not None else None
        found = hit.get("found") if hit is not None else None
        found = str(found) if found is not None and found.shape == () and found.dtype.kind == "U" else ""
        # A damaged or foreign entry (wrong shape, not numbers, NaN) is computed again.
        if coords is not None and coords.shape == (len(index), 2) and coords.dtype.kind == "f" and np.isfinite(coords).all():
            note = _note(spec.note(len(index)), found, sample)
            return Projection(coords.astype(np.float64), index, note, cached=True, method=method, sample=sample)
    coords, found = _fit_or_fallback(rows, spec, seed)
    if use_cache:
        cache.write(path, coords=coords, found=np.array(found))
    return Projection(coords, index, _note(spec.note(len(index)), found, sample), method=method, sample=sample)


def tsne(x: np.ndarray, *, seed: int = 0, max_points: int | None = None, use_cache: bool = True) -> Projection:
    """``project(x, "tsne")``: seeded t-SNE of x: [N, D] float."""
    return project(x, "tsne", seed=seed, max_points=max_points, use_cache=use_cache)


def project_many(
    xs: Sequence[np.ndarray], method: str = "tsne", *, seed: int = 0, max_points: int | None = None, use_cache: bool = True
) -> list[Projection]:
    """``project`` of several arrays at once, one thread each (results identical to one by one).

    scikit-learn's Barnes-Hut loop and umap-learn's numba loops run without the GIL, so two
    projections on two threads take about the time of one.
    """
    check_method(method)
    if len(xs) <= 1:
        return [project(x, method, seed=seed, max_points=max_points, use_cache=use_cache) for x in xs]
    with ThreadPoolExecutor(max_workers=len(xs)) as pool:
        futures = [pool.submit(project, x, method, seed=seed, max_points=max_points, use_cache=use_cache) for x in xs]
        return [f.result() for f in futures]


def tsne_many(
    xs: Sequence[np.ndarray], *, seed: int = 0, max_points: int | None = None, use_cache: bool = True
) -> list[Projection]:
    """``project_many(xs, "tsne")``."""
    return project_many(xs, "tsne", seed=seed, max_points=max_points, use_cache=use_cache)


def _note(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def _fit_or_fallback(rows: np.ndarray, spec: Method, seed: int) -> tuple[np.ndarray, str]:
    """(coords [M, 2], what the fit found, e.g. PCA's explained variance) for the sampled rows."""
    n = rows.shape[0]
    if n < 4:
        # Nothing to embed non-linearly: spread the few points on a line so they stay visible.
        return np.stack([np.arange(n, dtype=float), np.zeros(n)], axis=1), ""
    if np.ptp(rows, axis=0).max() == 0:
        # All embeddings equal (e.g. a dead layer): no distances to preserve.
        return np.zeros((n, 2)), ""
    return spec.fit(rows, seed)


def _fit_tsne(rows: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    return _fit(rows, perplexity_for(rows.shape[0]), seed), ""


def _fit_umap(rows: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    try:
        import umap
    except ImportError:
        raise ConfigError(UMAP_MISSING) from None
    from threadpoolctl import threadpool_limits

    model = umap.UMAP(
        n_components=2, n_neighbors=umap_neighbours_for(rows.shape[0]), min_dist=UMAP_MIN_DIST, random_state=seed, n_jobs=1
    )
    # One BLAS/OpenMP thread, for the reason ``_fit`` gives; a seeded UMAP is single-threaded anyway.
    # A neighbour graph in several pieces (well-separated classes) makes scikit-learn's spectral
    # initialisation warn; umap-learn handles the pieces itself, so the warning is noise on stderr.
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Graph is not fully connected", category=UserWarning)
        return model.fit_transform(rows).astype(np.float64), ""


def _fit_pca(rows: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    from sklearn.decomposition import PCA

    model = PCA(min(2, rows.shape[1]), random_state=seed)
    coords = model.fit_transform(rows).astype(np.float64)
    if coords.shape[1] < 2:  # one feature column: nothing for a second axis
        coords = np.concatenate([coords, np.zeros((coords.shape[0], 2 - coords.shape[1]))], axis=1)
    return coords, f"{100 * float(model.explained_variance_ratio_.sum()):.0f}% of the variance"


@dataclass(frozen=True)
class Method:
    """A projection method: its name in titles, its cache version, the settings its titles state
    (``note(m)`` for m sampled rows) and ``fit(rows [M, D], seed) -> (coords [M, 2], found)``."""

    label: str
    version: int
    note: Callable[[int], str]
    fit: Callable[[np.ndarray, int], tuple[np.ndarray, str]]


METHODS: dict[str, Method] = {
    "tsne": Method("t-SNE", TSNE_VERSION, lambda m: f"perplexity {perplexity_for(m):.3g}", _fit_tsne),
    "umap": Method("UMAP", UMAP_VERSION, lambda m: f"{umap_neighbours_for(m)} neighbours, min_dist {UMAP_MIN_DIST:g}", _fit_umap),
    "pca": Method("PCA", PCA_VERSION, lambda m: "first 2 components", _fit_pca),
}


def _fit(rows: np.ndarray, perplexity: float, seed: int) -> np.ndarray:
    import openTSNE
    from openTSNE.affinity import MultiscaleMixture
    from openTSNE.nearest_neighbors import Sklearn
    from sklearn.decomposition import PCA

    n = rows.shape[0]
    if rows.shape[1] > PCA_DIMS and n > PCA_DIMS:
        rows = PCA(PCA_DIMS, random_state=seed).fit_transform(rows)
    from threadpoolctl import threadpool_limits

    model = openTSNE.TSNE(
        n_components=2, perplexity=perplexity, early_exaggeration_iter=EXAGGERATION_ITER, n_iter=MAX_ITER - EXAGGERATION_ITER,
        theta=ANGLE, negative_gradient_method="bh", initialization="pca", random_state=seed, n_jobs=1, verbose=False,
    )  # fmt: skip
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    # One thread (n_jobs=1, and one OpenMP/BLAS thread): OpenMP's spinning barriers make t-SNE
    # 10-100x slower whenever the cores are shared (a training, a test run; measured 0.05 s vs 6 s
    # for 34 nodes). The limit is per calling thread, so ``tsne_many`` still uses a core per projection.
    with threadpool_limits(1):
        # The affinities TSNE.fit would build with neighbors="exact", built here with the exact
        # (scikit-learn) neighbour index passed in: openTSNE's own lookup imports pynndescent (and
        # numba) just to see whether it is installed, 1.3 s and ~100 MB for nothing.
        # perplexity_for keeps 3 * perplexity <= n - 1, so openTSNE keeps it as it is.
        knn = Sklearn(rows, min(n - 1, int(3 * perplexity)), metric="euclidean", n_jobs=1, random_state=seed)
        affinities = MultiscaleMixture(perplexities=[perplexity], knn_index=knn, n_jobs=1)
        return np.asarray(model.fit(rows, affinities=affinities), dtype=np.float64)
