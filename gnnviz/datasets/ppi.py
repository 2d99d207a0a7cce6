"""PPI: protein-protein interaction graphs (20 train, 2 val, 2 test), 121 labels each, through PyG."""

from __future__ import annotations

import os
from pathlib import Path

from gnnviz.datasets.base import MULTILABEL, DatasetSpec, GraphDataset
from gnnviz.datasets.store import quiet, read_failure
from gnnviz.errors import DataError

_PPI_FILES = tuple(
    f"raw/{split}_{kind}"
    for split in ("train", "valid", "test")
    for kind in ("feats.npy", "graph_id.npy", "graph.json", "labels.npy")
)


def load(name: str, spec: DatasetSpec, folder: Path) -> GraphDataset:
    from torch_geometric.datasets import PPI

    try:
        with quiet():
            splits = {s: PPI(str(folder), split=s) for s in ("train", "val", "test")}
        graphs = {s: [d[i] for i in range(len(d))] for s, d in splits.items()}
    except Exception as exc:  # noqa: BLE001
        raise read_failure(spec, folder, exc) from None
    for s, gs in graphs.items():
        if not gs:
            raise DataError(f"{spec.folder} {s} split has no graphs in {folder / 'raw'}; the raw files look incomplete")
    first = splits["train"]
    num_classes = int(graphs["train"][0].y.size(1))
    import torch

    for s, gs in graphs.items():
        for g in gs:
            n = g.num_nodes
            g.train_mask = torch.full((n,), s == "train")
            g.val_mask = torch.full((n,), s == "val")
            g.test_mask = torch.full((n,), s == "test")
    return GraphDataset(name, MULTILABEL, first.num_features, num_classes, graphs["train"], graphs["val"], graphs["test"])


def download(spec: DatasetSpec, folder: Path) -> None:
    from torch_geometric.data import download_url, extract_zip
    from torch_geometric.datasets import PPI

    path = download_url(PPI.url, str(folder))
    extract_zip(path, str(folder / "raw"))
    os.unlink(path)


DATASETS: dict[str, DatasetSpec] = {
    "ppi": DatasetSpec("PPI", MULTILABEL, _PPI_FILES, load, "protein interactions, 20/2/2 graphs, 121 labels", download=download),
}
