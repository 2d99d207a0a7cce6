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
        f"{old} was trained before gnnviz kept more states than the selected one, so it has no 'last' state; "
        "leave out --state (the selected state), or train the run again to keep all three"
    )


def test_a_state_file_from_another_state_is_refused(run, tmp_path):
    spoilt = tmp_path / "spoilt"
    shutil.copytree(run, spoilt)
    shutil.copy(spoilt / "checkpoint-last.pt", spoilt / "checkpoint-min-loss.pt")
    with pytest.raises(
        RunError, match=r"checkpoint-min-loss.pt holds epoch 20, but .*summary.json says the min-loss state is epoch"
    ):
        load_checkpoint(spoilt, "min-loss")


# ----------------------------------------------------------------------------- visualize --state


def _forward_logits(run, state):
    ds = load_dataset("karate", None)
    g = ds.train[0]
    model = rebuild(load_checkpoint(run, state))
    with torch.no_grad():
        return model(g.x, g.edge_index).numpy()


def test_each_state_is_drawn_from_its_own_weights_and_cache_entry(run, tmp_path, monkeypatch):
    import numpy as np

    from gnnviz.viz.load import load_arrays

    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    for _ in range(2):  # cold, then from the cache: each state keeps its own entry
        drawn = {name: load_arrays(run, state=name) for name in STATES}
        for name, a in drawn.items():
            summary_row = json.loads((run / "summary.json").read_text())["states"][name]
            assert a.checkpoint.state == name and a.checkpoint.epoch == summary_row["epoch"]
            assert a.checkpoint.test_metric == summary_row["test_metric"]
            np.testing.assert_allclose(a.logits, _forward_logits(run, name), rtol=1e-5, atol=1e-5)
    assert len(list((tmp_path / "cache" / "forward").rglob("*.npz"))) == 3


def test_states_sharing_a_file_keep_apart_cache_entries(tmp_path, monkeypatch):
    from gnnviz.viz.load import load_arrays

    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    one = train(load_config(None, ["dataset.name=karate", "training.epochs=1"]), out=tmp_path, name="one", quiet=True)
    for name in STATES:
        a = load_arrays(one, state=name)
        assert a.checkpoint.state == name and a.checkpoint.epoch == 1
    assert len(list((tmp_path / "cache" / "forward").rglob("*.npz"))) == 3


def test_visualize_state_names_the_state_on_every_figure_and_the_page(run, tmp_path, capsys):
    import re

    from tests.support.cli import run_cli

    code, out, err = run_cli(capsys, "visualize", "--run", run, "--state", "min-loss", "--top-k", "0", "--format", "svg", "-q")
    assert code == 0, err
    viz = run / "viz-min-loss"  # beside RUN/viz: drawing a second state never replaces the first
    assert out.strip() == str(viz) and not (run / "viz").exists()
    epoch = json.loads((run / "summary.json").read_text())["states"]["min-loss"]["epoch"]
    stamp = f"min-loss state: epoch {epoch}, val accuracy"
    svgs = sorted(viz.rglob("*.svg"))
    assert len(svgs) > 8
    for f in svgs:
        text = " ".join(re.sub(r"<[^>]+>", " ", f.read_text()).split())
        assert stamp in text, f
    page = (viz / "index.html").read_text()
    assert f"<h1>GAT on KarateClub, {stamp}" in page
    assert "state drawn</th><td>min-loss: the state of lowest validation loss; the run also keeps selected (epoch" in page
    stats = json.loads((viz / "attention_stats.json").read_text())
    assert stats["checkpoint"]["state"] == "min-loss" and stats["checkpoint"]["epoch"] == epoch


@pytest.mark.parametrize("command", ["visualize", "explain"])
def test_a_bad_state_or_one_the_run_predates_is_one_line_exit_2(run, tmp_path, capsys, command):
    from tests.support.cli import run_cli

    code, out, err = run_cli(capsys, command, "--run", run, "--state", "best")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "error: --state 'best' is not a state a run keeps; choose one of selected, min-loss, last"
    ]
    old = tmp_path / "old"
    shutil.copytree(run, old, ignore=shutil.ignore_patterns("viz*", "explain*"))
    summary = json.loads((old / "summary.json").read_text())
    del summary["states"]
    (old / "summary.json").write_text(json.dumps(summary))
    code, out, err = run_cli(capsys, command, "--run", old, "--state", "min-loss")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"error: {old} was trained before gnnviz kept more states than the selected one, so it has no 'min-loss' state; "
        "leave out --state (the selected state), or train the run again to keep all three"
    ]
    assert sorted(p.name for p in old.iterdir()) == sorted(
        p.name for p in run.iterdir() if not p.name.startswith(("viz", "explain"))
    )


# ----------------------------------------------------------------------------- compare RUN RUN@STATE


def test_compare_puts_two_states_of_one_run_side_by_side(run, tmp_path, capsys):
    from tests.support.cli import run_cli

    code, out, err = run_cli(capsys, "compare", run, f"{run}@last", "--out", tmp_path / "c", "--top-k", "0", "-q")
    assert code == 0, err
    numbers = json.loads((tmp_path / "c" / "compare.json").read_text())
    states = json.loads((run / "summary.json").read_text())["states"]
    got = [(r["label"], r["state"], r["checkpoint_epoch"], r["test_metric"]) for r in numbers["runs"]]
    assert got == [
        ("GAT @selected seed 0", "selected", states["selected"]["epoch"], states["selected"]["test_metric"]),
        ("GAT @last seed 0", "last", states["last"]["epoch"], states["last"]["test_metric"]),
    ]
    assert [g["label"] for g in numbers["groups"]] == ["GAT @selected", "GAT @last"]
    # Their predictions are those of each state's own weights.
    preds = [_forward_logits(run, s).argmax(1) for s in ("selected", "last")]
    test = load_dataset("karate", None).train[0].test_mask.numpy()
    same = float((preds[0][test] == preds[1][test]).mean())
    assert numbers["agreement"]["matrix"][0][1] == pytest.approx(same)
    # --state for every run: one state, named in each label.
    code, _, err = run_cli(
        capsys, "compare", run, f"{run}@selected", "--state", "min-loss", "--out", tmp_path / "d", "--top-k", "0", "-q"
    )
    assert code == 0, err
    labels = [r["label"] for r in json.loads((tmp_path / "d" / "compare.json").read_text())["runs"]]
    assert labels == ["GAT @min-loss seed 0", "GAT @selected seed 0"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["{run}", "{run}@best"], "{run}@best: 'best' is not a state a run keeps; write RUN@selected, RUN@min-loss or RUN@last"),
        (["{run}", "{run}@selected"], "{run} is given twice; pass each run once (two states of one run: RUN RUN@min-loss)"),
        (
            ["{run}@last", "{run}@last"],
            "{run} is given twice in the last state; pass each run once (two states of one run: RUN RUN@min-loss)",
        ),
        (
            ["{run}", "{run}@last", "--state", "best"],
            "--state 'best' is not a state a run keeps; choose one of selected, min-loss, last",
        ),
    ],
)
def test_compare_refuses_a_bad_state_in_one_line(run, tmp_path, capsys, args, message):
    from tests.support.cli import run_cli

    code, out, err = run_cli(capsys, "compare", *[a.format(run=run) for a in args], "--out", tmp_path / "c")
    assert code == 2 and out == "" and not (tmp_path / "c").exists()
    assert err.strip().splitlines() == [f"error: {message.format(run=run)}"]


def test_explain_state_explains_that_state_and_says_so(run, capsys):
    from tests.support.cli import run_cli

    code, out, err = run_cli(capsys, "explain", "--run", run, "--state", "last", "--nodes", "0,33", "--methods", "saliency", "-q")
    assert code == 0, err
    assert out.strip() == str(run / "explain-last")
    doc = json.loads((run / "explain-last" / "explain.json").read_text())
    last = json.loads((run / "summary.json").read_text())["states"]["last"]
    assert doc["state"] == "last" and doc["checkpoint_epoch"] == last["epoch"]
    pred = _forward_logits(run, "last").argmax(1)
    assert [r["predicted"] for r in doc["nodes"]] == [int(pred[0]), int(pred[33])]


@pytest.mark.parametrize("command", ["visualize", "compare", "explain"])
def test_help_names_the_states(capsys, command):
    from tests.support.cli import run_cli

    code, out, _ = run_cli(capsys, command, "--help")
    text = " ".join(out.split())
    assert code == 0 and "--state" in text and "min-loss" in text
