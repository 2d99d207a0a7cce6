"""Attention statistics in numpy: per-node sums, entropy, its uniform baseline, KL, GCN weights.

Every function takes the edge index a layer actually used (self-loops included) and groups
incoming edges by target node ``edge_index[1]``, the convention of PyG's softmax. Logs are
natural (nats).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def in_degree(edge_index: np.ndarray, num_nodes: int) -> np.ndarray:
    """Incoming edges per node (self-loops count): [N] int64.  edge_index: [2, E]."""
    return np.bincount(np.asarray(edge_index)[1], minlength=num_nodes)


def node_sums(edge_index: np.ndarray, alpha: np.ndarray, num_nodes: int) -> np.ndarray:
    """Sum of incoming weights per node and head.

    edge_index: [2, E]; alpha: [E] or [E, H]. Returns [N] or [N, H]; 1 for softmax attention.
    One head at a time: a float64 copy of a whole [E, H] array is 0.7 GB at 11M edges and 8 heads.
    """
    dst = np.asarray(edge_index)[1]
    alpha = np.asarray(alpha)
    if alpha.ndim == 1:
        return np.bincount(dst, weights=alpha.astype(np.float64, copy=False), minlength=num_nodes)
    return np.stack(
        [np.bincount(dst, weights=alpha[:, h].astype(np.float64), minlength=num_nodes) for h in range(alpha.shape[1])], 1
    )


def entropy(edge_index: np.ndarray, alpha: np.ndarray, num_nodes: int) -> np.ndarray:
    """Entropy of each node's incoming attention, -sum(a log a): [N] or [N, H] for alpha [E] or [E, H].

    0 log 0 is taken as 0 (an edge with zero weight adds no uncertainty). One head at a time.
    """
    a = np.asarray(alpha)
    dst = np.asarray(edge_index)[1]

    def one(col: np.ndarray) -> np.ndarray:
        col = col.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(col > 0, -col * np.log(col), 0.0)
        return np.bincount(dst, weights=terms, minlength=num_nodes)

    return one(a) if a.ndim == 1 else np.stack([one(a[:, h]) for h in range(a.shape[1])], 1)


def uniform_entropy(edge_index: np.ndarray, num_nodes: int) -> np.ndarray:
    """Entropy of the uniform distribution over each node's incoming edges, log(in-degree): [N].

    Nodes without incoming edges get 0 (they have no distribution; with self-loops there are none).
    """
    deg = in_degree(edge_index, num_nodes)
    return np.log(np.maximum(deg, 1)).astype(np.float64)


@dataclass(frozen=True)
class EntropyStats:
    """Summary of one layer and head (or the head mean) over all nodes, in nats."""

    mean_entropy: float
    mean_uniform_entropy: float
    # H / log(deg) over nodes with deg > 1 (log 1 = 0: a lone self-loop has nothing to choose);
    # NaN when no node has more than one incoming edge (written as null in JSON).
    mean_normalised_entropy: float
    # KL(alpha || uniform) = log(deg) - H, averaged over all nodes.
    mean_kl_from_uniform: float
    nodes: int
    nodes_in_ratio: int  # nodes with deg > 1, the ones in mean_normalised_entropy

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def entropy_stats(h: np.ndarray, uniform: np.ndarray) -> EntropyStats:
    """h, uniform: [N] entropies of the learned and the uniform attention of the same nodes."""
    h, uniform = np.asarray(h, dtype=np.float64), np.asarray(uniform, dtype=np.float64)
    multi = uniform > 0  # deg > 1
    ratio = float(np.mean(h[multi] / uniform[multi])) if multi.any() else float("nan")
    return EntropyStats(
        mean_entropy=float(h.mean()),
        mean_uniform_entropy=float(uniform.mean()),
        mean_normalised_entropy=ratio,
        mean_kl_from_uniform=float(np.mean(uniform - h)),
        nodes=int(h.size),
        nodes_in_ratio=int(multi.sum()),
    )


def entropy_bins(*values: np.ndarray, bins: int = 40) -> np.ndarray:
    """Even bin edges [bins + 1] from 0 to the largest entropy among ``values`` (any shapes).

    Entropies are >= 0, so every value falls in a bar (numpy counts the top edge into the last
    bar): no catch-all bar, and each bar is as wide as every other, so heights compare as counts.
    Whether attention is near-uniform is judged on ``kl_bins``' log axis, not here.
    """
    flat = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    hi = max([float(v.max()) for v in flat if v.size] + [0.0])
    return np.linspace(0.0, hi if hi > 0 else 1.0, bins + 1)


# KL values below this are uniform attention to float32 precision (softmax weights carry ~1e-7
# relative error, and KL is quadratic in the deviation): a log axis starts here.
KL_FLOOR = 1e-6


def kl_bins(*values: np.ndarray, per_decade: int = 6) -> np.ndarray:
    """Log-spaced bin edges for per-node KL divergences, from the decade of the smallest value
    >= ``KL_FLOOR`` to the decade above the largest, and at least to 1 nat (so that the yardstick
    log 2, all weight even over half the neighbours, is on the axis): [B + 1], B >= 1.

    Values below the floor (including exact zeros: nodes whose only edge is the self-loop) have no
    place on a log axis; plots give them a bar of their own left of the axis.
    """
    flat = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in values] or [np.zeros(0)])
    shown = flat[flat >= KL_FLOOR]
    if not shown.size:
        lo = np.log10(KL_FLOOR)
        return np.logspace(lo, 0, int(round(-lo * per_decade)) + 1)
    lo = np.floor(np.log10(shown.min()))
    hi = max(np.ceil(np.log10(shown.max())), 0.0, lo + 1)
    return np.logspace(lo, hi, int(round((hi - lo) * per_decade)) + 1)


def gcn_coefficients(edge_index: np.ndarray, num_nodes: int) -> np.ndarray:
    """GCN's fixed weights 1/sqrt(deg(src) deg(dst)), D^-1/2 (A+I) D^-1/2 per edge: [E].

    edge_index: [2, E] with self-loops already included (deg counts them). These do NOT sum to 1
    per node: a node's weights sum to 1 only when all its neighbours have its own degree.
    """
    src, dst = np.asarray(edge_index)
    deg = in_degree(edge_index, num_nodes).astype(np.float64)
    inv = np.zeros_like(deg)
    inv[deg > 0] = deg[deg > 0] ** -0.5
    return inv[src] * inv[dst]


def with_self_loops(edge_index: np.ndarray, num_nodes: int) -> np.ndarray:
    """Drop existing self-loops, then add one per node at the end, as PyG's GCN/GAT do: [2, E']."""
    ei = np.asarray(edge_index, dtype=np.int64)
    ei = ei[:, ei[0] != ei[1]]
    loops = np.arange(num_nodes, dtype=np.int64)
    return np.concatenate([ei, np.stack([loops, loops])], axis=1)


def incoming(edge_index: np.ndarray, node: int) -> np.ndarray:
    """Positions [k] of the edges whose target is ``node``, in edge order."""
    return np.flatnonzero(np.asarray(edge_index)[1] == node)


@dataclass(frozen=True)
class Neighbourhood:
    """One node's incoming edges in one layer and head.

    sources: [k] ids of the neighbours (self-loop excluded; one entry per edge, so a duplicated
    edge appears twice); weights: [k] their weights; self_weight: the self-loop's weight (summed
    if the layer has several), None if the layer has none.
    """

    node: int
    sources: np.ndarray
    weights: np.ndarray
    self_weight: float | None

    @property
    def total(self) -> float:
        """Sum over all incoming edges, self-loop included (1 for softmax attention)."""
        return float(self.weights.sum() + (self.self_weight or 0.0))

    @property
    def in_degree(self) -> int:
        """Incoming edges including the self-loop: the size of the distribution."""
        return int(self.sources.size + (self.self_weight is not None))


def neighbourhood(edge_index: np.ndarray, weights: np.ndarray, node: int) -> Neighbourhood:
    """The incoming edges of ``node``. edge_index: [2, E]; weights: [E] (one head, or a head mean)."""
    ei = np.asarray(edge_index)
    pos = incoming(ei, node)
    src, w = ei[0, pos], np.asarray(weights, dtype=np.float64)[pos]
    loop = src == node
    self_weight = float(w[loop].sum()) if loop.any() else None
    return Neighbourhood(int(node), src[~loop], w[~loop], self_weight)


@dataclass(frozen=True)
class ClassFlow:
    """Where each class's nodes put their weight, by the class of the neighbour (self-loops left
    out: they always stay within a class). C classes; rows are target classes, columns source
    classes.

    mass: [C, C] summed weight over edges from class-s neighbours into class-t nodes; edges: [C, C]
    their count; share: [C, C] each row of ``mass`` divided by its sum (NaN for a class with no
    incoming edge); uniform_share: the same for uniform weights 1/in-degree (self-loop counted),
    the share that merely averaging over the same neighbours would give.
    """

    mass: np.ndarray
    edges: np.ndarray
    share: np.ndarray
    uniform_share: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """[C, C] mean weight per edge (NaN where there is no edge)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.edges > 0, self.mass / np.maximum(self.edges, 1), np.nan)


def class_flow(edge_index: np.ndarray, weights: np.ndarray, y: np.ndarray, num_classes: int) -> ClassFlow:
    """Class-to-class weight totals. edge_index: [2, E] (self-loops included or not; they are
    dropped); weights: [E] (one head, a head mean, or fixed coefficients); y: [N] class ids."""
    src, dst = np.asarray(edge_index, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    c = num_classes
    uniform = 1.0 / np.maximum(np.bincount(dst, minlength=y.size), 1)[dst]
    keep = src != dst
    cell = y[dst[keep]] * c + y[src[keep]]
    w = np.asarray(weights, dtype=np.float64)[keep]

    def table(values: np.ndarray | None) -> np.ndarray:
        return np.bincount(cell, weights=values, minlength=c * c).reshape(c, c)

    mass, edges, unif = table(w), table(None).astype(np.int64), table(uniform[keep])
    return ClassFlow(mass, edges, _rows(mass), _rows(unif))


def _rows(m: np.ndarray) -> np.ndarray:
    total = m.sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, m / np.where(total > 0, total, 1), np.nan)
