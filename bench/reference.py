"""The reference: GAT and GCN on Planetoid, written the way PyG's own examples do it.

What a user would write from PyG's ``examples/gat.py`` and ``examples/gcn.py``: the dense
feature matrix with ``NormalizeFeatures``, ``F.dropout`` on it, ``GATConv``/``GCNConv`` with their
defaults (self-loops added inside the layer each call; ``cached=True`` for GCN, as the example
does), one ``train()`` and one ``test()`` per epoch, best validation accuracy tracked. The
hyperparameters are gnnviz's config defaults (the GAT and GCN papers'), so both sides train the
same model on the same data. Weight decay applies to all parameters, as in gnnviz.

As a script it is the end-to-end reference (process start to exit), e.g.::

    python bench/reference.py --dataset cora --model gat --epochs 200
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import torch
import torch.nn.functional as F

# torch 2.13 warns about float() of a tensor that requires grad; the examples do exactly that.
warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True to a scalar")

HPARAMS = {
    "gat": {"hidden": 8, "heads": 8, "dropout": 0.6, "lr": 0.005, "weight_decay": 5e-4},
    "gcn": {"hidden": 16, "dropout": 0.5, "lr": 0.01, "weight_decay": 5e-4},
}
FOLDERS = {"cora": "Cora", "citeseer": "CiteSeer"}


class GAT(torch.nn.Module):
    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, heads: int, dropout: float):
        super().__init__()
        from torch_geometric.nn import GATConv

        self.dropout = dropout
        self.conv1 = GATConv(in_channels, hidden_channels, heads, dropout=dropout)
        self.conv2 = GATConv(hidden_channels * heads, out_channels, heads=1, concat=False, dropout=dropout)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=self.dropout, training=self.training)
        x = F.elu(self.conv1(x, edge_index))
        x = F.dropout(x, p=self.dropout, training=self.training)
        return self.conv2(x, edge_index)


class GCN(torch.nn.Module):
    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, dropout: float):
        super().__init__()
        from torch_geometric.nn import GCNConv

        self.dropout = dropout
        self.conv1 = GCNConv(in_channels, hidden_channels, cached=True)
        self.conv2 = GCNConv(hidden_channels, out_channels, cached=True)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=self.dropout, training=self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, p=self.dropout, training=self.training)
        return self.conv2(x, edge_index)


def build(model: str, in_channels: int, out_channels: int) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    h = HPARAMS[model]
    if model == "gat":
        net = GAT(in_channels, h["hidden"], out_channels, h["heads"], h["dropout"])
    else:
        net = GCN(in_channels, h["hidden"], out_channels, h["dropout"])
    return net, torch.optim.Adam(net.parameters(), lr=h["lr"], weight_decay=h["weight_decay"])


def load(dataset: str, root: str):
    """The Planetoid graph with row-normalised features, as the examples load it."""
    import torch_geometric.transforms as T
    from torch_geometric.datasets import Planetoid

    return Planetoid(root, FOLDERS[dataset], transform=T.NormalizeFeatures())[0]


def train(model, optimizer, data) -> float:
    model.train()
    optimizer.zero_grad()
    out = model(data.x, data.edge_index)
    loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
    loss.backward()
    optimizer.step()
    return float(loss)


@torch.no_grad()
def test(model, data) -> list[float]:
    model.eval()
    pred = model(data.x, data.edge_index).argmax(dim=-1)
    return [int((pred[m] == data.y[m]).sum()) / int(m.sum()) for m in (data.train_mask, data.val_mask, data.test_mask)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(FOLDERS), default="cora")
    parser.add_argument("--model", choices=sorted(HPARAMS), default="gat")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", default=os.environ.get("GNNVIZ_DATA_ROOT") or os.path.expanduser("~/.cache/gnnviz/datasets"))
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    data = load(args.dataset, args.root)
    model, optimizer = build(args.model, data.num_features, int(data.y.max()) + 1)
    best_val = test_acc = 0.0
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        loss = train(model, optimizer, data)
        train_acc, val_acc, tmp_test_acc = test(model, data)
        if val_acc > best_val:
            best_val, test_acc = val_acc, tmp_test_acc
        print(f"Epoch: {epoch:03d}, Loss: {loss:.4f}, Train: {train_acc:.4f}, Val: {val_acc:.4f}, Test: {tmp_test_acc:.4f}")
    per_epoch = (time.perf_counter() - start) / args.epochs * 1000
    print(f"best val {best_val:.4f}, test {test_acc:.4f}; {per_epoch:.1f} ms/epoch", file=sys.stderr)


if __name__ == "__main__":
    main()
