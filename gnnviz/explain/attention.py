"""Attention read as an edge explanation of one node's prediction: three readings.

Inputs are a model's attention per layer as ``forward(return_details=True)`` returns it on the
layers' own edge index ``ei`` [2, E'] (the input edges without self-loops, in order, then one
self-loop per node: ``GNN.graph``), ``alpha`` [E', heads]; heads are averaged. Scores come back
over the input edges [E] (an input self-loop, which the layers drop, scores 0).

- ``last``: the last layer's coefficient on each edge.
- ``mean``: the mean over layers of each edge's coefficient.
- ``tree``: the computation-tree attribution (after Shin et al. 2024, "GAtt"): every path of
  messages that ends at the explained node passes through edge j->i at some layer l; the path's
  weight is the product of the attention coefficients along it from that edge on (the edge's own
  coefficient included). An edge's score is the sum of these weights over all such paths and
  layers, divided by the number of layers. Computed backwards: P_L = one-hot(node),
  score_l(j->i) = alpha_l(j->i) * P_l(i), P_{l-1}(j) = sum_i score_l(j->i) (self-loops carry flow).
"""

from __future__ import annotations

import torch
from torch import Tensor


def per_layer(attention: list[tuple[Tensor, Tensor]]) -> list[Tensor]:
    """Each layer's coefficients averaged over heads: [E'] per layer."""
    return [alpha.detach().float().reshape(alpha.size(0), -1).mean(dim=1) for _, alpha in attention]


def to_input_edges(values: Tensor, edge_index: Tensor) -> Tensor:
    """``values`` [E'] on the layers' edges -> [E] on the input edges (``GNN.graph``'s order: the
    input's non-loop edges come first, in order); input self-loops get 0."""
    keep = edge_index[0] != edge_index[1]
    out = values.new_zeros(edge_index.size(1))
    out[keep] = values[: int(keep.sum())]
    return out


def last_layer(attention: list[tuple[Tensor, Tensor]], edge_index: Tensor) -> Tensor:
    return to_input_edges(per_layer(attention)[-1], edge_index)


def layer_mean(attention: list[tuple[Tensor, Tensor]], edge_index: Tensor) -> Tensor:
    return to_input_edges(torch.stack(per_layer(attention)).mean(dim=0), edge_index)


def tree(attention: list[tuple[Tensor, Tensor]], edge_index: Tensor, node: int, num_nodes: int) -> Tensor:
    """The computation-tree attribution of the edges to ``node``'s output (see the module)."""
    alphas = per_layer(attention)
    flow = alphas[0].new_zeros(num_nodes)
    flow[node] = 1.0
    total = torch.zeros_like(alphas[0])
    for (ei, _), alpha in zip(reversed(attention), reversed(alphas), strict=True):
        through = alpha * flow[ei[1]]
        total += through
        flow = torch.zeros_like(flow).index_add_(0, ei[0], through)
    return to_input_edges(total / len(alphas), edge_index)
