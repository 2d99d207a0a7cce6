"""Graphs whose explanation is known: ``ba_shapes``, ``tree_cycles``, ``tree_grid`` and ``infection``.

Built by PyG's generators (``torch_geometric.datasets``), as the explainability literature does:

- ``ba_shapes`` (GNNExplainer, Ying et al. 2019): a Barabasi-Albert base graph (``base_nodes``
  nodes, each new node attached by ``base_edges`` edges) with ``motifs`` five-node house motifs,
  each joined to a random base node by one edge. Four classes: the base (0), and the house's top
  (1), middle (2) and bottom (3), PyG's ``HouseMotif`` roles.
- ``tree_cycles``: a balanced binary tree of depth ``tree_depth`` (``2**(depth+1) - 1`` nodes)
  with ``motifs`` six-node cycles; two classes, tree (0) and cycle (1).
- ``tree_grid``: the same tree with ``motifs`` 3x3 grids; two classes, tree (0) and grid (1), as in
  GNNExplainer (PyG's ``GridMotif`` also names corner, side and centre roles; they are merged).
- ``infection`` (Faber et al. 2021): an Erdos-Renyi graph (``base_nodes``, ``edge_prob``) with
  ``infected`` infected nodes; a node's class is its distance to the nearest infected node
  (0 .. ``max_path_length``, and ``max_path_length + 1`` for farther or unreachable nodes). Its
  two features say healthy or infected (the task needs them), so ``node_features`` is not taken.

Ground truth, as PyG's generators give it, stored on the graph as ``truth_node_mask`` [N] and
``truth_edge_mask`` [E] (bool, aligned with the nodes and with the columns of the stored
``edge_index``; ``runs/store.py`` keeps them in graph.pt): for the motif graphs, a motif's nodes
and the edges inside a motif (the edge that joins a motif to the base is not part of it); for
``infection``, PyG's edge mask: the directed edges ``(source, target)`` whose source is within
``max_path_length - 1`` hops of an infected node (the edges along which infection reaches a node
of a distance class), not symmetric; as node mask the infected nodes and the nodes those edges
join, which are the nodes within ``max_path_length`` hops.

Features (motif graphs, ``node_features``): ``constant`` (every node ``features`` ones, as in the
literature: the structure alone must tell the roles apart), ``degree`` (one-hot degree, the last
of ``features`` columns meaning that degree or more) or ``random`` (uniform in [0, 1)).

Splits: random ``train``/``val``/``test`` shares of all nodes (GNNExplainer trains on 80%).

Edges: both directions, sorted by (source, target), no self-loops or repeats; the masks are
permuted with them. The same settings give the same graph: PyG's generators draw from torch's
global RNG (and the literature's from Python's ``random`` and numpy), so all three are seeded with
``seed`` for the build and restored afterwards (``seeding.seeded``); features and split come from
``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gnnviz.datasets.base import GENERATED, MULTICLASS, DatasetSpec, GraphDataset
from gnnviz.datasets.splits import check_shares, split_masks
from gnnviz.errors import ConfigError

NODE_FEATURES = ("constant", "degree", "random")
MAX_TREE_DEPTH = 16  # 131,071 tree nodes; PyG builds the tree in Python, one call per node
MAX_BASE_NODES = 100_000  # PyG attaches motifs one at a time in Python
MAX_ER_NODES = 10_000  # PyG's erdos_renyi_graph draws every one of the n(n-1)/2 pairs at once


@dataclass(frozen=True)
class _Split:
    train_fraction: float = 0.8
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 0


@dataclass(frozen=True)
class BAShapesParams(_Split):
    """``ba_shapes``'s settings; ``dataset.<field>`` in a config (defaults: GNNExplainer's)."""

    base_nodes: int = 300
    base_edges: int = 5
    motifs: int = 80
    node_features: str = "constant"
    features: int = 10


@dataclass(frozen=True)
class TreeCyclesParams(_Split):
    """``tree_cycles``'s settings (defaults: GNNExplainer's)."""

    tree_depth: int = 8
    motifs: int = 80
    node_features: str = "constant"
    features: int = 10


@dataclass(frozen=True)
class TreeGridParams(TreeCyclesParams):
    """``tree_grid``'s settings (defaults: GNNExplainer's)."""


@dataclass(frozen=True)
class InfectionParams(_Split):
    """``infection``'s settings (defaults: PyG's ``InfectionDataset`` example)."""

    base_nodes: int = 500
    edge_prob: float = 0.004
    infected: int = 50
    max_path_length: int = 3


# ----------------------------------------------------------------------------- checks (called by config validation)


def check(d: Any) -> None:
    """Ranges of the settings ``d`` takes (those of its dataset's params), before anything is built."""
    has = set(d.__dataclass_fields__)  # the config section: every dataset's keys, filled for this one
    taken = {f.name for f in dataclasses.fields(DATASETS[d.name].params)} & has
    if "tree_depth" in taken and not 1 <= d.tree_depth <= MAX_TREE_DEPTH:
        raise ConfigError(f"dataset.tree_depth={d.tree_depth} must be between 1 and {MAX_TREE_DEPTH}")
    if "base_edges" in taken:
        _between("dataset.base_nodes", d.base_nodes, 2, MAX_BASE_NODES)
        if not 1 <= d.base_edges < d.base_nodes:
            raise ConfigError(
                f"dataset.base_edges={d.base_edges} must be at least 1 and below dataset.base_nodes={d.base_nodes} "
                f"(each new node of the Barabasi-Albert graph joins that many earlier ones)"
            )
    if "motifs" in taken:
        base = d.base_nodes if "base_nodes" in taken else 2 ** (d.tree_depth + 1) - 1
        if not 1 <= d.motifs <= base:
            where = f"dataset.base_nodes={d.base_nodes}" if "base_nodes" in taken else f"dataset.tree_depth={d.tree_depth}"
            raise ConfigError(
                f"dataset.motifs={d.motifs} must be at least 1 and at most the {base} nodes of the base graph "
                f"({where}): each motif is attached to a base node of its own"
            )
    if "node_features" in taken:
        if d.node_features not in NODE_FEATURES:
            raise ConfigError(f"dataset.node_features='{d.node_features}' is not one of {', '.join(NODE_FEATURES)}")
        if d.features < 1:
            raise ConfigError(f"dataset.features={d.features} must be at least 1")
    if "infected" in taken:
        _between("dataset.base_nodes", d.base_nodes, 2, MAX_ER_NODES)
        if not 0 < d.edge_prob <= 1:
            raise ConfigError(f"dataset.edge_prob={d.edge_prob} must be greater than 0 and at most 1")
        if not 1 <= d.infected <= d.base_nodes:
            raise ConfigError(f"dataset.infected={d.infected} must be at least 1 and at most dataset.base_nodes={d.base_nodes}")
        if d.max_path_length < 1:
            raise ConfigError(f"dataset.max_path_length={d.max_path_length} must be at least 1")
    nodes = _node_count(d, taken)
    check_shares(d, nodes, f"the graph's {nodes} nodes", "node")
    if not 0 <= d.seed < 2**32:
        raise ConfigError(f"dataset.seed={d.seed} must be at least 0 and below 2**32")


def _between(key: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ConfigError(f"{key}={value} must be between {low} and {high:,}")


def _node_count(d: Any, taken: set[str]) -> int:
    if "infected" in taken:
        return d.base_nodes
    base = d.base_nodes if "base_nodes" in taken else 2 ** (d.tree_depth + 1) - 1
    return base + d.motifs * MOTIF_NODES[d.name]


MOTIF_NODES = {"ba_shapes": 5, "tree_cycles": 6, "tree_grid": 9}


# ----------------------------------------------------------------------------- generating


def _explainer_graph(name: str, p: Any):
    """PyG's graph (``edge_index``, ``y``, float ``node_mask`` and ``edge_mask``), built under ``p.seed``."""
    from torch_geometric.datasets import ExplainerDataset, InfectionDataset
    from torch_geometric.datasets.graph_generator import BAGraph, ERGraph, TreeGraph
    from torch_geometric.datasets.motif_generator import CycleMotif, GridMotif, HouseMotif

    from gnnviz.seeding import seeded

    with seeded(p.seed):
        if name == "infection":
            return InfectionDataset(ERGraph(p.base_nodes, p.edge_prob), p.infected, p.max_path_length)[0]
        base = BAGraph(p.base_nodes, p.base_edges) if name == "ba_shapes" else TreeGraph(p.tree_depth, undirected=True)
        motif = {"ba_shapes": HouseMotif, "tree_cycles": lambda: CycleMotif(6), "tree_grid": GridMotif}[name]()
        return ExplainerDataset(base, motif, p.motifs)[0]


def generate(name: str, p: Any) -> GraphDataset:
    """The graph ``p`` describes, with its truth masks (one transductive graph).

    Shapes: ``x`` [N, F] float32, ``y`` [N], ``edge_index`` [2, E] both directions sorted by
    (source, target), ``truth_node_mask`` [N] and ``truth_edge_mask`` [E] bool.
    """
    import numpy as np
    import torch
    from torch_geometric.data import Data
    from torch_geometric.utils import coalesce, degree, remove_self_loops

    made = _explainer_graph(name, p)
    n = int(made.y.numel())
    edge_index, edge_mask = remove_self_loops(made.edge_index, made.edge_mask.float())
    # Sorted and without repeats, the mask moved with its edges; 'max' keeps a repeat in the truth.
    edge_index, edge_mask = coalesce(edge_index, edge_mask, num_nodes=n, reduce="max")
    edge_mask = edge_mask > 0
    y = made.y.long()
    if name == "infection":
        x = made.x.float()
        node_mask = made.x[:, 1] > 0  # the infected nodes, and the nodes the truth edges join
        node_mask[edge_index[:, edge_mask].flatten()] = True
        classes = p.max_path_length + 2
    else:
        node_mask = made.node_mask > 0
        if name != "ba_shapes":
            y = (y > 0).long()  # tree or motif: the literature's two classes
        classes = {"ba_shapes": 4}.get(name, 2)
        rng = np.random.default_rng(p.seed)
        if p.node_features == "constant":
            x = torch.ones(n, p.features)
        elif p.node_features == "degree":
            deg = degree(edge_index[0], n).long().clamp(max=p.features - 1)
            x = torch.nn.functional.one_hot(deg, p.features).float()
        else:
            x = torch.from_numpy(rng.random((n, p.features), dtype=np.float32))
    order = np.random.default_rng([p.seed, 1]).permutation(n)  # the split's own stream
    masks = {f"{split}_mask": torch.from_numpy(m) for split, m in split_masks(order, p).items()}
    g = Data(
        x=x,
        edge_index=edge_index,
        y=y,
        num_nodes=n,
        truth_node_mask=node_mask,
        truth_edge_mask=edge_mask,
        **masks,
    )
    return GraphDataset(name, MULTICLASS, int(x.size(1)), classes, [g], [g], [g])


def _spec(name: str, folder: str, params: type, description: str) -> DatasetSpec:
    return DatasetSpec(
        folder,
        MULTICLASS,
        (),
        lambda p: generate(name, p),
        description,
        origin=GENERATED,
        params=params,
        check=check,
    )


DATASETS: dict[str, DatasetSpec] = {
    "ba_shapes": _spec(
        "ba_shapes", "BA-Shapes", BAShapesParams, "Barabasi-Albert graph with house motifs, motif truth (GNNExplainer)"
    ),
    "tree_cycles": _spec(
        "tree_cycles", "Tree-Cycles", TreeCyclesParams, "binary tree with six-cycle motifs, motif truth (GNNExplainer)"
    ),
    "tree_grid": _spec("tree_grid", "Tree-Grid", TreeGridParams, "binary tree with 3x3 grid motifs, motif truth (GNNExplainer)"),
    "infection": _spec("infection", "Infection", InfectionParams, "Erdos-Renyi graph, class = distance to infection, path truth"),
}
