"""The run-directory format: a dead run is recognised, ``list_runs`` (``gnnviz runs``) never crashes."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from gnnviz import runs
from gnnviz.errors import ConfigError, RunError


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def _write(folder, summary, **files):
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(summary))
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text)


def test_a_killed_run_is_reported_dead_by_visualize_and_runs(tmp_path):
    pid = _dead_pid()
    _write(tmp_path / "k", {"dataset": "karate", "model": "gat", "status": "running", "pid": pid, "host": socket.gethostname()},
           config_yaml="model:\n  name: gat\n")  # fmt: skip
    with pytest.raises(RunError, match=rf"the run died \(process {pid} gone\)"):
        runs.load_run(tmp_path / "k")
    (row,) = runs.list_runs(tmp_path)
    assert row.status == "dead" and f"process {pid} gone" in row.problem


def test_a_live_run_is_reported_running():
    summary = {"status": "running", **runs.process_fields()}
    assert runs.process_alive(summary) is True
    assert runs.process_alive({**summary, "pid_started": -1}) is False  # a reused pid is not our process


def test_list_runs_shows_aggregates_seeds_and_damage(tmp_path):
    _write(tmp_path / "agg", {"dataset": "cora", "model": "gcn", "status": "completed", "runs": [
        {"status": "completed"}, {"status": "completed"}], "test_metric_mean": 0.8, "test_metric_std": 0.01})  # fmt: skip
    for s in (0, 1, 10):
        _write(tmp_path / "agg" / f"seed-{s}", {"dataset": "cora", "model": "gcn", "status": "completed", "best_epoch": 7,
                                               "test_metric": 0.8}, checkpoint_pt="x")  # fmt: skip
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "summary.json").write_text("{not json")
    (tmp_path / "notarun").mkdir()
    rows = {r.name: r for r in runs.list_runs(tmp_path)}
    assert list(rows) == ["agg", "agg/seed-0", "agg/seed-1", "agg/seed-10", "bad"]
    assert rows["agg"].test_metric == "0.8000 +- 0.0100 (n=2)"
    assert rows["agg/seed-1"].best_epoch == "7" and rows["agg/seed-1"].status == "completed"
    assert rows["bad"].status == "damaged" and "not valid JSON" in rows["bad"].problem


def test_list_runs_of_a_missing_folder_or_a_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        runs.list_runs(tmp_path / "nope")
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        runs.list_runs(tmp_path / "f")
    (tmp_path / "f").unlink()
    assert runs.list_runs(tmp_path) == []
