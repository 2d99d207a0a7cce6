"""Models by name. One forward that can also return per-layer embeddings and attention.

All layers come from PyG. Self-loops and GCN's normalisation are computed once per graph and
cached (the convs are built not to redo them every step); the input may be a sparse tensor, with
dropout applied to its stored values only: zeros stay zero under dropout, so this is the same
model as dense dropout on the dense input, without drawing millions of useless random numbers.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnviz.errors import RunError, lookup

# Sparse CSR inputs are what makes training fast; torch flags them as beta on every use.
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")


def _gat(in_ch: int, out_ch: int, heads: int, concat: bool, attn_dropout: float, v2: bool) -> nn.Module:
    from torch_geometric.nn import GATConv, GATv2Conv

    conv = GATv2Conv if v2 else GATConv
    return conv(in_ch, out_ch, heads=heads, concat=concat, dropout=attn_dropout, add_self_loops=False)


def _gcn(in_ch: int, out_ch: int) -> nn.Module:
    from torch_geometric.nn import GCNConv

    return GCNConv(in_ch, out_ch, add_self_loops=False, normalize=False)


def _sage(in_ch: int, out_ch: int, aggr: str) -> nn.Module:
    from torch_geometric.nn import SAGEConv

    return SAGEConv(in_ch, out_ch, aggr=aggr)


def dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout that keeps a sparse input sparse: only stored values are dropped and rescaled."""
    if not training or p == 0.0:
        return x
    if x.layout == torch.sparse_csr:
        values = F.dropout(x.values(), p, True)
        return torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(), values, x.shape, check_invariants=False)
    if x.layout == torch.sparse_coo:
        return torch.sparse_coo_tensor(
            x.indices(), F.dropout(x.values(), p, True), x.shape, is_coalesced=True, check_invariants=False
        )
    return F.dropout(x, p, True)


class GNN(nn.Module):
    """A stack of PyG message-passing layers.

    Args mirror the config's model section; ``in_channels`` and ``out_channels`` come from the
    dataset. The constructor arguments are stored (``self.kwargs``) so a checkpoint can rebuild it.
    """

    def __init__(
        self,
        name: str,
        in_channels: int,
        out_channels: int,
        hidden: int,
        layers: int = 2,
        heads: int | None = None,
        out_heads: int | None = None,
        dropout: float = 0.0,
        attn_dropout: float | None = None,
        residual: bool = False,
        aggr: str | None = None,
    ):
        super().__init__()
        self.kwargs: dict[str, Any] = dict(
            name=name, in_channels=in_channels, out_channels=out_channels, hidden=hidden, layers=layers,
            heads=heads, out_heads=out_heads, dropout=dropout, attn_dropout=attn_dropout, residual=residual, aggr=aggr,
        )  # fmt: skip
        lookup(MODELS, name, "model")
        self.name = name
        self.is_attention = name in ("gat", "gatv2")
        # SAGE aggregates raw neighbour features before projecting: that gather needs a dense input.
        self.accepts_sparse = name != "sage"
        self.dropout = dropout
        self.act = F.elu if self.is_attention else F.relu
        dims = [in_channels] + [hidden] * (layers - 1) + [out_channels]
        self.convs = nn.ModuleList()
        self.skips = nn.ModuleList()
        for i in range(layers):
            last = i == layers - 1
            d_in, d_out = dims[i], dims[i + 1]
            if self.is_attention:
                h = out_heads if last else heads
                per_head = d_out if last else d_out // h
                conv = _gat(d_in, per_head, h, not last, attn_dropout or 0.0, name == "gatv2")
            elif name == "gcn":
                conv = _gcn(d_in, d_out)
            else:
                conv = _sage(d_in, d_out, aggr or "mean")
            self.convs.append(conv)
            if residual:
                # A learned projection: the GAT paper's PPI model adds skip connections like this.
                self.skips.append(nn.Linear(d_in, d_out, bias=False))
        self._cache: tuple[Tensor, int, Tensor, Tensor | None] | None = None

    def graph(self, edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor | None]:
        """The edge index the layers use (self-loops added for GAT/GCN) and GCN's edge weights.

        Cached for the last graph seen, so full-batch training pays for it once.
        """
        c = self._cache
        if c is not None and c[0] is edge_index and c[1] == num_nodes:
            return c[2], c[3]
        from torch_geometric.utils import add_self_loops, remove_self_loops

        weight = None
        if self.name == "sage":
            ei = edge_index
        else:
            ei, _ = remove_self_loops(edge_index)
            ei, _ = add_self_loops(ei, num_nodes=num_nodes)
            if self.name == "gcn":
                weight = gcn_coefficients(ei, num_nodes)
        self._cache = (edge_index, num_nodes, ei, weight)
        return ei, weight

    def forward(self, x: Tensor, edge_index: Tensor, return_details: bool = False):
        """x: [N, F] dense or sparse; edge_index: [2, E]. Returns logits [N, C].

        With ``return_details``: ``(logits, {"embeddings": [[N, d_l]] per layer,
        "attention": [(edge_index [2, E_l], alpha [E_l, heads_l])] per layer})``; attention is
        empty for non-attention models, and ``alpha[:, h]`` sums to 1 over each target's incoming
        edges (``edge_index[1]``) in eval mode.
        """
        ei, weight = self.graph(edge_index, x.size(0))
        embeddings: list[Tensor] = []
        attention: list[tuple[Tensor, Tensor]] = []
        h = x
        for i, conv in enumerate(self.convs):
            h_in = h
            h = dropout(h, self.dropout, self.training)
            if self.is_attention and return_details:
                h, (att_ei, alpha) = conv(h, ei, return_attention_weights=True)
                attention.append((att_ei, alpha))
            elif self.name == "gcn":
                h = conv(h, ei, weight)
            else:
                h = conv(h, ei)
            if len(self.skips):
                h = h + self.skips[i](h_in)
            if i < len(self.convs) - 1:
                h = self.act(h)
            if return_details:
                embeddings.append(h)
        if return_details:
            return h, {"embeddings": embeddings, "attention": attention}
        return h


def gcn_coefficients(edge_index: Tensor, num_nodes: int) -> Tensor:
    """GCN's fixed weights D^-1/2 (A+I) D^-1/2 for ``edge_index`` (self-loops included): [E]."""
    from torch_geometric.utils import degree

    deg = degree(edge_index[1], num_nodes, dtype=torch.float)
    inv = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
    return inv[edge_index[0]] * inv[edge_index[1]]


MODELS: dict[str, str] = {
    "gat": "graph attention network (Velickovic et al. 2018)",
    "gatv2": "GATv2, dynamic attention (Brody et al. 2022)",
    "gcn": "graph convolutional network (Kipf & Welling 2017)",
    "sage": "GraphSAGE (Hamilton et al. 2017)",
}


def build_model(model_cfg, in_channels: int, out_channels: int) -> GNN:
    """Build from a resolved ``ModelConfig``."""
    m = model_cfg
    return GNN(
        m.name, in_channels, out_channels, m.hidden, layers=m.layers, heads=m.heads, out_heads=m.out_heads,
        dropout=m.dropout, attn_dropout=m.attn_dropout, residual=m.residual, aggr=m.aggr,
    )  # fmt: skip


def rebuild(checkpoint: dict[str, Any]) -> GNN:
    """The model stored in a checkpoint, on CPU, in eval mode."""
    try:
        kwargs = dict(checkpoint["model"]["kwargs"])
        state = checkpoint["state_dict"]
    except (KeyError, TypeError):
        raise RunError("checkpoint has no model description; it was not written by gnnviz train") from None
    try:
        model = GNN(**kwargs)
        model.load_state_dict(state)
    except (TypeError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0][:160]
        raise RunError(f"checkpoint does not match its model description ({first}); retrain with gnnviz train") from None
    return model.eval()


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
