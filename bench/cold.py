"""A cold ``gnnviz visualize`` against the naive pass it replaces, side by side in one run.

    .venv/bin/python bench/cold.py --run outputs/cora-gat-...          # 3 rounds each, alternating
    .venv/bin/python bench/cold.py --run RUN --rounds 5 --src REV      # also an older tree (git rev)

The naive pass is what a user would otherwise run to see a trained GAT's graph and embeddings:
igraph's Kamada-Kawai of the whole graph with its defaults, plus scikit-learn's t-SNE of the output
layer with its defaults. It gets the edge index and the output embeddings from a file written
before the timing starts, so it pays neither torch's import nor the forward pass nor any drawing:
a lower bound of the naive cost, which makes the ratio conservative. The gnnviz contender is the
whole command (``python -m gnnviz visualize --run RUN --out DIR --quiet``) with an empty
``GNNVIZ_CACHE_DIR`` each call: cold, every stage computed. Each contender runs in a child process
(``measure.run_process``: wall seconds, CPU seconds, peak RSS); the order rotates every round.
Reported: the median of each, their ratio, each gnnviz call's stages from its ``timings.json``,
and the load average before and after (the machine is shared; the ratio is what counts).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import load, median, run_process  # noqa: E402
from bench.same_outputs import source_tree  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

NAIVE = """
import json, sys, time, numpy as np, igraph
from sklearn.manifold import TSNE
d = np.load(sys.argv[1])
g = igraph.Graph(n=int(d["n"]), edges=d["edges"].T.tolist())
t0 = time.perf_counter()
xy = g.layout_kamada_kawai()
t1 = time.perf_counter()
emb = TSNE(2, random_state=0).fit_transform(d["out"])
print(json.dumps({"layout": round(t1 - t0, 2), "tsne": round(time.perf_counter() - t1, 2)}))
"""


def naive_inputs(run: Path, path: Path) -> None:
    """Write the run's edge index and output embeddings (what the naive pass starts from)."""
    import numpy as np

    from gnnviz.viz.load import load_arrays

    a = load_arrays(run)
    np.savez(path, n=a.num_nodes, edges=a.edge_index.astype(np.int64), out=a.embeddings[-1].astype(np.float32))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a trained run directory (Cora GAT)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--src", action="append", default=[], help="also time visualize from this git revision")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    inputs = scratch / "naive.npz"
    naive_inputs(args.run, inputs)
    trees = {"gnnviz": REPO, **{f"gnnviz@{r}": source_tree(r, scratch) for r in args.src}}
    calls = {"naive": 0}

    def gnnviz(name: str, tree: Path):
        def call() -> dict:
            i = calls[name] = calls.get(name, 0) + 1
            out, cache = scratch / f"viz-{name}-{i}", scratch / f"cache-{name}-{i}"
            env = dict(os.environ, PYTHONPATH=str(tree), MPLBACKEND="Agg", GNNVIZ_CACHE_DIR=str(cache))
            cmd = [sys.executable, "-m", "gnnviz", "visualize", "--run", str(args.run), "--out", str(out), "--quiet"]
            p = run_process(cmd, env=env, cwd=str(tree))
            if p.returncode != 0:
                raise SystemExit(f"{name} failed: {p.stderr.strip().splitlines()[-1:]}")
            t = json.loads((out / "timings.json").read_text())
            return {"seconds": p.seconds, "cpu": p.cpu_seconds, "rss": p.max_rss_mb, "stages": t["seconds"],
                    "cpu_stages": t.get("cpu_seconds"), "helper_cpu": t.get("layout_helper_cpu"),
                    "switch_off": t.get("switch_off")}  # fmt: skip

        return call

    def naive() -> dict:
        p = run_process([sys.executable, "-c", NAIVE, str(inputs)])
        if p.returncode != 0:
            raise SystemExit(f"naive failed: {p.stderr.strip()[-300:]}")
        return {
            "seconds": p.seconds,
            "cpu": p.cpu_seconds,
            "rss": p.max_rss_mb,
            "stages": json.loads(p.stdout.strip().splitlines()[-1]),
        }

    contenders = {"naive": naive, **{name: gnnviz(name, tree) for name, tree in trees.items()}}
    names = list(contenders)
    got: dict[str, list[dict]] = {n: [] for n in names}
    loads = [load()]
    for r in range(args.rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            got[name].append(contenders[name]())
            loads.append(load())
            print(f"round {r + 1} {name}: {got[name][-1]['seconds']:.1f} s (load {loads[-1]})", flush=True)
    naive_s = median([g["seconds"] for g in got["naive"]])
    naive_cpu = median([g["cpu"] for g in got["naive"]])
    print(f"\nload average (1 min) over the run: {min(loads)} to {max(loads)}")
    print(f"{'contender':<24} {'wall s':>8} {'ratio':>6} {'CPU s':>7} {'ratio':>6} {'RSS MB':>7}")
    summary = {}
    for name in names:
        s = median([g["seconds"] for g in got[name]])
        cpu = median([g["cpu"] for g in got[name]])
        rss = median([g["rss"] for g in got[name]])
        summary[name] = {"seconds": round(s, 2), "cpu": round(cpu, 2), "rss": round(rss, 1),
                         "ratio": round(s / naive_s, 3), "cpu_ratio": round(cpu / naive_cpu, 3)}  # fmt: skip
        print(f"{name:<24} {s:>8.1f} {s / naive_s:>6.2f} {cpu:>7.1f} {cpu / naive_cpu:>6.2f} {rss:>7.0f}")
        if "stages" in got[name][0]:
            stages = {k: round(median([g["stages"][k] for g in got[name]]), 2) for k in got[name][0]["stages"]}
            summary[name]["stages"] = stages
            print("    stages (median s): " + ", ".join(f"{k} {v}" for k, v in stages.items()))
    if args.json:
        args.json.write_text(json.dumps({"loads": loads, "summary": summary, "calls": got}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
