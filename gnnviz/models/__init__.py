"""Models as the model table (``architectures.MODELS``) describes them. One forward that can also
return per-layer embeddings and attention.

All layers come from PyG. Self-loops and GCN's normalisation are computed once per graph and
cached (the convs are built not to redo them every step); the input may be a sparse tensor, with
dropout applied to its stored values only: zeros stay zero under dropout, so this is the same
model as dense dropout on the dense input, without drawing millions of useless random numbers.
Training on the fast path (``training.fast``) runs models with a fast kernel (GAT, GCN) through ``plan``/``forward_plan``:
the same layers' maths and parameters on only the nodes a split reads (see "fast path" below).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gnnviz.architectures import ModelArgs, model_spec, resolve
from gnnviz.errors import ConfigError, RunError, lookup

# Incoming edges per block of layer-wise inference (``GNN.inference``) where evaluation and
# visualize use it: bounds memory on large graphs (a GAT block's messages: 2M x 64 floats, 0.5 GB);
# graphs with fewer edges run as one block, the same computation as ``forward``. Each block also
# projects all its edges' sources, so smaller blocks repeat that work.
INFERENCE_EDGES = 2_000_000

# Sparse CSR inputs are what makes training fast; torch flags them as beta on every use.
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")


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


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"elu": F.elu, "relu": F.relu}


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
        dims = [a.in_channels] + [a.hidden] * (a.layers - 1) + [a.out_channels]
        self.convs = nn.ModuleList()
        self.skips = nn.ModuleList()
        for i in range(a.layers):
            d_in, d_out = dims[i], dims[i + 1]
            self.convs.append(build(a, d_in, d_out, i == a.layers - 1))
            if a.residual:
                # A learned projection: the GAT paper's PPI model adds skip connections like this.
                self.skips.append(nn.Linear(d_in, d_out, bias=False))
        self._cache: tuple[Tensor, int, Tensor, Tensor | None] | None = None
        self._incoming: tuple[Tensor, int, InEdges] | None = None

    def graph(self, edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor | None]:
        """The edge index the layers use (one self-loop per node if the model wants them) and
        GCN's coefficients [E] for models that take edge weights (else None).

        Cached for the last graph seen, so full-batch training pays for it once.
        """
        c = self._cache
        if c is not None and c[0] is edge_index and c[1] == num_nodes:
            return c[2], c[3]
        from torch_geometric.utils import add_self_loops, remove_self_loops

        ei, weight = edge_index, None
        if self.spec.self_loops:
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
        if x.layout != torch.strided and (self._infer is None or len(self.skips)):
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
            if len(self.skips):
                out = out + self.skips[i](h)
            h = self.act(out) if i < len(self.convs) - 1 else out
            if return_details:
                embeddings.append(h)
                if alpha_all is not None:
                    attention.append((ei, alpha_all))
        if return_details:
            return h, {"embeddings": embeddings, "attention": attention}
        return h

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
        fast kernels (they train through ``forward``).
        """
        if self._kernel is None or not hasattr(self.convs[0], "lin"):
            return None
        n, depth = x.size(0), len(self.convs)
        ei, weight = self.graph(edge_index, n)
        src, dst = ei[0], ei[1]
        nodes, sizes, rank = self.receptive_field(ei, targets, n)
        incoming = self.incoming(ei, n)
        hops = []
        for layer in range(depth):
            n_out, n_in = sizes[depth - 1 - layer], sizes[depth - layer]
            keep = incoming.into(nodes[:n_out])
            s, d = rank[src[keep]], rank[dst[keep]]
            order = torch.argsort(d * n_in + s)
            s, d, keep = s[order], d[order], keep[order]
            hop = _hop(s, d, n_out, n_in, self.convs[layer].heads if self.is_attention else 1)
            if weight is not None:
                hop.weight = weight[keep]
            hops.append(hop)
        xs = x[nodes]
        return Plan(nodes, SparseFeatures.from_dense(xs) if sparse else xs, hops)

    def forward_plan(self, plan: Plan) -> Tensor:
        """Logits [T, C] of the plan's targets: the maths of ``forward(x, edge_index)[targets]``."""
        layer = self._kernel
        h = plan.x
        last = len(self.convs) - 1
        for i, (conv, hop) in enumerate(zip(self.convs, plan.hops, strict=True)):
            out = layer(conv, h, hop, self.dropout, self.training)
            if len(self.skips):
                h_in = h[: hop.n_out] if isinstance(h, Tensor) else h
                out = out + _linear(h_in, self.skips[i].weight, 0.0, False)[: hop.n_out]
            h = self.act(out) if i < last else out
        return h


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
    except (TypeError, RuntimeError, ValueError, ConfigError) as exc:
        first = str(exc).strip().splitlines()[0][:160]
        raise RunError(f"checkpoint does not match its model description ({first}); retrain with gnnviz train") from None
    return model.eval()


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- fast path
# On the fast path (``training.fast``) training and evaluation run GAT and GCN through the kernels
# below instead of PyG's message passing: the same maths on the same parameters (the tests check
# outputs and gradients against the PyG layers), computed only for the nodes a loss or metric
# reads (a split's nodes and their in-neighbours up to the model's depth), with every sparsity
# pattern built once. Attention heads are laid out as one block-diagonal sparse matrix, so that
# aggregation and its backward are single sparse products (MKL) instead of gathers and scatters
# of an [edges, heads, channels] tensor. ``forward`` (PyG) remains the reference for the rest.


def fast_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout with a uniform draw per entry: ``torch.bernoulli_`` costs about 4x more on CPU."""
    if not training or p == 0.0:
        return x
    return x * torch.rand_like(x).ge_(p).mul_(1.0 / (1.0 - p))  # ge_ leaves 1.0 (keep) or 0.0


def _offsets(sorted_index: Tensor, size: int) -> Tensor:
    """CSR offsets [size + 1] of a sorted index."""
    counts = torch.bincount(sorted_index, minlength=size)
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])


class InEdges:
    """A graph's edges grouped by target (CSR over targets): the edges into any set of nodes in
    time proportional to their count, not to the graph's size (mini-batches need this)."""

    def __init__(self, edge_index: Tensor, num_nodes: int):
        self.order = torch.argsort(edge_index[1], stable=True)  # edge positions, grouped by target
        self.ptr = _offsets(edge_index[1].index_select(0, self.order), num_nodes)
        self._edge_index, self._sources = edge_index, None

    def sources(self) -> Tensor:
        """[E] the source of every edge, in ``order`` (made on first use, then kept)."""
        if self._sources is None:
            self._sources = self._edge_index[0].index_select(0, self.order)
        return self._sources

    def into(self, nodes: Tensor) -> Tensor:
        """Positions [E'] in the edge list of every edge into ``nodes``, grouped by node in their order."""
        start = self.ptr[nodes]
        count = self.ptr[nodes + 1] - start
        total = int(count.sum())
        first = torch.cumsum(count, 0) - count  # where each node's edges begin in the result
        step = torch.repeat_interleave(start - first, count, output_size=total)
        return self.order[step + torch.arange(total, device=nodes.device)]


class SparsePattern:
    """Where the entries of a sparse [R, K] matrix are (CSR: ``row`` sorted, then ``col``), and
    its transpose's pattern, so that products with changing values need no conversion.

    Indices are int32 when every index and offset fits (torch's CSR kernels take them): half the
    memory of int64, which at a million nodes and 8 heads is gigabytes. The transpose is only
    needed for gradients, so it is built on first use (``transpose``): patterns that only
    evaluate never hold it. ``transpose_order``, if given, computes the transpose's value order
    (what ``argsort(cols * R + rows)`` gives) more cheaply than that sort.
    """

    def __init__(self, rows: Tensor, cols: Tensor, shape: tuple[int, int], transpose_order: Callable[[], Tensor] | None = None):
        self.shape = shape
        self.dtype = torch.int32 if max(*shape, rows.numel()) < 2**31 else torch.int64
        self.crow, self.row, self.col = _offsets(rows, shape[0]).to(self.dtype), rows.to(self.dtype), cols.to(self.dtype)
        self._order = transpose_order or (lambda: torch.argsort(self.col.long() * shape[0] + self.row))
        self._transpose: tuple[Tensor, Tensor, Tensor] | None = None

    def transpose(self) -> tuple[Tensor, Tensor, Tensor]:
        """(crow, col, perm) of the transpose: its CSR offsets and columns, and for each of its
        entries the position of that entry's value in this pattern's values."""
        if self._transpose is None:
            perm = self._order()
            crow = _offsets(self.col.index_select(0, perm).long(), self.shape[1]).to(self.dtype)
            self._transpose = (crow, self.row.index_select(0, perm), perm.to(self.dtype))
            self._order = None  # type: ignore[assignment]  # what it held is not needed again
        return self._transpose

    def matmul(self, values: Tensor, dense: Tensor) -> Tensor:
        """``A @ dense`` for the A with this pattern and ``values`` [nnz]: [R, D]; differentiable in both."""
        return _SpMM.apply(values, dense, self)

    def csr(self, values: Tensor) -> Tensor:
        return torch.sparse_csr_tensor(self.crow, self.col, values, self.shape, check_invariants=False)


class _SpMM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, values: Tensor, dense: Tensor, pattern: SparsePattern) -> Tensor:
        ctx.pattern = pattern
        ctx.save_for_backward(values, dense)
        return pattern.csr(values) @ dense

    @staticmethod
    def backward(ctx, grad: Tensor):
        values, dense = ctx.saved_tensors
        p = ctx.pattern
        grad = grad.contiguous()
        grad_values = grad_dense = None
        if ctx.needs_input_grad[0]:  # d/dA_ij = (grad @ dense.T)_ij, only where A has entries
            grad_values = torch.sparse.sampled_addmm(p.csr(values), grad, dense.t(), beta=0.0).values()
        if ctx.needs_input_grad[1]:
            t_crow, t_col, perm = p.transpose()
            at = torch.sparse_csr_tensor(t_crow, t_col, values.index_select(0, perm), p.shape[::-1], check_invariants=False)
            grad_dense = at @ grad
        return grad_values, grad_dense, None


@dataclass
class SparseFeatures:
    """A sparse feature matrix: pattern [N, F] and stored values [nnz]."""

    pattern: SparsePattern
    values: Tensor

    @classmethod
    def from_dense(cls, x: Tensor) -> SparseFeatures:
        rows, cols = x.nonzero().t()
        return cls(SparsePattern(rows, cols, tuple(x.shape)), x[rows, cols])


@dataclass
class Hop:
    """One layer's edges (self-loops included) into its outputs, the first ``n_out`` of its ``n_in``
    input nodes, as the block-diagonal matrix ``pattern`` [n_out * H, n_in * H] whose entry
    (t * H + h, s * H + h) is edge s -> t in head h (H = 1 for GCN); ``rows``, ``cols``: [E * H]
    its entries in CSR order; ``weight``: [E] GCN's fixed coefficients in that order."""

    n_out: int
    n_in: int
    pattern: SparsePattern
    rows: Tensor
    cols: Tensor
    weight: Tensor | None = None


def _head_positions(key: Tensor, groups: int, heads: int) -> Tensor:
    """[E, H]: where entry (edge i, head h) goes in a CSR whose rows are ``key * H + h`` and whose
    row entries keep the edges' order (``key`` [E] sorted, below ``groups``): after all heads of
    earlier keys, then after the earlier heads of its own key, then after its key's earlier edges."""
    ptr = _offsets(key, groups)
    start, count = ptr[key], (ptr[1:] - ptr[:-1])[key]
    h = torch.arange(heads, device=key.device)
    return (start * heads + torch.arange(key.numel(), device=key.device) - start).view(-1, 1) + h * count.view(-1, 1)


def _hop(src: Tensor, dst: Tensor, n_out: int, n_in: int, heads: int) -> Hop:
    """``src``, ``dst``: [E] edges into nodes below ``n_out``, sorted by (dst, src)."""

    def by_source() -> Tensor:  # the edges in the transpose's order: by source, then target
        return torch.argsort(src * n_out + dst)

    if heads == 1:
        rows, cols, order = dst, src, by_source
    else:
        pos = _head_positions(dst, n_out, heads).view(-1)
        h = torch.arange(heads, device=src.device)
        rows, cols = torch.empty_like(pos), torch.empty_like(pos)
        rows[pos] = (dst.view(-1, 1) * heads + h).view(-1)
        cols[pos] = (src.view(-1, 1) * heads + h).view(-1)
        del pos

        def order() -> Tensor:
            # Sorting the E edges by source and spreading them over the heads gives the order of the
            # E * H entries that sorting them would, at an eighth of the cost for 8 heads.
            q = by_source()
            perm = torch.empty(q.numel() * heads, dtype=torch.long, device=q.device)
            perm[_head_positions(src[q], n_in, heads).view(-1)] = _head_positions(dst, n_out, heads)[q].view(-1)
            return perm

    pattern = SparsePattern(rows, cols, (n_out * heads, n_in * heads), order)
    return Hop(n_out, n_in, pattern, pattern.row, pattern.col)


@dataclass
class Plan:
    """What one forward on the fast path needs, built once per graph and target set.

    ``nodes``: [n] original ids, targets first, then their in-neighbours, then theirs...;
    ``x``: the features of ``nodes`` (dense [n, F] or ``SparseFeatures``); ``hops``: one per layer.
    """

    nodes: Tensor
    x: Tensor | SparseFeatures
    hops: list[Hop]

    @property
    def targets(self) -> Tensor:
        """[T] original ids of the nodes whose logits ``forward_plan`` returns, in its order."""
        return self.nodes[: self.hops[-1].n_out]


def _linear(h: Tensor | SparseFeatures, weight: Tensor, p: float, training: bool) -> Tensor:
    """``dropout(h) @ weight.T``; a sparse ``h`` drops only its stored values."""
    if isinstance(h, SparseFeatures):
        return h.pattern.matmul(fast_dropout(h.values, p, training), weight.t())
    return F.linear(fast_dropout(h, p, training), weight)


def _row_softmax(e: Tensor, crow: Tensor, rows: Tensor, inplace: bool = False) -> Tensor:
    """Softmax of ``e`` over each row of a CSR pattern (offsets ``crow``; ``rows``: each entry's
    row), as PyG's ``softmax``: shifted by the row's maximum, 1e-16 added to the sum.
    ``inplace`` reuses ``e``'s memory (inference, no autograd)."""
    shift = torch.segment_reduce(e.detach(), "max", offsets=crow).index_select(0, rows)
    ex = e.sub_(shift).exp_() if inplace else (e - shift).exp()
    total = (torch.segment_reduce(ex, "sum", offsets=crow) + 1e-16).index_select(0, rows)
    return ex.div_(total) if inplace else ex / total


def gat_kernel(conv: nn.Module, h: Tensor | SparseFeatures, hop: Hop, p: float, training: bool) -> Tensor:
    """PyG's ``GATConv`` forward on ``hop``: [n_out, heads * C] (concat) or [n_out, C] (mean)."""
    heads, c = conv.heads, conv.out_channels
    z = _linear(h, conv.lin.weight, p, training)  # [n_in, H * C]
    z3 = z.view(-1, heads, c)
    a_src = (z3 * conv.att_src).sum(-1).view(-1)  # [n_in * H], node-major like the pattern
    a_dst = (z3[: hop.n_out] * conv.att_dst).sum(-1).view(-1)  # [n_out * H]
    e = F.leaky_relu(a_src.index_select(0, hop.cols) + a_dst.index_select(0, hop.rows), conv.negative_slope)
    # Softmax over each (target, head)'s incoming edges, i.e. over each row of the pattern.
    alpha = fast_dropout(_row_softmax(e, hop.pattern.crow, hop.rows), conv.dropout, training)  # [E * H]
    out = hop.pattern.matmul(alpha, z.view(-1, c)).view(hop.n_out, heads, c)
    out = out.view(hop.n_out, heads * c) if conv.concat else out.mean(dim=1)
    return out + conv.bias


def gat_inference(
    conv: nn.Module, h: Tensor, ei: Tensor, incoming: InEdges, bounds: list[int], keep_alpha: bool, weight: Tensor | None
) -> tuple[Tensor, Tensor | None]:
    """PyG's ``GATConv`` in eval mode on the whole graph ``ei`` [2, E] (self-loops included; GAT
    takes no edge ``weight``) for ``h`` [N, F] dense or sparse CSR:
    (out [N, heads * C] (concat) or [N, C] (mean), alpha [E, heads] in ``ei``'s edge order, or None
    unless ``keep_alpha``).

    Each node is projected once ([N, heads * C]); then one head of one block of targets
    ``bounds[j]..bounds[j + 1]`` at a time (their incoming edges are consecutive in ``incoming``'s
    order) takes the softmax over each target's edges and aggregates as a sparse product. Memory
    beyond inputs and outputs: a few [block edges] vectors, never an [E, heads, C] message tensor.
    The maths of ``gat_kernel`` (PyG's softmax: shifted by the target's maximum, 1e-16 in the sum).
    """
    n, heads, c = h.size(0), conv.heads, conv.out_channels
    z = (h @ conv.lin.weight.t() if h.layout == torch.sparse_csr else F.linear(h, conv.lin.weight)).view(n, heads, c)
    # [heads, N], each head's scores contiguous for the gathers below
    a_src, a_dst = (z * conv.att_src).sum(-1).t().contiguous(), (z * conv.att_dst).sum(-1).t().contiguous()
    out = z.new_empty((n, heads, c))
    alpha = z.new_empty((ei.size(1), heads)) if keep_alpha else None
    ptr, sources = incoming.ptr, incoming.sources()
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        lo, hi = int(ptr[a]), int(ptr[b])
        src, crow = sources[lo:hi], ptr[a : b + 1] - lo  # edges into a..b-1, grouped by target
        dst = torch.repeat_interleave(torch.arange(b - a, device=h.device), crow.diff(), output_size=hi - lo)
        block = z.new_empty((hi - lo, heads)) if alpha is not None else None
        for k in range(heads):
            e = F.leaky_relu(a_src[k].index_select(0, src) + a_dst[k, a:b].index_select(0, dst), conv.negative_slope)
            w = _row_softmax(e, crow, dst, inplace=True)
            if block is not None:
                block[:, k] = w
            adj = torch.sparse_csr_tensor(crow, src, w, (b - a, n), check_invariants=False)
            out[a:b, k] = adj @ z[:, k]
        if alpha is not None:
            alpha.index_copy_(0, incoming.order[lo:hi], block)  # back to ei's edge order
    out = out.view(n, heads * c) if conv.concat else out.mean(dim=1)
    return out + conv.bias, alpha


def gcn_kernel(conv: nn.Module, h: Tensor | SparseFeatures, hop: Hop, p: float, training: bool) -> Tensor:
    """PyG's ``GCNConv`` forward (fixed coefficients) on ``hop``: [n_out, C]."""
    z = _linear(h, conv.lin.weight, p, training)  # [n_in, C]
    return hop.pattern.matmul(hop.weight, z) + conv.bias
