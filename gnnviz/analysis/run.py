"""Analyses: pure functions of a ``RunArrays`` (numpy in, numbers and arrays out; no files, no drawing).

The numerical primitives live in ``attention.py``; this module applies them to a run: which
nodes are wrong, the entropy of each attention layer and head against uniform attention, and
the highest-degree nodes whose neighbourhoods are drawn (``top_degree``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gnnviz.analysis import attention as att
from gnnviz.analysis.arrays import RunArrays
from gnnviz.datasets.base import BINARY, SINGLE_LABEL

# A multi-label node counts as misclassified when its own F1 over the labels is below this.
MULTILABEL_WRONG_F1 = 0.5
SPLITS = ("train", "val", "test", "other")


@dataclass(frozen=True)
class Predictions:
    """wrong: [N] bool; what: how 'wrong' is decided (legend text); by_split: wrong count per split
    present in the graph, e.g. {"train": 0, "val": 31, "test": 65, "other": 300}."""

    wrong: np.ndarray
    what: str
    by_split: dict[str, int]

    @property
    def summary(self) -> str:
        """'396 of 2,708 nodes (train 0, val 31, test 65, other 300)'."""
        parts = ", ".join(f"{k} {v:,}" for k, v in self.by_split.items())
        return f"{int(self.wrong.sum()):,} of {self.wrong.size:,} nodes ({parts})"


def predictions(a: RunArrays) -> Predictions:
    if a.task == "multilabel":
        pred, truth = a.logits > 0, a.y > 0.5
        tp = (pred & truth).sum(1)
        denom = pred.sum(1) + truth.sum(1)
        # Node-level F1; a node with no true and no predicted labels is right.
        f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 1.0)
        wrong, what = f1 < MULTILABEL_WRONG_F1, f"node F1 < {MULTILABEL_WRONG_F1}"
    else:
        wrong, what = a.logits.argmax(1) != a.y.astype(int), "misclassified"
    by_split = {s: int(wrong[a.split == s].sum()) for s in SPLITS if (a.split == s).any()}
    return Predictions(wrong, what, by_split)


@dataclass(frozen=True)
class LayerEntropy:
    """One attention layer over all N nodes, in nats.

    entropy: [N, H] per head; mean_entropy: [N] entropy of the head-averaged weights;
    uniform: [N] log(in-degree incl. self-loop); stats: per head, then "mean" (``EntropyStats``
    as dicts); max_abs_sum_error: how far any node's weights are from summing to 1.
    """

    layer: int
    entropy: np.ndarray
    mean_entropy: np.ndarray
    uniform: np.ndarray
    per_head: list[dict[str, Any]]
    mean_stats: dict[str, Any]
    edges: int
    max_abs_sum_error: float

    @property
    def heads(self) -> int:
        return int(self.entropy.shape[1])

    def values(self, head: int | str) -> np.ndarray:
        """[N] entropies of one head, or of the head mean ("mean")."""
        return self.mean_entropy if head == "mean" else self.entropy[:, int(head)]

    def kl(self, head: int | str) -> np.ndarray:
        """[N] KL(attention || uniform) = log(in-degree) - H, clipped at 0 (float rounding)."""
        return np.maximum(self.uniform - self.values(head), 0.0)

    def stats(self, head: int | str) -> dict[str, Any]:
        return self.mean_stats if head == "mean" else self.per_head[int(head)]


def entropies(a: RunArrays, layers: list[int]) -> list[LayerEntropy]:
    """Entropy of every head's attention in each of ``layers``; [] for models without attention."""
    out = []
    n = a.num_nodes
    for layer in layers if a.attention else []:
        ei, alpha = a.attention[layer].edge_index, a.attention[layer].alpha
        uniform = att.uniform_entropy(ei, n)
        h = att.entropy(ei, alpha, n)
        h_mean = att.entropy(ei, alpha.mean(1), n)
        sums = att.node_sums(ei, alpha, n)
        has_edges = att.in_degree(ei, n) > 0
        per_head = [{"head": k, **att.entropy_stats(h[:, k], uniform).as_dict()} for k in range(alpha.shape[1])]
        err = float(np.abs(sums[has_edges] - 1).max()) if has_edges.any() else 0.0
        out.append(
            LayerEntropy(layer, h, h_mean, uniform, per_head, att.entropy_stats(h_mean, uniform).as_dict(), int(ei.shape[1]), err)
        )
    return out


def run_header(a: RunArrays) -> dict[str, Any]:
    """What ``attention_stats.json`` says about the run and checkpoint it was computed from."""
    return {
        "dataset": a.dataset,
        "model": a.model,
        "graph": a.graph_label,
        "checkpoint": {
            "state": a.checkpoint.state,
            "epoch": a.checkpoint.epoch,
            "val_metric": a.checkpoint.val_metric,
            "val_loss": a.checkpoint.val_loss,
            "metric": a.checkpoint.metric,
        },
    }


def attention_stats(a: RunArrays, layers: list[LayerEntropy]) -> dict[str, Any] | None:
    """The content of ``attention_stats.json``; None for models without attention."""
    if not layers:
        return None
    return {
        **run_header(a),
        "units": "nats (natural log)",
        "definitions": {
            "entropy": "H = -sum(a log a) over a node's incoming edges (self-loop included)",
            "uniform_entropy": "log(in-degree incl. self-loop): the entropy of equal weights",
            "normalised_entropy": "H / log(in-degree), nodes with in-degree 1 excluded",
            "kl_from_uniform": "KL(a || uniform) = log(in-degree) - H",
        },
        "layers": [
            {
                "layer": le.layer,
                "heads": le.heads,
                "edges": le.edges,
                # A check that the weights belong to this edge index: each node's sum is 1.
                "max_abs_sum_error": le.max_abs_sum_error,
                "per_head": le.per_head,
                "mean_over_heads": le.mean_stats,
            }
            for le in layers
        ],
    }


# ----------------------------------------------------------------------------- what attention learned


@dataclass(frozen=True)
class Insight:
    """Answers beyond the pictures (definitions in ``viz/insight.py``), for the selected layers.

    labels: per layer, ``insight.attention_vs_labels`` over every head and, last, the head mean;
    baseline: the same measure for GCN's fixed coefficients D^-1/2 (A+I) D^-1/2 on the same graph
    (what learned attention must beat), or for the run's own coefficients when it has no attention;
    node_lift: per layer [N, H + 1] per-node lift (heads, then the head mean), NaN where undefined;
    ranking: per layer ``insight.ranking_agreement``; switched_off: replacement name ->
    ``insight.prediction_change`` on the test nodes (all nodes where the graph has no test split).
    """

    layers: list[int]
    labels: list[dict[str, Any]]
    baseline: dict[str, Any] | None
    node_lift: list[np.ndarray]
    ranking: list[dict[str, Any]]
    switched_off: dict[str, dict[str, Any]]
    switched_on: str  # which nodes the prediction changes count

    def as_dict(self) -> dict[str, Any]:
        return {
            "definitions": {
                "label_mass": "a node's weights renormalised over its neighbours (self-loop excluded), summed over same-label neighbours (Jaccard of label sets for multi-label)",
                "homophily": "the label mass of uniform weights over the same neighbours",
                "lift": "label mass - homophily: 0 for uniform attention; max_lift when all weight is on the most similar neighbours",
                "ranking_agreement": "over pairs of targets sharing 2+ neighbours: concordant / (concordant + discordant) orderings of the shared neighbours; 1.0 = static attention",
                "switched_off": "the model re-run with attention replaced by uniform weights or GCN's coefficients, in one layer or all; metric change and nodes whose prediction changes",
            },
            "baseline_fixed_coefficients": self.baseline,
            "layers": [
                {"layer": layer, "labels": lab, "ranking": rank}
                for layer, lab, rank in zip(self.layers, self.labels, self.ranking, strict=True)
            ],
            "switched_off_nodes": self.switched_on,
            "switched_off": self.switched_off,
        }


def insight(a: RunArrays, layers: list[int]) -> Insight | None:
    """Attention against labels, static vs dynamic ranking, attention switched off; None when the
    model has neither attention nor fixed coefficients (nothing to measure)."""
    from gnnviz.analysis import insight as ins

    n, y = a.num_nodes, a.y
    if a.attention:
        loops = a.attention[0].edge_index
        baseline = ins.attention_vs_labels(loops, att.gcn_coefficients(loops, n), y)
    elif a.coefficients is not None:
        co = a.coefficients
        baseline = ins.attention_vs_labels(co.edge_index, co.weight, y)
    else:
        return None
    labels, node_lift, ranking = [], [], []
    pairs: tuple[np.ndarray, ins.RankingPairs] | None = None  # chosen from the edges: shared by layers with the same ones
    for layer in layers if a.attention else []:
        la = a.attention[layer]
        both = np.column_stack([la.alpha, la.alpha.mean(1)])
        per = ins.label_mass(la.edge_index, both, y)  # once: the summaries and the per-node lift
        labels.append(ins.attention_vs_labels(la.edge_index, both, y, per=per))
        node_lift.append(per["lift"])
        del both, per
        if pairs is None or not np.array_equal(pairs[0], la.edge_index):
            pairs = (la.edge_index, ins.ranking_pairs(la.edge_index, num_nodes=n))
        ranking.append(ins.ranking_agreement(la.edge_index, la.alpha, num_nodes=n, pairs=pairs[1]))
    test = a.split == "test"
    mask, on = (test, "test") if test.any() else (None, "all")
    off = {
        name: ins.prediction_change(a.logits, logits, y, mask=mask, binary=a.task == BINARY)
        for name, logits in a.switched_off.items()
    }
    return Insight(list(layers) if a.attention else [], labels, baseline, node_lift, ranking, off, on)


# ----------------------------------------------------------------------------- class-to-class flow


@dataclass(frozen=True)
class Flow:
    """One class-to-class matrix (``attention.ClassFlow``) and what it was computed from."""

    label: str  # "layer 0, mean of 8 heads" or "GCN coefficients (every layer)"
    layer: int | None  # None for fixed coefficients, which every layer shares
    flow: att.ClassFlow

    def as_dict(self) -> dict[str, Any]:
        f = self.flow
        return {
            "layer": self.layer,
            "weights": self.label,
            "mass": f.mass.tolist(),
            "edges": f.edges.tolist(),
            "mean_weight": f.mean.tolist(),
            "share": f.share.tolist(),
            "uniform_share": f.uniform_share.tolist(),
        }


def class_flows(a: RunArrays, layers: list[int]) -> list[Flow]:
    """Per selected attention layer (head mean), or once for fixed coefficients: where each class's
    nodes put their weight, by neighbour class. [] for multi-label runs (a node has no one class)
    and for models with neither attention nor coefficients."""
    if a.task not in SINGLE_LABEL:
        return []
    y = a.y.astype(np.int64)
    c = max(int(y.max()) + 1, a.logits.shape[1])
    if a.attention:
        out = []
        for layer in layers:
            la = a.attention[layer]
            heads = f"mean of {la.heads} heads" if la.heads > 1 else "1 head"
            out.append(Flow(f"layer {layer}, {heads}", layer, att.class_flow(la.edge_index, la.alpha.mean(1), y, c)))
        return out
    if a.coefficients is not None:
        co = a.coefficients
        return [Flow("fixed GCN coefficients (every layer)", None, att.class_flow(co.edge_index, co.weight, y, c))]
    return []


def flow_stats(flows: list[Flow]) -> dict[str, Any]:
    """The ``class_flow`` entry of ``attention_stats.json``."""
    return {
        "definitions": {
            "mass": "[target class][source class]: summed weight over edges from source-class neighbours into target-class nodes (self-loops excluded)",
            "edges": "edge count per cell",
            "mean_weight": "mass / edges (null where no edge)",
            "share": "mass divided by its row's sum: of the weight class-t nodes put on neighbours, the share on class-s ones",
            "uniform_share": "the same share for uniform weights 1/in-degree over the same neighbours",
        },
        "layers": [f.as_dict() for f in flows],
    }


def top_degree(degree: np.ndarray, k: int) -> tuple[list[int], str | None]:
    """The k highest-degree nodes (ties: lower id first) and a note when the cut splits a tie."""
    n = degree.shape[0]
    order = np.lexsort((np.arange(n), -degree))
    chosen = order[: min(k, n)].tolist()
    if not chosen or len(chosen) == n:
        return chosen, None
    last = degree[chosen[-1]]
    tied = int((degree == last).sum())
    taken = sum(1 for v in chosen if degree[v] == last)
    if tied > taken:
        return chosen, f"{tied} nodes tie at degree {int(last)}; the lowest ids were drawn ({taken} of them)"
    return chosen, None
