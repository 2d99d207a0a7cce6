"""Attention statistics: sums, entropy, its uniform baseline, KL and GCN's fixed weights."""

import math

import numpy as np
import pytest
import torch
from torch_geometric.datasets import KarateClub
from torch_geometric.utils import softmax

from gnnviz.analysis import attention as att


@pytest.fixture(scope="module")
def karate():
    g = KarateClub()[0]
    n = g.num_nodes
    ei = att.with_self_loops(g.edge_index.numpy(), n)
    logits = torch.randn(ei.shape[1], 3, generator=torch.Generator().manual_seed(0)) * 2
    alpha = softmax(logits, torch.from_numpy(ei[1]), num_nodes=n).numpy()
    return ei, alpha, n


def test_softmax_attention_sums_to_one_per_node_and_head(karate):
    ei, alpha, n = karate
    sums = att.node_sums(ei, alpha, n)
    assert sums.shape == (n, 3)
    np.testing.assert_allclose(sums, 1.0, atol=1e-6)
    np.testing.assert_allclose(att.node_sums(ei, alpha.mean(1), n), 1.0, atol=1e-6)


def test_gat_model_attention_sums_to_one_per_node_and_head():
    # The contract report.py relies on: the edge index the layer used, and alpha over it.
    from gnnviz.models.gnn import GNN

    g = KarateClub()[0]
    torch.manual_seed(0)
    model = GNN("gat", g.num_features, 4, hidden=16, heads=4, out_heads=1).eval()
    with torch.no_grad():
        _, details = model(g.x, g.edge_index, return_details=True)
    assert len(details["attention"]) == 2
    for ei, alpha in details["attention"]:
        ei, alpha = ei.numpy(), alpha.numpy()
        assert (ei[0] == ei[1]).sum() == g.num_nodes  # one self-loop per node
        np.testing.assert_allclose(att.node_sums(ei, alpha, g.num_nodes), 1.0, atol=1e-5)


def test_uniform_entropy_is_log_in_degree_including_self_loop(karate):
    ei, _, n = karate
    g = KarateClub()[0]
    deg_without_loops = np.bincount(g.edge_index[1].numpy(), minlength=n)
    np.testing.assert_allclose(att.uniform_entropy(ei, n), np.log(deg_without_loops + 1))
    # Node 33 is the karate club hub: 17 neighbours + its self-loop.
    assert att.uniform_entropy(ei, n)[33] == pytest.approx(math.log(18))


def test_entropy_of_uniform_weights_equals_uniform_entropy_and_one_hot_is_zero(karate):
    ei, _, n = karate
    deg = att.in_degree(ei, n)
    uniform = 1.0 / deg[ei[1]]
    np.testing.assert_allclose(att.entropy(ei, uniform, n), att.uniform_entropy(ei, n), atol=1e-12)
    one_hot = (ei[0] == ei[1]).astype(float)  # all weight on the self-loop
    np.testing.assert_allclose(att.entropy(ei, one_hot, n), 0.0, atol=1e-12)


def test_entropy_matches_hand_computation():
    # Node 2 receives from 0, 1 and itself with weights 0.5, 0.25, 0.25.
    ei = np.array([[0, 1, 2, 0, 1], [2, 2, 2, 0, 1]])
    alpha = np.array([0.5, 0.25, 0.25, 1.0, 1.0])
    h = att.entropy(ei, alpha, 3)
    assert h[2] == pytest.approx(-(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)))
    assert h[0] == 0 and h[1] == 0


def test_stats_kl_is_log_degree_minus_entropy_and_ratio_skips_degree_one():
    ei = np.array([[0, 1, 2, 0, 1], [2, 2, 2, 0, 1]])
    alpha = np.array([0.5, 0.25, 0.25, 1.0, 1.0])
    h, u = att.entropy(ei, alpha, 3), att.uniform_entropy(ei, 3)
    s = att.entropy_stats(h, u)
    assert s.nodes_in_ratio == 1  # nodes 0 and 1 only have their self-loop: log 1 = 0
    assert s.mean_normalised_entropy == pytest.approx(h[2] / math.log(3))
    assert s.mean_kl_from_uniform == pytest.approx(np.mean(u - h))
    assert s.mean_kl_from_uniform >= 0


def test_entropy_bins_are_even_and_hold_every_value_without_a_catch_all_bar():
    # A PPI-like spread: some nodes peaked (H near 0), some near uniform over many neighbours.
    uniform = np.log(np.array([2, 3, 7, 19, 169]))
    learned = np.array([0.0, 0.01, 0.9, 2.9, 5.1])
    bins = att.entropy_bins(uniform, learned, bins=20)
    widths = np.diff(bins)
    np.testing.assert_allclose(widths, widths[0])  # every bar the same width: heights compare
    assert bins[0] == 0.0 and bins[-1] == pytest.approx(np.log(169))
    assert np.histogram(np.concatenate([uniform, learned]), bins)[0].sum() == 10


def test_kl_bins_are_log_spaced_and_separate_near_uniform_from_peaked():
    near = np.array([2e-4, 5e-4, 1e-3])  # Cora-like: near-uniform attention
    peaked = np.array([0.5, 1.2])
    bins = att.kl_bins(near, peaked)
    ratios = bins[1:] / bins[:-1]
    np.testing.assert_allclose(ratios, ratios[0])  # equal widths on a log axis
    assert bins[0] <= 2e-4 and bins[-1] >= 1.2
    counts = np.histogram(np.concatenate([near, peaked]), bins)[0]
    assert counts.sum() == 5
    # Near-uniform and peaked nodes land decades apart, not in one bar.
    assert np.searchsorted(bins, 1e-3) < np.searchsorted(bins, 0.5) - 6


def test_kl_bins_leave_zero_and_rounding_noise_below_the_axis():
    bins = att.kl_bins(np.array([0.0, 1e-9, 3e-3]))
    assert bins[0] >= att.KL_FLOOR and np.histogram([0.0, 1e-9], bins)[0].sum() == 0
    assert len(att.kl_bins(np.zeros(4))) > 1  # nothing to show still gives a valid axis


def test_gcn_coefficients_match_pyg_and_do_not_sum_to_one():
    from torch_geometric.nn.conv.gcn_conv import gcn_norm

    from gnnviz.models.gnn import gcn_coefficients as model_coefficients

    g = KarateClub()[0]
    n = g.num_nodes
    ei = att.with_self_loops(g.edge_index.numpy(), n)
    ours = att.gcn_coefficients(ei, n)
    ref_ei, ref_w = gcn_norm(g.edge_index, None, n, add_self_loops=True)
    ref = dict(zip(map(tuple, ref_ei.numpy().T), ref_w.numpy(), strict=True))
    np.testing.assert_allclose(ours, [ref[(s, d)] for s, d in ei.T], rtol=1e-6)
    np.testing.assert_allclose(ours, model_coefficients(torch.from_numpy(ei), n).numpy(), rtol=1e-6)
    sums = att.node_sums(ei, ours, n)
    assert np.abs(sums - 1).max() > 0.1  # a hub's sum is far from 1: these are not a distribution


def test_neighbourhood_separates_the_self_loop(karate):
    ei, alpha, _ = karate
    hood = att.neighbourhood(ei, alpha[:, 0], 33)
    assert hood.sources.size == 17 and 33 not in hood.sources
    assert hood.self_weight is not None and hood.in_degree == 18
    assert hood.total == pytest.approx(1.0)


def test_class_flow_matches_a_loop_by_loop_computation_on_karate(karate):
    ei, alpha, n = karate
    g = KarateClub()[0]
    y = g.y.numpy()
    c = int(y.max()) + 1
    w = alpha.mean(1)
    flow = att.class_flow(ei, w, y, c)
    deg = {v: 0 for v in range(n)}
    for t in ei[1]:
        deg[int(t)] += 1
    mass, edges, unif = np.zeros((c, c)), np.zeros((c, c), dtype=int), np.zeros((c, c))
    for e in range(ei.shape[1]):
        s, t = int(ei[0, e]), int(ei[1, e])
        if s == t:
            continue
        mass[y[t], y[s]] += w[e]
        edges[y[t], y[s]] += 1
        unif[y[t], y[s]] += 1.0 / deg[t]
    np.testing.assert_allclose(flow.mass, mass, rtol=1e-12)
    np.testing.assert_array_equal(flow.edges, edges)
    for row in range(c):
        np.testing.assert_allclose(flow.share[row], mass[row] / mass[row].sum(), rtol=1e-12)
        np.testing.assert_allclose(flow.uniform_share[row], unif[row] / unif[row].sum(), rtol=1e-12)
    np.testing.assert_allclose(flow.mean[edges > 0], mass[edges > 0] / edges[edges > 0])
    assert flow.edges.sum() == (ei[0] != ei[1]).sum()  # every edge but the self-loops, once


def test_class_flow_of_a_class_without_incoming_edges_is_undefined_not_zero():
    ei = np.array([[0, 1], [1, 0]])  # classes 0 and 1 only; class 2 has a node with no edges
    flow = att.class_flow(ei, np.ones(2), np.array([0, 1, 2]), 3)
    assert np.isnan(flow.share[2]).all() and np.isnan(flow.uniform_share[2]).all()
    np.testing.assert_array_equal(flow.share[:2], [[0, 1, 0], [1, 0, 0]])
