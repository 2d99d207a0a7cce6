"""The CLI end to end, in subprocesses as a user runs it."""

import json
import subprocess
import sys

import pytest
import torch
import yaml

from tests.support.cli import gnnviz

SUMMARY_KEYS = {
    "dataset", "model", "metric", "best_epoch", "epochs_run", "val_metric", "test_metric", "seed", "device",
    "num_params", "train_seconds", "seconds_per_epoch", "peak_memory_mb", "status",
}  # fmt: skip


def karate(tmp_path, *extra, name="k"):
    return gnnviz("train", "--config", "configs/gat_karate.yaml", "--out", tmp_path, "--name", name, "--quiet",
                  "--set", "training.epochs=30", *extra)  # fmt: skip


def test_version_and_help():
    r = gnnviz("--version")
    assert r.returncode == 0 and r.stdout.startswith("gnnviz ")
    r = gnnviz("train", "--help")
    assert r.returncode == 0
    for option in (
        "--config",
        "--set",
        "--print-config",
        "--seed",
        "--seeds",
        "--device",
        "--out",
        "--name",
        "--data-root",
        "--quiet",
    ):
        assert option in r.stdout
    assert "gnnviz train --config configs/gat_cora.yaml" in r.stdout


def test_train_writes_a_self_describing_run(tmp_path):
    r = gnnviz("train", "--config", "configs/gat_karate.yaml", "--out", tmp_path, "--set", "training.epochs=20")
    assert r.returncode == 0, r.stderr
    run = tmp_path / r.stdout.strip().splitlines()[-1].split("/")[-1]
    assert r.stdout.strip().splitlines()[-1] == str(run)
    assert run.name.startswith("karate-gat-")
    summary = json.loads((run / "summary.json").read_text())
    assert SUMMARY_KEYS <= summary.keys()
    assert summary["metric"] == "accuracy" and summary["epochs_run"] == 20 and summary["device"] == "cpu"
    assert summary["status"] == "completed" and 1 <= summary["best_epoch"] <= 20
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["model"]["heads"] == 8 and config["training"]["epochs"] == 20
    lines = (run / "metrics.csv").read_text().splitlines()
    assert lines[0] == "epoch,train_loss,train_metric,val_loss,val_metric,seconds" and len(lines) == 21
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ckpt["model"]["kwargs"]["name"] == "gat" and ckpt["dataset"] == "karate"
    assert {"torch", "torch_geometric", "gnnviz"} <= ckpt["versions"].keys()
    assert "device: cpu (auto)" in r.stderr


def test_print_config_is_resolved_yaml():
    r = gnnviz("train", "--config", "configs/gcn_cora.yaml", "--print-config", "--set", "model.hidden=32")
    assert r.returncode == 0
    cfg = yaml.safe_load(r.stdout)
    assert cfg["model"]["name"] == "gcn" and cfg["model"]["hidden"] == 32 and cfg["training"]["lr"] == 0.01


def test_same_seed_gives_identical_metrics(tmp_path):
    a, b = karate(tmp_path, "--seed", "3", name="a"), karate(tmp_path, "--seed", "3", name="b")
    assert a.returncode == b.returncode == 0

    def rows(name):
        return [line.rsplit(",", 1)[0] for line in (tmp_path / name / "metrics.csv").read_text().splitlines()]

    assert rows("a") == rows("b")
    c = karate(tmp_path, "--seed", "4", name="c")
    assert c.returncode == 0 and rows("c") != rows("a")


def test_seeds_write_runs_and_an_aggregate(tmp_path):
    r = karate(tmp_path, "--seeds", "3", "--seed", "5", name="multi")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == str(tmp_path / "multi")
    agg = json.loads((tmp_path / "multi" / "summary.json").read_text())
    assert agg["seeds"] == [5, 6, 7] and len(agg["runs"]) == 3
    tests = [json.loads((tmp_path / "multi" / f"seed-{s}" / "summary.json").read_text())["test_metric"] for s in (5, 6, 7)]
    mean = sum(tests) / 3
    std = (sum((t - mean) ** 2 for t in tests) / 2) ** 0.5
    assert agg["test_metric_mean"] == pytest.approx(mean) and agg["test_metric_std"] == pytest.approx(std)


def test_datasets_lists_statistics(with_mirror):
    r = gnnviz("datasets")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines()[1:]}
    generated = {"synthetic", "ba_shapes", "tree_cycles", "tree_grid", "infection", "dictionary_lookup", "minesweeper"}
    assert set(rows) == {"cora", "citeseer", "ppi", "karate", "ogbn-arxiv", "ogbn-products"} | generated
    assert all("generated" in rows[n] for n in generated) and "10,000" in rows["synthetic"]
    assert "ogbn_arxiv/raw/" in r.stderr and "ogbn_arxiv/split/" in r.stderr, "where OGB's files go"
    assert "2,708" in rows["cora"] and "5,278" in rows["cora"] and "3,327" in rows["citeseer"]


def test_module_and_console_script_agree():
    r = subprocess.run(
        [sys.executable, "-c", "from gnnviz.cli.app import app; print(app.info.name)"], capture_output=True, text=True
    )
    assert r.stdout.strip() == "gnnviz"


def test_ppi_config_trains_on_small_ppi_format_graphs(tmp_path):
    from tests.support.ppi_fixture import write_ppi_raw

    write_ppi_raw(tmp_path / "data" / "PPI", graphs=(2, 1, 2), nodes=30, labels=6)
    r = gnnviz("train", "--config", "configs/gat_ppi.yaml", "--data-root", tmp_path / "data", "--out", tmp_path / "o",
               "--name", "ppi", "--quiet", "--set", "training.epochs=3", "--set", "model.hidden=64")  # fmt: skip
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "o" / "ppi" / "summary.json").read_text())
    assert summary["metric"] == "micro_f1" and summary["epochs_run"] == 3 and 0 <= summary["test_metric"] <= 1
    graphs = torch.load(tmp_path / "o" / "ppi" / "graph.pt", weights_only=True)
    assert graphs["task"] == "multilabel" and len(graphs["graphs"]) == 2, "the test graphs are kept for visualize"
