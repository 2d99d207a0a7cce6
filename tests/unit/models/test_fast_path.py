"""The fast path (``GNN.plan`` / ``forward_plan``) is the same model as PyG's forward.

Outputs and gradients are compared on the nodes a split reads, in eval mode and in training mode
without dropout, on KarateClub and on a random directed multigraph (duplicate edges, existing
self-loops, isolated nodes).
"""

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.datasets import KarateClub

from gnnviz.config import load_config
from gnnviz.datasets.base import MULTICLASS, GraphDataset
from gnnviz.models.fast import fast_dropout
from gnnviz.models.gnn import GNN, build_model
from gnnviz.training.steps import make_steps

CASES = {
    "gat": dict(heads=4, out_heads=2),
    "gat-residual-3": dict(heads=2, out_heads=1, residual=True, layers=3),
    "gcn": {},
    "gcn-residual-3": dict(residual=True, layers=3),
    # separate_self: no self-loops, each node's own projection concatenated or summed
    "gat-concat-3": dict(heads=2, out_heads=2, layers=3, separate_self="concat"),
    "gcn-sum-residual-3": dict(residual=True, layers=3, separate_self="sum"),
    "gcn-concat": dict(separate_self="concat"),
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


# ----------------------------------------------------------------------------- against PyG's own layers


class PygReference(torch.nn.Module):
    """The model built from PyG's ``GATConv``/``GCNConv`` with their own defaults: self-loops added
    by the layer, GCN's normalisation computed by the layer. Same parameter names as ``GNN``."""

    def __init__(self, model):
        super().__init__()
        from torch_geometric.nn import GATConv, GCNConv

        self.convs = torch.nn.ModuleList()
        for conv in model.convs:
            if hasattr(conv, "heads"):
                self.convs.append(GATConv(conv.in_channels, conv.out_channels, heads=conv.heads, concat=conv.concat))
            else:
                self.convs.append(GCNConv(conv.in_channels, conv.out_channels))
        self.skips = torch.nn.ModuleList(torch.nn.Linear(s.in_features, s.out_features, bias=False) for s in model.skips)
        self.act = torch.nn.functional.elu if hasattr(model.convs[0], "heads") else torch.nn.functional.relu
        self.load_state_dict(model.state_dict())

    def forward(self, x, edge_index):
        for i, conv in enumerate(self.convs):
            h = conv(x, edge_index)
            if len(self.skips):
                h = h + self.skips[i](x)
            x = self.act(h) if i < len(self.convs) - 1 else h
        return x


def multigraph_with_single_self_loops(n=60, e=200, f=30, seed=1):
    """Duplicate edges, isolated nodes and at most one self-loop per node: the inputs on which
    PyG's GCNConv (which keeps existing self-loops) and GATConv (which replaces them) agree."""
    x, edge_index = random_graph(n, e, f, seed)
    loops = edge_index[0] == edge_index[1]
    keep = ~loops
    first = torch.unique(edge_index[0][loops])
    extra = torch.stack([first, first])
    return x, torch.cat([edge_index[:, keep], extra], 1)


@pytest.mark.parametrize("case", ["gat", "gcn", "gat-residual-3", "gcn-residual-3"])
@pytest.mark.parametrize("sparse", [True, False])
def test_fast_path_matches_pyg_layers_with_their_own_self_loops_and_normalisation(case, sparse):
    name = case.split("-")[0]
    g = KarateClub()[0]
    for x, edge_index in ((g.x, g.edge_index), multigraph_with_single_self_loops()):
        torch.manual_seed(0)
        kw = dict(CASES[case])
        model = GNN(name, x.size(1), 3, 8, dropout=0.6, **({"attn_dropout": 0.6} if name == "gat" else {}), **kw).eval()
        ref = PygReference(model).eval()
        n = x.size(0)
        targets = torch.tensor([n - 1, 0, 7, 3, 4, 20])
        out = model.forward_plan(model.plan(x, edge_index, targets, sparse))
        expected = ref(x, edge_index)[targets]
        assert torch.allclose(out, expected, atol=1e-5), case
        ours = dict(
            zip(
                [k for k, _ in model.named_parameters()],
                torch.autograd.grad(out.square().sum(), list(model.parameters())),
                strict=True,
            )
        )
        theirs = dict(
            zip(
                [k for k, _ in ref.named_parameters()],
                torch.autograd.grad(expected.square().sum(), list(ref.parameters())),
                strict=True,
            )
        )
        assert ours.keys() == theirs.keys()
        for k in ours:
            assert torch.allclose(ours[k], theirs[k], atol=1e-5, rtol=1e-4), (case, k)


@pytest.mark.parametrize("fast", [True, False])
def test_gcn_self_loops_one_per_node_by_hand(fast):
    # 0 <-> 1, node 1 already has a self-loop, node 2 has no edges. One self-loop each gives
    # in-degrees 2, 2, 1 and A_hat = [[1/2, 1/2, 0], [1/2, 1/2, 0], [0, 0, 1]]; with identity
    # features and weights the output is A_hat itself. No self-loops, or two at node 1, give other numbers.
    edge_index = torch.tensor([[0, 1, 1], [1, 0, 1]])
    model = GNN("gcn", 3, 3, 3, layers=1, dropout=0.5).eval()
    with torch.no_grad():
        model.convs[0].lin.weight.copy_(torch.eye(3))
        model.convs[0].bias.zero_()
    x = torch.eye(3)
    if fast:
        out = model.forward_plan(model.plan(x, edge_index, torch.arange(3), False))
    else:
        out = model(x, edge_index)
    assert torch.allclose(out, torch.tensor([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]), atol=1e-6)


# ----------------------------------------------------------------------------- dropout on the training path

# The published rates, which the defaults must give: input dropout and attention dropout.
INPUT_DROPOUT = {"gat": 0.6, "gcn": 0.5, "gatv2": 0.6}
ATTENTION_DROPOUT = {"gat": 0.6, "gatv2": 0.6}


def one_training_step(model, x, edge_index, classes, fast):
    """Logits of one ``make_steps`` training step (all nodes in every split), and of an evaluation."""
    n = x.size(0)
    g = Data(x=x, edge_index=edge_index, y=torch.arange(n) % classes)
    for s in ("train", "val", "test"):
        g[f"{s}_mask"] = torch.ones(n, dtype=torch.bool)
    ds = GraphDataset("toy", MULTICLASS, x.size(1), classes, [g], [g], [g])
    seen = []
    for method in ("forward_plan", "forward"):
        original = getattr(model, method)

        def record(*args, _original=original, _method=method, **kwargs):
            out = _original(*args, **kwargs)
            seen.append((_method, out.detach().clone()))
            return out

        setattr(model, method, record)
    step, evaluate = make_steps(model, ds, lr=0.01, weight_decay=5e-4, device=torch.device("cpu"), seed=0, fast=fast)
    evaluate("val")  # before the step changes the weights
    val = seen[-1][1]
    step()
    return seen[-1][1], val, {p for p, _ in seen}


def defaults_model(name, in_channels, classes, *overrides):
    cfg = load_config(None, [f"model.name={name}", "model.layers=1", *overrides])
    torch.manual_seed(0)
    return build_model(cfg.model, in_channels, classes)


def set_weights(model, value):
    """Every linear map to ``value`` (identity for square ones if value is 'eye'), every bias to 0."""
    with torch.no_grad():
        for key, p in model.named_parameters():
            if key.endswith("bias"):
                p.zero_()
            elif key.endswith("weight"):
                p.copy_(torch.eye(*p.shape) if value == "eye" else torch.full_like(p, value))


@pytest.mark.parametrize("name", ["gat", "gcn"])
@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("sparse", [True, False])
def test_input_dropout_on_the_training_path(name, fast, sparse):
    # No edges: each node reads only its own self-loop with weight 1, so with identity weights
    # one layer's output is dropout(x) itself; attention dropout off to see input dropout alone.
    gen = torch.Generator().manual_seed(0)
    n, f = (2000, 8) if sparse else (400, 8)
    x = (torch.rand(n, f, generator=gen) < 0.1).float() if sparse else torch.ones(n, f)
    attn = ["model.attn_dropout=0.0"] if name == "gat" else []
    model = defaults_model(name, f, f, *attn)
    set_weights(model, "eye")
    p = INPUT_DROPOUT[name]
    train, val, path = one_training_step(model, x, torch.empty(2, 0, dtype=torch.long), f, fast)
    assert path == ({"forward_plan"} if fast else {"forward"})
    assert torch.equal(val, x), "no dropout when evaluating"
    assert (train[x == 0] == 0).all()
    kept = train[(x != 0) & (train != 0)]
    assert torch.allclose(kept, torch.full_like(kept, 1 / (1 - p))), "kept inputs are rescaled by 1/(1-p)"
    share = 1 - kept.numel() / int((x != 0).sum())
    assert abs(share - p) < 0.05, f"dropped {share:.3f} of the inputs, expected {p}"


@pytest.mark.parametrize("name", ["gat", "gatv2"])
@pytest.mark.parametrize("fast", [True, False])
def test_attention_dropout_on_the_training_path(name, fast):
    # 20 hubs, each fed by the same 200 leaves; identical features make attention uniform,
    # 1/201 per edge of a hub (self-loop included). With all weights 1 and input dropout off, a
    # hub's output is (edges kept) / (201 * (1 - p)): attention dropout's draws, counted.
    hubs, leaves = 20, 200
    src = torch.arange(hubs, hubs + leaves).repeat(hubs)
    dst = torch.arange(hubs).repeat_interleave(leaves)
    x = torch.ones(hubs + leaves, 1)
    model = defaults_model(name, 1, 2, "model.dropout=0.0", "model.out_heads=1")
    set_weights(model, 1.0)
    p = ATTENTION_DROPOUT[name]
    train, val, _ = one_training_step(model, x, torch.stack([src, dst]), 2, fast)
    assert torch.allclose(val[:hubs], torch.ones(hubs, 2), atol=1e-5), "uniform attention, no dropout when evaluating"
    kept = train[:hubs, 0] * (leaves + 1) * (1 - p)
    assert torch.allclose(kept, kept.round(), atol=1e-3), "kept coefficients are rescaled by 1/(1-p)"
    share = 1 - kept.sum().item() / (hubs * (leaves + 1))
    assert abs(share - p) < 0.04, f"dropped {share:.3f} of the attention coefficients, expected {p}"
