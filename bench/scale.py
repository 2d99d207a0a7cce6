"""Scale: training throughput and memory on a synthetic graph of ~100k nodes, side by side.

Contenders, each in a process of its own (its own peak RSS), GAT with gnnviz's defaults (2
layers, 8 heads x 8) and dropout off, on gnnviz's ``synthetic`` dataset (igraph's stochastic block
model: 5 blocks, mean degree 10, homophily 0.8, 32 dense features; 5% of the nodes are training
seeds), the graph ``gnnviz train`` builds from ``dataset.name: synthetic``:

- ``pyg``: plain PyG full batch, written as PyG's ``examples/gat.py`` (``bench/reference.py``'s GAT);
- ``full``: gnnviz full batch (fast path: the seeds' exact receptive field);
- ``mini``: gnnviz mini-batches of ``--batch`` seeds, exact receptive fields (no sampler here);
- ``full x2``, ``mini x2``: the same on 2 ranks under torchrun (gloo), the seeds split between them.

Seed nodes per second = training seeds x timed epochs / their seconds (evaluation not included;
one untimed warm-up epoch first). CPU seconds per epoch, all ranks together: the work done, which
other load on the machine changes far less than the wall clock. Peak RSS per process (per rank).
Correctness: the largest parameter difference between ``full`` and ``full x2`` after the same
epochs (same initial weights, no dropout: the gradients must be the same).

    python bench/scale.py --nodes 100000 --epochs 3
    python bench/scale.py --nodes 1000000 --epochs 2 --only full,mini,pyg
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def worker(mode: str, nodes: int, epochs: int, batch: int, params_out: str | None) -> None:
    """One contender (or one rank of one): train ``epochs`` timed epochs, print a JSON line."""
    import torch

    from gnnviz import distributed
    from gnnviz.datasets.synthetic import SyntheticParams, generate
    from gnnviz.models.gnn import GNN
    from gnnviz.training.steps import make_steps

    world = distributed.from_env()
    device = distributed.join(world, "cpu") if world.size > 1 else torch.device("cpu")
    ds = generate(SyntheticParams(nodes=nodes, mean_degree=10, train_fraction=0.05))
    g = ds.train[0]
    seeds = int(g.train_mask.sum())
    torch.manual_seed(0)
    if mode == "pyg":
        import torch.nn.functional as F
        from reference import GAT

        net = GAT(ds.num_features, 8, ds.num_classes, 8, 0.0)
        opt = torch.optim.Adam(net.parameters(), lr=0.005, weight_decay=5e-4)

        def step() -> None:
            net.train()
            opt.zero_grad()
            out = net(g.x, g.edge_index)
            F.cross_entropy(out[g.train_mask], g.y[g.train_mask]).backward()
            opt.step()

    else:
        net = GNN("gat", ds.num_features, ds.num_classes, 64, heads=8, out_heads=1, dropout=0.0, attn_dropout=0.0)
        step, _ = make_steps(
            net, ds, lr=0.005, weight_decay=5e-4, device=device, seed=0, node_batch=batch if mode == "mini" else 0, world=world
        )
    step()  # warm-up: plans, allocator, threads
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        step()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if params_out and world.leader:
        torch.save([p.detach().clone() for p in net.parameters()], params_out)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {
        "rank": world.rank,
        "seeds": seeds,
        "epochs": epochs,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": round(rss, 1),
    }
    print("RESULT " + json.dumps(row), flush=True)
    distributed.leave()


def measure(nodes: int, epochs: int, batch: int, only: str = "") -> dict[str, Any]:
    from measure import load, run_process

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    me = [sys.executable, str(HERE / "scale.py"), "worker", "--nodes", str(nodes), "--epochs", str(epochs), "--batch", str(batch)]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    work = Path(tempfile.mkdtemp(prefix="gnnviz-scale-"))
    contenders = {
        "pyg": me + ["--mode", "pyg"],
        "full": me + ["--mode", "full", "--params", str(work / "full.pt")],
        "mini": me + ["--mode", "mini"],
        "full x2": torchrun + me[1:] + ["--mode", "full", "--params", str(work / "full2.pt")],
        "mini x2": torchrun + me[1:] + ["--mode", "mini"],
    }
    if only:  # e.g. "full,mini,full2": a name without spaces
        wanted = {w.strip() for w in only.split(",")}
        contenders = {k: v for k, v in contenders.items() if k.replace(" x", "") in wanted}
    results: dict[str, Any] = {"nodes": nodes, "epochs": epochs, "batch": batch, "load_before": load(), "rows": {}}
    for name, args in contenders.items():
        p = run_process(args, env=env, timeout=1800)
        rows = [json.loads(line[7:]) for line in p.stdout.splitlines() if line.startswith("RESULT ")]
        if p.returncode != 0 or not rows:
            results["rows"][name] = {"error": (p.stderr.strip().splitlines() or ["?"])[-1], "returncode": p.returncode}
            print(f"{name}: failed ({results['rows'][name]['error']})", flush=True)
            continue
        seconds = max(r["seconds"] for r in rows)
        seeds = rows[0]["seeds"]
        results["rows"][name] = {
            "seeds_per_s": round(seeds * epochs / seconds, 1),
            "seconds_per_epoch": round(seconds / epochs, 3),
            "cpu_seconds_per_epoch": round(sum(r["cpu_seconds"] for r in rows) / epochs, 3),  # all ranks together
            "peak_rss_mb": [r["peak_rss_mb"] for r in sorted(rows, key=lambda r: r["rank"])],
            "wall_s": round(p.seconds, 1),
            "load": load(),
        }
        print(f"{name}: {results['rows'][name]}", flush=True)
    if (work / "full.pt").is_file() and (work / "full2.pt").is_file():
        import torch

        a, b = torch.load(work / "full.pt"), torch.load(work / "full2.pt")
        results["max_param_diff_1_vs_2_ranks"] = max((x - y).abs().max().item() for x, y in zip(a, b, strict=True))
    return results


def table(results: dict[str, Any]) -> None:
    print(f"\n{results['nodes']:,} nodes, {results['epochs']} timed epochs, mini-batch {results['batch']} seeds")
    print(f"{'contender':<10} {'seeds/s':>9} {'s/epoch':>8} {'CPU s/epoch':>12} {'peak RSS MB (per rank)':>24} {'load':>6}")
    for name, r in results["rows"].items():
        if "error" in r:
            print(f"{name:<10} failed: {r['error']}")
            continue
        rss = " + ".join(f"{m:.0f}" for m in r["peak_rss_mb"])
        cpu = r["cpu_seconds_per_epoch"]
        print(f"{name:<10} {r['seeds_per_s']:>9.0f} {r['seconds_per_epoch']:>8.2f} {cpu:>12.2f} {rss:>24} {r['load']:>6}")
    if "max_param_diff_1_vs_2_ranks" in results:
        print(f"largest parameter difference, 1 process vs 2 ranks: {results['max_param_diff_1_vs_2_ranks']:.2e}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", nargs="?", default="bench", choices=("bench", "worker"))
    parser.add_argument("--mode", default="full", choices=("pyg", "full", "mini"))
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--params", default=None, help="worker: save the final parameters here (rank 0)")
    parser.add_argument("--json", default=None, help="bench: write the results here too")
    parser.add_argument("--only", default="", help="bench: some contenders, e.g. 'pyg,full,mini,full2,mini2' (2 = 2 ranks)")
    args = parser.parse_args(argv)
    if args.role == "worker":
        worker(args.mode, args.nodes, args.epochs, args.batch, args.params)
        return 0
    results = measure(args.nodes, args.epochs, args.batch, args.only)
    table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
