"""The fast path (``training.fast``): training and evaluation run GAT and GCN through the kernels
here instead of PyG's message passing: the same maths on the same parameters (the tests check
outputs and gradients against the PyG layers), computed only for the nodes a loss or metric
reads (a split's nodes and their in-neighbours up to the model's depth), with every sparsity
pattern built once. Attention heads are laid out as one block-diagonal sparse matrix, so that
aggregation and its backward are single sparse products (MKL) instead of gathers and scatters
of an [edges, heads, channels] tensor. ``forward`` (PyG, ``models.gnn``) remains the reference for the rest.

A ``Plan`` (``build_plan``, ``GNN.plan``) holds what one forward needs for a graph and a set of
targets; ``split_plans`` builds one per split on first use; ``forward_plan`` runs the model's
``fast_kernel`` (``gat_kernel``, ``gcn_kernel``) over it. ``InEdges`` (edges grouped by target)
and ``gat_inference`` also serve layer-wise inference (``GNN.inference``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Sparse CSR inputs are what makes training fast; torch flags them as beta on every use.
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")

# Inputs sparser than this go to the layers as a sparse CSR tensor on the fast path.
SPARSE_DENSITY = 0.25


def sparse_enough(x: Tensor) -> bool:
    """Whether ``x`` [N, F] is sparse enough to go to the layers as a sparse CSR tensor."""
    return bool(x.numel()) and (x != 0).float().mean().item() < SPARSE_DENSITY


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


def build_plan(model: nn.Module, x: Tensor, edge_index: Tensor, targets: Tensor, sparse: bool) -> Plan | None:
    """``GNN.plan``: the fast path's view of a graph for the nodes ``targets`` [T] (unique): see ``forward_plan``.

    ``x``: dense [N, F], kept as ``SparseFeatures`` if ``sparse``. None for models without
    fast kernels (they train through ``forward``).
    """
    if model._kernel is None or not hasattr(model.convs[0], "lin"):
        return None
    n, depth = x.size(0), len(model.convs)
    ei, weight = model.graph(edge_index, n)
    src, dst = ei[0], ei[1]
    nodes, sizes, rank = model.receptive_field(ei, targets, n)
    incoming = model.incoming(ei, n)
    hops = []
    for layer in range(depth):
        n_out, n_in = sizes[depth - 1 - layer], sizes[depth - layer]
        keep = incoming.into(nodes[:n_out])
        s, d = rank[src[keep]], rank[dst[keep]]
        order = torch.argsort(d * n_in + s)
        s, d, keep = s[order], d[order], keep[order]
        hop = _hop(s, d, n_out, n_in, model.convs[layer].heads if model.is_attention else 1)
        if weight is not None:
            hop.weight = weight[keep]
        hops.append(hop)
    xs = x[nodes]
    return Plan(nodes, SparseFeatures.from_dense(xs) if sparse else xs, hops)


def forward_plan(model: nn.Module, plan: Plan) -> Tensor:
    """``GNN.forward_plan``: logits [T, C] of the plan's targets, the maths of ``forward(x, edge_index)[targets]``."""
    layer = model._kernel
    h = plan.x
    last = len(model.convs) - 1
    for i, (conv, hop) in enumerate(zip(model.convs, plan.hops, strict=True)):
        out = layer(conv, h, hop, model.dropout, model.training)
        if len(model.selfs):  # separate_self: GNN.join_own on the layer's outputs
            h_in = h[: hop.n_out] if isinstance(h, Tensor) else h
            own = _linear(h_in, model.selfs[i].weight, model.dropout, model.training)[: hop.n_out]
            out = torch.cat([own, out], dim=1) if model.separate == "concat" and i < last else out + own
        if len(model.skips):
            h_in = h[: hop.n_out] if isinstance(h, Tensor) else h
            out = out + _linear(h_in, model.skips[i].weight, 0.0, False)[: hop.n_out]
        h = model.act(out) if i < last else out
    return h


def split_plans(model, g, device: torch.device) -> Callable[[str], Any] | None:
    """Split name -> the model's fast-path plan for that split's nodes (``GNN.plan``), built on
    first use; None for models without fast kernels."""
    if not hasattr(model, "plan"):
        return None
    x, edge_index = g.x.to(device), g.edge_index.to(device)
    sparse = sparse_enough(x)
    built: dict[str, Any] = {}

    def plan(split: str) -> Any:
        if split not in built:
            targets = getattr(g, f"{split}_mask").nonzero().view(-1).to(device)
            built[split] = model.plan(x, edge_index, targets, sparse)
        return built[split]

    return plan if plan("train") is not None else None


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
    return out.add_(conv.bias), alpha  # in place: at 1M nodes, 8 heads of 8, an [N, 64] copy is 256 MB


def gcn_kernel(conv: nn.Module, h: Tensor | SparseFeatures, hop: Hop, p: float, training: bool) -> Tensor:
    """PyG's ``GCNConv`` forward (fixed coefficients) on ``hop``: [n_out, C]."""
    z = _linear(h, conv.lin.weight, p, training)  # [n_in, C]
    return hop.pattern.matmul(hop.weight, z) + conv.bias
