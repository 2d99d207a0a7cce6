"""The ``dictionary_lookup`` dataset: where attention must be dynamic (Brody et al. 2022, "How
attentive are graph attention networks?", the DictionaryLookup benchmark).

Graph: ``graphs`` disjoint copies of a complete bipartite graph with ``keys`` (k) key nodes and k
query nodes; every key node has a directed edge to every query node of its copy (k^2 edges a
copy, nothing into a key node). Copy c's key nodes carry the k attributes 0..k-1 once each and a
value drawn by a random permutation pi_c of 0..k-1; its query nodes carry the same k attributes
and no value. A query with attribute a must output pi_c(a): the value of the one key node with
its own attribute. Node ids are shuffled, so a copy is not a range of ids.

Why attention must be dynamic here: GAT's score LeakyReLU(a_dst.Wh_q + a_src.Wh_j) orders a
query's keys by a_src.Wh_j alone, so every query of a copy ranks the keys alike and puts the
most weight on the same key; for k > 1 no GAT can route each query to its own key. GATv2 scores
a.LeakyReLU(W[h_q || h_j]) and can rank a different key first for each query.

Features [N, 2k]: a one-hot of the attribute, then a one-hot of the value (zeros for a query).
Labels: the value, for key nodes too (a key's label is its own value), so that the query's one
"same-label" neighbour is exactly the key it must find and the label analyses (lift) measure
whether attention finds it.

Splits: whole copies, a share ``train_fraction``/``val_fraction``/``test_fraction`` of them; only
their query nodes are in the split masks (key nodes are in none), so loss and metric count
queries only, and every test query's permutation was never seen in training (the paper trains on
some permutations and tests on unseen ones).

The same parameters give the same graph: everything is drawn from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gnnviz.datasets.base import GENERATED, MULTICLASS, DatasetSpec, GraphDataset
from gnnviz.datasets.splits import check_shares, split_masks
from gnnviz.errors import ConfigError

MAX_EDGES = 50_000_000  # graphs * keys^2 edges: past this, building takes minutes and gigabytes


@dataclass(frozen=True)
class LookupParams:
    """What a dictionary-lookup graph is made from; ``dataset.<field>`` in a config (defaults here)."""

    keys: int = 10
    graphs: int = 500
    train_fraction: float = 0.8
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 0


def check(d: Any) -> None:
    """Ranges of the lookup graph's settings (called by config validation)."""
    if d.keys < 2:
        raise ConfigError(f"dataset.keys={d.keys} must be at least 2 (with one key there is nothing to look up)")
    if d.graphs < 3:
        raise ConfigError(f"dataset.graphs={d.graphs} must be at least 3 (one copy for each of train, val and test)")
    if d.graphs * d.keys**2 > MAX_EDGES:
        raise ConfigError(
            f"dataset.graphs={d.graphs} copies of dataset.keys={d.keys} make {d.graphs * d.keys**2:,} edges, more than "
            f"{MAX_EDGES:,}; lower dataset.graphs or dataset.keys"
        )
    check_shares(d, d.graphs, f"dataset.graphs={d.graphs}", "copy")
    if not 0 <= d.seed < 2**32:
        raise ConfigError(f"dataset.seed={d.seed} must be in [0, 2**32)")


def generate(p: LookupParams) -> GraphDataset:
    """The ``graphs`` copies, features, labels and split that ``p`` describes (one transductive graph).

    Shapes: ``x`` [2 k graphs, 2 k] float32, ``y`` [2 k graphs] (values 0..k-1), ``edge_index``
    [2, k^2 graphs] key -> query, sorted by (source, target); ``is_query`` [N] bool;
    ``attribute`` [N] each node's key attribute; ``copy`` [N] which copy a node belongs to.
    """
    import numpy as np
    import torch
    from torch_geometric.data import Data

    k, m = p.keys, p.graphs
    rng = np.random.default_rng(p.seed)
    n = 2 * k * m
    # Before shuffling: copy c holds keys c*2k .. c*2k+k-1 (attribute a at c*2k+a), then its queries.
    copy = np.repeat(np.arange(m), 2 * k)
    attribute = np.tile(np.arange(k), 2 * m)
    is_query = np.tile(np.repeat([False, True], k), m)
    values = np.stack([rng.permutation(k) for _ in range(m)])  # [graphs, k]: pi_c(a)
    y = values[copy, attribute]
    key_ids = np.flatnonzero(~is_query).reshape(m, k)
    query_ids = np.flatnonzero(is_query).reshape(m, k)
    src = np.repeat(key_ids, k, axis=1).ravel()  # every key of a copy ...
    dst = np.tile(query_ids, (1, k)).ravel()  # ... to every query of that copy

    new_id = rng.permutation(n)
    order = np.empty(n, dtype=np.int64)
    order[new_id] = np.arange(n)  # order[new] = old
    src, dst = new_id[src], new_id[dst]
    edge_key = np.sort(src * n + dst)
    edge_index = torch.from_numpy(np.stack([edge_key // n, edge_key % n]))
    copy, attribute, is_query, y = copy[order], attribute[order], is_query[order], y[order]

    x = np.zeros((n, 2 * k), dtype=np.float32)
    x[np.arange(n), attribute] = 1.0
    keys = ~is_query
    x[np.flatnonzero(keys), k + y[keys]] = 1.0

    masks = {
        f"{split}_mask": torch.from_numpy(chosen[copy] & is_query) for split, chosen in split_masks(rng.permutation(m), p).items()
    }
    g = Data(
        x=torch.from_numpy(x),
        edge_index=edge_index,
        y=torch.from_numpy(y.astype(np.int64)),
        num_nodes=n,
        **masks,
    )
    return GraphDataset("dictionary_lookup", MULTICLASS, 2 * k, k, [g], [g], [g])


def lookup_parts(x: Any, keys: int) -> tuple[Any, Any]:
    """(attribute [N], is_query [N] bool) of each node, read back from the features ``x`` [N, 2k]
    (numpy): what the figures need to lay a query-by-key heatmap out, from the stored graph alone."""
    import numpy as np

    x = np.asarray(x)
    return x[:, :keys].argmax(1), x[:, keys:].sum(1) == 0


DATASETS: dict[str, DatasetSpec] = {
    "dictionary_lookup": DatasetSpec(
        "DictionaryLookup",
        MULTICLASS,
        (),
        generate,
        "Brody et al.'s lookup: each query must attend to its own key (dataset.keys, dataset.graphs)",
        origin=GENERATED,
        params=LookupParams,
        check=check,
    ),
}
