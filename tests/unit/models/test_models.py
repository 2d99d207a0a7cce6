import pytest
import torch
from torch_geometric.datasets import KarateClub
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import scatter

from gnnviz.errors import ConfigError, RunError
from gnnviz.models.gnn import GNN, dropout, gcn_coefficients, rebuild

KW = {
    "gat": dict(heads=4, out_heads=2, attn_dropout=0.5),
    "gatv2": dict(heads=4, out_heads=1, attn_dropout=0.5),
    "gcn": {},
    "sage": dict(aggr="mean"),
    "mlp": {},
}


@pytest.fixture(scope="module")
def karate():
    return KarateClub()[0]


def make(name, g, layers=2, **extra):
    torch.manual_seed(0)
    return GNN(name, g.num_features, 4, 16, layers=layers, dropout=0.5, **KW[name], **extra)


@pytest.mark.parametrize("name", list(KW))
def test_forward_returns_embeddings_per_layer(name, karate):
    model = make(name, karate, layers=3).eval()
    out, details = model(karate.x, karate.edge_index, return_details=True)
    assert out.shape == (34, 4)
    assert [e.shape for e in details["embeddings"]] == [(34, 16), (34, 16), (34, 4)]
    assert torch.equal(details["embeddings"][-1], out)
    assert torch.equal(model(karate.x, karate.edge_index), out)


@pytest.mark.parametrize("name", ["gat", "gatv2"])
def test_attention_sums_to_one_per_node_and_head(name, karate):
    model = make(name, karate).eval()
    _, details = model(karate.x, karate.edge_index, return_details=True)
    assert len(details["attention"]) == 2
    for (ei, alpha), heads in zip(details["attention"], (4, KW[name]["out_heads"]), strict=False):
        assert ei.size(1) == karate.edge_index.size(1) + 34, "self-loops included"
        assert ((ei[0] == ei[1]).sum()) == 34
        assert alpha.shape == (ei.size(1), heads)
        sums = scatter(alpha, ei[1], dim=0, dim_size=34, reduce="sum")
        assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5)


def test_non_attention_models_report_no_attention(karate):
    _, details = make("gcn", karate).eval()(karate.x, karate.edge_index, return_details=True)
    assert details["attention"] == []


def test_gcn_coefficients_match_pyg(karate):
    from torch_geometric.utils import add_self_loops

    ei, _ = add_self_loops(karate.edge_index, num_nodes=34)
    ref_ei, ref_w = gcn_norm(karate.edge_index, num_nodes=34, add_self_loops=True)
    ours = dict(zip(map(tuple, ei.t().tolist()), gcn_coefficients(ei, 34).tolist(), strict=False))
    theirs = dict(zip(map(tuple, ref_ei.t().tolist()), ref_w.tolist(), strict=False))
    assert ours.keys() == theirs.keys()
    assert all(abs(ours[k] - theirs[k]) < 1e-6 for k in ours)


@pytest.mark.parametrize("name", [n for n in KW if n != "sage"])
def test_sparse_input_is_the_same_model(name, karate):
    model = make(name, karate).eval()
    dense = model(karate.x, karate.edge_index)
    sparse = model(karate.x.to_sparse_csr(), karate.edge_index)
    assert torch.allclose(dense, sparse, atol=1e-5)


def test_sparse_dropout_keeps_zeros_and_rescales_kept_values():
    torch.manual_seed(0)
    x = torch.zeros(50, 40)
    x[torch.rand(50, 40) < 0.1] = 2.0
    for sp in (x.to_sparse_csr(), x.to_sparse_coo().coalesce()):
        out = dropout(sp, 0.5, True).to_dense()
        assert (out[x == 0] == 0).all()
        kept = out[(x != 0) & (out != 0)]
        assert torch.allclose(kept, torch.full_like(kept, 4.0))
        dropped = ((x != 0) & (out == 0)).sum() / (x != 0).sum()
        assert 0.3 < dropped < 0.7
    assert dropout(x, 0.5, False) is x


def test_rebuild_from_constructor_arguments(karate):
    model = make("gat", karate).eval()
    ckpt = {"model": {"kwargs": model.kwargs}, "state_dict": model.state_dict()}
    again = rebuild(ckpt)
    assert not again.training
    assert torch.equal(again(karate.x, karate.edge_index), model(karate.x, karate.edge_index))


# ----------------------------------------------------------------------------- the model table


class MeanConv(torch.nn.Module):
    """A toy layer for the table test: project, then average over in-neighbours."""

    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin = torch.nn.Linear(d_in, d_out)

    def forward(self, x, edge_index):
        z = self.lin(x)
        return scatter(z[edge_index[0]], edge_index[1], dim=0, dim_size=x.size(0), reduce="mean")


def mean_conv(args, d_in, d_out, last):
    return MeanConv(d_in, d_out)


def test_a_new_model_is_one_table_entry_plus_its_layer(monkeypatch, tmp_path):
    from gnnviz import architectures
    from gnnviz.config import load_config
    from gnnviz.datasets import load_dataset
    from gnnviz.models.gnn import build_model
    from gnnviz.seeding import seed_everything
    from gnnviz.training.loop import fit

    toy = architectures.ModelSpec(
        "toy mean aggregation", f"{__name__}:mean_conv", sparse_input=False, defaults={"hidden": 12, "dropout": 0.1}
    )
    monkeypatch.setattr(architectures, "MODELS", {**architectures.MODELS, "toy": toy})
    cfg = load_config(None, ["dataset.name=karate", "model.name=toy", "training.epochs=15", "training.patience=0"])
    assert (cfg.model.hidden, cfg.model.dropout, cfg.model.heads) == (12, 0.1, None)
    with pytest.raises(
        ConfigError, match=r"model.heads is only for attention models \(gat, gatv2\); remove it for model.name=toy"
    ):
        load_config(None, ["model.name=toy", "model.heads=2"])
    ds = load_dataset("karate", None, normalize_features=cfg.dataset.normalize_features)
    seed_everything(0)
    model = build_model(cfg.model, ds.num_features, ds.num_classes)
    assert isinstance(model.convs[0], MeanConv) and not model.is_attention
    t = cfg.training
    result = fit(model, ds, epochs=t.epochs, patience=t.patience, lr=0.05, weight_decay=t.weight_decay,
                 device=torch.device("cpu"), seed=0, fast=t.fast)  # fmt: skip
    assert result.status == "completed" and result.epochs_run == 15
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    again = rebuild({"model": {"kwargs": model.kwargs}, "state_dict": model.state_dict()})
    g = ds.train[0]
    assert torch.equal(again(g.x, g.edge_index), model.eval()(g.x, g.edge_index))
    # The toy's graph got one self-loop per node (the table's default), so node 0 reads itself.
    ei, weight = model.graph(g.edge_index, g.num_nodes)
    assert weight is None and int((ei[0] == ei[1]).sum()) == g.num_nodes


def test_every_table_entry_builds_and_its_capabilities_hold(karate):
    from gnnviz.architectures import MODELS

    for name, spec in MODELS.items():
        kw = {k: v for k, v in spec.defaults.items() if k != "hidden"}
        model = GNN(name, karate.num_features, 4, 16, **kw).eval()
        _, details = model(karate.x, karate.edge_index, return_details=True)
        assert bool(details["attention"]) == spec.attention == model.is_attention, name
        ei, weight = model.graph(karate.edge_index, 34)
        assert (weight is not None) == spec.edge_weight, name
        assert int((ei[0] == ei[1]).sum()) == (34 if spec.self_loops else 0), name
        targets = torch.arange(5)
        assert (model.plan(karate.x, karate.edge_index, targets, False) is not None) == spec.fast_path, name
        assert model.accepts_sparse == spec.sparse_input and model.name == name


def test_checkpoint_kwargs_are_the_constructor_arguments(karate):
    from dataclasses import asdict

    from gnnviz.architectures import ModelArgs

    model = make("gat", karate)
    assert model.kwargs == asdict(model.args) and isinstance(model.args, ModelArgs)
    assert list(model.kwargs) == [
        "name", "in_channels", "out_channels", "hidden", "layers", "heads", "out_heads", "dropout", "attn_dropout", "residual", "aggr", "separate_self",
    ]  # fmt: skip
    with pytest.raises(RunError, match="checkpoint does not match its model description"):
        rebuild({"model": {"kwargs": {**model.kwargs, "name": "nope"}}, "state_dict": model.state_dict()})
    with pytest.raises(RunError, match="checkpoint does not match its model description"):
        rebuild({"model": {"kwargs": {**model.kwargs, "colour": 3}}, "state_dict": model.state_dict()})


def test_no_code_outside_the_table_branches_on_a_model_name():
    import re
    from pathlib import Path

    from gnnviz.architectures import MODELS

    root = Path(__file__).resolve().parents[3] / "gnnviz"
    names = "|".join(MODELS)
    for path in sorted(p for package in ("config", "models", "training") for p in (root / package).rglob("*.py")):
        module = path.relative_to(root).as_posix()
        text = re.sub(r"_f\(\"\w+\"", "", path.read_text())  # a field's default value is no branch
        hits = re.findall(rf"""["']({names})["']""", text)
        assert not hits, f"{module} names models {hits}: read a capability from architectures.MODELS instead"


def test_the_model_table_imports_without_torch():
    import subprocess
    import sys

    code = "import sys, gnnviz.architectures, gnnviz.config; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("name", list(KW))
def test_layer_wise_inference_is_the_full_forward(name, residual):
    """Exact inference: block by block, each target with all its in-edges, gives the full-batch
    forward's logits, embeddings and attention (same edge order) within 1e-5 (measured: <= 4e-7,
    float summation order), for blocks of one node, of a few and of the whole graph, from dense
    or sparse features."""
    from torch_geometric.datasets import FakeDataset

    from tests.support.tolerance import float32_atol

    torch.manual_seed(0)
    g = FakeDataset(1, avg_num_nodes=120, avg_degree=5, num_channels=6, num_classes=3)[0]
    model = GNN(name, 6, 3, 16, layers=3, residual=residual, dropout=0.5, **KW[name]).eval()
    with torch.no_grad():
        ref, want = model(g.x, g.edge_index, return_details=True)
    # One node a block, a few (features as sparse CSR), the whole graph.
    for block_edges, x in ((1, g.x), (40, g.x.to_sparse_csr()), (0, g.x)):
        out, got = model.inference(x, g.edge_index, block_edges=block_edges, return_details=True)
        torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
        for a, b in zip(got["embeddings"], want["embeddings"], strict=True):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
        assert len(got["attention"]) == len(want["attention"]) == (3 if model.is_attention else 0)
        for (ei_a, alpha_a), (ei_b, alpha_b) in zip(got["attention"], want["attention"], strict=True):
            assert torch.equal(ei_a, ei_b)
            torch.testing.assert_close(alpha_a, alpha_b, atol=float32_atol(alpha_b, steps=3), rtol=0)
            sums = scatter(alpha_a, ei_a[1], dim=0, dim_size=g.num_nodes, reduce="sum")
            torch.testing.assert_close(sums, torch.ones_like(sums), atol=1e-5, rtol=0)


def test_inference_refuses_train_mode(karate):
    with pytest.raises(RuntimeError, match="eval mode"):
        make("gat", karate).train().inference(karate.x, karate.edge_index)


@pytest.mark.parametrize("name", list(KW))
def test_receptive_field_subgraph_gives_the_targets_outputs(name, karate):
    """What mini-batches train on: the exact receptive field of a few seeds, GCN's coefficients
    taken from the whole graph, gives those seeds' full-graph outputs."""
    model = make(name, karate, layers=2).eval()
    targets = torch.tensor([5, 0, 33])
    with torch.no_grad():
        full = model(karate.x, karate.edge_index)[targets]
        nodes, sub, weight = model.subgraph(karate.edge_index, targets, karate.num_nodes)
        part = model.layer_stack(karate.x[nodes], sub, weight)[: targets.numel()]
    assert torch.equal(nodes[:3], targets) and nodes.numel() < karate.num_nodes + 1
    from tests.support.tolerance import float32_atol

    # Another summation order in each of the 2 layers: float32 rounding per layer, not one machine's number.
    torch.testing.assert_close(part, full, atol=float32_atol(full, steps=2), rtol=0)
