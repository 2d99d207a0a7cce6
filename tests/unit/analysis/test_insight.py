"""What attention learned: attention against labels, static vs dynamic ranking, prediction change.

Known answers (stochastic block models with a set homophily, random GAT/GATv2 layers) and
numbers worked out by hand on a 5-node graph; an independent loop-by-loop computation on karate.
"""

import itertools
import math
import random

import igraph
import numpy as np
import pytest
import torch
from torch_geometric.datasets import KarateClub
from torch_geometric.utils import softmax

from gnnviz.analysis import insight as ins


def with_loops(edges, n):
    """[2, E] from (src, dst) pairs, then one self-loop per node at the end (as the models add them)."""
    ei = np.array(edges, dtype=np.int64).T.reshape(2, -1)
    loops = np.arange(n)
    return np.concatenate([ei, np.stack([loops, loops])], 1)


def sbm(p_in, p_out, sizes=(100, 100), seed=0):
    """An undirected SBM as a PyG-style [2, E] (both directions, self-loops added) and its labels [N]."""
    random.seed(seed)  # igraph draws from Python's random module
    k = len(sizes)
    pref = [[p_in if a == b else p_out for b in range(k)] for a in range(k)]
    g = igraph.Graph.SBM(pref_matrix=pref, block_sizes=list(sizes), directed=False)
    e = np.array(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    n = sum(sizes)
    ei = with_loops(np.concatenate([e, e[:, ::-1]]), n)
    y = np.repeat(np.arange(k), sizes)
    return ei, y


def uniform(ei, n):
    deg = np.bincount(ei[1], minlength=n)
    return 1.0 / deg[ei[1]]


# ----------------------------------------------------------------------------- attention against labels
# The hand graph: labels 0 0 1 1 0; edges into 0 from 1, 2, 3; into 4 from 1, 2; into 1 from 0;
# into 3 from 2; node 2 has only its self-loop. Self-loops last, one per node.
HAND_Y = np.array([0, 0, 1, 1, 0])
HAND_EI = with_loops([(1, 0), (2, 0), (3, 0), (1, 4), (2, 4), (0, 1), (2, 3)], 5)
# Weights per edge in that order, then the self-loops of nodes 0..4.
HAND_ALPHA = np.array([0.3, 0.2, 0.1, 0.1, 0.4, 0.75, 0.1, 0.4, 0.25, 1.0, 0.9, 0.5])


def test_label_mass_by_hand():
    per = ins.label_mass(HAND_EI, HAND_ALPHA, HAND_Y)
    # node 0: neighbours 1 (same), 2, 3 (other) with 0.3, 0.2, 0.1: mass 0.3 / 0.6, homophily 1/3.
    # node 4: neighbours 1 (same) 0.1, 2 (other) 0.4: mass 0.1 / 0.5, homophily 1/2.
    # node 1: only neighbour 0 (same); node 3: only neighbour 2 (same); node 2: none.
    np.testing.assert_array_equal(per["neighbours"], [3, 1, 0, 1, 2])
    np.testing.assert_allclose(per["homophily"], [1 / 3, 1, np.nan, 1, 1 / 2])
    np.testing.assert_allclose(per["mass"][:, 0], [0.5, 1, np.nan, 1, 0.2])
    np.testing.assert_allclose(per["lift"][:, 0], [1 / 6, 0, np.nan, 0, -0.3], atol=1e-12)
    np.testing.assert_allclose(per["best"] - per["homophily"], [2 / 3, 0, np.nan, 0, 1 / 2])
    np.testing.assert_allclose(per["self_mass"][:, 0], [0.4, 0.25, 1.0, 0.9, 0.5])
    np.testing.assert_allclose(per["uniform_self_mass"], [1 / 4, 1 / 2, 1, 1 / 2, 1 / 3])


def test_attention_vs_labels_summaries_by_hand():
    out = ins.attention_vs_labels(HAND_EI, HAND_ALPHA, HAND_Y)
    assert out["similarity"] == "same label" and out["heads"] == 1
    assert out["nodes_without_neighbours"] == 1  # node 2
    o = out["overall"]  # nodes 0, 1, 3, 4
    assert o["nodes"] == 4
    assert o["homophily"] == pytest.approx((1 / 3 + 1 + 1 + 1 / 2) / 4)
    assert o["mass"] == pytest.approx([(0.5 + 1 + 1 + 0.2) / 4])
    assert o["lift"] == pytest.approx([(1 / 6 - 0.3) / 4])
    assert o["max_lift"] == pytest.approx((2 / 3 + 1 / 2) / 4)
    assert o["self_mass"] == pytest.approx([(0.4 + 0.25 + 0.9 + 0.5) / 4])
    assert o["uniform_self_mass"] == pytest.approx((1 / 4 + 1 / 2 + 1 / 2 + 1 / 3) / 4)
    bins = {(b["lo"], b["hi"]): b for b in out["by_degree"]}
    assert list(bins) == [(1, 1), (2, 3)]
    assert bins[1, 1]["nodes"] == 2 and bins[1, 1]["lift"] == [0.0]  # nodes 1 and 3
    assert bins[2, 3]["nodes"] == 2 and bins[2, 3]["lift"] == pytest.approx([(1 / 6 - 0.3) / 2])
    classes = {c["class"]: c for c in out["by_class"]}
    assert classes[0]["nodes"] == 3 and classes[0]["lift"] == pytest.approx([(1 / 6 - 0.3) / 3])
    assert classes[1]["nodes"] == 1 and classes[1]["lift"] == [0.0]  # node 3; node 2 has no neighbours
    masked = ins.attention_vs_labels(HAND_EI, HAND_ALPHA, HAND_Y, mask=[0, 2, 4])
    assert masked["overall"]["nodes"] == 2 and masked["nodes_without_neighbours"] == 1
    assert masked["overall"]["lift"] == pytest.approx([(1 / 6 - 0.3) / 2])
    bool_mask = np.array([True, False, True, False, True])
    assert ins.attention_vs_labels(HAND_EI, HAND_ALPHA, HAND_Y, mask=bool_mask) == masked


def test_gcn_coefficients_are_renormalised_per_node_by_hand():
    # GCN's weights into node 0 (in-degrees with self-loops: node 0: 4, 1: 2, 2: 1, 3: 2) are
    # 1/sqrt(8), 1/sqrt(4), 1/sqrt(8) from nodes 1 (same label), 2, 3.
    deg = np.bincount(HAND_EI[1])
    gcn = 1 / np.sqrt(deg[HAND_EI[0]] * deg[HAND_EI[1]])
    per = ins.label_mass(HAND_EI, gcn, HAND_Y)
    w = 1 / math.sqrt(8)
    assert per["mass"][0, 0] == pytest.approx(w / (2 * w + 0.5))
    assert per["self_mass"][0, 0] == pytest.approx(0.25 / (2 * w + 0.5 + 0.25))
    # Scaling a node's weights changes nothing: only how it splits them counts.
    scaled = gcn * np.where(HAND_EI[1] == 0, 7.0, 1.0)
    np.testing.assert_allclose(ins.label_mass(HAND_EI, scaled, HAND_Y)["mass"], per["mass"])


def test_multilabel_similarity_is_jaccard_by_hand():
    y = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_allclose(ins.similarity(y, np.array([0, 0, 0, 4, 4]), np.array([1, 2, 3, 4, 1])), [1 / 2, 1 / 3, 0, 1, 0])
    per = ins.label_mass(HAND_EI, HAND_ALPHA, y)
    # node 0: neighbours 1, 2, 3 with Jaccard 1/2, 1/3, 0 and weights 0.3, 0.2, 0.1.
    assert per["mass"][0, 0] == pytest.approx((0.3 / 2 + 0.2 / 3) / 0.6)
    assert per["homophily"][0] == pytest.approx((1 / 2 + 1 / 3) / 3)
    assert per["best"][0] == pytest.approx(1 / 2)
    out = ins.attention_vs_labels(HAND_EI, HAND_ALPHA, y)
    assert out["similarity"] == "jaccard"
    assert [c["nodes"] for c in out["by_class"]] == [2, 1, 1]  # label 0: nodes 0, 1; label 1: 0 (2 has none); label 2: 3
    single = np.eye(2, dtype=int)[HAND_Y]  # single labels written as sets: the same numbers
    np.testing.assert_allclose(
        ins.label_mass(HAND_EI, HAND_ALPHA, single)["mass"], ins.label_mass(HAND_EI, HAND_ALPHA, HAND_Y)["mass"]
    )


@pytest.mark.parametrize("p_in,p_out", [(0.1, 0.02), (0.03, 0.09)])
def test_sbm_uniform_attention_has_zero_lift_and_the_set_homophily(p_in, p_out):
    ei, y = sbm(p_in, p_out)
    n = y.size
    alpha = np.stack([uniform(ei, n)] * 3, 1)
    per = ins.label_mass(ei, alpha, y)
    has = per["neighbours"] > 0
    assert np.abs(per["lift"][has]).max() < 1e-12
    out = ins.attention_vs_labels(ei, alpha, y)
    assert out["overall"]["lift"] == pytest.approx([0, 0, 0], abs=1e-12)
    # The homophily the block model was built with: p_in (n_b - 1) / (p_in (n_b - 1) + p_out n_b).
    expected = p_in * 99 / (p_in * 99 + p_out * 100)
    assert out["overall"]["homophily"] == pytest.approx(expected, abs=0.05)


def test_sbm_attention_on_same_label_neighbours_has_the_maximal_lift():
    ei, y = sbm(0.05, 0.05)
    n = y.size
    same = (y[ei[0]] == y[ei[1]]) & (ei[0] != ei[1])
    alpha = same / np.maximum(np.bincount(ei[1], weights=same, minlength=n), 1)[ei[1]]
    per = ins.label_mass(ei, alpha, y)
    has_same = np.bincount(ei[1], weights=same, minlength=n) > 0
    assert has_same.sum() > 150
    np.testing.assert_allclose(per["lift"][has_same, 0], 1 - per["homophily"][has_same], atol=1e-12)
    np.testing.assert_allclose(per["lift"][has_same, 0], (per["best"] - per["homophily"])[has_same], atol=1e-12)
    out = ins.attention_vs_labels(ei, alpha, y, mask=has_same)
    assert out["overall"]["lift"][0] == pytest.approx(out["overall"]["max_lift"])
    assert out["overall"]["lift"][0] == pytest.approx(0.5, abs=0.08)  # homophily ~0.5 at p_in = p_out


def test_karate_label_mass_matches_a_loop_by_loop_computation():
    g = KarateClub()[0]
    n = g.num_nodes
    ei = with_loops(g.edge_index.numpy().T, n)
    y = g.y.numpy()
    alpha = softmax(torch.randn(ei.shape[1], 2, generator=torch.Generator().manual_seed(1)), torch.from_numpy(ei[1])).numpy()
    per = ins.label_mass(ei, alpha, y)
    for i in range(n):
        nbrs = [(int(s), alpha[e]) for e, (s, d) in enumerate(ei.T) if d == i and s != i]
        hom = sum(y[s] == y[i] for s, _ in nbrs) / len(nbrs)
        assert per["homophily"][i] == pytest.approx(hom)
        for h in range(2):
            total = sum(a[h] for _, a in nbrs)
            mass = sum(a[h] for s, a in nbrs if y[s] == y[i]) / total
            assert per["mass"][i, h] == pytest.approx(mass)
    out = ins.attention_vs_labels(ei, alpha, y)
    for c in out["by_class"]:
        rows = y == c["class"]
        assert c["lift"] == pytest.approx(list(per["lift"][rows].mean(0)))


def test_outputs_are_json_ready():
    import json

    # A node whose neighbours all have weight 0 has no label mass: None, never NaN.
    alpha = HAND_ALPHA.copy()
    alpha[HAND_EI[1] == 1] = [0.0, 1.0]  # node 1: its neighbour 0 gets 0, the self-loop 1
    out = ins.attention_vs_labels(HAND_EI, alpha, HAND_Y, mask=[1])
    assert out["overall"]["mass"] == [None] and out["overall"]["nodes"] == 1
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out


# ----------------------------------------------------------------------------- static vs dynamic
# Targets 0 and 4 share the in-neighbours 1, 2, 3; nodes 1 and 2 share only node 0 (not enough).
RANK_EI = with_loops([(1, 0), (2, 0), (3, 0), (1, 4), (2, 4), (3, 4), (0, 1), (0, 2)], 5)
RANK_ALPHA = np.zeros((RANK_EI.shape[1], 2))
RANK_ALPHA[:6, 0] = [0.5, 0.3, 0.2, 0.6, 0.3, 0.1]  # head 0: both rank 1 > 2 > 3
RANK_ALPHA[:6, 1] = [0.5, 0.3, 0.2, 0.3, 0.3, 0.4]  # head 1: 0 ranks 1 > 2 > 3; 4 ranks 3 > 1 = 2


def test_ranking_agreement_by_hand():
    out = ins.ranking_agreement(RANK_EI, RANK_ALPHA)
    assert out["pairs"] == 1 and out["eligible_pairs"] == 1 and out["exhaustive"]
    assert out["mean_shared"] == 3
    # head 0: (1,2), (1,3), (2,3) all concordant. head 1: (1,2) tied at node 4; (1,3) and (2,3) reversed.
    assert out["comparisons"] == [3, 2] and out["ties"] == [0, 1]
    assert out["agreement"] == [1.0, 0.0]
    assert out["mean_pair_agreement"] == [1.0, 0.0]
    assert out["fully_concordant"] == [1.0, 0.0]
    # With self-loops as neighbours, 0 and 1 share {0, 1} and 0 and 2 share {0, 2}: two more pairs.
    assert ins.ranking_agreement(RANK_EI, RANK_ALPHA, include_self=True)["eligible_pairs"] == 3


def test_ranking_agreement_ties_within_rtol_and_duplicates():
    alpha = RANK_ALPHA.copy()
    alpha[3, 0] = 0.3 * (1 + 1e-8)  # node 4: 1 vs 2 now equal up to float noise: a tie, not a ranking
    out = ins.ranking_agreement(RANK_EI, alpha)
    assert out["comparisons"][0] == 2 and out["ties"][0] == 1
    dup = np.concatenate([RANK_EI, RANK_EI[:, :1]], 1)  # edge 1 -> 0 twice
    assert ins.ranking_agreement(dup, np.concatenate([RANK_ALPHA, RANK_ALPHA[:1]]))["comparisons"] == [3, 2]


def test_no_eligible_pairs_gives_none():
    ei = with_loops([(0, 1), (0, 2)], 3)
    out = ins.ranking_agreement(ei, np.ones(ei.shape[1]))
    assert out["pairs"] == 0 and out["agreement"] == [None] and out["mean_shared"] is None


def _brute_force_agreement(ei, alpha, rtol=1e-6):
    """Every pair of targets, every pair of shared in-neighbours (self-loops left out), with dicts."""
    w = {}
    for e, (s, d) in enumerate(ei.T):
        if s != d:
            w.setdefault(int(d), {}).setdefault(int(s), alpha[e])
    heads = alpha.shape[1]
    conc, disc, ties, pairs = [0] * heads, [0] * heads, [0] * heads, 0
    for i, k in itertools.combinations(sorted(w), 2):
        shared = sorted(set(w[i]) & set(w[k]))
        if len(shared) < 2:
            continue
        pairs += 1
        for j, m in itertools.combinations(shared, 2):
            for h in range(heads):
                signs = []
                for t in (i, k):
                    x, z = w[t][j][h], w[t][m][h]
                    signs.append(0 if abs(x - z) <= rtol * max(abs(x), abs(z)) else (1 if x > z else -1))
                p = signs[0] * signs[1]
                conc[h] += p > 0
                disc[h] += p < 0
                ties[h] += p == 0
    return pairs, conc, disc, ties


def test_karate_ranking_agreement_matches_brute_force():
    g = KarateClub()[0]
    ei = with_loops(g.edge_index.numpy().T, 34)
    alpha = softmax(torch.randn(ei.shape[1], 2, generator=torch.Generator().manual_seed(2)), torch.from_numpy(ei[1])).numpy()
    alpha[:5] = alpha[5:10]  # a few equal weights, so ties occur
    pairs, conc, disc, ties = _brute_force_agreement(ei, alpha)
    out = ins.ranking_agreement(ei, alpha, max_pairs=10**6, max_shared=10**6)
    assert out["pairs"] == out["eligible_pairs"] == pairs > 50
    assert out["comparisons"] == [c + d for c, d in zip(conc, disc, strict=True)]
    assert out["ties"] == ties
    assert out["agreement"] == pytest.approx([c / (c + d) for c, d in zip(conc, disc, strict=True)])
    assert 0.3 < out["agreement"][0] < 0.7  # random attention: about half


def _random_attention(name, seed):
    from gnnviz.models.gnn import GNN

    ei, y = sbm(0.15, 0.1, seed=seed)  # dense enough that targets share many neighbours
    n = y.size
    x = torch.randn(n, 16, generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    model = GNN(name, 16, 3, 32, layers=2, heads=4, out_heads=2).eval()
    with torch.no_grad():
        _, details = model(x, torch.from_numpy(ei[:, ei[0] != ei[1]]), return_details=True)
    return [(e.numpy(), a.numpy()) for e, a in details["attention"]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gat_with_any_weights_is_exactly_static(seed):
    for ei, alpha in _random_attention("gat", seed):
        out = ins.ranking_agreement(ei, alpha)
        assert out["pairs"] == 2000 and min(out["comparisons"]) > 5000
        assert out["agreement"] == [1.0] * alpha.shape[1]
        assert out["fully_concordant"] == [1.0] * alpha.shape[1]
        assert ins.ranking_agreement(ei, alpha, include_self=True)["agreement"] == [1.0] * alpha.shape[1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gatv2_with_random_weights_is_measurably_dynamic(seed):
    for ei, alpha in _random_attention("gatv2", seed):
        out = ins.ranking_agreement(ei, alpha)
        assert out["pairs"] == 2000
        # Some heads of a random GATv2 layer are close to static, none of the layers is.
        assert np.mean(out["agreement"]) < 0.97 and min(out["agreement"]) < 0.95
        discordant = [c * (1 - a) for c, a in zip(out["comparisons"], out["agreement"], strict=True)]
        assert sum(discordant) > 500


def test_sampled_pairs_are_deterministic_capped_and_still_exact_for_gat():
    ei, alpha = _random_attention("gat", 0)[0]
    full = ins.ranking_agreement(ei, alpha)
    sampled = ins.ranking_agreement(ei, alpha, max_pairs=50, max_triples=10)
    assert not sampled["exhaustive"] and sampled["eligible_pairs"] is None
    assert sampled["pairs"] == 50 and full["pairs"] == 2000
    assert sampled == ins.ranking_agreement(ei, alpha, max_pairs=50, max_triples=10)
    assert sampled != ins.ranking_agreement(ei, alpha, max_pairs=50, max_triples=10, seed=1)
    assert sampled["agreement"] == [1.0] * alpha.shape[1]
    capped = ins.ranking_agreement(ei, alpha, max_pairs=20)
    assert capped["pairs"] == 20 and capped["eligible_pairs"] == full["eligible_pairs"]
    assert ins.ranking_agreement(ei, alpha, max_shared=2)["mean_shared"] == 2


def test_pairs_chosen_once_serve_every_layer_on_the_same_edges():
    """visualize chooses the pairs once for layers sharing an edge index: the same numbers."""
    ei, alpha = _random_attention("gatv2", 0)[0]
    other = np.random.default_rng(1).random(alpha.shape)  # another layer's weights on the same edges
    for options in ({}, {"max_pairs": 50, "max_triples": 10}):
        pairs = ins.ranking_pairs(ei, **options)
        for weights in (alpha, other):
            assert ins.ranking_agreement(ei, weights, pairs=pairs, **options) == ins.ranking_agreement(ei, weights, **options)


# ----------------------------------------------------------------------------- prediction change


def test_prediction_change_by_hand():
    y = np.array([0, 1, 2, 1])
    before = np.array([[2.0, 0, 0], [0, 1, 0], [0, 3, 0], [1, 0, 0]])  # predicts 0 1 1 0: 2 right
    after = np.array([[2.0, 0, 0], [1, 0, 0], [0, 0, 3], [0, 1, 0]])  # predicts 0 0 2 1: 3 right
    out = ins.prediction_change(before, after, y)
    assert out == {
        "metric": "accuracy", "nodes": 4, "before": 0.5, "after": 0.75, "change": 0.25,
        "changed": 3, "changed_nodes": [1, 2, 3], "fixed": 2, "broken": 1,
    }  # fmt: skip
    assert ins.prediction_change(before, after, y, mask=[0, 1])["changed_nodes"] == [1]
    assert ins.prediction_change(before, before, y)["changed"] == 0


def test_prediction_change_binary_roc_auc_by_hand():
    """A binary run's switched-off change is in ROC AUC of class 1's score, which moves even
    where no argmax prediction does."""
    y = np.array([0, 1, 0, 1])
    before = np.array([[0.0, -3], [0, -1], [0, -2], [0, -0.5]])  # scores -3, -1, -2, -0.5: AUC 1
    after = np.array([[0.0, -1], [0, -3], [0, -2], [0, -0.5]])  # -1, -3, -2, -0.5: pairs (1,0) (1,2) lost: AUC 0.5
    out = ins.prediction_change(before, after, y, binary=True)
    assert out["metric"] == "roc_auc" and out["before"] == 1.0 and out["after"] == 0.5 and out["change"] == -0.5
    assert out["changed"] == 0  # every node is predicted class 0 before and after
    assert out["before"] == pytest.approx(ins.prediction_change(before, before, y, binary=True)["after"])
    assert ins.prediction_change(before, after, np.zeros(4, dtype=int), binary=True)["before"] is None  # one class: undefined


def test_prediction_change_multilabel_micro_f1_by_hand():
    y = np.array([[1, 0], [1, 1]])
    before = np.array([[1.0, -1], [1, -1]])  # TP 2, FN 1: F1 = 4 / 5
    after = np.array([[1.0, 1], [1, 1]])  # TP 3, FP 1: F1 = 6 / 7
    out = ins.prediction_change(before, after, y)
    assert out["metric"] == "micro_f1"
    assert out["before"] == pytest.approx(0.8) and out["after"] == pytest.approx(6 / 7)
    assert out["changed_nodes"] == [0, 1] and out["fixed"] == 1 and out["broken"] == 1
