"""Does a forked drawing pool earn its keep? ``gnnviz visualize`` drawing serially (what it does) vs
on a two-process fork pool (what it did until the pool deadlocked once under load).

    python bench/viz_pool.py RUN [RUN ...] [--reps 3]

Per run, cold cache (fresh ``GNNVIZ_CACHE_DIR`` per call) and warm, the two contenders alternate
in one process; prints medians of the drawing stage and of the whole call, with the load average.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from pathlib import Path

from gnnviz.viz import visualize as report
from gnnviz.viz import write as render
from gnnviz.viz.draw.encode import render_figure

_JOBS: list = []  # read by forked workers: inherited memory, nothing pickled but an index


def _one(i: int, fmt: str, dpi: int) -> bytes:
    return render_figure(_JOBS[i], fmt, dpi)


def pool_render_all(jobs, fmt: str, dpi: int) -> list[bytes]:
    """The old contender: a two-worker fork pool."""
    _JOBS[:] = jobs
    try:
        with mp.get_context("fork").Pool(2) as pool:
            return pool.starmap(_one, [(i, fmt, dpi) for i in range(len(jobs))], chunksize=1)
    finally:
        _JOBS.clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    serial = render.render_all
    warm = tempfile.mkdtemp(prefix="warm-")
    results: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for run in args.runs:
        for cache in ("cold", "warm"):
            for rep in range(args.reps):
                order = [("pool", pool_render_all), ("serial", serial)]
                for name, impl in order if rep % 2 == 0 else order[::-1]:
                    render.render_all = impl
                    os.environ["GNNVIZ_CACHE_DIR"] = tempfile.mkdtemp(prefix="cold-") if cache == "cold" else warm
                    out = Path(tempfile.mkdtemp()) / "viz"
                    start = time.perf_counter()
                    report.visualize(run, out, quiet=True)
                    total = time.perf_counter() - start
                    drawing = json.loads((out / "timings.json").read_text())["seconds"]["drawing"]
                    results.setdefault((run.name, cache, name), []).append((drawing, total))
            print(f"{run.name} {cache}: load average {os.getloadavg()[0]:.2f}", flush=True)
    render.render_all = serial
    for (run, cache, name), v in results.items():
        drawing = statistics.median(d for d, _ in v)
        total = statistics.median(t for _, t in v)
        print(f"{run:20s} {cache:5s} {name:6s} drawing {drawing:6.2f} s  visualize {total:6.2f} s  (n={len(v)})")


if __name__ == "__main__":
    main()
