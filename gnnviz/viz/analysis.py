"""Analyses: pure functions of a ``RunArrays`` (numpy in, numbers and arrays out; no files, no drawing).

The numerical primitives live in ``attention.py``; this module applies them to a run: which
nodes are wrong, and the entropy of each attention layer and head against uniform attention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gnnviz.viz import attention as att
from gnnviz.viz.arrays import RunArrays

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
        """'all 2708 nodes: 396 (train 0, val 31, test 65, other 300)'."""
        parts = ", ".join(f"{k} {v}" for k, v in self.by_split.items())
        return f"all {self.wrong.size} nodes: {int(self.wrong.sum())} ({parts})"


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


def attention_stats(a: RunArrays, layers: list[LayerEntropy]) -> dict[str, Any] | None:
    """The content of ``attention_stats.json``; None for models without attention."""
    if not layers:
        return None
    return {
        "dataset": a.dataset,
        "model": a.model,
        "graph": a.graph_label,
        "checkpoint": {
            "epoch": a.checkpoint.epoch,
            "val_metric": a.checkpoint.val_metric,
            "val_loss": a.checkpoint.val_loss,
            "metric": a.checkpoint.metric,
        },
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
