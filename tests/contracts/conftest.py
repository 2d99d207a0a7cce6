"""Fixtures the promise tests share: finished karate runs to copy and spoil."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnnviz.config import load_config
from gnnviz.experiment import train


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """Two finished karate runs (GAT and GCN). Tests copy them before changing anything."""
    out = tmp_path_factory.mktemp("runs")
    gat = load_config(None, ["dataset.name=karate", "training.epochs=5", "training.patience=0"])
    gcn = load_config(None, ["dataset.name=karate", "model.name=gcn", "training.epochs=5", "training.patience=0"])
    return {"gat": train(gat, out=out, name="gat", quiet=True), "gcn": train(gcn, out=out, name="gcn", quiet=True)}
