"""The run-directory format: a dead run is recognised, ``list_runs`` (``gnnviz runs``) never crashes."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from gnnviz.errors import ConfigError, RunError
from gnnviz.runs.checks import check_fits
from gnnviz.runs.layout import check_out_dir
from gnnviz.runs.listing import list_runs
from gnnviz.runs.load import load_checkpoint, load_run
from gnnviz.runs.status import process_alive, process_fields
from gnnviz.runs.store import read_graphs
from tests.support.runs import retrain_on


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
        load_run(tmp_path / "k")
    (row,) = list_runs(tmp_path)
    assert row.status == "dead" and f"process {pid} gone" in row.problem


def test_a_live_run_is_reported_running():
    summary = {"status": "running", **process_fields()}
    assert process_alive(summary) is True
    assert process_alive({**summary, "pid_started": -1}) is False  # a reused pid is not our process


def test_list_runs_shows_aggregates_seeds_and_damage(tmp_path):
    _write(tmp_path / "agg", {"dataset": "cora", "model": "gcn", "status": "completed", "runs": [
        {"status": "completed"}, {"status": "completed"}], "test_metric_mean": 0.8, "test_metric_std": 0.01})  # fmt: skip
    for s in (0, 1, 10):
        _write(tmp_path / "agg" / f"seed-{s}", {"dataset": "cora", "model": "gcn", "status": "completed", "best_epoch": 7,
                                               "test_metric": 0.8}, checkpoint_pt="x")  # fmt: skip
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "summary.json").write_text("{not json")
    (tmp_path / "notarun").mkdir()
    rows = {r.name: r for r in list_runs(tmp_path)}
    assert list(rows) == ["agg", "agg/seed-0", "agg/seed-1", "agg/seed-10", "bad"]
    assert rows["agg"].test_metric == "0.8000 +- 0.0100 (n=2)"
    assert rows["agg/seed-1"].best_epoch == "7" and rows["agg/seed-1"].status == "completed"
    assert rows["bad"].status == "damaged" and "not valid JSON" in rows["bad"].problem


def test_list_runs_names_each_run_it_cannot_read_and_lists_the_rest(tmp_path, monkeypatch):
    """One unreadable folder (permission denied, even where Path.exists raises) or one damaged field
    is one row saying why; every other run is listed."""
    import os
    from pathlib import Path

    good = {"dataset": "karate", "model": "gat", "status": "completed", "best_epoch": 3, "test_metric": 0.7}
    _write(tmp_path / "a-good", good, checkpoint_pt="x")
    _write(tmp_path / "b-locked", good, checkpoint_pt="x")
    _write(tmp_path / "c-runs", {**good, "runs": 5})
    _write(tmp_path / "d-pid", {**good, "status": "running", "pid": 1 << 40, "host": socket.gethostname()})
    locked = tmp_path / "b-locked"
    exists, listdir = Path.exists, os.listdir

    def denied(path, *a, **k):
        if str(path).startswith(str(locked)):
            raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "exists", lambda self, *a, **k: denied(self) or exists(self, *a, **k))
    monkeypatch.setattr(os, "listdir", lambda p=".": denied(p) or listdir(p))
    rows = {r.name: r for r in list_runs(tmp_path)}
    assert list(rows) == ["a-good", "b-locked", "c-runs", "d-pid"]
    assert rows["a-good"].status == "completed" and rows["a-good"].problem is None
    assert rows["b-locked"].status == "damaged" and "permission denied" in rows["b-locked"].problem.lower()
    assert rows["c-runs"].status == "damaged" and "'runs' is 5, expected a list" in rows["c-runs"].problem
    assert rows["d-pid"].status == "damaged" and "'pid' is 1099511627776" in rows["d-pid"].problem
    assert process_alive({"status": "running", "pid": 1 << 40}) is None  # os.kill would overflow


def test_list_runs_of_a_missing_folder_or_a_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        list_runs(tmp_path / "nope")
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        list_runs(tmp_path / "f")
    (tmp_path / "f").unlink()
    assert list_runs(tmp_path) == []


# ----------------------------------------------------------------------------- files agree with each other


@pytest.fixture(scope="module")
def karate_run(tmp_path_factory):
    from gnnviz.config import load_config
    from gnnviz.experiment import train

    cfg = load_config(None, ["dataset.name=karate", "training.epochs=2", "training.patience=0", "model.hidden=8"])
    return train(cfg, out=tmp_path_factory.mktemp("runs"), name="k", quiet=True)


def _copy(run, dest):
    import shutil

    shutil.copytree(run, dest)
    return dest


def _draw_arrays(run):
    from gnnviz.viz.load import load_arrays

    return load_arrays(run)


def _other_value(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return round(value / 2 + 0.05, 3)
    return f"{value}x" if isinstance(value, str) else 3  # another name; a value for an unset option


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_every_model_field_of_config_yaml_must_match_the_checkpoint(tmp_path, karate_run, warm):
    import yaml

    base = _copy(karate_run, tmp_path / "run")
    if warm:
        _draw_arrays(base)  # the forward is cached, keyed by checkpoint.pt and graph.pt only
    config = yaml.safe_load((base / "config.yaml").read_text())
    assert len(config["model"]) >= 9
    for key, value in config["model"].items():
        changed = {**config, "model": {**config["model"], key: _other_value(value)}}
        (base / "config.yaml").write_text(yaml.safe_dump(changed, sort_keys=False))
        with pytest.raises(RunError) as exc:
            _draw_arrays(base)
        msg = str(exc.value)
        if key == "name":  # load_run holds config.yaml to summary.json first
            assert msg.startswith(f"{base / 'config.yaml'} says model 'gatx' but {base / 'summary.json'} says 'gat'"), msg
        elif value is None and not msg.startswith(f"{base / 'checkpoint.pt'}"):  # 3 for an unset option of another type
            assert msg.startswith(f"{base / 'config.yaml'} is damaged: model.{key}=3 must be"), msg
        else:
            assert (
                msg.startswith(f"{base / 'checkpoint.pt'} says model.{key}=")
                and f"{base / 'config.yaml'} says model.{key}=" in msg
            )
    (base / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert _draw_arrays(base).num_nodes == 34  # the run's own files agree again


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_a_checkpoint_from_another_run_is_named_with_the_field(tmp_path, karate_run, warm):
    from gnnviz.config import load_config
    from gnnviz.experiment import train

    other = train(
        load_config(None, ["dataset.name=karate", "training.epochs=2", "model.hidden=16"]), out=tmp_path, name="o", quiet=True
    )
    run = _copy(karate_run, tmp_path / "run")
    if warm:
        _draw_arrays(run)
    (run / "summary.json").write_bytes((other / "summary.json").read_bytes())  # a summary from another run
    with pytest.raises(RunError, match=r"checkpoint.pt says num_params=\d+ but .*summary.json says num_params=\d+"):
        _draw_arrays(run)
    _copy(karate_run, tmp_path / "run2")
    (tmp_path / "run2" / "checkpoint.pt").write_bytes((other / "checkpoint.pt").read_bytes())
    with pytest.raises(RunError, match=r"run2/checkpoint.pt says num_params=\d+ but"):
        _draw_arrays(tmp_path / "run2")


def _retarget(run, **kwargs):
    import torch

    from gnnviz.models.gnn import GNN

    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    ckpt["model"]["kwargs"].update(kwargs)
    ckpt["state_dict"] = GNN(**ckpt["model"]["kwargs"]).state_dict()  # consistent in itself
    torch.save(ckpt, run / "checkpoint.pt")


@pytest.mark.parametrize(
    "change, field, graph_value",
    [({"in_channels": 7}, "in_channels (node features)", 34), ({"out_channels": 5}, "out_channels (classes)", 4)],
)
def test_a_checkpoint_must_fit_the_stored_graph(tmp_path, karate_run, change, field, graph_value):
    import json

    run = _copy(karate_run, tmp_path / "run")
    _retarget(run, **change)
    summary = json.loads((run / "summary.json").read_text())
    import torch

    summary["num_params"] = sum(v.numel() for v in torch.load(run / "checkpoint.pt", weights_only=True)["state_dict"].values())
    (run / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(RunError) as exc:
        _draw_arrays(run)
    value = next(iter(change.values()))
    assert str(exc.value).startswith(
        f"{run / 'checkpoint.pt'} says {field}={value} but {run / 'graph.pt'} says {field}={graph_value}"
    )


def test_the_class_count_is_recorded_even_where_the_labels_do_not_show_it(tmp_path, karate_run):
    import torch

    run = _copy(karate_run, tmp_path / "run")
    blob = torch.load(run / "graph.pt", weights_only=True)
    assert blob["num_classes"] == 4
    blob["graphs"][0]["y"] = torch.zeros_like(blob["graphs"][0]["y"])  # labels that show one class only
    retrain_on(run, blob)
    assert read_graphs(run).num_classes == 4
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    check_fits(run, ckpt, read_graphs(run))  # still fits: 4 classes, as recorded
    del blob["num_classes"]  # a graph.pt from before the count was recorded: labels in range are enough
    del ckpt["graph_sha256"]  # (such a run's checkpoint recorded no graph digest either)
    torch.save(blob, run / "graph.pt")
    check_fits(run, ckpt, read_graphs(run))
    blob["graphs"][0]["y"][0] = 9  # a label the model has no output for
    torch.save(blob, run / "graph.pt")
    with pytest.raises(RunError, match=r"says out_channels \(classes\)=4 but .*graph.pt says out_channels \(classes\)=10"):
        check_fits(run, ckpt, read_graphs(run))


GRAPH_DAMAGE = {
    "edge beyond the nodes": lambda g: g.update(edge_index=g["edge_index"] + 100),
    "negative edge": lambda g: g.update(edge_index=g["edge_index"] - 1),
    "labels for fewer nodes": lambda g: g.update(y=g["y"][:-1]),
    "mask for fewer nodes": lambda g: g.update(test_mask=g["test_mask"][:-1]),
    "more nodes than features": lambda g: g.update(num_nodes=g["num_nodes"] + 1),
    "huge feature shape": lambda g: g.update(x_shape=[g["num_nodes"], 1 << 40]),
    "feature shape of 3 dims": lambda g: g.update(x_shape=[g["num_nodes"], 34, 1]),
    "truth node mask for fewer nodes": lambda g: g.update(truth_node_mask=g["test_mask"][:-1]),
    "truth edge mask for fewer edges": lambda g: g.update(truth_edge_mask=g["edge_index"][0, 1:] > 0),
}


@pytest.mark.parametrize("damage", sorted(GRAPH_DAMAGE))
def test_a_graph_file_whose_arrays_disagree_is_named(tmp_path, karate_run, damage):
    import torch

    run = _copy(karate_run, tmp_path / "run")
    blob = torch.load(run / "graph.pt", weights_only=True)
    assert "x_shape" in blob["graphs"][0]  # karate's features are stored sparse
    GRAPH_DAMAGE[damage](blob["graphs"][0])
    torch.save(blob, run / "graph.pt")
    with pytest.raises(RunError, match=f"^{run / 'graph.pt'} is damaged or not written by gnnviz; train the run again$"):
        _draw_arrays(run)


def test_a_known_explanation_is_stored_with_the_graph_and_read_back(tmp_path):
    import torch
    from torch_geometric.data import Data

    from gnnviz.runs.store import save_graphs

    n, ei = 4, torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    g = Data(x=torch.ones(n, 1), edge_index=ei, y=torch.tensor([0, 1, 1, 0]), num_nodes=n)
    g.train_mask = g.val_mask = g.test_mask = torch.ones(n, dtype=torch.bool)
    g.truth_node_mask = torch.tensor([0, 1, 1, 0])  # any 0/1 dtype is stored as bool
    g.truth_edge_mask = torch.tensor([False, False, True, True, False, False])
    plain = g.clone()
    del plain.truth_node_mask, plain.truth_edge_mask
    for folder, graph in (("with", g), ("without", plain)):
        (tmp_path / folder).mkdir()
        save_graphs(tmp_path / folder, [graph], dataset="d", task="multiclass", split="all", num_classes=2)
    back = read_graphs(tmp_path / "with").graphs[0]
    assert back.truth_node_mask.dtype == torch.bool and back.truth_node_mask.tolist() == [False, True, True, False]
    assert back.truth_edge_mask.tolist() == g.truth_edge_mask.tolist()
    assert "truth_edge_mask" not in read_graphs(tmp_path / "without").graphs[0]


def test_an_output_folder_under_a_file_names_the_file(tmp_path):
    (tmp_path / "f").write_text("x")
    for out in (tmp_path / "f" / "sub", tmp_path / "f" / "a" / "b"):
        with pytest.raises(
            ConfigError, match=f"^output folder {out} cannot be created: {tmp_path / 'f'} is a file; pass --out DIR"
        ):
            check_out_dir(out)
    assert (tmp_path / "f").read_text() == "x"


def test_values_quoted_from_run_files_are_cut_short_and_odd_types_are_damage(tmp_path, karate_run):
    import json

    run = _copy(karate_run, tmp_path / "run")
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "num_params": True}))  # not a count: the file is damaged
    with pytest.raises(RunError, match=r"summary.json is damaged: field 'num_params' is true, expected a whole number"):
        load_checkpoint(run)
    (run / "summary.json").write_text(json.dumps({**summary, "dataset": "x" * 100_000}))
    with pytest.raises(RunError) as exc:
        load_checkpoint(run)
    assert "is a dataset 'xxxx" in str(exc.value) and "...  run" not in str(exc.value) and len(str(exc.value)) < 400


def test_a_config_yaml_cut_short_at_any_line_is_named(tmp_path, karate_run):
    """train writes every section; a config.yaml that lost one (cut at any line that drops a
    section's last field, or emptied a section) is named, never read with defaults filled in."""
    from gnnviz.runs.layout import CONFIG_SECTIONS
    from gnnviz.runs.load import load_run

    lines = (karate_run / "config.yaml").read_text().splitlines(keepends=True)
    run = _copy(karate_run, tmp_path / "cut")
    load_run(run)  # whole: accepted
    heads = [i for i, line in enumerate(lines) if line.rstrip(":\n") in CONFIG_SECTIONS]
    for cut in range(1, len(lines)):  # cut 0 (empty file) is 'not a gnnviz config'
        text = "".join(lines[:cut])
        dropped = [line.rstrip(":\n") for i, line in enumerate(lines) if i in heads and (i >= cut or i + 1 >= cut)]
        (run / "config.yaml").write_text(text)
        if not dropped:
            continue
        with pytest.raises(RunError) as exc:
            load_run(run)
        assert str(exc.value).startswith(f"{run / 'config.yaml'} ") and dropped[0] in str(exc.value), (cut, str(exc.value))


@pytest.mark.parametrize("share", [0.5, 0.7, 0.9, 0.99])
def test_a_checkpoint_cut_short_is_named_truncated(tmp_path, karate_run, share):
    """torch's zip reader reports a missing end as EINVAL; the message names the file's damage."""
    run = _copy(karate_run, tmp_path / "run")
    for name in ("checkpoint.pt", "graph.pt"):
        data = (karate_run / name).read_bytes()
        (run / name).write_bytes(data[: int(len(data) * share)])
        with pytest.raises(RunError, match=rf"{name} is truncated") as exc:
            load_checkpoint(run) if name == "checkpoint.pt" else read_graphs(run)
        assert "file system" not in str(exc.value)
        (run / name).write_bytes(data)


def test_a_graph_file_of_the_same_shapes_from_elsewhere_is_named(tmp_path, karate_run):
    """graph.pt replaced by one whose arrays have the same shapes (another run's, or edited): the
    checkpoint records the digest of the graphs it was trained on, and the run is refused."""
    import torch

    from gnnviz.runs.checks import check_fits

    run = _copy(karate_run, tmp_path / "run")
    ckpt = load_checkpoint(run)
    check_fits(run, ckpt, read_graphs(run))  # its own graph: accepted
    blob = torch.load(run / "graph.pt", weights_only=True)
    blob["graphs"][0]["y"] = blob["graphs"][0]["y"].flip(0)  # same shape, dtype and range
    torch.save(blob, run / "graph.pt")
    with pytest.raises(RunError, match=r"graph.pt is not the graph file .*checkpoint.pt was trained on"):
        check_fits(run, ckpt, read_graphs(run))
