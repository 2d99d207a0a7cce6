"""training.snapshots (issue 9 part 3.4): attention summaries during training, drawn by visualize."""

from __future__ import annotations

import json
import math

import pytest

from gnnviz.config import load_config
from gnnviz.errors import ConfigError
from gnnviz.experiment import train
from gnnviz.snapshots import Snapshots

KARATE = ["dataset.name=karate", "model.name=gat", "training.epochs=12", "training.patience=0"]


def _train(tmp_path, name, *extra):
    cfg = load_config(None, [*KARATE, *extra])
    return train(cfg, out=tmp_path, name=name, quiet=True)


def _columns(run, skip="seconds"):
    lines = (run / "metrics.csv").read_text().splitlines()
    head = lines[0].split(",")
    keep = [i for i, c in enumerate(head) if c != skip]
    return [[row.split(",")[i] for i in keep] for row in lines]


def test_snapshots_never_change_what_is_trained(tmp_path, monkeypatch):
    monkeypatch.setattr(Snapshots, "BUDGET", math.inf)
    plain = _train(tmp_path, "plain")
    snapped = _train(tmp_path, "snapped", "training.snapshots=1")
    assert _columns(plain) == _columns(snapped)
    assert not (plain / "snapshots.json").exists()


def test_snapshot_of_the_kept_epoch_matches_what_visualize_measures(tmp_path, monkeypatch):
    from gnnviz.analysis import insight
    from gnnviz.viz.load import load_arrays

    monkeypatch.setattr(Snapshots, "BUDGET", math.inf)
    run = _train(tmp_path, "every3", "training.snapshots=3")
    rows = json.loads((run / "snapshots.json").read_text())["snapshots"]
    assert [r["epoch"] for r in rows] == [0, 3, 6, 9, 12]
    run1 = _train(tmp_path, "every1", "training.snapshots=1")
    rows = {r["epoch"]: r for r in json.loads((run1 / "snapshots.json").read_text())["snapshots"]}
    a = load_arrays(run1)
    kept = rows[a.checkpoint.epoch]
    assert len(kept["layers"]) == len(a.attention) == 2
    for layer, la in zip(kept["layers"], a.attention, strict=True):
        want = insight.attention_vs_labels(la.edge_index, la.alpha, a.y)["overall"]["lift"]
        assert layer["lift"] == pytest.approx(want, abs=1e-6)
    val = a.split == "val"
    assert kept["val_metric"] == pytest.approx(float((a.logits.argmax(1) == a.y)[val].mean()))
    assert a.snapshots and [r["epoch"] for r in a.snapshots] == sorted(rows)


def test_snapshots_stay_within_their_time_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(Snapshots, "BUDGET", 0.0)
    run = _train(tmp_path, "budget", "training.snapshots=1")
    data = json.loads((run / "snapshots.json").read_text())
    # The first (warm-up) and second snapshots are always taken; with no budget, nothing after them.
    assert [r["epoch"] for r in data["snapshots"]] == [0, 1]


def test_visualize_draws_attention_over_training(tmp_path, monkeypatch):
    from gnnviz.viz.visualize import visualize

    monkeypatch.setattr(Snapshots, "BUDGET", math.inf)
    run = _train(tmp_path, "drawn", "training.snapshots=4")
    out = visualize(run, tmp_path / "viz", top_k=0, quiet=True)
    assert (out / "insight" / "over_training.png").read_bytes()[:4] == b"\x89PNG"
    plain = _train(tmp_path, "undrawn")
    assert not (visualize(plain, tmp_path / "viz2", top_k=0, quiet=True) / "insight" / "over_training.png").exists()


def test_snapshots_must_be_a_whole_number_of_epochs():
    with pytest.raises(ConfigError, match="training.snapshots=-1 must be at least 0"):
        load_config(None, ["training.snapshots=-1"])


@pytest.mark.parametrize(
    "text",
    [
        '{"snapshots": [{"epoch": 1e400, "layers": []}]}',  # JSON's infinity
        '{"snapshots": [{"epoch": "3", "layers": []}]}',
        '{"snapshots": [{"epoch": true, "layers": []}]}',
        '{"snapshots": [{"epoch": 3, "val_metric": "x", "layers": []}]}',
        '{"snapshots": [{"epoch": 3, "layers": [{"kl": [1e400], "lift": [0.1]}]}]}',
        '{"snapshots": [{"epoch": 3, "layers": [{"kl": "abc", "lift": [0.1]}]}]}',
        '{"snapshots": [{"epoch": 3, "layers": {"kl": [1]}}]}',
        '{"snapshots": [3]}',
        '{"snapshots": {"epoch": 3}}',
    ],
)
def test_a_snapshots_file_with_values_of_the_wrong_kind_is_named_as_damaged(tmp_path, text):
    from gnnviz.errors import RunError
    from gnnviz.viz.load import _snapshots

    (tmp_path / "snapshots.json").write_text(text)
    with pytest.raises(RunError, match=r"snapshots.json is damaged: field 'snapshots.*; put back the run's own snapshots.json"):
        _snapshots(tmp_path / "snapshots.json")
    assert _snapshots(tmp_path / "absent.json") == []  # a run that kept none
    good = '{"snapshots": [{"epoch": 3, "val_metric": 0.5, "layers": [{"kl": [0.1, null], "lift": [0.0, 1]}]}]}'
    (tmp_path / "snapshots.json").write_text(good)
    assert _snapshots(tmp_path / "snapshots.json")[0]["epoch"] == 3
