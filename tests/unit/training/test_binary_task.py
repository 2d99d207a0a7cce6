"""The binary task (``datasets.BINARY``, e.g. minesweeper): ROC AUC as its metric, from histograms
that add up over batches, against scikit-learn's exact value; early stopping keeps the state of
best validation AUC, and the run names the metric."""

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from gnnviz.datasets.base import BINARY
from gnnviz.training.tasks import AUC_BINS, AUC_RANGE, metric_counts, metric_value


def test_roc_auc_matches_sklearn_and_adds_up_over_batches():
    gen = torch.Generator().manual_seed(0)
    out = torch.randn(500, 2, generator=gen) * 3
    out[:50] = out[50:100]  # exact ties between nodes
    y = (torch.rand(500, generator=gen) < 0.3).long()
    exact = roc_auc_score(y.numpy(), (out[:, 1] - out[:, 0]).numpy())
    ours = metric_value(BINARY, metric_counts(BINARY, out, y))
    # Pairs closer than one bin (2 * AUC_RANGE / AUC_BINS = 0.0012 in logit) count as ties: with
    # scores of s.d. about 4, under 0.05% of pairs are that close, each off by 1/2.
    assert ours == pytest.approx(exact, abs=5e-4)
    halves = metric_counts(BINARY, out[:200], y[:200]) + metric_counts(BINARY, out[200:], y[200:])
    assert metric_value(BINARY, halves) == ours


def test_roc_auc_extremes_and_the_undefined_case():
    y = torch.tensor([0, 0, 1, 1])
    ranked = torch.tensor([[0.0, -2.0], [0.0, -1.0], [0.0, 1.0], [0.0, 2.0]])
    assert metric_value(BINARY, metric_counts(BINARY, ranked, y)) == 1.0
    assert metric_value(BINARY, metric_counts(BINARY, -ranked, y)) == 0.0
    assert metric_value(BINARY, metric_counts(BINARY, torch.zeros(4, 2), y)) == 0.5  # all tied
    far = torch.tensor([[0.0, -5 * AUC_RANGE], [0.0, 5 * AUC_RANGE]])  # beyond the range: end bins
    assert metric_value(BINARY, metric_counts(BINARY, far, torch.tensor([0, 1]))) == 1.0
    assert metric_counts(BINARY, ranked, y).shape == (2 * AUC_BINS,)
    assert np.isnan(metric_value(BINARY, metric_counts(BINARY, ranked, torch.ones(4, dtype=torch.long))))


def test_a_minesweeper_run_stops_on_val_auc_and_names_it(tmp_path):
    from gnnviz.config import load_config
    from gnnviz.experiment import train
    from gnnviz.models.gnn import rebuild
    from gnnviz.runs.load import load_checkpoint
    from gnnviz.runs.store import read_graphs

    sets = ["dataset.name=minesweeper", "dataset.grid_size=16", "model.name=gcn", "training.epochs=15", "training.lr=0.05"]
    run = train(load_config(None, [*sets, "training.early_stopping=metric"]), out=tmp_path, name="ms", quiet=True)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["metric"] == "roc_auc"
    rows = (run / "metrics.csv").read_text().splitlines()
    vals = [float(r.split(",")[4]) for r in rows[1:]]
    assert summary["val_metric"] == pytest.approx(max(vals))  # the rule 'metric' keeps the best val AUC
    model = rebuild(load_checkpoint(run))
    g = read_graphs(run).graphs[0]
    with torch.no_grad():
        out = model(g.x, g.edge_index)
    score = (out[:, 1] - out[:, 0]).numpy()
    for split in ("val", "test"):
        m = g[f"{split}_mask"].numpy()
        assert summary[f"{split}_metric"] == pytest.approx(roc_auc_score(g.y.numpy()[m], score[m]), abs=2e-3), split
