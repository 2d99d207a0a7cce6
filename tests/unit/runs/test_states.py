"""The states a run keeps (selected, min-loss, last): each loads with ``weights_only=True`` and
gives the metrics its summary says; a state the run lacks, or a file of another state, is named."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch

from gnnviz.config import load_config
from gnnviz.datasets import load_dataset
from gnnviz.errors import ConfigError, RunError
from gnnviz.experiment import train
from gnnviz.models.gnn import rebuild
from gnnviz.runs.layout import STATE_FILES, STATES
from gnnviz.runs.load import load_checkpoint, state_file
from gnnviz.training.tasks import loss_fn, metric_counts, metric_value

# karate, GAT, lr 0.2, 20 epochs: on this machine the rule keeps epoch 9, the loss is lowest at
# epoch 17 and the last is 20, so every state has its own file.
OVERRIDES = ["dataset.name=karate", "model.hidden=8", "training.lr=0.2", "training.epochs=20", "training.patience=0"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train(load_config(None, OVERRIDES), out=tmp_path_factory.mktemp("states"), name="r", quiet=True)


def _scores(ckpt, split: str) -> tuple[float, float]:
    ds = load_dataset("karate", None)
    g = ds.train[0]
    model = rebuild(ckpt)
    with torch.no_grad():
        out = model(g.x, g.edge_index)
    mask = getattr(g, f"{split}_mask")
    return float(loss_fn(ds.task, out[mask], g.y[mask])), metric_value(ds.task, metric_counts(ds.task, out[mask], g.y[mask]))


def test_every_state_a_run_keeps_loads_and_gives_the_metrics_its_summary_says(run):
    summary = json.loads((run / "summary.json").read_text())
    states = summary["states"]
    assert list(states) == list(STATES)
    assert states["selected"]["epoch"] == summary["best_epoch"] and states["last"]["epoch"] == summary["epochs_run"]
    assert len({s["epoch"] for s in states.values()}) == 3, states  # the precondition of this test's settings
    rows = {int(r.split(",")[0]): r.split(",") for r in (run / "metrics.csv").read_text().splitlines()[1:]}
    val_losses = {e: float(r[3]) for e, r in rows.items()}
    assert states["min-loss"]["epoch"] == min(val_losses, key=lambda e: (val_losses[e], e))
    for name, row in states.items():
        assert row["file"] == STATE_FILES[name]
        raw = torch.load(run / row["file"], map_location="cpu", weights_only=True)  # self-describing
        assert raw["epoch"] == row["epoch"] and raw["model"]["kwargs"]["name"] == "gat" and "graph_sha256" in raw
        ckpt = load_checkpoint(run, name)
        val_loss, val_metric = _scores(ckpt, "val")
        _, test_metric = _scores(ckpt, "test")
        # Accuracy is a count of argmaxes: exact; the loss within float32 rounding of another order.
        assert (val_metric, test_metric) == (row["val_metric"], row["test_metric"]), name
        assert math.isclose(val_loss, row["val_loss"], rel_tol=1e-5), name
        assert math.isclose(val_loss, val_losses[row["epoch"]], rel_tol=1e-5), name


def test_states_of_the_same_epoch_share_one_file(tmp_path):
    # 1 epoch: selected, min-loss and last are all epoch 1.
    run = train(load_config(None, ["dataset.name=karate", "training.epochs=1"]), out=tmp_path, name="one", quiet=True)
    states = json.loads((run / "summary.json").read_text())["states"]
    assert {n: (s["epoch"], s["file"]) for n, s in states.items()} == {n: (1, "checkpoint.pt") for n in STATES}
    assert not (run / "checkpoint-min-loss.pt").exists() and not (run / "checkpoint-last.pt").exists()
    assert all(load_checkpoint(run, n)["epoch"] == 1 for n in STATES)


def test_an_interrupt_keeps_every_state_reached_so_far(tmp_path, monkeypatch):
    import gnnviz.training.loop as loop

    calls = {"n": 0}
    real = loop.make_steps

    def steps(*a, **kw):
        train_step, evaluate = real(*a, **kw)

        def interrupted():
            calls["n"] += 1
            if calls["n"] == 15:
                raise KeyboardInterrupt
            return train_step()

        return interrupted, evaluate

    monkeypatch.setattr(loop, "make_steps", steps)
    with pytest.raises(KeyboardInterrupt):
        train(load_config(None, OVERRIDES), out=tmp_path, name="cut", quiet=True)
    run = tmp_path / "cut"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["epochs_run"] == 14
    assert summary["states"]["last"]["epoch"] == 14
    for name in STATES:
        assert load_checkpoint(run, name)["epoch"] == summary["states"][name]["epoch"]


def test_a_state_the_run_lacks_or_an_unknown_one_is_named(run, tmp_path):
    with pytest.raises(ConfigError, match=r"--state 'lowest' is not a state a run keeps; choose one of selected, min-loss, last"):
        state_file(run, "lowest")
    old = tmp_path / "old"
    shutil.copytree(run, old)
    summary = json.loads((old / "summary.json").read_text())
    del summary["states"]  # a run from before other states were kept
    (old / "summary.json").write_text(json.dumps(summary))
    assert load_checkpoint(old)["epoch"] == summary["best_epoch"]
    with pytest.raises(ConfigError) as exc:
        load_checkpoint(old, "last")
    assert str(exc.value) == (
        f"{old} has no 'last' state (it was trained before gnnviz kept more than one state); it has selected: "
        "pass --state selected, or train it again"
    )


def test_a_state_file_from_another_state_is_refused(run, tmp_path):
    spoilt = tmp_path / "spoilt"
    shutil.copytree(run, spoilt)
    shutil.copy(spoilt / "checkpoint-last.pt", spoilt / "checkpoint-min-loss.pt")
    with pytest.raises(
        RunError, match=r"checkpoint-min-loss.pt holds epoch 20, but .*summary.json says the min-loss state is epoch"
    ):
        load_checkpoint(spoilt, "min-loss")
