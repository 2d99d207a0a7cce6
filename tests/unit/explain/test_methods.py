"""The methods and scores against independent computations."""

import numpy as np
import pytest
import torch

from gnnviz.explain import scores
from gnnviz.explain.methods import METHODS, Subgraph
from gnnviz.models.gnn import GNN

EDGES = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4], [1, 0, 2, 1, 3, 2, 4, 3]])


def path_model(name: str = "gcn", seed: int = 0) -> GNN:
    torch.manual_seed(seed)
    kw = {"heads": 2, "out_heads": 1} if name.startswith("gat") else {}
    return GNN(name, 3, 2, hidden=4, layers=2, dropout=0.0, **kw).eval()


def sub(model: GNN, index: int = 2) -> Subgraph:
    torch.manual_seed(1)
    x = torch.rand(5, 3)
    state = model.state_dict()
    kwargs = model.kwargs

    def fresh():
        m = GNN(**kwargs)
        m.load_state_dict(state)
        return m.eval()

    return Subgraph(x, EDGES, index, fresh)


@pytest.mark.parametrize("name", ["gcn", "gat", "gatv2", "sage"])
def test_saliency_is_the_absolute_gradient_of_the_predicted_logit_wrt_the_edge_mask(name):
    from torch_geometric.explain.algorithm.utils import clear_masks, set_masks

    model = path_model(name)
    s = sub(model)
    got = METHODS["saliency"].score([s], [0], 1)[0].numpy()
    m = s.fresh()
    mask = torch.ones(EDGES.size(1), requires_grad=True)
    set_masks(m, mask, EDGES, apply_sigmoid=False)
    out = m(s.x, EDGES)[s.index]
    (grad,) = torch.autograd.grad(out[out.argmax()], mask)
    clear_masks(m)
    np.testing.assert_allclose(got, grad.abs().numpy(), rtol=1e-5, atol=1e-7)
    assert got[EDGES[1].tolist().index(2)] > 0  # an edge into the node matters


def test_a_model_that_reads_only_a_nodes_own_features_gets_no_edge_importance():
    model = path_model("sage")
    with torch.no_grad():
        for conv in model.convs:
            conv.lin_l.weight.zero_()  # SAGE's neighbour term: gone
    s = sub(model)
    for name in ("saliency", "integrated_gradients"):
        got = METHODS[name].score([s], [0], 1)[0].numpy()
        assert np.abs(got).max() == 0, name
        hard = scores.top_share(got, np.ones(EDGES.size(1), dtype=bool), 0.25)
        assert scores.fidelity(s.fresh(), s.x, EDGES, s.index, hard) == (0.0, 0.0)


def test_gnnexplainer_gives_the_same_mask_for_the_same_seed():
    s = sub(path_model("gcn"))
    a = METHODS["gnnexplainer"].score([s], [7], 30)[0]
    b = METHODS["gnnexplainer"].score([s], [7], 30)[0]
    c = METHODS["gnnexplainer"].score([s], [8], 30)[0]
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_constant_scores_have_auc_one_half_and_a_one_class_truth_has_none():
    truth = np.array([1, 0, 0, 1, 0], dtype=bool)
    assert scores.auc(np.full(5, 0.3), truth) == 0.5
    assert scores.auc(np.array([0.9, 0.1, 0.2, 0.8, 0.3]), truth) == 1.0
    assert scores.auc(np.arange(5.0), np.zeros(5, dtype=bool)) is None


def test_top_share_keeps_the_highest_scores_among_the_allowed_edges():
    s = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    among = np.array([False, True, True, True, True])
    assert scores.top_share(s, among, 0.5).tolist() == [False, True, True, False, False]


def test_feature_names_follow_the_generators_columns():
    """infection's columns are named by what PyG's generator puts there (class 0 = infected nodes);
    one-hot degree columns by degree; Cora's bag of words has no names in PyG's files."""
    from torch_geometric.datasets import InfectionDataset
    from torch_geometric.datasets.graph_generator import ERGraph

    from gnnviz.viz.labels import feature_names

    torch.manual_seed(0)
    d = InfectionDataset(ERGraph(40, 0.1), num_infected_nodes=5, max_path_length=2)[0]
    names = feature_names({"name": "infection"}, d.x.size(1))
    assert {names[int(c)] for c in d.x[d.y == 0].argmax(1)} == {"infected"}
    assert {names[int(c)] for c in d.x[d.y > 0].argmax(1)} == {"healthy"}
    assert feature_names({"name": "ba_shapes", "node_features": "degree"}, 3) == ["degree 0", "degree 1", "degree >= 2"]
    assert feature_names({"name": "ba_shapes", "node_features": "constant"}, 10) is None
    assert feature_names({"name": "cora"}, 1433) is None


def test_pgexplainer_trains_once_and_gives_the_same_scores_for_the_same_seed():
    """Trained on several nodes' subgraphs, then applied: same seed, same scores; another seed,
    other scores; edges outside the node's 2-hop neighbourhood (PyG's hard mask) score zero."""
    from torch_geometric.utils import k_hop_subgraph

    from tests.support.explain_runs import house_graph

    g = house_graph()
    torch.manual_seed(0)
    model = GNN("gcn", 2, 4, hidden=8, layers=2, dropout=0.0).eval()
    state = model.state_dict()

    def fresh():
        m = GNN(**model.kwargs)
        m.load_state_dict(state)
        return m.eval()

    train = [Subgraph(g.x, g.edge_index, i, fresh) for i in range(0, 40, 10)]
    spec = METHODS["pgexplainer"]
    assert spec.fit is not None and not spec.default and spec.stochastic
    explained = Subgraph(g.x, g.edge_index, 5, fresh)
    a = spec.fit(train, 7)([explained], [0], 1)[0]
    b = spec.fit(train, 7)([explained], [0], 1)[0]
    c = spec.fit(train, 8)([explained], [0], 1)[0]
    assert a.shape == (g.edge_index.size(1),) and torch.equal(a, b) and not torch.equal(a, c)
    near = k_hop_subgraph(5, 2, g.edge_index, num_nodes=g.num_nodes)[3]
    assert (a[~near] == 0).all() and (a[near] > 0).all()


def test_pgexplainer_without_training_nodes_says_why():
    from gnnviz.errors import ConfigError

    with pytest.raises(ConfigError, match="trains on the run's training nodes"):
        METHODS["pgexplainer"].fit([], 0)


def subgraphs(model: GNN) -> list[Subgraph]:
    """Computation subgraphs of different sizes (random edges, no self-loops) sharing ``model``."""
    state, kwargs = model.state_dict(), model.kwargs

    def fresh():
        m = GNN(**kwargs)
        m.load_state_dict(state)
        return m.eval()

    gen = torch.Generator().manual_seed(3)
    out = [Subgraph(torch.rand(5, 3, generator=gen), EDGES, 2, fresh)]
    for n, e in ((12, 30), (30, 80), (6, 10)):
        ei = torch.randint(0, n, (2, e), generator=gen)
        out.append(Subgraph(torch.rand(n, 3, generator=gen), ei[:, ei[0] != ei[1]], n // 2, fresh))
    return out


@pytest.mark.parametrize("name", ["gcn", "gat", "sage"])
def test_gnnexplainer_on_a_union_of_subgraphs_gives_each_nodes_own_separate_run(name):
    """Explained together, each node's mask is the one PyG's GNNExplainer finds for it alone when
    its mask is drawn from the same seed: same start, and Adam steps each entry on its own
    node's loss (cross entropy, mask size, mask entropy over its own edges)."""
    from torch_geometric.explain import GNNExplainer

    from gnnviz.explain.methods import explainer

    subs = subgraphs(path_model(name))
    seeds = [11, 12, 13, 14]
    together = METHODS["gnnexplainer"].score(subs, seeds, 20)
    for s, seed, got in zip(subs, seeds, together, strict=True):
        model = s.fresh()
        torch.manual_seed(seed)  # PyG's draw of the initial mask is the first random number it takes
        alone = explainer(model, GNNExplainer(epochs=20))(s.x, s.edge_index, index=s.index).edge_mask
        assert got.shape == (s.edge_index.size(1),)
        np.testing.assert_allclose(got.numpy(), alone.numpy(), atol=1e-5)
    assert not torch.equal(together[0], METHODS["gnnexplainer"].score(subs[:1], [99], 20)[0])  # the seed matters


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients"])
def test_gradient_methods_on_a_union_give_each_nodes_own_attribution(method):
    subs = subgraphs(path_model("gat"))
    spec = METHODS[method]
    edges, feats = spec.score(subs, [0] * 4, 1), spec.features(subs, [0] * 4)
    for s, e, f in zip(subs, edges, feats, strict=True):
        np.testing.assert_allclose(e.numpy(), spec.score([s], [0], 1)[0].numpy(), rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(f.numpy(), spec.features([s], [0])[0].numpy(), rtol=1e-5, atol=1e-8)
        assert f.shape == s.x.shape
    assert edges[0].abs().sum() > 0 and feats[0].abs().sum() > 0


def test_a_union_is_explained_in_parts_within_the_memory_budget(monkeypatch):
    """With a budget smaller than two subgraphs, each part holds one: the same scores as one union."""
    from gnnviz.explain import methods

    subs = subgraphs(path_model("gcn"))
    seeds = [1, 2, 3, 4]
    one = {m: METHODS[m].score(subs, seeds, 10) for m in ("gnnexplainer", "saliency")}
    assert methods.parts([3, 4, 5, 9, 1], budget=9) == [[0, 1], [2], [3], [4]]
    assert methods.parts([20, 1], budget=9) == [[0], [1]]  # too large: alone
    calls = []
    original = methods.union
    monkeypatch.setattr(methods, "union", lambda s: calls.append(len(s)) or original(s))
    monkeypatch.setattr(methods, "BATCH_NUMBERS", max(methods.size(s) for s in subs))
    for m, want in one.items():
        calls.clear()
        got = METHODS[m].score(subs, seeds, 10)
        assert max(calls) < len(subs) and sum(calls) == len(subs), calls
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_fidelity_of_many_subgraphs_at_once_is_pygs_fidelity_of_each():
    model = path_model("gcn")
    subs = subgraphs(model)
    rng = np.random.default_rng(0)
    hards = [[rng.random(s.edge_index.size(1)) < p for p in (0.2, 0.5, 0.9)] for s in subs]
    got = scores.fidelities_many(model, subs, hards)
    want = [[scores.fidelity(model, s.x, s.edge_index, s.index, h) for h in hs] for s, hs in zip(subs, hards, strict=True)]
    assert got == want
