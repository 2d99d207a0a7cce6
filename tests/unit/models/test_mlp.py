"""``model.name=mlp``: Linear layers with the GNNs' hidden/layers/dropout/activation and no
message passing. Its outputs do not depend on the edges; the attention keys are refused in one
line; it trains on a synthetic graph (through the fast-path setting, which it routes around) and
visualize draws it, leaving out the edge and attention figures with a note; explain, which
attributes predictions to edges, refuses it in one line."""

import json

import pytest
import torch
from torch_geometric.datasets import FakeDataset

from gnnviz.config import load_config
from gnnviz.errors import ConfigError
from gnnviz.models.gnn import GNN


def test_outputs_ignore_the_edges():
    torch.manual_seed(0)
    g = FakeDataset(1, avg_num_nodes=60, avg_degree=4, num_channels=5, num_classes=3)[0]
    model = GNN("mlp", 5, 3, 8, layers=3, dropout=0.5).eval()
    with torch.no_grad():
        out = model(g.x, g.edge_index)
        assert torch.equal(model(g.x, torch.empty(2, 0, dtype=torch.long)), out)
        torch.testing.assert_close(model.inference(g.x, g.edge_index, block_edges=7), out)
        # the same function as a plain Linear stack: Linear -> ReLU -> Linear -> ReLU -> Linear
        h = g.x
        for i, lin in enumerate(model.convs):
            h = torch.nn.functional.linear(h, lin.weight, lin.bias)
            h = torch.relu(h) if i < 2 else h
        torch.testing.assert_close(out, h)
        torch.testing.assert_close(model(g.x.to_sparse_csr(), g.edge_index), out, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "key, message",
    [
        ("model.heads=2", "model.heads is only for attention models (gat, gatv2); remove it for model.name=mlp"),
        ("model.separate_self=concat", "model.separate_self is only for gat, gatv2, gcn; remove it for model.name=mlp"),
    ],
)
def test_keys_that_do_not_apply_are_refused(key, message):
    with pytest.raises(ConfigError) as exc:
        load_config(None, ["model.name=mlp", key])
    assert str(exc.value) == message


def test_trains_on_synthetic_and_visualize_leaves_out_edge_figures(tmp_path):
    from gnnviz.experiment import train
    from tests.support.runs import draw

    sets = [
        "model.name=mlp",
        "dataset.name=synthetic",
        "dataset.nodes=120",
        "dataset.feature_noise=0.0",
        "dataset.features=8",
        "dataset.train_fraction=0.5",
        "training.epochs=40",
        "training.patience=0",
        "training.lr=0.02",
        "model.dropout=0.0",
    ]
    run = train(load_config(None, sets), out=tmp_path, name="mlp", quiet=True)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["test_metric"] > 0.8, summary  # features name the block; chance is 0.25
    out = draw(run, tmp_path / "viz")
    files = {p.name for p in out.iterdir()}
    assert {"index.html", "layout.png", "curves.png"} <= files
    assert not any(f.startswith(("neighbourhood", "entropy", "insight", "flow")) for f in files), files
    assert "mlp passes no messages" in (out / "index.html").read_text()
    # explain attributes predictions to edges: refused in one line, nothing written
    from gnnviz.explain.run import explain

    with pytest.raises(ConfigError) as exc:
        explain(run, tmp_path / "explain")
    assert "passes no messages" in str(exc.value) and "\n" not in str(exc.value)
    assert not (tmp_path / "explain").exists()
