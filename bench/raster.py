"""Edge rasterising: gnnviz's numpy ``raster.edge_density`` against datashader's ``Canvas.line``.

    .venv/bin/python bench/raster.py                       # numpy only (datashader not installed)
    /path/to/venv-with-datashader/bin/python bench/raster.py --edges 5000000 --out /tmp/raster

datashader is not a gnnviz dependency (it pulls numba, dask and pandas); run this with any Python
that has both datashader and gnnviz's requirements importable (``PYTHONPATH=.``). The graph is a
clustered random one: nodes in 7 Gaussian blobs, 80% of edges within a blob (like the synthetic
benchmark graphs under an embedding layout). Both images are 1600 pixels wide; reported: seconds
(median of 3, after one warm-up call, which for datashader includes numba's compilation), and how
alike the two images are (Pearson correlation of the per-pixel values, and of their ranks).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gnnviz.viz.draw import raster  # noqa: E402

WIDTH = 1600


def graph(nodes: int, edges: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cls = rng.integers(7, size=nodes)
    centres = rng.normal(scale=10, size=(7, 2))
    coords = centres[cls] + rng.normal(size=(nodes, 2))
    src = rng.integers(nodes, size=edges)
    dst = rng.integers(nodes, size=edges)
    same = rng.random(edges) < 0.8
    by = [np.flatnonzero(cls == c) for c in range(7)]
    for c in range(7):
        pick = same & (cls[src] == c)
        dst[pick] = rng.choice(by[c], size=int(pick.sum()))
    return coords, src, dst


def timed(f, rounds: int = 3) -> tuple[float, np.ndarray]:
    out = f()  # warm-up (numba compiles here)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=5_000_000)
    parser.add_argument("--out", type=Path, help="write both images as PNG here")
    args = parser.parse_args()
    coords, src, dst = graph(args.nodes, args.edges)
    lo, hi = coords.min(0), coords.max(0)
    extent = (lo[0], hi[0], lo[1], hi[1])
    shape = (round(WIDTH * (hi[1] - lo[1]) / (hi[0] - lo[0])), WIDTH)
    print(f"{args.nodes:,} nodes, {args.edges:,} edges, {shape[1]} x {shape[0]} pixels, load {os.getloadavg()[0]:.1f}")
    t_np, img_np = timed(lambda: raster.edge_density(coords, src, dst, extent, shape))
    print(f"numpy raster.edge_density: {t_np:.2f} s")
    try:
        import datashader as ds
        import pandas as pd
    except ImportError:
        print("datashader: not installed here")
        return
    df = pd.DataFrame({"x0": coords[src, 0], "y0": coords[src, 1], "x1": coords[dst, 0], "y1": coords[dst, 1]})
    canvas = ds.Canvas(plot_width=shape[1], plot_height=shape[0], x_range=extent[:2], y_range=extent[2:])
    t_ds, agg = timed(lambda: canvas.line(df, x=["x0", "x1"], y=["y0", "y1"], axis=1, agg=ds.count()))
    img_ds = np.asarray(agg.values, dtype=np.float64)[::-1]  # datashader's row 0 is the bottom
    print(f"datashader Canvas.line (count): {t_ds:.2f} s; load {os.getloadavg()[0]:.1f}")
    a, b = img_np.ravel(), img_ds.ravel()
    print(
        f"pixel correlation {np.corrcoef(a, b)[0, 1]:.3f}; non-empty pixels numpy {int((a > 0).sum()):,} datashader {int((b > 0).sum()):,}"
    )
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    print(f"rank correlation {np.corrcoef(ra, rb)[0, 1]:.3f}")
    if args.out:
        from PIL import Image

        args.out.mkdir(parents=True, exist_ok=True)
        for name, img in (("numpy", img_np), ("datashader", img_ds)):
            grey = (255 * (1 - raster.equalised(img))).astype(np.uint8)
            Image.fromarray(grey).save(args.out / f"{name}.png")
        print(f"images in {args.out}")


if __name__ == "__main__":
    main()
