"""Run directories for tests: copy a run, list what a folder holds, draw a run, and write a run on
a tiny graph no dataset has (``handmade_run`` on one of ``TINY_GRAPHS``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch

from gnnviz.runs.layout import create_run_dir
from gnnviz.runs.store import MetricsWriter, save_checkpoint, save_config, save_graphs, save_summary


def entries(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() else []


def temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.endswith((".tmp", ".partial"))]


def draw(run: Path, out: Path) -> Path:
    from threadpoolctl import threadpool_limits

    from gnnviz.viz.visualize import visualize

    with threadpool_limits(1):
        return visualize(run, out, quiet=True)


def copy_run(run: Path, dest: Path) -> Path:
    shutil.copytree(run, dest)
    return dest


def retrain_on(run: Path, blob: dict) -> Path:
    """Make ``run`` look trained on the graph file ``blob``: write it as graph.pt and record its
    digest in checkpoint.pt, as training on it would have (the weights stay as they are)."""
    from gnnviz.runs.store import graph_digest

    torch.save(blob, run / "graph.pt")
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    ckpt["graph_sha256"] = graph_digest(run)
    torch.save(ckpt, run / "checkpoint.pt")
    return run


TINY_GRAPHS = {
    "single_node": (1, []),
    "no_edges": (5, []),
    "isolated_nodes": (7, [(0, 1), (1, 0), (1, 2), (2, 1)]),
    "self_loop_only": (3, [(0, 0)]),
    "two_components": (6, [(0, 1), (1, 0), (3, 4), (4, 3), (4, 5), (5, 4)]),
}


def edge_array(pairs) -> np.ndarray:
    return np.array(pairs, dtype=np.int64).reshape(-1, 2).T.copy()


def handmade_run(folder: Path, n: int, pairs) -> Path:
    """A run on a graph no dataset has, written through the run-directory format."""
    from torch_geometric.data import Data

    from gnnviz.config.schema import Config
    from gnnviz.models.gnn import GNN

    torch.manual_seed(0)
    ei = torch.tensor(edge_array(pairs))
    g = Data(x=torch.rand(n, 3), edge_index=ei, y=torch.arange(n) % 2, num_nodes=n)
    g.train_mask = g.val_mask = g.test_mask = torch.ones(n, dtype=torch.bool)
    model = GNN("gat", 3, 2, hidden=4, heads=2, out_heads=1)
    run = create_run_dir(folder, "tiny", "x")
    save_config(run, Config().to_yaml())
    save_summary(run, {"dataset": "tiny", "model": "gat", "metric": "accuracy", "best_epoch": 1, "status": "completed"})
    save_graphs(run, [g], dataset="tiny", task="multiclass", split="all")
    save_checkpoint(run, model.kwargs, model.state_dict(), dataset="tiny", task="multiclass", epoch=1)
    writer = MetricsWriter(run / "metrics.csv")
    writer.write({"epoch": 1, "train_loss": 0.7, "train_metric": 0.5, "val_loss": 0.7, "val_metric": 0.5, "seconds": 0.01})
    writer.close()
    return run
