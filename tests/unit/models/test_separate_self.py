"""``model.separate_self`` (Platonov et al. 2023's GAT-sep / GCN-sep): each layer keeps a node's
own projected features apart from its neighbours' aggregate (no self-loop), concatenated or
summed; the fast path, layer-wise inference and a stored run give the same model; it is refused
where it does not fit; and where neighbours carry no signal, it lets a model read its own
features as an MLP does."""

import pytest
import torch
from torch_geometric.datasets import FakeDataset

from gnnviz.config import load_config
from gnnviz.errors import ConfigError
from gnnviz.models.gnn import GNN

ATTN = {"heads": 2, "out_heads": 1, "attn_dropout": 0.0}
KW = {"gat": ATTN, "gatv2": ATTN, "gcn": {}}


def graph():
    torch.manual_seed(0)
    return FakeDataset(1, avg_num_nodes=80, avg_degree=4, num_channels=6, num_classes=3)[0]


@pytest.mark.parametrize("separate", ["concat", "sum"])
@pytest.mark.parametrize("name", list(KW))
def test_neighbours_only_and_own_features_joined(name, separate):
    """No self-loop reaches the layers; a hidden layer's output under concat is [own ; neighbours']
    (twice the width), and zeroing the neighbour path leaves exactly the own projection."""
    g = graph()
    model = GNN(name, 6, 3, 8, layers=2, separate_self=separate, **KW[name]).eval()
    ei, _ = model.graph(g.edge_index, g.num_nodes)
    assert not bool((ei[0] == ei[1]).any())
    with torch.no_grad():
        out, details = model(g.x, g.edge_index, return_details=True)
        hidden = details["embeddings"][0]
        assert hidden.shape == (g.num_nodes, 16 if separate == "concat" else 8)
        own = model.selfs[0](g.x)
        if separate == "concat":
            assert torch.allclose(hidden[:, :8], model.act(own), atol=1e-6)
        # An edgeless graph: the neighbour path gives only its bias, so the output is own + bias.
        empty = torch.empty(2, 0, dtype=torch.long)
        alone = model(g.x, empty)
        h = model.selfs[0](g.x) + model.convs[0].bias
        h = torch.cat([model.selfs[0](g.x), model.convs[0].bias.expand(g.num_nodes, -1)], 1) if separate == "concat" else h
        h = model.act(h)
        assert torch.allclose(alone, model.selfs[1](h) + model.convs[1].bias, atol=1e-5)
    if model.is_attention:
        for att_ei, _ in details["attention"]:
            assert not bool((att_ei[0] == att_ei[1]).any())


@pytest.mark.parametrize("name, separate", [("gat", "concat"), ("gatv2", "sum"), ("gcn", "concat")])
def test_layer_wise_inference_is_the_full_forward(name, separate):
    g = graph()
    model = GNN(name, 6, 3, 8, layers=3, residual=True, separate_self=separate, dropout=0.5, **KW[name]).eval()
    with torch.no_grad():
        ref, want = model(g.x, g.edge_index, return_details=True)
    for block_edges, x in ((1, g.x), (40, g.x.to_sparse_csr()), (0, g.x)):
        out, got = model.inference(x, g.edge_index, block_edges=block_edges, return_details=True)
        torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
        for a, b in zip(got["attention"], want["attention"], strict=True):
            assert torch.equal(a[0], b[0])
            torch.testing.assert_close(a[1], b[1], atol=1e-5, rtol=0)


def test_sparse_input_is_the_same_model():
    g = graph()
    model = GNN("gat", 6, 3, 8, separate_self="concat", **ATTN).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(g.x.to_sparse(), g.edge_index), model(g.x, g.edge_index), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "sets, message",
    [
        (
            ["model.name=sage", "model.separate_self=sum"],
            "model.separate_self is only for gat, gatv2, gcn; remove it for model.name=sage",
        ),
        (["model.separate_self=both"], "model.separate_self"),
    ],
)
def test_refused_where_it_does_not_fit(sets, message):
    with pytest.raises(ConfigError) as exc:
        load_config(None, sets)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_the_constructor_refuses_it_for_sage():
    with pytest.raises(ConfigError, match="model.separate_self is not for model.name=sage"):
        GNN("sage", 6, 3, 8, separate_self="sum")


def test_own_signal_with_uninformative_neighbours_matches_an_mlp(tmp_path):
    """Neighbours drawn regardless of class (homophily = 1/blocks) and features that name the
    block (feature_noise 0: about 99.5% readable alone): an MLP on features alone and GCN-sep /
    GAT-sep reach the same test accuracy, while plain GCN, which must average its own features
    with ~10 random neighbours', stays well below (its self-loop is one edge in eleven)."""
    import json

    from gnnviz.experiment import train

    base = [
        "dataset.name=synthetic",
        "dataset.nodes=800",
        "dataset.blocks=4",
        "dataset.homophily=0.25",
        "dataset.feature_noise=0.0",
        "dataset.features=8",
        "dataset.train_fraction=0.3",
        "dataset.test_fraction=0.5",
        "training.epochs=60",
        "training.patience=0",
        "training.lr=0.02",
        "model.layers=2",
        "model.hidden=16",
        "model.dropout=0.0",
    ]
    acc = {}
    for tag, sets in {
        "gcn": ["model.name=gcn"],
        "gcn-sep": ["model.name=gcn", "model.separate_self=sum"],
        "gat-sep": ["model.name=gat", "model.heads=2", "model.attn_dropout=0.0", "model.separate_self=concat"],
    }.items():
        run = train(load_config(None, [*base, *sets]), out=tmp_path, name=tag, quiet=True)
        acc[tag] = json.loads((run / "summary.json").read_text())["test_metric"]

    # The MLP: the same features and split, two layers of 16, Adam at the same rate and steps.
    from gnnviz.datasets import generated_params, load_dataset

    cfg = load_config(None, base)
    g = load_dataset("synthetic", params=generated_params(cfg.dataset)).train[0]
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    opt = torch.optim.Adam(mlp.parameters(), lr=0.02, weight_decay=5e-4)
    for _ in range(60):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(mlp(g.x[g.train_mask]), g.y[g.train_mask]).backward()
        opt.step()
    with torch.no_grad():
        mlp_acc = float((mlp(g.x[g.test_mask]).argmax(1) == g.y[g.test_mask]).float().mean())
    # 400 test nodes: at accuracy ~0.99 a binomial s.d. is 0.005; 0.03 is 6 s.d.
    assert mlp_acc > 0.95, mlp_acc
    assert acc["gcn-sep"] == pytest.approx(mlp_acc, abs=0.03), (acc, mlp_acc)
    assert acc["gat-sep"] == pytest.approx(mlp_acc, abs=0.03), (acc, mlp_acc)
    assert acc["gcn"] < mlp_acc - 0.1, (acc, mlp_acc)


def test_a_stored_run_rebuilds_and_is_named_sep(tmp_path):
    """A trained GAT-sep run's checkpoint rebuilds the same model (its summary's val ROC AUC
    recomputed), visualize's arrays name it gat-sep, and a checkpoint written before the key
    existed (no separate_self in its kwargs) rebuilds as the usual model."""
    import json

    from sklearn.metrics import roc_auc_score

    from gnnviz.experiment import train
    from gnnviz.models.gnn import rebuild
    from gnnviz.runs.load import load_checkpoint
    from gnnviz.runs.store import read_graphs
    from gnnviz.viz.load import load_arrays

    sets = ["dataset.name=minesweeper", "dataset.grid_size=10", "training.epochs=5", "model.separate_self=concat"]
    run = train(load_config(None, sets), out=tmp_path, name="sep", quiet=True)
    ckpt = load_checkpoint(run)
    model = rebuild(ckpt)
    assert model.separate == "concat" and len(model.selfs) == 2
    g = read_graphs(run).graphs[0]
    with torch.no_grad():
        out = model(g.x, g.edge_index)
    m = g.val_mask.numpy()
    score = (out[:, 1] - out[:, 0]).numpy()[m]
    val = json.loads((run / "summary.json").read_text())["val_metric"]
    assert val == pytest.approx(roc_auc_score(g.y.numpy()[m], score), abs=2e-3)
    assert load_arrays(run).model == "gat-sep"
    old = {k: v for k, v in ckpt["model"]["kwargs"].items() if k != "separate_self"}
    plain = GNN(**{**old, "layers": 2})
    assert plain.separate == "none" and not len(plain.selfs)
