"""Attention switched off: replacing attention by itself is the model; uniform and GCN weights are
what they say; a GAT that needs its attention loses accuracy without it."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.datasets import KarateClub

from gnnviz import ablation as ab
from gnnviz.analysis.insight import prediction_change
from gnnviz.errors import ConfigError
from gnnviz.models.gnn import GNN


@pytest.fixture(scope="module")
def karate():
    return KarateClub()[0]


def make(name, g, layers=2, **kw):
    torch.manual_seed(0)
    extra = dict(heads=4, out_heads=2, attn_dropout=0.5) if name in ("gat", "gatv2") else {}
    return GNN(name, g.num_features, 4, 16, layers=layers, dropout=0.5, **extra, **kw)


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("name", ["gat", "gatv2"])
def test_replacing_attention_by_itself_is_the_model(name, residual, karate):
    model = make(name, karate, layers=3, residual=residual).train()  # left in training mode on purpose
    with torch.no_grad():
        model.eval()
        logits, details = model(karate.x, karate.edge_index, return_details=True)
        model.train()
    own = {layer: alpha for layer, (_, alpha) in enumerate(details["attention"])}
    assert ab.attention_layers(model, karate.x, karate.edge_index) == [0, 1, 2]
    for chosen in ([0], [1], [2], [0, 1, 2]):
        z = ab.logits_with_attention(model, karate.x, karate.edge_index, {k: own[k] for k in chosen})
        np.testing.assert_allclose(z, logits.numpy(), rtol=0, atol=1e-6)
        assert prediction_change(logits.numpy(), z, karate.y.numpy())["changed"] == 0
    assert model.training, "the model is left in the mode it was found in"
    # The hooks are gone: the next plain forward is the model's own.
    model.eval()
    assert torch.equal(model(karate.x, karate.edge_index), logits)


@pytest.mark.parametrize("name", ["gat", "gatv2"])
def test_uniform_and_gcn_weights_are_what_they_say(name, karate):
    # One layer, one output head: the output is sum_j w_ij (W x_j) + b, computed here by hand.
    torch.manual_seed(0)
    model = GNN(name, karate.num_features, 3, 8, layers=1, heads=1, out_heads=1).eval()
    conv = model.convs[0]
    lin = conv.lin if name == "gat" else conv.lin_l
    with torch.no_grad():
        _, details = model(karate.x, karate.edge_index, return_details=True)
        ei = details["attention"][0][0]
        z = lin(karate.x)
    src, dst = ei
    deg = torch.bincount(dst, minlength=34).float()
    for kind, w in (("uniform", 1 / deg[dst]), ("gcn", (deg[src] * deg[dst]).rsqrt())):
        expected = (torch.zeros(34, 3).index_add_(0, dst, w[:, None] * z[src]) + conv.bias).detach()
        got = ab.logits_with_attention(model, karate.x, karate.edge_index, {0: kind})
        np.testing.assert_allclose(got, expected.numpy(), rtol=1e-5, atol=1e-6)
        given = ab.logits_with_attention(model, karate.x, karate.edge_index, {0: w.numpy()})
        np.testing.assert_allclose(given, got, rtol=0, atol=1e-6)
    assert (z.abs().sum() > 0) and not np.allclose(got, model(karate.x, karate.edge_index).detach().numpy(), atol=1e-4)


def test_switch_off_runs_every_layer_and_all_layers(karate):
    model = make("gat", karate).eval()
    out = ab.switch_off(model, karate.x, karate.edge_index)
    assert list(out) == ["original", "uniform:0", "uniform:1", "uniform:all", "gcn:0", "gcn:1", "gcn:all"]
    assert all(v.shape == (34, 4) for v in out.values())
    both = ab.logits_with_attention(model, karate.x, karate.edge_index, {0: "uniform", 1: "uniform"})
    np.testing.assert_array_equal(out["uniform:all"], both)
    assert not np.allclose(out["uniform:0"], out["uniform:1"])


def _needle_task():
    """Each of 100 query nodes hears from one informant, which carries its label's sign, and from
    five noise nodes, louder in the same feature. Attention on the informant's flag solves it;
    averaging all neighbours mostly reads the noise."""
    g = torch.Generator().manual_seed(0)
    q, noise = 100, 100
    n = 2 * q + noise
    y = torch.randint(0, 2, (q,), generator=g)
    x = torch.zeros(n, 2)
    x[q : 2 * q, 0] = 1.0  # the informant's flag
    x[q : 2 * q, 1] = 2.0 * y - 1
    x[2 * q :, 1] = 3.0 * torch.randn(noise, generator=g)
    src = [q + i for i in range(q)] + torch.randint(2 * q, n, (5 * q,), generator=g).tolist()
    dst = list(range(q)) + [i for i in range(q) for _ in range(5)]
    return x, torch.tensor([src, dst]), y


def test_uniform_attention_breaks_a_gat_that_needs_its_attention():
    x, ei, y = _needle_task()
    torch.manual_seed(0)
    model = GNN("gat", 2, 2, 8, layers=1, heads=1, out_heads=1)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(100):
        opt.zero_grad()
        F.cross_entropy(model(x, ei)[:100], y).backward()
        opt.step()
    model.eval()
    out = ab.switch_off(model, x, ei)
    labels = np.concatenate([y.numpy(), np.zeros(200, dtype=np.int64)])
    queries = np.arange(100)
    trained = prediction_change(out["original"], out["original"], labels, mask=queries)
    assert trained["before"] >= 0.95
    off = prediction_change(out["original"], out["uniform:all"], labels, mask=queries)
    assert off["after"] <= 0.8 and off["change"] <= -0.15 and off["changed"] >= 15
    assert off["changed"] == len(off["changed_nodes"]) and off["broken"] >= 15


def test_bad_requests_are_named(karate):
    gat = make("gat", karate).eval()
    with pytest.raises(ConfigError, match="no attention layers to switch off"):
        ab.switch_off(make("gcn", karate).eval(), karate.x, karate.edge_index)
    with pytest.raises(ConfigError, match=r"layer 5 is not an attention layer of this model; choose from \[0, 1\]"):
        ab.logits_with_attention(gat, karate.x, karate.edge_index, {5: "uniform"})
    with pytest.raises(ConfigError, match="unknown attention replacement 'uniformm'; choose one of uniform, gcn"):
        ab.switch_off(gat, karate.x, karate.edge_index, kinds=["uniformm"])
    with pytest.raises(ConfigError, match=r"weights for layer 0 have shape \(3, 1\); the layer has 190 edges and 4 heads"):
        ab.logits_with_attention(gat, karate.x, karate.edge_index, {0: np.ones(3)})
    assert not gat.training and torch.equal(gat(karate.x, karate.edge_index), gat(karate.x, karate.edge_index))
