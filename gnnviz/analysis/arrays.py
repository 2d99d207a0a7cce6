"""A run's arrays as plain data types: what ``gnnviz.viz.load`` returns and every analysis reads.

``RunArrays`` holds the graph, labels, split, logits, embeddings, attention per layer and head
(``LayerAttention``), the fixed edge coefficients of models that use them (``EdgeCoefficients``),
class names and which checkpoint was drawn (``Checkpoint``). Plain numpy and Python values only:
no torch, no files (loading them is ``gnnviz.viz.load``'s job).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gnnviz.datasets.base import metric_label

# Warn when the validation loss kept falling this long after the drawn checkpoint: at least this
# many epochs, and at least this share of the epochs run.
FAR_EPOCHS, FAR_SHARE = 20, 0.2


@dataclass(frozen=True)
class LayerAttention:
    """One attention layer. edge_index: [2, E_l] (self-loops included, target = row 1);
    alpha: [E_l, H_l] float, each head's weights sum to 1 over a target's incoming edges."""

    edge_index: np.ndarray
    alpha: np.ndarray

    @property
    def heads(self) -> int:
        return int(self.alpha.shape[1])


@dataclass(frozen=True)
class EdgeCoefficients:
    """Fixed per-edge weights the model's layers scale messages by (GCN's D^-1/2 (A+I) D^-1/2),
    the same in every layer. edge_index: [2, E'] (self-loops included); weight: [E']."""

    edge_index: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True)
class Checkpoint:
    """The state that was drawn: its name (``runs.layout.STATES``), epoch and validation scores,
    where the validation loss was lowest over the whole run, the share of the most common class
    among the validation nodes (a model no better than that is untrained; None where unknown) and
    the states the run keeps (for the advice in ``warning``). None where the run's files do not say."""

    epoch: int | None
    metric: str  # "accuracy" or "micro_f1"
    val_metric: float | None
    val_loss: float | None
    epochs_run: int | None
    min_val_loss_epoch: int | None
    state: str = "selected"
    chance: float | None = None
    states: tuple[str, ...] = ("selected",)
    test_metric: float | None = None  # as training recorded it for this state

    @property
    def label(self) -> str:
        """'epoch 49, val accuracy 0.830, val loss 0.712'."""
        parts = [f"epoch {self.epoch}" if self.epoch is not None else "epoch unknown"]
        if self.val_metric is not None:
            parts.append(f"val {metric_label(self.metric)} {self.val_metric:.3f}")
        if self.val_loss is not None:
            parts.append(f"val loss {self.val_loss:.3f}")
        return ", ".join(parts)

    @property
    def stamp(self) -> str:
        """For titles: 'checkpoint epoch 49, ...' for the selected state (as before other states
        were kept), 'min-loss state: epoch 412, ...' for another."""
        return f"checkpoint {self.label}" if self.state == "selected" else f"{self.state} state: {self.label}"

    @property
    def stamp_short(self) -> str:
        """The epoch alone, with the state where it is not the selected one: 'epoch 49',
        'min-loss state, epoch 412'."""
        epoch = f"epoch {self.epoch}" if self.epoch is not None else "epoch unknown"
        return epoch if self.state == "selected" else f"{self.state} state, {epoch}"

    @property
    def warning(self) -> str | None:
        """Set when the state is far before the validation-loss minimum, or no better than always
        predicting the most common class; says which state to draw instead."""
        if self.epoch is None:
            return None
        gap = None if self.min_val_loss_epoch is None or not self.epochs_run else self.min_val_loss_epoch - self.epoch
        if gap is not None and gap >= max(FAR_EPOCHS, FAR_SHARE * self.epochs_run):
            if "min-loss" in self.states:
                advice = "draw the state of lowest validation loss with --state min-loss"
            else:  # a run from before the other states were kept
                advice = "to keep the state of lowest validation loss, train with --set training.early_stopping=loss"
            return (
                f"the {self.state} state is epoch {self.epoch}, but the validation loss kept falling until epoch "
                f"{self.min_val_loss_epoch} of {self.epochs_run}: the early-stopping rule kept an early state; {advice}"
            )
        if self.chance is not None and self.val_metric is not None and self.epoch > 0 and self.val_metric <= self.chance:
            advice = "train longer (training.epochs)"
            if "last" in self.states and self.state != "last":
                advice = "draw the last state with --state last, or " + advice
            return (
                f"the {self.state} state (epoch {self.epoch}) has val {self.metric.replace('_', ' ')} {self.val_metric:.3f}, "
                f"no better than always predicting the most common class ({self.chance:.3f}): the model is untrained "
                f"there; {advice}"
            )
        return None


@dataclass(frozen=True)
class RunArrays:
    """Everything visualize draws, as numpy arrays and plain values. N nodes, E stored edges.

    Analyses are pure functions of this object; add a field here (filled in ``gnnviz.viz.load._compute``
    and cached in its ``_to_cache``/``_from_cache``) when a new analysis needs more from the model.
    """

    run_dir: Path
    dataset: str  # display name, e.g. "Cora"
    model: str  # the model's name, for titles only: never branch on it
    task: str  # "multiclass" or "multilabel"
    graph_label: str  # "Cora", or "PPI test graph 1" for multi-graph datasets
    num_graphs: int
    num_nodes: int
    edge_index: np.ndarray  # [2, E] int64 as stored (no self-loops added)
    y: np.ndarray  # [N] class ids, or [N, C] 0/1 for multi-label
    logits: np.ndarray  # [N, C]; None from load_arrays(forward=False), which runs no model
    embeddings: list[np.ndarray]  # per layer [N, d_l], after the activation (the last is the logits)
    attention: list[LayerAttention]  # per layer; empty for models without attention
    coefficients: EdgeCoefficients | None  # fixed edge weights for models that use them, else None
    split: np.ndarray  # [N] "train" | "val" | "test" | "other"
    class_names: list[str] | None  # names of classes 0..C-1 where the dataset has them
    checkpoint: Checkpoint
    curves: dict[str, np.ndarray]  # metrics.csv columns [T] (epoch, train_loss, val_loss, ...); {} if none
    # Logits [N, C] of the same model with attention switched off, keyed "uniform:0", "uniform:all",
    # "gcn:1"... (gnnviz.ablation.switch_off); empty for models without attention.
    switched_off: dict[str, np.ndarray] = field(default_factory=dict)
    # Seconds this load spent on the switched-off forward passes (0.0 when read from the cache).
    switch_off_seconds: float = 0.0
    # snapshots.json rows (training.snapshots): {"epoch", "val_metric", "test_metric", "layers":
    # [{"kl": [H], "lift": [H]}]}; empty when the run kept none or the file is unreadable.
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)  # summary.json
    config: dict[str, Any] = field(default_factory=dict)  # config.yaml (resolved)

    @property
    def num_layers(self) -> int:
        return len(self.embeddings)

    @property
    def degree(self) -> np.ndarray:
        """[N] incoming edges per node, self-loops not counted."""
        src, dst = self.edge_index
        return np.bincount(dst[src != dst], minlength=self.num_nodes)

    def class_name(self, c: int) -> str:
        """'class 3: Neural_Networks' where the dataset names its classes, else 'class 3'."""
        return (
            f"class {c}: {self.class_names[c]}"
            if self.class_names is not None and 0 <= c < len(self.class_names)
            else f"class {c}"
        )
