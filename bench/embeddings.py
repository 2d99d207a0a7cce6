"""What each 2-D projection of ``visualize --embedding`` costs: t-SNE, UMAP and PCA side by side.

    .venv/bin/python bench/embeddings.py                      # Cora (a GAT trained here) and 100k nodes
    .venv/bin/python bench/embeddings.py --run outputs/cora-gat-20261121-101500 --sizes 100000 --full

Inputs: the hidden-layer embeddings of a Cora GAT run (``--run``, else one trained for
``--epochs`` epochs into a temporary folder), and Gaussian-blob embeddings of each ``--sizes``
(64 dims, 7 classes, like a hidden layer). Each method runs through ``coords.embeddings.project``
exactly as ``visualize`` calls it (seed 0, no cache), so above ``MAX_POINTS`` nodes it projects the
same seeded sample; ``--full`` also projects every node. Reported per method: seconds (median of
``--rounds``; UMAP after one untimed call on the same input, as numba compiles some paths on
first use, and the first call of the process reported apart), and the map's quality against its input: trustworthiness (scikit-learn, 10
neighbours) and the 10-NN accuracy of the 2-D coordinates against the class labels. Also printed:
the load average before and after, because the timings mean nothing on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gnnviz.viz.coords import embeddings  # noqa: E402

METHODS = tuple(embeddings.METHODS)


def cora_hidden(run: Path | None, epochs: int) -> tuple[np.ndarray, np.ndarray]:
    """(hidden embeddings [N, D], labels [N]) of a Cora GAT run."""
    from gnnviz.config import load_config
    from gnnviz.experiment import train
    from gnnviz.viz.load import load_arrays

    if run is None:
        repo = Path(__file__).resolve().parents[1]
        cfg = load_config(repo / "configs" / "gat_cora.yaml", [f"training.epochs={epochs}"])
        run = train(cfg, out=Path(tempfile.mkdtemp(prefix="bench-embeddings-")), name="cora", quiet=True)
    a = load_arrays(run)
    return a.embeddings[-2], a.y.astype(int)


def blobs(n: int, d: int = 64, k: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(k, size=n)
    return (rng.normal(scale=3, size=(k, d))[y] + rng.normal(size=(n, d))).astype(np.float32), y


def quality(x: np.ndarray, y: np.ndarray, p: embeddings.Projection) -> tuple[float, float]:
    from sklearn.manifold import trustworthiness
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    rows, labels = x[p.index], y[p.index]
    trust = trustworthiness(rows, p.coords, n_neighbors=10)
    knn = cross_val_score(KNeighborsClassifier(10), p.coords, labels, cv=5).mean()
    return float(trust), float(knn)


def measure(name: str, x: np.ndarray, y: np.ndarray, rounds: int, max_points: int | None) -> None:
    for method in METHODS:
        if method == "umap":  # numba compiles some of UMAP's paths on their first use at a size: not timed
            embeddings.project(x, method, seed=0, max_points=max_points, use_cache=False)
        seconds = []
        for _ in range(rounds):
            start = time.perf_counter()
            p = embeddings.project(x, method, seed=0, max_points=max_points, use_cache=False)
            seconds.append(time.perf_counter() - start)
        trust, knn = quality(x, y, p)
        print(
            f"{name:>24}  {method:>5}  {statistics.median(seconds):8.2f} s  trust {trust:.3f}  10-NN acc {knn:.3f}  ({p.note})",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, help="a Cora run directory (default: train one)")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",") if v], default=[100_000])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="also project every node, not visualize's sample")
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; {os.cpu_count()} CPUs", flush=True)
    start = time.perf_counter()
    embeddings.project(blobs(200)[0], "umap", use_cache=False)  # warm-up: numba compiles UMAP here
    print(f"UMAP warm-up (import and numba compilation, 200 points): {time.perf_counter() - start:.2f} s", flush=True)
    x, y = cora_hidden(args.run, args.epochs)
    measure(f"Cora hidden {x.shape[0]}x{x.shape[1]}", x, y, args.rounds, None)
    for n in args.sizes:
        bx, by = blobs(n)
        measure(f"blobs {n}x64, as visualize", bx, by, args.rounds, None)
        if args.full:
            measure(f"blobs {n}x64, every node", bx, by, 1, n)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
