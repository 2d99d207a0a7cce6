"""Synthetic citation-like graphs of any size, and gnnviz run directories trained on them.

A graph of ``n`` nodes in 7 classes: each node draws ``degree / 2`` partners, of its own class
with probability ``HOMOPHILY``, and edges go both ways (mean degree about ``degree``). Features
are sparse bags of words, as in Cora: 10 words per node out of 256, most from its class's block,
row-normalised. Splits are fractions (5% train, 10% val, 20% test), so the work per epoch grows
with the graph instead of staying at Planetoid's fixed 140 training nodes.

The growth table in docs/performance.md was measured on these graphs; their sparse features take the fast
path's sparse route. What to train on is gnnviz's own ``synthetic`` dataset (gnnviz/datasets/synthetic.py:
igraph's block model, dense features, every setting in the config); moving this benchmark onto it
means measuring the growth table again on an idle machine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gnnviz.datasets.base import MULTICLASS, GraphDataset

CLASSES = 7
FEATURES = 256
WORDS = 10
HOMOPHILY = 0.8
TOPICAL = 0.7  # share of a node's words drawn from its class's block of the vocabulary
SPLITS = {"train": 0.05, "val": 0.10, "test": 0.20}


def synthetic(n: int, degree: int = 8, seed: int = 0) -> GraphDataset:
    from torch_geometric.data import Data
    from torch_geometric.utils import coalesce, to_undirected

    rng = np.random.default_rng(seed)
    y = rng.integers(CLASSES, size=n)
    by_class = [np.flatnonzero(y == c) for c in range(CLASSES)]
    m = n * degree // 2
    src = rng.integers(n, size=m)
    dst = rng.integers(n, size=m)
    same = rng.random(m) < HOMOPHILY
    for c in range(CLASSES):
        pick = same & (y[src] == c)
        dst[pick] = rng.choice(by_class[c], size=int(pick.sum()))
    keep = src != dst
    edge_index = to_undirected(torch.from_numpy(np.stack([src[keep], dst[keep]])).long(), num_nodes=n)
    edge_index = coalesce(edge_index, num_nodes=n)

    block = FEATURES // CLASSES
    topical = rng.random((n, WORDS)) < TOPICAL
    words = np.where(topical, y[:, None] * block + rng.integers(block, size=(n, WORDS)), rng.integers(FEATURES, size=(n, WORDS)))
    x = np.zeros((n, FEATURES), dtype=np.float32)
    np.put_along_axis(x, words, 1.0, axis=1)
    x /= x.sum(1, keepdims=True)

    order = rng.permutation(n)
    masks, start = {}, 0
    for split, share in SPLITS.items():
        mask = torch.zeros(n, dtype=torch.bool)
        mask[torch.from_numpy(order[start : start + int(share * n)])] = True
        masks[f"{split}_mask"] = mask
        start += int(share * n)
    g = Data(x=torch.from_numpy(x), edge_index=edge_index, y=torch.from_numpy(y).long(), num_nodes=n, **masks)
    name = f"synthetic-{n // 1000}k" if n >= 1000 else f"synthetic-{n}"
    return GraphDataset(name, MULTICLASS, FEATURES, CLASSES, [g], [g], [g])


def write_run(dataset: GraphDataset, out: Path, *, model: str = "gat", epochs: int = 100) -> Path:
    """Train gnnviz's default ``model`` on ``dataset`` for ``epochs`` and save a run directory
    there, through gnnviz's own run writer (what ``gnnviz train`` does after loading a dataset)."""
    from gnnviz.config import load_config
    from gnnviz.experiment import train_into
    from gnnviz.runs.layout import create_run_dir
    from gnnviz.training.device import resolve_device

    cfg = load_config(None, [f"model.name={model}", f"training.epochs={epochs}", "training.patience=0"])
    cfg.dataset.name = dataset.name  # shown in the figures; the config is not re-read as a dataset
    run = create_run_dir(out, f"{dataset.name}-{model}", dataset.name)
    train_into(cfg, dataset, resolve_device("cpu"), run, quiet=True, log=lambda _m: None, progress=False)
    return run
