"""The ``synthetic`` dataset: stochastic-block-model graphs whose answers are known in advance.

Graph: ``nodes`` split into ``blocks`` blocks of equal size (one class per block), edges drawn by
igraph's stochastic block model (``igraph.Graph.SBM``, O(V + E)). Two nodes of one block are
joined with probability p_in, two nodes of different blocks with p_out, chosen so that a node has
``mean_degree`` neighbours on average and a share ``homophily`` of them in its own block: the
measured edge homophily and mean degree come out at the settings (up to sampling noise), and
homophily 1 gives no edge between blocks. Node ids are shuffled, so a block is not a range of ids.

Features: each block has a centre in R^features; a node's features are a centre plus standard
normal noise. With ``features >= blocks`` the centres are orthogonal and 6 noise standard
deviations apart, so features alone tell a node's block about 99.5% of the time (fewer features
than blocks: random centres, some closer). A share ``feature_noise`` of the nodes get the centre
of a uniformly random block instead of their own, so a model that reads only features is right
on about ``1 - feature_noise * (blocks - 1) / blocks`` of the nodes: 1/blocks (chance) at
``feature_noise`` 1, where the features carry nothing about the label.

Splits: random ``train``/``val``/``test`` shares of all nodes; the rest are unlabelled.

The same parameters give the same graph (with the same igraph and numpy versions): igraph draws
from a ``random.Random(seed)``, everything else from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gnnviz.datasets.base import GENERATED, MULTICLASS, DatasetSpec, GraphDataset
from gnnviz.datasets.splits import check_shares, split_masks
from gnnviz.datasets.store import exception_text
from gnnviz.errors import ConfigError, DataError

if TYPE_CHECKING:
    import numpy as np

SEPARATION = 6.0  # distance between two block centres, in standard deviations of the feature noise


@dataclass(frozen=True)
class SyntheticParams:
    """What a synthetic graph is made from; ``dataset.<field>`` in a config (defaults here)."""

    nodes: int = 10_000
    blocks: int = 5
    mean_degree: float = 10.0
    homophily: float = 0.8
    features: int = 32
    feature_noise: float = 0.5
    train_fraction: float = 0.1
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    seed: int = 0


def block_sizes(nodes: int, blocks: int) -> list[int]:
    """Equal blocks; the first ``nodes % blocks`` get one node more."""
    return [nodes // blocks + (b < nodes % blocks) for b in range(blocks)]


def edge_probabilities(p: SyntheticParams) -> tuple[list[float], float]:
    """(p_in per block, p_out): a node expects ``homophily * mean_degree`` neighbours in its block
    and the rest across. p_out is one number (the model's matrix is symmetric), exact for equal blocks."""
    sizes = block_sizes(p.nodes, p.blocks)
    inside = [p.homophily * p.mean_degree / max(s - 1, 1) for s in sizes]
    across = (1.0 - p.homophily) * p.mean_degree * p.blocks / (p.nodes * (p.blocks - 1))
    return inside, across


# ----------------------------------------------------------------------------- checks (called by config validation)


def check(d: Any) -> None:
    """Ranges of the synthetic graph's settings, and whether the block model can give that degree."""
    _at_least("dataset.blocks", d.blocks, 2)
    if d.nodes < 2 * d.blocks:
        raise ConfigError(
            f"dataset.nodes={d.nodes} must be at least {2 * d.blocks} (two nodes a block, dataset.blocks={d.blocks})"
        )
    if d.nodes > 2**31 - 1:
        raise ConfigError(f"dataset.nodes={d.nodes} must be below 2**31")
    if not d.mean_degree > 0:
        raise ConfigError(f"dataset.mean_degree={d.mean_degree} must be greater than 0")
    _closed_unit("dataset.homophily", d.homophily)
    _at_least("dataset.features", d.features, 1)
    _closed_unit("dataset.feature_noise", d.feature_noise)
    check_shares(d, d.nodes, f"dataset.nodes={d.nodes}", "node")
    _at_least("dataset.seed", d.seed, 0)
    if d.seed >= 2**32:
        raise ConfigError(f"dataset.seed={d.seed} must be below 2**32")
    smallest, largest = d.nodes // d.blocks, -(-d.nodes // d.blocks)
    inside, across = d.homophily * d.mean_degree, (1 - d.homophily) * d.mean_degree
    if inside > smallest - 1:
        raise ConfigError(
            f"dataset.mean_degree={d.mean_degree:g} with dataset.homophily={d.homophily:g} asks for {inside:g} neighbours inside a "
            f"block of {smallest} nodes; lower dataset.mean_degree or dataset.blocks, or raise dataset.nodes"
        )
    if across > d.nodes - largest:
        raise ConfigError(
            f"dataset.mean_degree={d.mean_degree:g} with dataset.homophily={d.homophily:g} asks for {across:g} neighbours outside a "
            f"node's block, which has only {d.nodes - largest} nodes outside it; lower dataset.mean_degree or raise dataset.nodes"
        )


def synthetic_params(d: Any) -> SyntheticParams | None:
    """The generator's settings from a resolved dataset section, or None for datasets read from files."""
    if d.name not in DATASETS:
        return None
    return SyntheticParams(**{f.name: getattr(d, f.name) for f in dataclasses.fields(SyntheticParams)})


def _at_least(key: str, value: int, low: int) -> None:
    if value < low:
        raise ConfigError(f"{key}={value} must be at least {low}")


def _closed_unit(key: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{key}={value} must be in [0, 1]")


# ----------------------------------------------------------------------------- generating


def memory_floor(p: SyntheticParams) -> int:
    """Bytes that building the graph ``p`` describes takes at its peak, at least (``generate``).

    With E = nodes * mean_degree / 2 undirected edges: turning the block model's [E, 2] pairs
    into a sorted ``edge_index`` holds 80 bytes an edge at once (the int64 keys of both directions,
    their quotient and remainder, and the stacked result); then the [2, 2E] int64 ``edge_index``
    (32 bytes an edge) lives beside the float32 features and the per-node arrays (labels, ids,
    masks: about 40 bytes a node). The larger of the two is the floor.
    """
    edges = p.nodes * p.mean_degree / 2
    return int(max(80 * edges, 32 * edges + p.nodes * (4 * p.features + 40)))


def check_fits(p: SyntheticParams, available: int | None = None) -> None:
    """Refuse, before igraph allocates anything, a graph that cannot be built in the memory left."""
    from gnnviz import machine

    need = memory_floor(p)
    available = machine.available_memory() if available is None else available
    if available is not None and need > available:
        raise ConfigError(
            f"dataset.nodes={p.nodes:,} with dataset.mean_degree={p.mean_degree:g} and dataset.features={p.features} "
            f"make a graph of about {int(p.nodes * p.mean_degree / 2):,} edges that needs at least {machine.gib(need)} "
            f"to build, more than the {machine.gib(available)} of memory available; lower dataset.nodes or dataset.mean_degree"
        )


def generate(p: SyntheticParams) -> GraphDataset:
    """The graph, features, labels and split that ``p`` describes (one transductive graph).

    Shapes: ``x`` [nodes, features] float32, ``y`` [nodes], ``edge_index`` [2, 2 * undirected
    edges] with both directions, sorted by (source, target), no self-loops or repeats.
    """
    check_fits(p)
    import numpy as np
    import torch
    from torch_geometric.data import Data

    n, k = p.nodes, p.blocks
    rng = np.random.default_rng(p.seed)
    sizes = block_sizes(n, k)
    pairs = _sbm_pairs(p, sizes)  # [E, 2], ids in block order
    new_id = rng.permutation(n)
    y = np.empty(n, dtype=np.int64)
    y[new_id] = np.repeat(np.arange(k), sizes)

    # Both directions, sorted, as one int64 key per edge (source * n + target): a sort of keys
    # takes half the memory of sorting index pairs, which matters at millions of edges.
    src, dst = new_id[pairs[:, 0]], new_id[pairs[:, 1]]
    del pairs
    key = np.concatenate([src * n + dst, dst * n + src])
    del src, dst
    key.sort()
    edge_index = torch.from_numpy(np.stack([key // n, key % n]))
    del key

    centres = _centres(p, rng)
    shown = y.copy()  # whose centre each node's features are drawn around
    noisy = rng.random(n) < p.feature_noise
    shown[noisy] = rng.integers(k, size=int(noisy.sum()))
    x = rng.standard_normal((n, p.features), dtype=np.float32)
    x += centres[shown]

    masks = {f"{split}_mask": torch.from_numpy(m) for split, m in split_masks(rng.permutation(n), p).items()}
    g = Data(x=torch.from_numpy(x), edge_index=edge_index, y=torch.from_numpy(y), num_nodes=n, **masks)
    return GraphDataset("synthetic", MULTICLASS, p.features, k, [g], [g], [g])


def _centres(p: SyntheticParams, rng: np.random.Generator) -> np.ndarray:
    """[blocks, features] float32, pairwise ``SEPARATION`` apart (on average when features < blocks)."""
    import numpy as np

    if p.features >= p.blocks:
        q, _ = np.linalg.qr(rng.standard_normal((p.features, p.blocks)))  # orthonormal columns
        return (q.T * SEPARATION / np.sqrt(2)).astype(np.float32)
    return (rng.standard_normal((p.blocks, p.features)) * SEPARATION / np.sqrt(2 * p.features)).astype(np.float32)


def _sbm_pairs(p: SyntheticParams, sizes: list[int]) -> np.ndarray:
    """[E, 2] int64: each undirected edge of igraph's SBM once, nodes numbered block by block."""
    import igraph as ig
    import numpy as np

    from gnnviz.seeding import igraph_rng  # igraph's RNG seeded for the block, then its default again

    inside, across = edge_probabilities(p)
    pref = [[inside[a] if a == b else across for b in range(p.blocks)] for a in range(p.blocks)]
    with igraph_rng(p.seed):
        graph = ig.Graph.SBM(pref, sizes, directed=False, allowed_edge_types="simple")
    # igraph hands edges to Python as a list of tuples (about 120 bytes an edge); its own
    # writer and numpy's reader move them as text instead, at a tenth of the peak memory.
    try:
        with tempfile.TemporaryDirectory(prefix="gnnviz-sbm-") as tmp:
            path = os.path.join(tmp, "edges.txt")
            graph.write_edgelist(path)
            del graph
            pairs = np.fromfile(path, dtype=np.int64, sep=" ")
    except Exception as exc:  # noqa: BLE001 - igraph reports a failed write as its own InternalError
        raise DataError(
            f"cannot pass the generated edges through a temporary file in {tempfile.gettempdir()} ({exception_text(exc)}); "
            f"free space there or set TMPDIR to a writable folder with room (about 15 bytes an edge)"
        ) from None
    return pairs.reshape(-1, 2)


DATASETS: dict[str, DatasetSpec] = {
    "synthetic": DatasetSpec(
        "Synthetic",
        MULTICLASS,
        (),
        generate,
        "stochastic block model, settings in the config (dataset.nodes, ...)",
        origin=GENERATED,
        params=SyntheticParams,
        check=check,
        signed_features=True,
    ),
}
