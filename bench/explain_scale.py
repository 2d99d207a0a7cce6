"""``gnnviz explain`` of one node of the 1,000,000-node synthetic graph: wall time and peak RSS.

    .venv/bin/python bench/explain_scale.py                                  # trains the run in a temp dir
    .venv/bin/python bench/explain_scale.py --keep /tmp/explain-scale        # keep (and reuse) the run
    .venv/bin/python bench/explain_scale.py --run RUN --nodes 12345,500000   # an existing run

Goal (issue 17): a node of the 1M-node synthetic graph explained in under 30 s and 4 GB.

The run is what ``gnnviz train --config configs/gat_synthetic.yaml --set dataset.nodes=1000000``
trains (igraph's block model, 4 blocks, mean degree 10: 10.0M stored edges, 16 features; GAT, 2
layers), cut to ``--epochs`` epochs: what explain costs does not depend on how well the model
learned. Each ``gnnviz explain --run RUN --nodes N`` runs in a child process of its own (its own
peak RSS and CPU time, ``os.wait4``, through ``bench/measure.py``), once per node and method set
(the default methods, and ``--methods gnnexplainer,saliency``), into a new folder each time so that
nothing is served from an earlier explanation, and with an empty visualize cache. Reported: wall
seconds (start to exit), CPU seconds (user + system), peak RSS, each method's seconds from
explain.json, the node's computation edges, and the 1-minute load average before and after (wall
time grows with it; CPU time and memory hardly do).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from measure import load, run_process  # noqa: E402

GOAL_SECONDS, GOAL_MB = 30, 4096
METHOD_SETS = {"default": None, "gnnexplainer,saliency": "gnnexplainer,saliency"}


def env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(REPO) + (os.pathsep + path if path else ""), "MPLBACKEND": "Agg"}


def trained(root: Path, nodes: int, epochs: int) -> Path:
    """The run of ``configs/gat_synthetic.yaml`` at ``nodes`` nodes, trained for ``epochs`` epochs
    (reused when ``root`` already holds it)."""
    run = root / f"gat-synthetic-{nodes}"
    if (run / "summary.json").is_file() and json.loads((run / "summary.json").read_text()).get("status") == "completed":
        return run
    shutil.rmtree(run, ignore_errors=True)
    sets = [f"dataset.nodes={nodes}", f"training.epochs={epochs}", "training.patience=0"]
    args = [sys.executable, "-m", "gnnviz", "train", "--config", str(REPO / "configs" / "gat_synthetic.yaml"), "--quiet"]
    args += [a for s in sets for a in ("--set", s)] + ["--out", str(root), "--name", run.name]
    p = run_process(args, env=env(), timeout=3600)
    if p.returncode != 0:
        raise SystemExit(f"training failed: {(p.stderr.strip().splitlines() or ['killed'])[-1]}")
    print(f"trained {run} in {p.seconds:.0f} s, peak RSS {p.max_rss_mb:,.0f} MB", flush=True)
    return run


def explain(run: Path, node: int, methods: str | None, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cache = out.with_name(out.name + "-cache")
    shutil.rmtree(cache, ignore_errors=True)
    args = [sys.executable, "-m", "gnnviz", "explain", "--run", str(run), "--nodes", str(node), "--out", str(out)]
    args += ["--methods", methods] if methods else []
    before = load()
    p = run_process(args, env=env() | {"GNNVIZ_CACHE_DIR": str(cache)}, timeout=10 * GOAL_SECONDS)
    r = {
        "seconds": round(p.seconds, 1), "cpu_seconds": round(p.cpu_seconds, 1), "max_rss_mb": round(p.max_rss_mb),
        "returncode": p.returncode, "load": [before, load()],
    }  # fmt: skip
    if p.returncode != 0:
        r["error"] = (p.stderr.strip().splitlines() or ["killed (timeout)"])[-1]
        return r
    doc = json.loads((out / "explain.json").read_text())
    r["method_seconds"] = {m: v["seconds"] for m, v in doc["methods"].items()}
    r["computation_edges"] = doc["nodes"][0]["computation_edges"]
    r["whole_graph"] = doc["whole_graph"]
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="an existing run directory (default: train one)")
    parser.add_argument("--graph-nodes", type=int, default=1_000_000, help="nodes of the trained synthetic graph")
    parser.add_argument("--epochs", type=int, default=2, help="training epochs (time and memory do not depend on them)")
    parser.add_argument("--nodes", default="12345", help="comma-separated nodes to explain, one child process each")
    parser.add_argument("--keep", type=Path, help="keep the run and outputs here (default: a temp dir, removed)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="gnnviz-explain-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        run = args.run or trained(root, args.graph_nodes, args.epochs)
        results = []
        for node in (int(v) for v in args.nodes.split(",")):
            for label, methods in METHOD_SETS.items():
                r = {
                    "node": node,
                    "methods": label,
                    **explain(run, node, methods, root / f"explain-{node}-{label.replace(',', '-')}"),
                }
                print(json.dumps(r), flush=True)
                results.append(r)
        ok = all(r["returncode"] == 0 and r["seconds"] < GOAL_SECONDS and r["max_rss_mb"] < GOAL_MB for r in results)
        print(f"goal: each under {GOAL_SECONDS} s and {GOAL_MB} MB peak RSS: {'met' if ok else 'NOT met'}")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
