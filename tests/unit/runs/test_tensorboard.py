"""run.tensorboard (issue 20 part 1): event files in RUN/tb, read back with TensorBoard's own reader."""

from __future__ import annotations

import csv
import sys

import pytest

from gnnviz.config import load_config
from gnnviz.errors import ConfigError
from gnnviz.experiment import train

KARATE = ["dataset.name=karate", "model.name=gcn", "training.epochs=6", "training.patience=0"]


def _accumulator(run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tb"), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_every_scalar_equals_metrics_csv_and_hparams_are_there(tmp_path):
    cfg = load_config(None, [*KARATE, "run.tensorboard=true"])
    run = train(cfg, out=tmp_path, name="tb", quiet=True)
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    acc = _accumulator(run)
    pairs = {
        "loss/train": "train_loss",
        "loss/val": "val_loss",
        "accuracy/train": "train_metric",
        "accuracy/val": "val_metric",
        "seconds_per_epoch": "seconds",
    }
    for tag, column in pairs.items():
        events = acc.Scalars(tag)
        assert [e.step for e in events] == [int(r["epoch"]) for r in rows]
        assert [e.value for e in events] == pytest.approx([float(r[column]) for r in rows], rel=1e-6)
    assert [e.value for e in acc.Scalars("lr")] == pytest.approx([cfg.training.lr] * len(rows))
    plugin = acc.PluginTagToContent("hparams")
    assert "_hparams_/experiment" in plugin and "_hparams_/session_start_info" in plugin
    from tensorboard.plugins.hparams import plugin_data_pb2

    start = plugin_data_pb2.HParamsPluginData.FromString(plugin["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["training.lr"].number_value == pytest.approx(cfg.training.lr)
    assert start.hparams["model.name"].string_value == "gcn"
    import json

    summary = json.loads((run / "summary.json").read_text())
    assert acc.Scalars("hparams/test_metric")[0].value == pytest.approx(summary["test_metric"])


def test_off_by_default_writes_no_tb_folder(tmp_path):
    run = train(load_config(None, KARATE), out=tmp_path, name="plain", quiet=True)
    assert not (run / "tb").exists()


def test_missing_tensorboard_is_one_line_and_leaves_no_run(tmp_path, monkeypatch):
    from gnnviz.cli import app as cli_app

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ConfigError, match=r"pip install gnnviz\[tensorboard\]") as info:
        cli_app.train(set_=KARATE, out=tmp_path, name="x", tensorboard=True, quiet=True)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "x").exists()


def test_a_failing_writer_says_so_once_and_the_run_goes_on(tmp_path, monkeypatch, capsys):
    from torch.utils.tensorboard import SummaryWriter

    def broken(self, *a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(SummaryWriter, "add_scalar", broken)
    cfg = load_config(None, [*KARATE, "run.tensorboard=true"])
    run = train(cfg, out=tmp_path, name="broken", quiet=True)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("tensorboard:")]
    assert len(lines) == 1 and "disk full" in lines[0]
    assert (run / "checkpoint.pt").exists() and len((run / "metrics.csv").read_text().splitlines()) == 7


def test_snapshots_become_scalars_over_epochs(tmp_path, monkeypatch):
    import json
    import math

    from gnnviz.snapshots import Snapshots

    monkeypatch.setattr(Snapshots, "BUDGET", math.inf)
    cfg = load_config(None, [*KARATE, "model.name=gat", "training.snapshots=2", "run.tensorboard=true"])
    run = train(cfg, out=tmp_path, name="snaps", quiet=True)
    rows = json.loads((run / "snapshots.json").read_text())["snapshots"]
    acc = _accumulator(run)
    for i in range(len(rows[0]["layers"])):
        lift = acc.Scalars(f"snapshots/layer{i}/lift")
        assert [e.step for e in lift] == [r["epoch"] for r in rows]
        for key, events in (("lift", lift), ("kl", acc.Scalars(f"snapshots/layer{i}/kl"))):
            want = [sum(r["layers"][i][key]) / len(r["layers"][i][key]) for r in rows]  # mean over heads
            assert [e.value for e in events] == pytest.approx(want, rel=1e-5, abs=1e-7)


def test_a_writer_that_cannot_open_says_so_once_and_the_run_goes_on(tmp_path, monkeypatch, capsys):
    import torch.utils.tensorboard as tb

    def refuse(*a, **k):
        raise PermissionError("read-only")

    monkeypatch.setattr(tb, "SummaryWriter", refuse)
    run = train(load_config(None, [*KARATE, "run.tensorboard=true"]), out=tmp_path, name="ro", quiet=True)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("tensorboard:")]
    assert len(lines) == 1 and "read-only" in lines[0]
    assert (run / "checkpoint.pt").exists()


def test_visualize_tensorboard_writes_the_projector(tmp_path):
    from gnnviz.cli import app as cli_app

    run = train(load_config(None, KARATE), out=tmp_path, name="proj", quiet=True)
    for _ in range(2):  # the second replaces the first whole
        cli_app.visualize(run=run, out=tmp_path / "viz", top_k=1, quiet=True, tensorboard=True)
    assert sorted(p.name for p in (run / "tb").iterdir()) == ["projector"]
    folder = run / "tb" / "projector"
    config = (folder / "projector_config.pbtxt").read_text()
    assert config.count("embeddings {") == 2 and "hidden0" in config and "output" in config
    metas = sorted(folder.glob("*/*/metadata.tsv"))
    tensors = sorted(folder.glob("*/*/tensors.tsv"))
    assert len(metas) == len(tensors) == 2
    for meta, tensor in zip(metas, tensors, strict=True):
        head, *rows = meta.read_text().splitlines()
        assert head.split("\t") == ["class", "prediction", "split", "correct"]
        assert len(rows) == len(tensor.read_text().splitlines()) == 34  # karate's nodes
        assert {r.split("\t")[3] for r in rows} <= {"true", "false"}


def test_the_real_tensorboard_server_serves_the_run_scalars(tmp_path):
    import json
    import shutil
    import socket
    import subprocess
    import time
    import urllib.request
    from pathlib import Path

    exe = Path(sys.executable).with_name("tensorboard")
    if not exe.exists() and shutil.which("tensorboard") is None:
        pytest.skip("no tensorboard command next to this Python")
    run = train(load_config(None, [*KARATE, "run.tensorboard=true"]), out=tmp_path, name="served", quiet=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [str(exe) if exe.exists() else "tensorboard", "--logdir", str(tmp_path), "--host", "127.0.0.1"]
    proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/data/plugin/scalars/scalars?run=served/tb&tag=loss/train"
        deadline, data = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    data = json.loads(response.read())
                if data:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert data, "tensorboard served no scalars within 60 s"
        rows = list(csv.DictReader((run / "metrics.csv").open()))
        assert [int(step) for _, step, _ in data] == [int(r["epoch"]) for r in rows]
        assert [v for _, _, v in data] == pytest.approx([float(r["train_loss"]) for r in rows], rel=1e-6)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_ctrl_c_closes_the_writer_with_every_epoch_so_far(tmp_path, monkeypatch):
    from gnnviz import tensorboard

    original = tensorboard.Board.epoch

    def epoch_then_ctrl_c(self, row, **kw):
        original(self, row, **kw)
        if row["epoch"] == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(tensorboard.Board, "epoch", epoch_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        train(load_config(None, [*KARATE, "run.tensorboard=true"]), out=tmp_path, name="stopped", quiet=True)
    acc = _accumulator(tmp_path / "stopped")
    assert [e.step for e in acc.Scalars("loss/val")] == [1, 2, 3]
    assert "_hparams_/session_start_info" in acc.PluginTagToContent("hparams")
