"""Sweep the synthetic block model's homophily: GCN, GAT, GAT-sep and an MLP on the same graphs.

    PYTHONPATH=$PWD python bench/homophily.py [--out /tmp/homophily] [--homophily 0.1,0.3,...]
    PYTHONPATH=$PWD python bench/homophily.py --self-only   # item 4: labels readable from features alone

For each homophily (the share of a node's edges inside its block) it trains every model on the
same graph (``dataset.seed`` fixed, ``run.seed`` fixed) and reads, through gnnviz's analysis API
(the numbers ``visualize`` writes to attention_stats.json's ``insight``): test accuracy; per
attention layer the lift (head mean; 0 = uniform attention) and the self-share (attention mass on
the self-loop, head mean, against uniform's 1/(degree+1)); and attention switched off (uniform
weights in every layer): the test-accuracy change and how many test predictions change. GAT-sep
has no self-loop (its own features take their own path), so it has no self-share. GCN's and the
MLP's rows have no attention numbers.

``--self-only``: the graph's neighbours are random with respect to labels (homophily = 1/blocks)
and features name the block (feature_noise 0), so a node needs only itself; it trains GAT (with
the usual patience and with patience 100, so that "not trained yet" is ruled out) and prints the
self-share per layer next to the optimum 1, with GAT-sep's and the MLP's test accuracy beside.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

BASE = [
    "dataset.name=synthetic",
    "dataset.nodes=2000",
    "dataset.blocks=4",
    "dataset.mean_degree=10",
    "dataset.features=16",
    "dataset.feature_noise=0.5",
    "dataset.seed=0",
    "run.seed=0",
    "training.epochs=200",
    "training.patience=20",
    "training.lr=0.01",
]
MODELS = {
    "GCN": ["model.name=gcn"],
    "GAT": ["model.name=gat"],
    "GAT-sep": ["model.name=gat", "model.separate_self=concat"],
    "MLP": ["model.name=mlp"],
}
OFF = "uniform"  # the switched-off replacement reported: uniform weights in every layer


def measure(sets: list[str], out: Path, name: str) -> dict:
    """Train one run and read its numbers back through the analysis API."""
    from gnnviz.analysis import run as analysis
    from gnnviz.api import train
    from gnnviz.viz.load import load_arrays

    run = train(sets=sets, out=out, name=name).path
    summary = json.loads((run / "summary.json").read_text())
    row = {"test": summary["test_metric"], "epoch": summary["best_epoch"], "lift": [], "self": [], "uniform_self": []}
    a = load_arrays(run)
    found = analysis.insight(a, list(range(len(a.attention))))
    if found is None or not a.attention:
        return row
    d = found.as_dict()
    for layer in d["layers"]:
        overall = layer["labels"]["overall"]
        row["lift"].append(overall["lift"][-1])  # the head mean
        row["self"].append(overall["self_mass"][-1])
        row["uniform_self"].append(overall["uniform_self_mass"])
    off = {k: v for k, v in d["switched_off"].items() if k.startswith(OFF)}
    row["switched_off"] = {k: (v["change"], v["changed"], v["nodes"]) for k, v in off.items()}
    return row


def fmt(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    return f"{v:+.{digits}f}" if digits and isinstance(v, float) and v < 0 else f"{v:.{digits}f}"


def sweep(levels: list[float], out: Path) -> None:
    print(
        "| homophily | model | test acc | lift (layer 0, 1) | self-share (layer 0, 1) | uniform self-share | "
        "switched off: acc change | predictions changed |"
    )
    print("|---|---|---|---|---|---|---|---|")
    used = set()
    for h in levels:
        for label, sets in MODELS.items():
            r = measure([*BASE, f"dataset.homophily={h}", *sets], out, f"h{h}-{label}")
            lift = ", ".join(f"{x:+.4f}" for x in r["lift"]) or "-"
            has_self = r["self"] and not label.endswith("-sep")
            share = ", ".join(f"{x:.3f}" for x in r["self"]) if has_self else "-"
            uni = f"{r['uniform_self'][0]:.3f}" if has_self else "-"
            off = r.get("switched_off", {})
            key = next((k for k in off if "all" in k), next(iter(off), None))
            used |= {key} if key else set()
            change = f"{off[key][0]:+.4f}" if key else "-"
            changed = f"{off[key][1]} of {off[key][2]}" if key else "-"
            print(f"| {h} | {label} | {r['test']:.3f} | {lift} | {share} | {uni} | {change} | {changed} |", flush=True)
    print(f"switched off = {', '.join(sorted(used))}, on the test nodes; lift and self-share: head means")


def self_only(out: Path) -> None:
    sets = [*BASE, "dataset.homophily=0.25", "dataset.feature_noise=0.0"]
    variants = {
        "GAT": ["model.name=gat"],
        "GAT, patience 100": ["model.name=gat", "training.epochs=600", "training.patience=100"],
    }
    print("| model | layer | self-share | uniform's | optimum | test acc | epoch kept | lift |")
    print("|---|---|---|---|---|---|---|---|")
    for label, extra in variants.items():
        r = measure([*sets, *extra], out, f"self-only-{label.replace(', ', '-').replace(' ', '')}")
        for i, (s, u, lift) in enumerate(zip(r["self"], r["uniform_self"], r["lift"], strict=True)):
            print(f"| {label} | {i} | {s:.3f} | {u:.3f} | 1 | {r['test']:.3f} | {r['epoch']} | {lift:+.4f} |", flush=True)
    for label, extra in {"GAT-sep": MODELS["GAT-sep"], "MLP": MODELS["MLP"]}.items():
        r = measure([*sets, *extra], out, f"self-only-{label}")
        print(f"| {label} | - | - | - | - | {r['test']:.3f} | {r['epoch']} | - |", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=None, help="folder for the runs (default: a temporary one)")
    p.add_argument("--homophily", default="0.1,0.3,0.5,0.7,0.9")
    p.add_argument("--self-only", action="store_true")
    args = p.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="gnnviz-homophily-"))
    started = time.perf_counter()
    load = os.getloadavg()
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    if args.self_only:
        self_only(out)
    else:
        sweep([float(x) for x in args.homophily.split(",")], out)
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {rev}, load average at start "
        f"{load[0]:.2f}, {time.perf_counter() - started:.0f} s; runs in {out}"
    )


if __name__ == "__main__":
    main()
