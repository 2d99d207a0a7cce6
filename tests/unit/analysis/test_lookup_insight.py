"""The insight analyses say "yes" where theory says attention must matter: on dictionary_lookup
(Brody et al. 2022) attention that routes each query to its own key ranks keys differently per
query, GAT's attention never does (whatever its weights), and a trained GATv2 needs its attention."""

from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.nn import GATConv

from gnnviz.analysis import insight as ins
from gnnviz.datasets.dictionary_lookup import LookupParams, generate
from tests.support.explorer_inputs import train_run

K = 4


@pytest.fixture(scope="module")
def graph():
    g = generate(LookupParams(keys=K, graphs=30, seed=0)).train[0]
    n = g.num_nodes
    loops = np.arange(n)
    ei = np.concatenate([g.edge_index.numpy(), np.stack([loops, loops])], axis=1)  # as the model sees it
    return g, ei


def routing(g, ei, eps=1e-3):
    """[E] weights by hand: each query puts 1 - eps on the key with its attribute, the rest evenly."""
    x = g.x.numpy()
    attribute = x[:, :K].argmax(1)
    src, dst = ei
    own = (attribute[src] == attribute[dst]) & (src != dst)
    is_query = x[:, K:].sum(1) == 0
    alpha = np.where(own, 1 - eps, eps / K)
    alpha[~is_query[dst]] = 1.0  # a key node has only its self-loop
    return alpha


def test_attention_routed_by_hand_solves_the_lookup_and_ranks_keys_per_query(graph):
    g, ei = graph
    alpha = routing(g, ei)
    x, y = g.x.numpy(), g.y.numpy()
    src, dst = ei
    # The layer's output at a query: its weights over the keys' value one-hots (the self-loop carries none).
    logits = np.zeros((g.num_nodes, K))
    np.add.at(logits, dst, alpha[:, None] * x[src, K:])
    queries = x[:, K:].sum(1) == 0
    assert np.all(logits[queries].argmax(1) == y[queries])
    rank = ins.ranking_agreement(ei, alpha, num_nodes=g.num_nodes)
    assert rank["pairs"] > 0 and rank["agreement"][0] < 0.75
    lab = ins.attention_vs_labels(ei, alpha, y, mask=queries)["overall"]
    assert lab["lift"][0] == pytest.approx(lab["max_lift"], abs=2e-3)  # all weight on the one same-label key
    assert lab["max_lift"] == pytest.approx(1 - 1 / K)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gat_attention_ranks_every_querys_keys_alike_whatever_its_weights(graph, seed):
    g, ei = graph
    torch.manual_seed(seed)
    conv = GATConv(2 * K, 8, heads=3, add_self_loops=False)
    with torch.no_grad():
        _, (_, alpha) = conv(g.x, torch.from_numpy(ei), return_attention_weights=True)
    rank = ins.ranking_agreement(ei, alpha.numpy(), num_nodes=g.num_nodes)
    assert rank["pairs"] > 0 and rank["agreement"] == [1.0, 1.0, 1.0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from gnnviz.analysis.run import insight
    from gnnviz.viz.load import load_arrays

    out = tmp_path_factory.mktemp("lookup-runs")
    sets = (f"dataset.keys={K}", "dataset.graphs=60", "training.epochs=150", "model.hidden=16")
    found = {}
    for model in ("gat", "gatv2"):
        run = train_run(Path(out), f"{model}_dictionary_lookup.yaml", *sets, name=model)
        a = load_arrays(run)
        found[model] = insight(a, list(range(len(a.attention))))
    return found


def test_the_analyses_tell_static_from_dynamic_attention_on_a_trained_run(trained):
    gat, gatv2 = trained["gat"], trained["gatv2"]
    assert all(r["agreement"] == [1.0] for r in gat.ranking)  # static: exactly, not about
    assert all(r["agreement"][0] < 0.85 for r in gatv2.ranking)
    # GATv2 solves the lookup (unseen permutations, test queries) and loses it without attention;
    # GAT cannot fit it (k = 4: chance is 0.25).
    off = gatv2.switched_off["uniform:all"]
    assert off["before"] >= 0.95 and off["after"] <= 0.5
    assert gat.switched_off["uniform:all"]["before"] <= 0.6
    assert gatv2.labels[-1]["overall"]["lift"][0] > 0.4  # most of the largest possible 0.75


def test_the_shared_neighbour_block_is_a_diagonal_for_routing_and_one_ranking_for_gat(graph):
    from gnnviz.analysis.shared import shared_block
    from gnnviz.viz.draw.shared import plot_shared_block

    g, ei = graph
    y = g.y.numpy()
    block = shared_block(ei, routing(g, ei), y)
    queries = g.x[:, K:].sum(1).numpy() == 0
    assert block.group == K and np.all(queries[block.targets]) and not np.any(queries[block.sources])
    assert list(y[block.targets]) == list(y[block.sources]) == list(range(K))  # sorted by class
    np.testing.assert_allclose(block.weights.sum(1), 1.0, rtol=1e-12)
    own = (1 - 1e-3) / (1 - 1e-3 / K)  # renormalised over the keys: the self-loop had 1e-3 / K
    np.testing.assert_allclose(np.diag(block.weights), own, rtol=1e-9)  # each query on its own key
    torch.manual_seed(0)
    conv = GATConv(2 * K, 8, heads=1, add_self_loops=False)
    with torch.no_grad():
        _, (_, alpha) = conv(g.x, torch.from_numpy(ei), return_attention_weights=True)
    static = shared_block(ei, alpha.numpy(), y)
    orders = {tuple(np.argsort(row)) for row in static.weights}
    assert len(orders) == 1  # every query ranks the keys alike
    fig = plot_shared_block([block, static], [0, 1], y, title="t")
    assert len(fig.axes) == 3  # two heatmaps and the colour bar


def test_no_shared_block_where_no_two_nodes_share_their_neighbours():
    from gnnviz.analysis.shared import shared_block

    ei = np.array([[1, 2, 2, 3], [0, 0, 1, 1]])  # 0 <- {1, 2}, 1 <- {2, 3}
    assert shared_block(ei, np.ones(4), np.zeros(4, dtype=int)) is None
