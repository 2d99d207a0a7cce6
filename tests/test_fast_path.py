"""The fast path (``GNN.plan`` / ``forward_plan``) is the same model as PyG's forward.

Outputs and gradients are compared on the nodes a split reads, in eval mode and in training mode
without dropout, on KarateClub and on a random directed multigraph (duplicate edges, existing
self-loops, isolated nodes).
"""

import pytest
import torch
from torch_geometric.datasets import KarateClub

from gnnviz.data import MULTICLASS, GraphDataset
from gnnviz.models import GNN, fast_dropout
from gnnviz.training import make_steps

CASES = {
    "gat": dict(heads=4, out_heads=2),
    "gat-residual-3": dict(heads=2, out_heads=1, residual=True, layers=3),
    "gcn": {},
    "gcn-residual-3": dict(residual=True, layers=3),
}


def random_graph(n=60, e=200, f=30, seed=0):
    gen = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n - 5, (e,), generator=gen)  # the last 5 nodes have no edges at all
    dst = torch.randint(0, n - 5, (e,), generator=gen)
    edge_index = torch.cat([torch.stack([src, dst]), torch.stack([src[:10], dst[:10]]), torch.tensor([[3, 4], [3, 4]])], 1)
    x = (torch.rand(n, f, generator=gen) < 0.1).float()
    return x, edge_index


def graphs():
    g = KarateClub()[0]
    yield "karate", g.x, g.edge_index
    yield "random", *random_graph()


def make(case, num_features, classes=3):
    torch.manual_seed(0)
    name = case.split("-")[0]
    kw = dict(CASES[case])
    attn = {"attn_dropout": 0.0} if name == "gat" else {}
    return GNN(name, num_features, classes, 8, dropout=0.0, **attn, **kw)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("sparse", [True, False])
def test_plan_matches_pyg_outputs_and_gradients(case, sparse):
    for _, x, edge_index in graphs():
        model = make(case, x.size(1))
        n = x.size(0)
        for targets in (torch.arange(0, n, 3), torch.tensor([n - 1, 0, 7])):
            plan = model.plan(x, edge_index, targets, sparse)
            assert torch.equal(plan.targets, targets)
            for training in (False, True):
                model.train(training)
                ref = model(x, edge_index)[targets]
                out = model.forward_plan(plan)
                assert torch.allclose(out, ref, atol=1e-5), (case, training)
                if training:
                    grads = torch.autograd.grad(ref.square().sum(), list(model.parameters()))
                    ours = torch.autograd.grad(out.square().sum(), list(model.parameters()))
                    for a, b in zip(grads, ours, strict=True):
                        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4)


def test_plan_keeps_only_the_receptive_field():
    # A path 0 -> 1 -> 2 -> 3 -> 4: a 2-layer model's output at node 4 reads nodes 2, 3 and 4 only.
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    model = make("gcn", 4)
    plan = model.plan(torch.rand(5, 4), edge_index, torch.tensor([4]), sparse=False)
    assert plan.nodes.tolist() == [4, 3, 2]
    assert [(h.n_out, h.n_in) for h in plan.hops] == [(2, 3), (1, 2)]


def test_models_without_fast_kernels_have_no_plan():
    g = KarateClub()[0]
    targets = torch.arange(4)
    assert GNN("gatv2", 34, 4, 8, heads=2, out_heads=1).plan(g.x, g.edge_index, targets, False) is None
    assert GNN("sage", 34, 4, 8, aggr="mean").plan(g.x, g.edge_index, targets, False) is None


def test_fast_dropout_keeps_the_expected_share_and_rescales():
    torch.manual_seed(0)
    x = torch.ones(100_000)
    out = fast_dropout(x, 0.6, True)
    kept = out[out != 0]
    assert torch.allclose(kept, torch.full_like(kept, 2.5))
    assert abs(kept.numel() / x.numel() - 0.4) < 0.01
    assert fast_dropout(x, 0.6, False) is x and fast_dropout(x, 0.0, True) is x


def test_fast_steps_leave_the_thread_setting_alone():
    g = KarateClub()[0]
    n = g.num_nodes
    for s, idx in (("train", range(0, n, 2)), ("val", range(1, n, 4)), ("test", range(3, n, 4))):
        mask = torch.zeros(n, dtype=torch.bool)
        mask[list(idx)] = True
        g[f"{s}_mask"] = mask
    ds = GraphDataset("karate", MULTICLASS, g.num_features, 4, [g], [g], [g])
    before = torch.get_num_threads()
    model = make("gat", g.num_features, 4)
    step, evaluate = make_steps(model, ds, lr=0.01, weight_decay=5e-4, device=torch.device("cpu"), seed=0)
    loss, acc = step()
    val_loss, val_acc = evaluate("val")
    assert torch.get_num_threads() == before
    assert loss > 0 and 0 <= acc <= 1 and val_loss > 0 and 0 <= val_acc <= 1
