"""What ``gnnviz datasets`` lists: every dataset in the table, whether it can be loaded here
without a download, and its statistics when it can."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gnnviz.datasets import DATASETS, load_dataset
from gnnviz.datasets.base import EMBEDDED, FILES, GENERATED
from gnnviz.datasets.store import data_mirror, data_root
from gnnviz.errors import DataError


@dataclass
class DatasetInfo:
    name: str
    task: str
    description: str
    status: str  # "ready", "in mirror", "not available"
    graphs: int | None = None
    nodes: int | None = None
    edges: int | None = None  # undirected edges (each pair once)
    features: int | None = None
    classes: int | None = None


def describe_datasets(root: str | Path | None = None) -> list[DatasetInfo]:
    """Statistics for every dataset that can be loaded here without a download."""
    infos = []
    base = data_root(root)
    mirror = data_mirror()
    for name, spec in DATASETS.items():
        info = DatasetInfo(name, spec.task, spec.description, "not available")
        on_disk = spec.origin != FILES or all((base / spec.folder / f).is_file() for f in spec.files)
        in_mirror = mirror is not None and all((mirror / spec.folder / f).is_file() for f in spec.files)
        if on_disk or in_mirror:
            try:
                params = spec.params() if spec.params is not None else None  # a generated one: its defaults
                ds = load_dataset(name, root, normalize_features=False, params=params)
            except DataError as exc:
                info.status = f"broken: {exc}"
            else:
                graphs = _unique(ds.train + ds.val + ds.test)
                info.status = {FILES: "ready", EMBEDDED: "embedded", GENERATED: "generated (defaults shown)"}[spec.origin]
                info.graphs = len(graphs)
                info.nodes = sum(g.num_nodes for g in graphs)
                info.edges = sum(_undirected_edges(g) for g in graphs)
                info.features, info.classes = ds.num_features, ds.num_classes
        infos.append(info)
    return infos


def _unique(graphs: list) -> list:
    seen, out = set(), []
    for g in graphs:
        if id(g) not in seen:
            seen.add(id(g))
            out.append(g)
    return out


def _undirected_edges(g) -> int:
    import torch

    ei = g.edge_index
    ei = ei[:, ei[0] != ei[1]]
    pairs = torch.stack([torch.minimum(ei[0], ei[1]), torch.maximum(ei[0], ei[1])])
    return int(torch.unique(pairs, dim=1).size(1))
