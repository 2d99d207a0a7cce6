"""Loss and metric by task (``datasets.MULTICLASS`` or multi-label): ``loss_fn`` (mean), ``loss_sum``
(summed, so that batches and ranks add up), ``metric_counts`` (sufficient statistics that add up
over batches) and ``metric_value`` (accuracy or micro-F1 from them)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gnnviz.datasets.base import MULTICLASS


def loss_fn(task: str, out: Tensor, y: Tensor) -> Tensor:
    if task == MULTICLASS:
        return F.cross_entropy(out, y)
    return F.binary_cross_entropy_with_logits(out, y)


def loss_sum(task: str, out: Tensor, y: Tensor) -> Tensor:
    """``loss_fn`` summed instead of averaged: over nodes (and labels), so batches and ranks add up."""
    if task == MULTICLASS:
        return F.cross_entropy(out, y, reduction="sum")
    return F.binary_cross_entropy_with_logits(out, y, reduction="sum")


def metric_counts(task: str, out: Tensor, y: Tensor) -> Tensor:
    """Sufficient statistics so that metrics add up over batches: [correct, total] or [tp, fp, fn]."""
    if task == MULTICLASS:
        return torch.stack([(out.argmax(-1) == y).sum(), torch.tensor(y.numel(), device=y.device)]).double()
    pred = out > 0
    truth = y > 0.5
    tp = (pred & truth).sum()
    fp = (pred & ~truth).sum()
    fn = (~pred & truth).sum()
    return torch.stack([tp, fp, fn]).double()


def metric_value(task: str, counts: Tensor) -> float:
    c = counts.tolist()
    if task == MULTICLASS:
        return c[0] / max(c[1], 1)
    tp, fp, fn = c
    return 2 * tp / max(2 * tp + fp + fn, 1)
