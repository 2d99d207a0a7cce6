"""Models as the model table (``architectures.MODELS``) describes them. One forward that can also
return per-layer embeddings and attention.

All layers come from PyG. Self-loops and GCN's normalisation are computed once per graph and
cached (the convs are built not to redo them every step); the input may be a sparse tensor, with
dropout applied to its stored values only: zeros stay zero under dropout, so this is the same
model as dense dropout on the dense input, without drawing millions of useless random numbers.
Training on the fast path (``training.fast``) runs models with a fast kernel (GAT, GCN) through ``plan``/``forward_plan``:
the same layers' maths and parameters on only the nodes a split reads (the kernels and plans: ``models.fast``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnviz.architectures import ModelArgs, model_spec, resolve
from gnnviz.errors import ConfigError, RunError, lookup
from gnnviz.models.fast import InEdges, Plan, build_plan, fast_dropout, forward_plan

# Incoming edges per block of layer-wise inference (``GNN.inference``) where evaluation and
# visualize use it: bounds memory on large graphs (a GAT block's messages: 2M x 64 floats, 0.5 GB);
# graphs with fewer edges run as one block, the same computation as ``forward``. Each block also
# projects all its edges' sources, so smaller blocks repeat that work.
INFERENCE_EDGES = 2_000_000


# Layer builders named by the model table (architectures.MODELS): (args, d_in, d_out, last) -> conv.
# Self-loops and GCN's normalisation are left to ``GNN.graph``, which computes them once per graph.


def _gat_conv(args: ModelArgs, d_in: int, d_out: int, last: bool, v2: bool) -> nn.Module:
    from torch_geometric.nn import GATConv, GATv2Conv

    heads = args.out_heads if last else args.heads
    per_head = d_out if last else d_out // heads
    conv = GATv2Conv if v2 else GATConv
    return conv(d_in, per_head, heads=heads, concat=not last, dropout=args.attn_dropout or 0.0, add_self_loops=False)


def gat_conv(args: ModelArgs, d_in: int, d_out: int, last: bool) -> nn.Module:
    """PyG's ``GATConv``: ``heads`` concatenated in hidden layers, ``out_heads`` averaged in the last."""
    return _gat_conv(args, d_in, d_out, last, v2=False)


def gatv2_conv(args: ModelArgs, d_in: int, d_out: int, last: bool) -> nn.Module:
    """PyG's ``GATv2Conv``, laid out as ``gat_conv``."""
    return _gat_conv(args, d_in, d_out, last, v2=True)


def gcn_conv(args: ModelArgs, d_in: int, d_out: int, last: bool) -> nn.Module:
    """PyG's ``GCNConv`` taking precomputed coefficients as edge weights."""
    from torch_geometric.nn import GCNConv

    return GCNConv(d_in, d_out, add_self_loops=False, normalize=False)


def sage_conv(args: ModelArgs, d_in: int, d_out: int, last: bool) -> nn.Module:
    """PyG's ``SAGEConv`` with the configured neighbour aggregation."""
    from torch_geometric.nn import SAGEConv

    return SAGEConv(d_in, d_out, aggr=args.aggr or "mean")


class NodeLinear(nn.Linear):
    """A ``Linear`` layer taking ``(x, edge_index)`` like a conv and ignoring the edges: each node's
    output depends on its own features only (model.name=mlp). ``x`` may be sparse."""

    def forward(self, x: Tensor, edge_index: Tensor | None = None) -> Tensor:  # noqa: ARG002 (a conv's call)
        if x.layout == torch.strided:
            return super().forward(x)
        return torch.sparse.mm(x, self.weight.t()) + self.bias


def mlp_layer(args: ModelArgs, d_in: int, d_out: int, last: bool) -> nn.Module:
    """``NodeLinear``: the MLP's layer, no message passing."""
    return NodeLinear(d_in, d_out)


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"elu": F.elu, "relu": F.relu}
SEPARATE_SELF = {"none": "none", "concat": "concat", "sum": "sum"}  # model.separate_self's values


def dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout that keeps a sparse input sparse: only stored values are dropped and rescaled."""
    if not training or p == 0.0:
        return x
    if x.layout == torch.sparse_csr:
        values = fast_dropout(x.values(), p, True)
        return torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(), values, x.shape, check_invariants=False)
    if x.layout == torch.sparse_coo:
        return torch.sparse_coo_tensor(
            x.indices(), fast_dropout(x.values(), p, True), x.shape, is_coalesced=True, check_invariants=False
        )
    return F.dropout(x, p, True)


class GNN(nn.Module):
    """A stack of PyG message-passing layers, as the model table (``architectures.MODELS``) describes.

    Args are ``ModelArgs``' fields (they mirror the config's model section; ``in_channels`` and
    ``out_channels`` come from the dataset). They are kept as ``self.args`` and, as a plain dict,
    ``self.kwargs``: what a checkpoint stores so that ``rebuild`` can build the same model.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()
        self.args = ModelArgs(*args, **kwargs)
        self.kwargs: dict[str, Any] = asdict(self.args)
        a = self.args
        self.spec = spec = model_spec(a.name)
        self.name = a.name
        self.is_attention = spec.attention
        self.accepts_sparse = spec.sparse_input
        self.dropout = a.dropout
        self.act = lookup(ACTIVATIONS, spec.activation, "activation")
        self._kernel = resolve(spec.fast_kernel) if spec.fast_kernel else None
        self._infer = resolve(spec.inference_kernel) if spec.inference_kernel else None
        build = resolve(spec.layer)
        self.separate = lookup(SEPARATE_SELF, a.separate_self, "model.separate_self value", ConfigError)
        if self.separate != "none" and not spec.takes("separate_self"):
            raise ConfigError(f"model.separate_self is not for model.name={a.name}; remove it")
        dims = [a.in_channels] + [a.hidden] * (a.layers - 1) + [a.out_channels]
        # concat: a hidden layer's output is [own ; neighbours'], twice its width, for the next layer
        widths = [a.in_channels] + [d * (2 if self.separate == "concat" else 1) for d in dims[1:-1]] + [a.out_channels]
        self.convs = nn.ModuleList()
        self.skips = nn.ModuleList()
        self.selfs = nn.ModuleList()  # per layer, the projection of a node's own features (separate_self)
        for i in range(a.layers):
            d_in, d_out = widths[i], dims[i + 1]
            self.convs.append(build(a, d_in, d_out, i == a.layers - 1))
            if self.separate != "none":
                self.selfs.append(nn.Linear(d_in, d_out, bias=False))  # the conv's bias serves both
            if a.residual:
                # A learned projection: the GAT paper's PPI model adds skip connections like this.
                self.skips.append(nn.Linear(d_in, widths[i + 1], bias=False))
        self._cache: tuple[Tensor, int, Tensor, Tensor | None] | None = None
        self._incoming: tuple[Tensor, int, InEdges] | None = None

    def graph(self, edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor | None]:
        """The edge index the layers use (one self-loop per node if the model wants them, none with
        ``separate_self``) and
        GCN's coefficients [E] for models that take edge weights (else None).

        Cached for the last graph seen, so full-batch training pays for it once.
        """
        c = self._cache
        if c is not None and c[0] is edge_index and c[1] == num_nodes:
            return c[2], c[3]
        from torch_geometric.utils import add_self_loops, remove_self_loops

        ei, weight = edge_index, None
        if self.separate != "none":  # neighbours only: the node's own features take their own path
            ei, _ = remove_self_loops(edge_index)
        elif self.spec.self_loops:
            ei, _ = remove_self_loops(edge_index)
            ei, _ = add_self_loops(ei, num_nodes=num_nodes)
        if self.spec.edge_weight:
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
        return self.layer_stack(x, ei, weight, return_details)

    def layer_stack(self, x: Tensor, ei: Tensor, weight: Tensor | None, return_details: bool = False):
        """``forward`` on a graph already prepared by ``graph`` (or a part of one): ``ei`` [2, E]
        with its self-loops, ``weight`` [E] GCN's coefficients or None."""
        embeddings: list[Tensor] = []
        attention: list[tuple[Tensor, Tensor]] = []
        h = x
        for i, conv in enumerate(self.convs):
            h_in = h
            h = dropout(h, self.dropout, self.training)
            if self.is_attention and return_details:
                h, (att_ei, alpha) = conv(h, ei, return_attention_weights=True)
                attention.append((att_ei, alpha))
            elif self.spec.edge_weight:
                h = conv(h, ei, weight)
            else:
                h = conv(h, ei)
            h = self.join_own(i, h, h_in)
            if len(self.skips):
                h = h + self.skips[i](h_in)
            if i < len(self.convs) - 1:
                h = self.act(h)
            if return_details:
                embeddings.append(h)
        if return_details:
            return h, {"embeddings": embeddings, "attention": attention}
        return h

    @torch.no_grad()
    def inference(self, x: Tensor, edge_index: Tensor, *, block_edges: int = 0, return_details: bool = False):
        """``forward`` in eval mode computed layer by layer, a block of target nodes at a time.

        Each step runs a layer for consecutive target nodes holding at most ``block_edges``
        incoming edges together (one node at least; 0 = the whole graph in one block), on those
        targets and every source of their edges, with all of those edges: attention is normalised
        over all of a node's neighbours, however training batched or sampled them (PyG's
        ``BasicGNN.inference`` does the same over a full-neighbour loader). Memory: one layer's
        [N, d] outputs plus one block's messages, instead of a whole forward's [E, heads, d].
        Same outputs and details as ``forward(x, edge_index, return_details)`` (up to float
        summation order; exactly, in one block); ``x``: [N, F] dense, or sparse CSR (read as such
        by a model's ``inference_kernel``, made dense for the others).
        """
        if self.training:
            raise RuntimeError("GNN.inference is for eval mode; call model.eval() first")
        if x.layout != torch.strided and (self._infer is None or len(self.skips) or len(self.selfs)):
            x = x.to_dense()
        n = x.size(0)
        ei, weight = self.graph(edge_index, n)
        incoming = self.incoming(ei, n)
        bounds = [0]
        while bounds[-1] < n:  # consecutive targets whose in-edges fit the budget
            a = bounds[-1]
            if block_edges <= 0:
                b = n
            else:
                b = int(torch.searchsorted(incoming.ptr, incoming.ptr[a] + block_edges, right=True)) - 1
            bounds.append(min(max(b, a + 1), n))
        embeddings: list[Tensor] = []
        attention: list[tuple[Tensor, Tensor]] = []
        h = x
        layer = self._infer or self._block_layer
        keep_alpha = self.is_attention and return_details
        for i, conv in enumerate(self.convs):
            out, alpha_all = layer(conv, h, ei, incoming, bounds, keep_alpha, weight)
            out = self.join_own(i, out, h)
            if len(self.skips):
                out = out + self.skips[i](h)
            # In place: ``out`` is this loop's own (a layer's, join_own's or the sum's new tensor),
            # and a second [N, d] copy is 256 MB at 1M nodes of width 64.
            h = self.act(out, inplace=True) if i < len(self.convs) - 1 else out
            if return_details:
                embeddings.append(h)
                if alpha_all is not None:
                    attention.append((ei, alpha_all))
        if return_details:
            return h, {"embeddings": embeddings, "attention": attention}
        return h

    def join_own(self, i: int, out: Tensor, h_in: Tensor) -> Tensor:
        """Layer ``i``'s output ``out`` [N, d] from its neighbours joined with each node's own
        features ``h_in`` [N, F] projected (``separate_self``; with its own dropout mask): concat
        [own ; out] in hidden layers, summed in the last (a concat mapped to the classes by a
        linear layer would be the same function), summed everywhere under sum. ``out`` unchanged
        under none."""
        if not len(self.selfs):
            return out
        x, w = dropout(h_in, self.dropout, self.training), self.selfs[i].weight
        own = F.linear(x, w) if x.layout == torch.strided else torch.sparse.mm(x, w.t())
        if self.separate == "concat" and i < len(self.convs) - 1:
            return torch.cat([own, out], dim=1)
        return out + own

    def _block_layer(
        self,
        conv: nn.Module,
        h: Tensor,
        ei: Tensor,
        incoming: InEdges,
        bounds: list[int],
        keep_alpha: bool,
        weight: Tensor | None,
    ) -> tuple[Tensor, Tensor | None]:
        """One layer of ``inference`` for any conv: each block of targets ``bounds[j]..bounds[j + 1]``
        runs the conv on those targets and every source of their edges, with all of those edges.
        Returns (out [N, d], alpha [E, heads] in ``ei``'s order or None unless ``keep_alpha``)."""
        n = h.size(0)
        out: Tensor | None = None
        alpha_all: Tensor | None = None
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            pos = incoming.into(torch.arange(a, b, device=h.device))  # every edge into this block
            src = ei[0, pos]
            inside = (src >= a) & (src < b)
            outside = src[~inside].unique()  # sorted: local ids by binary search, no [N] map per block
            local = torch.cat([torch.arange(a, b, device=h.device), outside])
            src_local = torch.where(inside, src - a, (b - a) + torch.searchsorted(outside, src))
            sub = torch.stack([src_local, ei[1, pos] - a])
            h_local = h.index_select(0, local)
            if keep_alpha:
                o, (_, alpha) = conv(h_local, sub, return_attention_weights=True)
                if alpha_all is None:
                    alpha_all = alpha.new_empty((ei.size(1), *alpha.shape[1:]))
                alpha_all[pos] = alpha
            elif self.spec.edge_weight:
                o = conv(h_local, sub, weight[pos])
            else:
                o = conv(h_local, sub)
            if out is None:
                out = o.new_empty((n, o.size(1)))
            out[a:b] = o[: b - a]
        assert out is not None
        return out, alpha_all

    def incoming(self, ei: Tensor, num_nodes: int) -> InEdges:
        """``InEdges`` of the prepared edge index ``ei``, cached for the last one seen."""
        c = self._incoming
        if c is None or c[0] is not ei or c[1] != num_nodes:
            c = self._incoming = (ei, num_nodes, InEdges(ei, num_nodes))
        return c[2]

    def receptive_field(self, ei: Tensor, targets: Tensor, num_nodes: int) -> tuple[Tensor, list[int], Tensor]:
        """The nodes the outputs at ``targets`` [T] (unique) depend on, for the prepared ``ei``.

        ``nodes`` [n]: original ids, targets first (in their order), then ring by ring the
        in-neighbours not seen before (each ring in ascending id); ``sizes``: [depth + 1] nodes
        within 0, 1, ... depth hops; ``rank`` [N]: position in ``nodes``, -1 outside. Layer ``l``'s
        outputs are read only at nodes within depth - l hops of a target.
        """
        depth = len(self.convs)
        incoming = self.incoming(ei, num_nodes)
        reached = torch.zeros(num_nodes, dtype=torch.bool, device=ei.device)
        reached[targets] = True
        rings, sizes, frontier = [targets], [targets.numel()], targets
        for _ in range(depth):
            src = ei[0, incoming.into(frontier)]
            frontier = src[~reached[src]].unique()
            reached[frontier] = True
            rings.append(frontier)
            sizes.append(sizes[-1] + frontier.numel())
        nodes = torch.cat(rings)
        rank = torch.full((num_nodes,), -1, dtype=torch.long, device=ei.device)
        rank[nodes] = torch.arange(nodes.numel(), device=ei.device)
        return nodes, sizes, rank

    def subgraph(self, edge_index: Tensor, targets: Tensor, num_nodes: int) -> tuple[Tensor, Tensor, Tensor | None]:
        """The exact receptive field of ``targets`` [T] as a graph for ``layer_stack``: ``nodes`` [n]
        (targets first), the edges into nodes within depth - 1 hops relabelled to positions in
        ``nodes`` [2, E'], and their GCN coefficients from the whole graph (None without them).
        ``layer_stack(x[nodes], ...)[:T]`` equals ``forward(x, edge_index)[targets]``."""
        ei, weight = self.graph(edge_index, num_nodes)
        nodes, sizes, rank = self.receptive_field(ei, targets, num_nodes)
        keep = self.incoming(ei, num_nodes).into(nodes[: sizes[-2]])
        return nodes, rank[ei[:, keep]], None if weight is None else weight[keep]

    def plan(self, x: Tensor, edge_index: Tensor, targets: Tensor, sparse: bool) -> Plan | None:
        """The fast path's view of a graph for the nodes ``targets`` [T] (unique): see ``forward_plan``.

        ``x``: dense [N, F], kept as ``SparseFeatures`` if ``sparse``. None for models without
        fast kernels (they train through ``forward``). Built by ``models.fast.build_plan``.
        """
        return build_plan(self, x, edge_index, targets, sparse)

    def forward_plan(self, plan: Plan) -> Tensor:
        """Logits [T, C] of the plan's targets: the maths of ``forward(x, edge_index)[targets]``
        (``models.fast.forward_plan``)."""
        return forward_plan(self, plan)


def gcn_coefficients(edge_index: Tensor, num_nodes: int) -> Tensor:
    """GCN's fixed weights D^-1/2 (A+I) D^-1/2 for ``edge_index`` (self-loops included): [E]."""
    from torch_geometric.utils import degree

    deg = degree(edge_index[1], num_nodes, dtype=torch.float)
    inv = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
    return inv[edge_index[0]] * inv[edge_index[1]]


def build_model(model_cfg, in_channels: int, out_channels: int) -> GNN:
    """Build from a resolved ``ModelConfig``."""
    m = model_cfg
    return GNN(
        m.name,
        in_channels,
        out_channels,
        m.hidden,
        layers=m.layers,
        heads=m.heads,
        out_heads=m.out_heads,
        dropout=m.dropout,
        attn_dropout=m.attn_dropout,
        residual=m.residual,
        aggr=m.aggr,
        separate_self=m.separate_self or "none",
    )


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
    except (TypeError, RuntimeError, ValueError, ConfigError) as exc:
        first = str(exc).strip().splitlines()[0][:160]
        raise RunError(f"checkpoint does not match its model description ({first}); retrain with gnnviz train") from None
    return model.eval()


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
