import pytest
import torch
from torch_geometric.datasets import KarateClub
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import scatter

from gnnviz.models import GNN, dropout, gcn_coefficients, rebuild

KW = {
    "gat": dict(heads=4, out_heads=2, attn_dropout=0.5),
    "gatv2": dict(heads=4, out_heads=1, attn_dropout=0.5),
    "gcn": {},
    "sage": dict(aggr="mean"),
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
