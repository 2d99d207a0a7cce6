"""``gnnviz explain`` of the 1,000,000-node synthetic graph: wall time, CPU time and peak memory,
for single nodes (``--nodes N``) and for the default seeded sample (no ``--nodes``).

    .venv/bin/python bench/explain_scale.py                                  # trains the run in a temp dir
    .venv/bin/python bench/explain_scale.py --keep /tmp/explain-scale        # keep (and reuse) the run
    .venv/bin/python bench/explain_scale.py --run RUN --nodes 12345,500000   # an existing run
    .venv/bin/python bench/explain_scale.py --run RUN --no-sample            # single nodes only

Goal (issue 17): a node of the 1M-node synthetic graph explained in under 30 s and 4 GB.

The run is what ``gnnviz train --config configs/gat_synthetic.yaml --set dataset.nodes=1000000``
trains (igraph's block model, 4 blocks, mean degree 10: 10.0M stored edges, 16 features; GAT, 2
layers), cut to ``--epochs`` epochs: what explain costs does not depend on how well the model
learned. Each ``gnnviz explain --run RUN [--nodes N]`` runs in a child process of its own (through
``bench/measure.py``), once per node and method set (the default methods, and ``--methods
gnnexplainer,saliency``) and once per method set without ``--nodes`` (the default sample: on this
graph above ``WHOLE_GRAPH_MAX_EDGES`` picked from the whole graph's logits), into a new folder each
time so that nothing is served from an earlier explanation, and with an empty visualize cache.

Reported: wall seconds (start to exit); CPU seconds (user + system of explain and of the helper
process it forks, ``viz/helper.py``, which it reaps: ``os.wait4`` counts it); memory, three ways
(``measure.Proc``): ``max_rss_mb``, the largest peak RSS of any one of the two processes
(``os.wait4``: Linux reports the max over a process and its reaped descendants, not their sum;
the helper's RSS includes the pages it shares with explain since the fork); ``tree_pss_mb``, the
peak of the two processes' summed PSS, sampled every ``SAMPLE`` seconds from
/proc/PID/smaps_rollup (shared pages counted once: what explain takes of the machine, but a peak
between samples can be missed); ``tree_rss_mb``, the peak of their summed RSS (shared pages counted
twice: an upper bound). The goal is checked against ``peak_mb`` = max(max_rss_mb, tree_pss_mb),
for the single nodes. Also: each method's seconds from explain.json, the nodes explained and their
computation edges, and the 1-minute load average before and after (wall time grows with it; CPU
time and memory hardly do).
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
SAMPLE = 0.1  # seconds between samples of the explain processes' memory


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


def explain(run: Path, node: int | None, methods: str | None, out: Path) -> dict:
    """One ``gnnviz explain`` of ``node`` (None: the default sample) into ``out``, measured."""
    shutil.rmtree(out, ignore_errors=True)
    cache = out.with_name(out.name + "-cache")
    shutil.rmtree(cache, ignore_errors=True)
    args = [sys.executable, "-m", "gnnviz", "explain", "--run", str(run), "--out", str(out)]
    args += ["--nodes", str(node)] if node is not None else []
    args += ["--methods", methods] if methods else []
    before = load()
    p = run_process(args, env=env() | {"GNNVIZ_CACHE_DIR": str(cache)}, timeout=10 * GOAL_SECONDS, sample=SAMPLE)
    r = {
        "seconds": round(p.seconds, 1), "cpu_seconds": round(p.cpu_seconds, 1), "peak_mb": round(p.peak_mb),
        "max_rss_mb": round(p.max_rss_mb), "tree_pss_mb": round(p.tree_pss_mb), "tree_rss_mb": round(p.tree_rss_mb),
        "returncode": p.returncode, "load": [before, load()],
    }  # fmt: skip
    if p.returncode != 0:
        r["error"] = (p.stderr.strip().splitlines() or ["killed (timeout)"])[-1]
        return r
    doc = json.loads((out / "explain.json").read_text())
    r["method_seconds"] = {m: v["seconds"] for m, v in doc["methods"].items()}
    r["nodes_explained"] = len(doc["nodes"])
    r["computation_edges"] = sum(row["computation_edges"] for row in doc["nodes"])
    r["whole_graph"] = doc["whole_graph"]
    r["notes"] = doc["notes"]
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="an existing run directory (default: train one)")
    parser.add_argument("--graph-nodes", type=int, default=1_000_000, help="nodes of the trained synthetic graph")
    parser.add_argument("--epochs", type=int, default=2, help="training epochs (time and memory do not depend on them)")
    parser.add_argument("--nodes", default="12345", help="comma-separated nodes to explain, one child process each")
    parser.add_argument("--no-sample", action="store_true", help="skip the default sample (explain without --nodes)")
    parser.add_argument("--keep", type=Path, help="keep the run and outputs here (default: a temp dir, removed)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="gnnviz-explain-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        run = args.run or trained(root, args.graph_nodes, args.epochs)
        results = []
        cases = [int(v) for v in args.nodes.split(",") if v.strip()] + ([] if args.no_sample else [None])
        for node in cases:
            for label, methods in METHOD_SETS.items():
                folder = f"explain-{'sample' if node is None else node}-{label.replace(',', '-')}"
                r = {"node": "sample" if node is None else node, "methods": label, **explain(run, node, methods, root / folder)}
                print(json.dumps(r), flush=True)
                results.append(r)
        single = [r for r in results if r["node"] != "sample"]
        ok = all(r["returncode"] == 0 and r["seconds"] < GOAL_SECONDS and r["peak_mb"] < GOAL_MB for r in single)
        print(f"goal: each single node under {GOAL_SECONDS} s and {GOAL_MB} MB peak: {'met' if ok else 'NOT met'}")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
