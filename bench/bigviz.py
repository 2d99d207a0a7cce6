"""``gnnviz visualize`` at 100k and 1M nodes: wall time and peak RSS of the whole command, per stage.

    .venv/bin/python bench/bigviz.py                      # 100k and 1M nodes, cold cache
    .venv/bin/python bench/bigviz.py --sizes 1000000 --keep /tmp/bigviz

Goal (issue 11): visualize of the 1M-node, ~5M-edge run under 2 minutes and 4 GB peak RSS.

The graphs are ``bench/synthetic.py``'s with mean degree 10 (1M nodes: about 5M undirected
edges, 10M stored directed ones). The model is GAT trained for 100 epochs on a 20k-node graph
from the same generator (same classes and vocabulary); its run directory then gets the big graph
as ``graph.pt``, through gnnviz's own ``runs.store.save_graphs``. What visualize costs does not depend
on the weights, and full-batch GAT training on 1M nodes is issue 11's mini-batch work, not this
benchmark's. Each visualize runs in a child process with an empty cache (cold: forward pass,
layout, t-SNE all computed) and then again warm; the peak RSS and CPU time (user + system) are the
child's own (``os.wait4``). On a machine shared with other work, wall time grows with the load
average (recorded before and after) while CPU time stays about the same.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

from measure import load, run_process  # noqa: E402

TRAIN_NODES = 20_000
DEGREE = 10
TIMEOUT = 600  # seconds: five times the goal, then the run is reported as timed out


def make_run(n: int, root: Path) -> Path:
    """A GAT run directory whose graph.pt holds synthetic(n) (see the module docstring)."""
    from dataclasses import replace

    from synthetic import synthetic, write_run

    from gnnviz.runs.store import save_graphs

    run = root / f"run-{n}"
    if (run / "checkpoint.pt").is_file():
        return run
    big = synthetic(n, degree=DEGREE)
    small = replace(synthetic(TRAIN_NODES, degree=DEGREE), name=big.name)
    trained = write_run(small, root / "tmp", epochs=100)
    save_graphs(trained, big.test, dataset=big.name, task=big.task, split="test")
    trained.rename(run)
    return run


def visualize(run: Path, cache: Path) -> dict:
    env = {**os.environ, "GNNVIZ_CACHE_DIR": str(cache), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    out = run / "viz"
    shutil.rmtree(out, ignore_errors=True)
    before = load()
    p = run_process([sys.executable, "-m", "gnnviz", "visualize", "--run", str(run), "--out", str(out)], env=env, timeout=TIMEOUT)
    r = {
        "seconds": round(p.seconds, 1), "cpu_seconds": round(p.cpu_seconds, 1), "max_rss_mb": round(p.max_rss_mb),
        "returncode": p.returncode, "load": [before, load()],
    }  # fmt: skip
    if p.returncode != 0:
        r["error"] = (p.stderr.strip().splitlines() or ["killed (timeout)"])[-1]
        return r
    t = json.loads((out / "timings.json").read_text())
    r["stages"] = t["seconds"]
    r["layout_method"] = t["layout_method"]
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated node counts")
    parser.add_argument("--keep", type=Path, help="keep runs, caches and figures here (default: a temp dir, removed)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="gnnviz-bigviz-"))
    root.mkdir(parents=True, exist_ok=True)
    results = {}
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            t = time.perf_counter()
            run = make_run(n, root)
            print(f"{n:,} nodes: run ready in {time.perf_counter() - t:.0f} s ({run})", flush=True)
            cache = root / f"cache-{n}"
            shutil.rmtree(cache, ignore_errors=True)
            cold = visualize(run, cache)
            print(f"  cold: {json.dumps(cold)}", flush=True)
            warm = visualize(run, cache)
            print(f"  warm: {json.dumps(warm)}", flush=True)
            results[n] = {"cold": cold, "warm": warm}
        print("goal: 1M nodes under 120 s and 4096 MB peak RSS (cold)")
        print(json.dumps(results))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
