"""GAT's insight numbers on PPI-format synthetic graphs (the real PPI is not in the offline mirror).

    .venv/bin/python -m bench.ppi_format [--epochs 15] [--nodes 400] [--out outputs/ppi-format]

Writes a dataset in PPI's raw format with ``tests.support.ppi_fixture.write_ppi_raw``: 20/2/2 graphs
(train/valid/test) like PPI, each a connected Watts-Strogatz graph (``--nodes`` + 0..9 nodes, 4
neighbours, rewiring 0.3), 50 standard-normal features per node and 121 labels like PPI, where
label j is 1 when (A_hat^2 X P)[:, j] is above its median in that graph (A_hat: row-normalised
adjacency with self-loops, P: one random projection shared by all graphs). Then trains
``configs/gat_ppi.yaml`` through the real CLI (``gnnviz train --data-root``), draws the run with
``gnnviz visualize`` (test graph 0) and prints the ``insight`` numbers of its
``viz/attention_stats.json`` and the test micro-F1. These graphs are not the real PPI: the numbers
say what GAT learns on them, not whether pytorch-GAT's PPI finding (sharp attention) holds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.ppi_fixture import write_ppi_raw


def gnnviz(*args: object) -> str:
    """Run the CLI; its last stdout line (the run directory for train and visualize)."""
    r = subprocess.run([sys.executable, "-m", "gnnviz", *map(str, args)], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"gnnviz {args[0]} failed: {r.stderr.strip()}")
    return r.stdout.strip().splitlines()[-1]


def report(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    ins = json.loads((run / "viz" / "attention_stats.json").read_text())["insight"]
    base = ins["baseline_fixed_coefficients"]["overall"]
    print(f"run {run} (checkpoint epoch {summary['best_epoch']} of {summary['epochs_run']})")
    print(f"test micro-F1 (all test graphs) {summary['test_metric']:.3f}, val {summary['val_metric']:.3f}")
    similarity = ins["baseline_fixed_coefficients"]["similarity"]
    print(f"insight on test graph 0 ({base['nodes']} nodes, label similarity {similarity}):")
    print(f"  local homophily {base['homophily']:.3f}, largest possible lift {base['max_lift']:.3f}")
    print(f"  GCN coefficients' lift {base['lift'][0]:+.5f}")
    for layer in ins["layers"]:
        lift = layer["labels"]["overall"]["lift"]
        agree = layer["ranking"]["agreement"]
        heads = ", ".join(f"{x:+.4f}" for x in lift[:-1])
        print(f"  layer {layer['layer']}: lift (head mean) {lift[-1]:+.5f}; per head {heads}")
        print(f"    ranking agreement per head {', '.join(f'{x:.3f}' for x in agree)} ({layer['ranking']['pairs']} pairs)")
    print(f"  attention switched off ({ins['switched_off_nodes']} nodes):")
    for name, c in ins["switched_off"].items():
        print(f"    {name:12s} {c['metric']} {c['before']:.3f} -> {c['after']:.3f}, {c['changed']} of {c['nodes']} nodes changed")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--nodes", type=int, default=400)
    p.add_argument("--out", type=Path, default=Path("outputs/ppi-format"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_ppi_raw(root / "PPI", graphs=(20, 2, 2), nodes=args.nodes, features=50, labels=121, seed=args.seed)
        run = gnnviz("train", "--config", "configs/gat_ppi.yaml", "--data-root", root, "--out", args.out.parent,
                     "--name", args.out.name, "--quiet", "--seed", args.seed, "--set", f"training.epochs={args.epochs}")  # fmt: skip
    gnnviz("visualize", "--run", run, "--quiet")
    report(Path(run))


if __name__ == "__main__":
    main()
