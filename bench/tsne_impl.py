"""t-SNE through openTSNE (what ``visualize`` uses) against scikit-learn's at the former settings.

    .venv/bin/python bench/tsne_impl.py --run outputs/cora-gat-...

Both project the hidden and the output embeddings of a run (PCA to 50 dimensions first, as
``coords.embeddings`` does), seed 0, one thread each, Barnes-Hut angle 0.8:

- scikit-learn: 400 iterations, 250 of them early exaggeration (gnnviz before openTSNE);
- openTSNE: ``coords.embeddings._fit`` as it is (175 iterations, 100 of them early exaggeration).

Reported per method and layer: CPU seconds (``time.process_time``: what the machine's load
inflates least; median of ``--rounds``), the KL divergence each library reports for its map, and
trustworthiness (scikit-learn, 10 neighbours) of the 2-D map against the embeddings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import load  # noqa: E402
from gnnviz.viz.coords import embeddings  # noqa: E402


def reduced(x: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import PCA

    return PCA(embeddings.PCA_DIMS, random_state=0).fit_transform(x) if x.shape[1] > embeddings.PCA_DIMS else x


def sklearn_fit(x: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    m = TSNE(2, perplexity=30.0, max_iter=400, angle=0.8, init="pca", random_state=0, method="barnes_hut")
    with threadpool_limits(1):
        y = m.fit_transform(reduced(x))
    return y, float(m.kl_divergence_)


def opentsne_fit(x: np.ndarray) -> tuple[np.ndarray, float]:
    import openTSNE
    from threadpoolctl import threadpool_limits

    m = openTSNE.TSNE(
        n_components=2, perplexity=30.0, early_exaggeration_iter=embeddings.EXAGGERATION_ITER,
        n_iter=embeddings.MAX_ITER - embeddings.EXAGGERATION_ITER, theta=embeddings.ANGLE, negative_gradient_method="bh",
        neighbors="exact", initialization="pca", random_state=0, n_jobs=1, verbose=False,
    )  # fmt: skip
    with threadpool_limits(1):
        e = m.fit(np.ascontiguousarray(reduced(x), dtype=np.float64))
    return np.asarray(e), float(e.kl_divergence)


def main(argv: list[str] | None = None) -> int:
    from sklearn.manifold import trustworthiness

    from gnnviz.viz.load import load_arrays

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    a = load_arrays(args.run)
    layers = {"hidden": a.embeddings[-2], "output": a.embeddings[-1]}
    print(f"load average before: {load()}")
    print(f"{'layer':<8} {'method':<14} {'CPU s':>6} {'KL':>6} {'trust':>7}")
    for layer, x in layers.items():
        x = np.asarray(x, dtype=np.float32)
        for name, fit in (("scikit-learn", sklearn_fit), ("openTSNE", opentsne_fit)):
            cpu = []
            for _ in range(args.rounds):
                t = time.process_time()
                y, kl = fit(x)
                cpu.append(time.process_time() - t)
            tw = trustworthiness(x, y, n_neighbors=10)
            print(f"{layer:<8} {name:<14} {statistics.median(cpu):>6.2f} {kl:>6.3f} {tw:>7.4f}", flush=True)
    print(f"load average after: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
