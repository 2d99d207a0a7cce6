"""Loss and metric by task (``datasets.MULTICLASS``, ``BINARY`` or multi-label): ``loss_fn`` (mean),
``loss_sum`` (summed, so that batches and ranks add up), ``metric_counts`` (sufficient statistics
that add up over batches) and ``metric_value`` (accuracy, ROC AUC or micro-F1 from them).

A binary task is two classes under cross-entropy (the same model as one logit under binary
cross-entropy: the logit is ``out[:, 1] - out[:, 0]``), scored by ROC AUC, the probability that a
random positive node scores above a random negative one (ties half). Its sufficient statistics
are histograms of that score for the negatives and the positives over ``AUC_BINS`` bins of width
``2 * AUC_RANGE / AUC_BINS`` (about 0.001 in logit; scores beyond the range go to the end bins):
pairs in one bin count as ties, so the value can differ from the exact one (scikit-learn's
``roc_auc_score``, the tests' reference) by at most the share of positive-negative pairs whose
scores lie within a bin of each other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gnnviz.datasets.base import BINARY, MULTICLASS, SINGLE_LABEL

AUC_BINS = 1 << 15
AUC_RANGE = 20.0  # logits of sigmoid(20) = 1 - 2e-9: float32 probabilities are 1 there anyway


def loss_fn(task: str, out: Tensor, y: Tensor) -> Tensor:
    if task in SINGLE_LABEL:
        return F.cross_entropy(out, y)
    return F.binary_cross_entropy_with_logits(out, y)


def loss_sum(task: str, out: Tensor, y: Tensor) -> Tensor:
    """``loss_fn`` summed instead of averaged: over nodes (and labels), so batches and ranks add up."""
    if task in SINGLE_LABEL:
        return F.cross_entropy(out, y, reduction="sum")
    return F.binary_cross_entropy_with_logits(out, y, reduction="sum")


def metric_counts(task: str, out: Tensor, y: Tensor) -> Tensor:
    """Sufficient statistics so that metrics add up over batches: [correct, total], [tp, fp, fn], or
    for BINARY the score histograms [2 * AUC_BINS]: negatives' bins, then positives'."""
    if task == MULTICLASS:
        return torch.stack([(out.argmax(-1) == y).sum(), torch.tensor(y.numel(), device=y.device)]).double()
    if task == BINARY:
        score = (out[:, 1] - out[:, 0]).detach().double()
        b = ((score + AUC_RANGE) * (AUC_BINS / (2 * AUC_RANGE))).floor().clamp_(0, AUC_BINS - 1).long()
        return torch.bincount(b + AUC_BINS * (y.view(-1) > 0).long(), minlength=2 * AUC_BINS).double()
    pred = out > 0
    truth = y > 0.5
    tp = (pred & truth).sum()
    fp = (pred & ~truth).sum()
    fn = (~pred & truth).sum()
    return torch.stack([tp, fp, fn]).double()


def metric_value(task: str, counts: Tensor) -> float:
    if task == BINARY:
        return roc_auc(counts.view(2, AUC_BINS))
    c = counts.tolist()
    if task == MULTICLASS:
        return c[0] / max(c[1], 1)
    tp, fp, fn = c
    return 2 * tp / max(2 * tp + fp + fn, 1)


def roc_auc(hist: Tensor) -> float:
    """ROC AUC from score histograms ``hist`` [2, bins] (negatives, positives; bins in rising score):
    the share of (positive, negative) pairs where the positive's bin is higher, ties in a bin half.
    NaN when a class is absent (AUC is undefined)."""
    neg, pos = hist[0].double(), hist[1].double()
    n_neg, n_pos = neg.sum(), pos.sum()
    if n_neg == 0 or n_pos == 0:
        return float("nan")
    below = torch.cumsum(neg, 0) - neg  # negatives in lower bins
    return float(((pos * (below + 0.5 * neg)).sum() / (n_neg * n_pos)).item())
