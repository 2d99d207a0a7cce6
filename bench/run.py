"""gnnviz benchmarks, side by side with the plain PyG way (``bench/reference.py``).

    make bench                      # the full suite, about 10 minutes on 2 cores
    BENCH_QUICK=1 make bench        # fewer rounds, no 100k-node graph: about 2 minutes
    python bench/run.py --only steps,e2e

Sections (each comparison measured in one process run, alternating, after warm-up; medians):

- steps:     one training step and one evaluation, gnnviz (``training.steps.make_steps``, what ``fit``
             runs each epoch) vs the reference loop, Cora and CiteSeer, GAT and GCN.
- e2e:       ``gnnviz train`` of Cora GAT for 200 epochs vs ``bench/reference.py``, process start
             to exit, with each process's peak RSS.
- visualize: ``gnnviz visualize`` of that run, cold (empty layout/t-SNE cache) and warm, per stage, and
             what issue 9's new analyses add (switched-off passes, insight stage, insight figures).
- compare:   ``gnnviz compare`` of that run and a Cora GCN run (200 epochs), the forward cache cold
             (first call) and warm (the goal: under 5 s), per stage.
- growth:    train step and ``gnnviz visualize`` on synthetic graphs of 1k, 10k and 100k nodes.

Each section has a time budget (rounds stop early, never below a minimum, when the machine is so
busy that the reference crawls), so that the whole suite stays under 15 minutes.
- accuracy:  (only with --accuracy or BENCH_ACCURACY=1) 10-seed Cora GAT test accuracy, fast vs
             plain path, in-process.

Tables go to stdout; everything measured goes to bench/results/bench-<time>.json and latest.json.
Timings are only as good as the machine is quiet: the 1-minute load average is recorded next to
each section; repeat a run whose load was high.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import reference
import torch
from measure import alternate, load, median, run_process

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SECTIONS = ("steps", "e2e", "visualize", "compare", "growth", "scale", "accuracy")
CASES = (("cora", "gat"), ("cora", "gcn"), ("citeseer", "gat"), ("citeseer", "gcn"))
CPU = torch.device("cpu")
VIZ_TIMEOUT = 240  # seconds a growth visualize may take (twice the goal) before it is reported as timed out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="gnnviz benchmarks vs the plain PyG way")
    env = os.environ.get
    parser.add_argument("--quick", action="store_true", default=bool(env("BENCH_QUICK")), help="short run (also BENCH_QUICK=1)")
    parser.add_argument("--only", default="", help=f"comma-separated sections out of {', '.join(SECTIONS)}")
    parser.add_argument(
        "--accuracy", action="store_true", default=bool(env("BENCH_ACCURACY")),
        help="add the accuracy section: 10 seeds on each path, about 15 minutes (also BENCH_ACCURACY=1)",
    )  # fmt: skip
    parser.add_argument("--sizes", default="", help="growth graph sizes, e.g. 1000,10000 [default: 1k,10k,100k; quick: 1k,10k]")
    parser.add_argument(
        "--threads", type=int, default=int(env("BENCH_THREADS") or 0),
        help="torch threads for every contender, children too (also BENCH_THREADS) [default: torch's own choice]",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads:
        # Children read OMP_NUM_THREADS; gnnviz's fast path still uses one thread on small graphs.
        torch.set_num_threads(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or [s for s in SECTIONS if s != "accuracy" or args.accuracy]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    sizes = [int(s) for s in args.sizes.split(",") if s] or ([1_000, 10_000] if args.quick else [1_000, 10_000, 100_000])

    os.environ.setdefault("MPLBACKEND", "Agg")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still clean up the temporary folder
    from gnnviz.datasets import load_dataset
    from gnnviz.datasets.store import data_root

    for name, _ in CASES:  # make the raw files present (copied from the mirror) before timing anything
        load_dataset(name)
    results: dict[str, Any] = {"environment": environment(args.quick, str(data_root()))}
    print_environment(results["environment"])
    if results["environment"]["load"] > (os.cpu_count() or 1):
        print("note: the machine is busy; multi-threaded reference kernels stall on busy cores, so ratios come out inflated")
    work = Path(tempfile.mkdtemp(prefix="gnnviz-bench-"))
    started = time.perf_counter()
    try:
        if "steps" in chosen:
            results["steps"] = section_steps(rounds=10 if args.quick else 30, budget=10 if args.quick else 40)
        if "e2e" in chosen or "visualize" in chosen or "compare" in chosen:
            results["e2e"] = section_e2e(work, rounds=1 if args.quick else 3)
        if "visualize" in chosen:
            results["visualize"] = section_visualize(Path(results["e2e"]["run"]), work, rounds=1 if args.quick else 2)
        if "compare" in chosen:
            results["compare"] = section_compare(Path(results["e2e"]["run"]), work, rounds=1 if args.quick else 3)
        if "growth" in chosen:
            results["growth"] = section_growth(sizes, work)
        if "scale" in chosen:
            results["scale"] = section_scale(10_000 if args.quick else 100_000)
        if "accuracy" in chosen:
            results["accuracy"] = section_accuracy(seeds=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["seconds"] = round(time.perf_counter() - started, 1)
    print_summary(results)
    path = save(results)
    print(f"\nbench took {results['seconds']:.0f} s; results in {path}")
    return 0


# ----------------------------------------------------------------------------- steps


def section_steps(rounds: int, budget: float) -> dict[str, Any]:
    from gnnviz.config import load_config
    from gnnviz.datasets import load_dataset
    from gnnviz.datasets.store import data_root
    from gnnviz.models.gnn import build_model
    from gnnviz.seeding import seed_everything
    from gnnviz.training.steps import make_steps

    heading(f"Training step and evaluation: gnnviz vs the PyG-example reference (median of up to {rounds} alternating rounds)")
    out: dict[str, Any] = {"cases": []}
    rows = []
    for dataset, model in CASES:
        cfg = load_config(REPO / "configs" / f"{model}_{dataset}.yaml")
        check_same_hyperparameters(cfg, model)
        t = cfg.training
        ds = load_dataset(dataset, normalize_features=cfg.dataset.normalize_features)
        seed_everything(0)
        net = build_model(cfg.model, ds.num_features, ds.num_classes)
        step, evaluate = make_steps(net, ds, lr=t.lr, weight_decay=t.weight_decay, device=CPU, seed=0, fast=True)
        torch.manual_seed(0)
        data = reference.load(dataset, str(data_root()))
        ref, ref_opt = reference.build(model, data.num_features, int(data.y.max()) + 1)
        contenders = {
            "gnnviz step": step,
            "gnnviz eval": lambda evaluate=evaluate: evaluate("val"),
            "reference step": lambda ref=ref, ref_opt=ref_opt, data=data: reference.train(ref, ref_opt, data),
            "reference eval": lambda ref=ref, data=data: reference.test(ref, data),
        }
        before = load()
        times = alternate(contenders, rounds, warmup=5, budget=budget)
        med = {k: median(v) * 1000 for k, v in times.items()}
        gn, rf = med["gnnviz step"] + med["gnnviz eval"], med["reference step"] + med["reference eval"]
        case = {
            "dataset": dataset, "model": model, "rounds": len(times["gnnviz step"]),
            "ms": {k: round(v, 3) for k, v in med.items()},
            "ms_min": {k: round(min(v) * 1000, 3) for k, v in times.items()},
            "epoch_ms": {"gnnviz": round(gn, 3), "reference": round(rf, 3)},
            "ratio": {"step": round(med["reference step"] / med["gnnviz step"], 2),
                      "eval": round(med["reference eval"] / med["gnnviz eval"], 2), "epoch": round(rf / gn, 2)},
            "load": [before, load()],
        }  # fmt: skip
        out["cases"].append(case)
        rows.append([
            f"{dataset} {model}", f"{med['reference step']:.2f}", f"{med['gnnviz step']:.2f}", f"{case['ratio']['step']:.1f}x",
            f"{med['reference eval']:.2f}", f"{med['gnnviz eval']:.2f}", f"{case['ratio']['eval']:.1f}x",
            f"{rf:.2f}", f"{gn:.2f}", f"{case['ratio']['epoch']:.1f}x", f"{before:.1f}",
        ])  # fmt: skip
    headers = ["case", "ref step ms", "gnnviz step ms", "x", "ref eval ms", "gnnviz eval ms", "x"]
    table(headers + ["ref epoch ms", "gnnviz epoch ms", "x", "load"], rows)
    print("x = reference / gnnviz (higher is better for gnnviz); goal 5x per epoch, stretch 7x")
    return out


def check_same_hyperparameters(cfg, model: str) -> None:
    """The reference must train what gnnviz trains; stop if the configs and HPARAMS drift apart."""
    h, m, t = reference.HPARAMS[model], cfg.model, cfg.training
    ours = {"dropout": m.dropout, "lr": t.lr, "weight_decay": t.weight_decay, "layers": m.layers}
    theirs = {"dropout": h["dropout"], "lr": h["lr"], "weight_decay": h["weight_decay"], "layers": 2}
    if model == "gat":
        ours.update(hidden=m.hidden, heads=m.heads, out_heads=m.out_heads, attn_dropout=m.attn_dropout)
        theirs.update(hidden=h["hidden"] * h["heads"], heads=h["heads"], out_heads=1, attn_dropout=h["dropout"])
    else:
        ours["hidden"], theirs["hidden"] = m.hidden, h["hidden"]
    if ours != theirs:
        raise SystemExit(f"bench: reference hyperparameters {theirs} differ from gnnviz's {ours}; update bench/reference.py")


# ----------------------------------------------------------------------------- end to end


def gnnviz_command() -> list[str]:
    script = Path(sys.executable).with_name("gnnviz")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gnnviz"]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def section_e2e(work: Path, rounds: int, epochs: int = 200, budget: float = 150) -> dict[str, Any]:
    heading(f"End to end, Cora GAT, {epochs} epochs, process start to exit (median of up to {rounds} alternating runs)")
    out_dir = work / "e2e"
    gnnviz = gnnviz_command() + [
        "train", "--config", str(REPO / "configs" / "gat_cora.yaml"), "--set", f"training.epochs={epochs}",
        "--set", "training.patience=0", "--out", str(out_dir), "--quiet",
    ]  # fmt: skip
    from gnnviz.datasets.store import data_root

    script = str(REPO / "bench" / "reference.py")
    ref = [sys.executable, script, "--dataset", "cora", "--model", "gat", "--root", str(data_root()), "--epochs", str(epochs)]
    env = child_env()
    # Warm-up: file caches, compiled bytecode, the processed dataset.
    warm = gnnviz[:-3] + ["--set", "training.epochs=2", "--out", str(work / "warm"), "--quiet"]
    must(run_process(warm, env=env), "gnnviz train")
    must(run_process(ref[:-1] + ["2"], env=env), "reference")
    runs: dict[str, list] = {"gnnviz": [], "reference": []}
    before = load()
    last_run = ""
    started = time.perf_counter()
    for r in range(rounds):
        if r and time.perf_counter() - started > budget:
            break
        for name in ["gnnviz", "reference"] if r % 2 == 0 else ["reference", "gnnviz"]:
            p = must(run_process(gnnviz if name == "gnnviz" else ref, env=env), name)
            runs[name].append({"seconds": round(p.seconds, 3), "max_rss_mb": round(p.max_rss_mb, 1)})
            if name == "gnnviz":
                last_run = p.stdout.strip().splitlines()[-1]
    summary = json.loads((Path(last_run) / "summary.json").read_text())
    result = {
        "epochs": epochs, "rounds": len(runs["gnnviz"]), "runs": runs, "run": last_run, "load": [before, load()],
        "seconds": {k: round(median([x["seconds"] for x in v]), 3) for k, v in runs.items()},
        "max_rss_mb": {k: round(max(x["max_rss_mb"] for x in v), 1) for k, v in runs.items()},
        "gnnviz_ms_per_epoch_in_fit": round(summary["seconds_per_epoch"] * 1000, 3),
    }  # fmt: skip
    result["ratio"] = round(result["seconds"]["reference"] / result["seconds"]["gnnviz"], 2)
    table(
        ["", "seconds", "peak RSS MB"],
        [[k, f"{result['seconds'][k]:.2f}", f"{result['max_rss_mb'][k]:.0f}"] for k in ("reference", "gnnviz")],
    )
    print(
        f"x = {result['ratio']:.1f} (reference / gnnviz); gnnviz's epochs inside the process: "
        f"{result['gnnviz_ms_per_epoch_in_fit']:.1f} ms each; load {before:.1f}"
    )
    return result


def must(p, what: str):
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"bench: {what} failed with exit code {p.returncode}: {tail}")
    return p


# ----------------------------------------------------------------------------- visualize


def visualize(run: Path, out: Path, cache: Path, timeout: float = 900) -> dict[str, Any]:
    """One ``gnnviz visualize`` in a child process: wall seconds, peak RSS and its timings.json."""
    args = gnnviz_command() + ["visualize", "--run", str(run), "--out", str(out), "--quiet"]
    p = run_process(args, env=child_env(GNNVIZ_CACHE_DIR=str(cache)), timeout=timeout)
    result: dict[str, Any] = {
        "seconds": round(p.seconds, 3), "cpu_seconds": round(p.cpu_seconds, 3), "max_rss_mb": round(p.max_rss_mb, 1),
        "returncode": p.returncode,
    }  # fmt: skip
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        result["error"] = "timed out" if p.returncode == -9 else tail
        return result
    timings = out / "timings.json"
    if timings.is_file():
        t = json.loads(timings.read_text())
        result["stages"] = t.get("seconds", {})
        result["layout_method"] = t.get("layout_method")
        result["layout_cached"] = t.get("layout_cached")
        result["analyses"] = analyses_seconds(t)
    return result


def analyses_seconds(timings: dict[str, Any]) -> dict[str, float]:
    """What issue 9's new analyses cost inside one visualize (its timings.json): the switched-off
    forward passes (part of load; 0 when cached), the insight stage (attention against labels,
    ranking agreement, switched-off predictions compared, class flow) and drawing the insight/
    figures; ``share``: their sum over the rest of the total, i.e. what they add to a visualize."""
    stages = timings.get("seconds", {})
    parts = {
        "switch_off": float(timings.get("switch_off", 0.0)),
        "insight": float(stages.get("insight", 0.0)),
        "insight_figures": sum(v for k, v in timings.get("figures", {}).items() if k.startswith("insight/")),
    }
    added = sum(parts.values())
    rest = float(stages.get("total", 0.0)) - added
    return {**{k: round(v, 3) for k, v in parts.items()}, "added": round(added, 3),
            "share": round(added / rest, 3) if rest > 0 else float("nan")}  # fmt: skip


def section_visualize(run: Path, work: Path, rounds: int, budget: float = 90) -> dict[str, Any]:
    heading(f"gnnviz visualize, Cora GAT run, cold and warm layout/t-SNE cache (median of up to {rounds})")
    got: dict[str, list[dict[str, Any]]] = {"cold": [], "warm": []}
    before = load()
    started = time.perf_counter()
    for r in range(rounds):
        if r and time.perf_counter() - started > budget:
            break
        cache = work / f"viz-cache-{r}"  # fresh and empty: cold
        for kind in ("cold", "warm"):
            got[kind].append(visualize(run, work / f"viz-{r}-{kind}", cache))
    failed = [x["error"] for v in got.values() for x in v if "error" in x]
    if failed:
        print(f"visualize failed: {failed[0]}")
        return {"runs": got, "error": failed[0]}
    stages = [s for s in got["cold"][0].get("stages", {}) if s != "total"]
    summary = {
        kind: {
            "seconds": round(median([x["seconds"] for x in v]), 3),
            "stages": {s: round(median([x["stages"].get(s, 0.0) for x in v]), 3) for s in stages + ["total"]},
            "cpu_seconds": round(median([x["cpu_seconds"] for x in v]), 3),
            "max_rss_mb": round(max(x["max_rss_mb"] for x in v), 1),
            "analyses": {a: round(median([x["analyses"][a] for x in v]), 3) for a in v[0]["analyses"]},
        }
        for kind, v in got.items()
    }
    rows = [[s, f"{summary['cold']['stages'][s]:.2f}", f"{summary['warm']['stages'][s]:.2f}"] for s in stages + ["total"]]
    rows.append(["process (start to exit)", f"{summary['cold']['seconds']:.2f}", f"{summary['warm']['seconds']:.2f}"])
    rows.append(["process CPU (user + sys)", f"{summary['cold']['cpu_seconds']:.2f}", f"{summary['warm']['cpu_seconds']:.2f}"])
    rows.append(["peak RSS MB", f"{summary['cold']['max_rss_mb']:.0f}", f"{summary['warm']['max_rss_mb']:.0f}"])
    for part, name in (("switch_off", "new analyses: switched-off forward passes"), ("insight", "new analyses: insight stage"),
                       ("insight_figures", "new analyses: insight/ figures"), ("added", "new analyses: all")):  # fmt: skip
        rows.append([name, f"{summary['cold']['analyses'][part]:.2f}", f"{summary['warm']['analyses'][part]:.2f}"])
    rows.append(["new analyses added to the rest", f"{summary['cold']['analyses']['share']:.0%}",
                 f"{summary['warm']['analyses']['share']:.0%}"])  # fmt: skip
    # What a user waits for is the whole command (imports and start-up included): the share of that.
    for kind in ("cold", "warm"):
        a = summary[kind]["analyses"]
        a["share_of_call"] = round(a["added"] / max(summary[kind]["seconds"] - a["added"], 1e-9), 3)
    rows.append(["new analyses added to the whole call", f"{summary['cold']['analyses']['share_of_call']:.0%}",
                 f"{summary['warm']['analyses']['share_of_call']:.0%}"])  # fmt: skip
    table(["stage (seconds)", "cold", "warm"], rows)
    print(f"layout: {got['cold'][0].get('layout_method')}; load {before:.1f}; goal: new analyses add at most 25% cold")
    return {"runs": got, "summary": summary, "load": [before, load()]}


# ----------------------------------------------------------------------------- compare


def section_compare(run: Path, work: Path, rounds: int, budget: float = 60) -> dict[str, Any]:
    """``gnnviz compare`` of the e2e GAT run and a GCN run: the first call computes both forward
    passes (cold cache), the later ones find them cached (warm)."""
    heading(f"gnnviz compare, Cora GAT vs GCN, cold and warm forward cache (warm: median of up to {rounds})")
    trained = must(run_process(gnnviz_command() + [
        "train", "--config", str(REPO / "configs" / "gcn_cora.yaml"), "--out", str(work / "compare-runs"), "--quiet",
    ], env=child_env()), "gnnviz train (GCN for compare)")  # fmt: skip
    gcn = Path(trained.stdout.strip().splitlines()[-1])
    env = child_env(GNNVIZ_CACHE_DIR=str(work / "compare-cache"))  # fresh and empty: the first call is cold
    before = load()

    def call(i: int) -> dict[str, Any]:
        out = work / f"compare-{i}"
        p = must(
            run_process(gnnviz_command() + ["compare", str(run), str(gcn), "--out", str(out), "--quiet"], env=env), "compare"
        )
        stages = json.loads((out / "timings.json").read_text())["seconds"]
        return {"seconds": round(p.seconds, 3), "cpu_seconds": round(p.cpu_seconds, 3), "max_rss_mb": round(p.max_rss_mb, 1),
                "stages": stages}  # fmt: skip

    cold = call(0)
    warm: list[dict[str, Any]] = []
    started = time.perf_counter()
    for r in range(rounds):
        if r and time.perf_counter() - started > budget:
            break
        warm.append(call(r + 1))
    stages = [s for s in cold["stages"] if s != "total"] + ["total"]
    summary = {
        "cold": cold,
        "warm": {
            "seconds": round(median([x["seconds"] for x in warm]), 3),
            "cpu_seconds": round(median([x["cpu_seconds"] for x in warm]), 3),
            "stages": {s: round(median([x["stages"].get(s, 0.0) for x in warm]), 3) for s in stages},
            "max_rss_mb": round(max(x["max_rss_mb"] for x in warm), 1),
            "rounds": len(warm),
        },
    }
    rows = [[s, f"{cold['stages'].get(s, 0.0):.2f}", f"{summary['warm']['stages'][s]:.2f}"] for s in stages]
    rows.append(["process (start to exit)", f"{cold['seconds']:.2f}", f"{summary['warm']['seconds']:.2f}"])
    rows.append(["process CPU (user + sys)", f"{cold['cpu_seconds']:.2f}", f"{summary['warm']['cpu_seconds']:.2f}"])
    rows.append(["peak RSS MB", f"{cold['max_rss_mb']:.0f}", f"{summary['warm']['max_rss_mb']:.0f}"])
    table(["stage (seconds)", "cold", "warm"], rows)
    print(f"goal: warm under 5 s (on an idle machine wall ~ CPU); load {before:.1f}")
    return {"summary": summary, "runs": [str(run), str(gcn)], "load": [before, load()]}


# ----------------------------------------------------------------------------- growth


def section_growth(sizes: list[int], work: Path) -> dict[str, Any]:
    from synthetic import synthetic, write_run

    from gnnviz.config import load_config
    from gnnviz.models.gnn import build_model
    from gnnviz.seeding import seed_everything
    from gnnviz.training.steps import make_steps

    heading("Growth: GAT on synthetic graphs (mean degree 8, 256 sparse features; 5/10/20% train/val/test)")
    cfg = load_config(None, ["model.name=gat"])
    t = cfg.training
    rows, out = [], []
    for n in sizes:
        ds = synthetic(n)
        g = ds.train[0]
        seed_everything(0)
        net = build_model(cfg.model, ds.num_features, ds.num_classes)
        step, evaluate = make_steps(net, ds, lr=t.lr, weight_decay=t.weight_decay, device=CPU, seed=0, fast=True)
        torch.manual_seed(0)
        ref, ref_opt = reference.build("gat", ds.num_features, ds.num_classes)
        contenders = {
            "gnnviz step": step,
            "gnnviz eval": lambda evaluate=evaluate: evaluate("val"),
            "reference step": lambda ref=ref, ref_opt=ref_opt, g=g: reference.train(ref, ref_opt, g),
            "reference eval": lambda ref=ref, g=g: reference.test(ref, g),
        }
        rounds, budget = (20, 30) if n <= 10_000 else (5, 45)
        before = load()
        times = alternate(contenders, rounds, warmup=1 if n > 10_000 else 3, budget=budget, min_rounds=3)
        med = {k: median(v) * 1000 for k, v in times.items()}
        del ref, ref_opt, contenders
        run = write_run(ds, work / "growth", epochs=50)
        viz = visualize(run, run / "viz", work / f"growth-cache-{n}", timeout=VIZ_TIMEOUT)
        gn, rf = med["gnnviz step"] + med["gnnviz eval"], med["reference step"] + med["reference eval"]
        out.append({
            "nodes": n, "edges": int(g.edge_index.size(1)), "train_nodes": int(g.train_mask.sum()),
            "rounds": len(times["gnnviz step"]),
            "ms": {k: round(v, 3) for k, v in med.items()}, "epoch_ratio": round(rf / gn, 2), "visualize_cold": viz,
            "load": [before, load()],
        })  # fmt: skip
        vis = f"{viz['seconds']:.1f}" if "error" not in viz else f"{viz['error'][:40]} ({viz['seconds']:.0f})"
        rows.append([
            f"{n:,}", f"{g.edge_index.size(1):,}", f"{med['reference step']:.1f}", f"{med['gnnviz step']:.1f}",
            f"{med['gnnviz eval']:.1f}", f"{rf / gn:.1f}x", vis, str(viz.get("layout_method", "-")),
            f"{viz['max_rss_mb']:.0f}", f"{before:.1f}",
        ])  # fmt: skip
        print(f"  {n:,} nodes done", flush=True)
    headers = ["nodes", "edges", "ref step ms", "gnnviz step ms", "gnnviz eval ms", "epoch x"]
    table(headers + ["visualize s (cold)", "layout", "viz RSS MB", "load"], rows)
    print(f"goal: visualize of the 100k-node graph under 120 s (the bench stops waiting after {VIZ_TIMEOUT} s)")
    return {"sizes": out}


# ----------------------------------------------------------------------------- accuracy


def section_accuracy(seeds: int) -> dict[str, Any]:
    from gnnviz.config import load_config
    from gnnviz.datasets import load_dataset
    from gnnviz.models.gnn import build_model
    from gnnviz.seeding import seed_everything
    from gnnviz.training.loop import fit

    heading(f"Cora GAT test accuracy over {seeds} seeds: fast path vs plain path (gnnviz's own training)")
    cfg = load_config(REPO / "configs" / "gat_cora.yaml")
    t = cfg.training
    ds = load_dataset("cora", normalize_features=cfg.dataset.normalize_features)
    out: dict[str, Any] = {}
    rows = []
    for fast in (True, False):
        accs, secs = [], []
        for seed in range(seeds):
            seed_everything(seed)
            net = build_model(cfg.model, ds.num_features, ds.num_classes)
            kw = dict(epochs=t.epochs, patience=t.patience, lr=t.lr, weight_decay=t.weight_decay, stopping=t.early_stopping)
            r = fit(net, ds, device=CPU, seed=seed, fast=fast, **kw)
            accs.append(r.test_metric)
            secs.append(r.train_seconds)
        key = "fast" if fast else "plain"
        out[key] = {"test_accuracy": accs, "mean": statistics.fmean(accs), "std": statistics.stdev(accs), "seconds": sum(secs)}
        rows.append([key, f"{100 * out[key]['mean']:.2f}", f"{100 * out[key]['std']:.2f}", f"{sum(secs):.1f}"])
    table(["path", "mean %", "std %", "training seconds"], rows)
    return out


# ----------------------------------------------------------------------------- output


def environment(quick: bool, data_root: str) -> dict[str, Any]:
    import torch_geometric

    import gnnviz

    return {
        "time": datetime.now().isoformat(timespec="seconds"), "quick": quick, "python": platform.python_version(),
        "torch": torch.__version__, "torch_geometric": torch_geometric.__version__, "gnnviz": gnnviz.__version__,
        "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "load": load(), "data_root": data_root,
    }  # fmt: skip


def section_scale(nodes: int) -> dict[str, Any]:
    """Full batch, mini-batch and 2 ranks on a synthetic graph, next to plain PyG (``bench/scale.py``)."""
    from scale import measure, table

    heading(f"Scale: GAT on a synthetic graph of {nodes:,} nodes (mean degree 10), 1 process and 2 ranks")
    results = measure(nodes, epochs=3, batch=1024)
    table(results)
    return results


def print_summary(results: dict[str, Any]) -> None:
    heading("Summary (x = reference / gnnviz)")
    for case in results.get("steps", {}).get("cases", []):
        e, r = case["epoch_ms"], case["ratio"]
        print(
            f"{case['dataset']} {case['model']} epoch: {e['reference']:.1f} ms -> {e['gnnviz']:.1f} ms, {r['epoch']:.1f}x "
            f"(step {r['step']:.1f}x, eval {r['eval']:.1f}x)"
        )
    if "e2e" in results:
        e = results["e2e"]
        print(f"gnnviz train end to end: {e['seconds']['reference']:.1f} s -> {e['seconds']['gnnviz']:.1f} s, {e['ratio']:.1f}x")
    summary = results.get("visualize", {}).get("summary")
    if summary:
        print(f"gnnviz visualize Cora: {summary['cold']['seconds']:.1f} s cold, {summary['warm']['seconds']:.1f} s warm")
    compared = results.get("compare", {}).get("summary")
    if compared:
        print(
            f"gnnviz compare Cora GAT vs GCN: {compared['cold']['seconds']:.1f} s cold, {compared['warm']['seconds']:.1f} s warm"
        )
    for size in results.get("growth", {}).get("sizes", []):
        v = size["visualize_cold"]
        shown = f"{v['seconds']:.1f} s" if "error" not in v else f"{v['error']} after {v['seconds']:.0f} s"
        print(f"{size['nodes']:,} nodes: epoch {size['epoch_ratio']:.1f}x, visualize {shown}")
    loads = [x for part in results.values() if isinstance(part, dict) for x in _loads(part)]
    cpus = results["environment"]["cpu_count"] or 1
    if loads and max(loads) > cpus:
        print(f"note: load average up to {max(loads):.1f} on {cpus} CPUs: other work shared the machine, timings are inflated")


def _loads(part: Any) -> list[float]:
    if isinstance(part, dict):
        own = [float(x) for x in part.get("load", [])] if isinstance(part.get("load"), list) else []
        return own + [x for v in part.values() if isinstance(v, (dict, list)) for x in _loads(v)]
    if isinstance(part, list):
        return [x for v in part for x in _loads(v)]
    return []


def print_environment(env: dict[str, Any]) -> None:
    print(
        f"gnnviz {env['gnnviz']}, torch {env['torch']}, PyG {env['torch_geometric']}, {env['cpu_count']} CPUs, "
        f"torch threads {env['torch_threads']}, load {env['load']}{', QUICK' if env['quick'] else ''}"
    )


def heading(text: str) -> None:
    print(f"\n## {text}\n", flush=True)


def table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))  # noqa: E731
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    sys.stdout.flush()


def save(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    text = json.dumps(results, indent=2) + "\n"
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    return path


if __name__ == "__main__":
    sys.exit(main())
