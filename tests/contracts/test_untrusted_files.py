"""Untrusted files: a run, checkpoint, dataset file or config value from elsewhere (another
machine, another run, a crash, an attacker) is used only if it is what it claims; otherwise one
line names it. Nothing in such a file runs code or reaches a page unescaped.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
import yaml

from gnnviz.config import load_config
from gnnviz.errors import ConfigError, DataError, RunError
from gnnviz.runs.layout import CHECKPOINT_FORMAT, CHECKPOINT_VERSION
from gnnviz.runs.load import load_checkpoint
from gnnviz.runs.store import load_graphs
from tests.support.cli import REPO, env_for, gnnviz, one_error
from tests.support.runs import copy_run, draw, entries, temp_files


@pytest.fixture()
def cora_raw(mirror, tmp_path) -> Path:
    """A data root holding a private copy of Cora's raw files (never the read-only mirror)."""
    root = tmp_path / "data"
    shutil.copytree(mirror / "Cora" / "raw", root / "Cora" / "raw")
    return root


def test_values_are_parsed_as_data_never_evaluated(tmp_path):
    marker = tmp_path / "evaluated"
    for item in (f"run.device=__import__('os').system('touch {marker}')", f"dataset.name=$(touch {marker})"):
        with pytest.raises(ConfigError):
            load_config(None, [item])
    assert load_config(None, ["training.lr=1e-3"]).training.lr == 1e-3  # a number, however YAML 1.1 reads it
    assert not marker.exists()


def _save_as_if_on_cuda(path: Path) -> None:
    """Re-save a checkpoint with every storage tagged cuda:0, as torch.save does on a GPU machine."""
    import torch.serialization as ser

    ckpt = torch.load(path, weights_only=True)
    saved = list(ser._package_registry)
    ser.register_package(0, lambda obj: "cuda:0" if getattr(obj, "device", None) is not None else None, lambda obj, loc: None)
    try:
        torch.save(ckpt, path)
    finally:
        ser._package_registry[:] = saved


def test_cuda_trained_run_visualizes_on_cpu(tmp_path, trained):
    run = copy_run(trained["gat"], tmp_path / "from-gpu")
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "device": "cuda:0"}))
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    cfg["run"]["device"] = "cuda:0"
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    _save_as_if_on_cuda(run / "checkpoint.pt")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):  # the fake worked: without map_location it fails here
            torch.load(run / "checkpoint.pt", weights_only=True)
    assert (draw(run, tmp_path / "viz") / "index.html").is_file()


@pytest.mark.parametrize("name", ["ind.cora.graph", "ind.cora.x", "ind.cora.test.index"])
def test_truncated_raw_file_is_named_and_poisons_nothing(tmp_path, cora_raw, mirror, name, monkeypatch):
    from gnnviz.datasets import load_dataset

    bad = cora_raw / "Cora" / "raw" / name
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    monkeypatch.delenv("GNNVIZ_DATA_MIRROR", raising=False)
    if name == "ind.cora.graph":  # once through the CLI: exit code, one line, no run directory
        r = gnnviz("train", "--set", "dataset.name=cora", "--out", tmp_path / "o", env=env_for(tmp_path))
        assert r.returncode == 1
        line = one_error(r).removeprefix("error: ")
        assert not (tmp_path / "o").exists()
    else:
        with pytest.raises(DataError) as exc:
            load_dataset("cora", cora_raw)
        line = str(exc.value)
    assert line.startswith(f"raw file {bad} ") and "truncated or corrupt" in line
    assert line.endswith("delete it and run again to copy it from GNNVIZ_DATA_MIRROR (or download it)")
    assert entries(cora_raw / "Cora") == ["raw", *(f"raw/{f}" for f in sorted(os.listdir(mirror / "Cora" / "raw")))]
    # Following the advice works: delete it, and the next load copies a good one from the mirror.
    bad.unlink()
    monkeypatch.setenv("GNNVIZ_DATA_MIRROR", str(mirror))
    ds = load_dataset("cora", cora_raw)
    assert ds.train[0].num_nodes == 2708 and int(ds.train[0].test_mask.sum()) == 1000


def test_half_made_processed_cache_is_rebuilt(tmp_path, cora_raw):
    from gnnviz.datasets import load_dataset

    load_dataset("cora", cora_raw)
    processed = cora_raw / "Cora" / "processed"
    # A kill while PyG processed: the data file is cut short and the completion mark is missing.
    (processed / ".gnnviz-complete").unlink()
    (processed / "data.pt").write_bytes((processed / "data.pt").read_bytes()[:100])
    ds = load_dataset("cora", cora_raw)
    assert ds.train[0].num_nodes == 2708 and (processed / ".gnnviz-complete").exists()


LOAD_CORA = "from gnnviz.datasets import load_dataset; d = load_dataset('cora'); print(d.train[0].num_nodes, int(d.train[0].test_mask.sum()))"


def test_two_processes_preparing_the_same_dataset_both_succeed(tmp_path, mirror):
    env = env_for(tmp_path, GNNVIZ_DATA_MIRROR=str(mirror))
    pipe = subprocess.PIPE
    procs = [
        subprocess.Popen([sys.executable, "-c", LOAD_CORA], env=env, cwd=REPO, stdout=pipe, stderr=pipe, text=True)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert out.split() == ["2708", "1000"]
    assert (tmp_path / "data" / "Cora" / "processed" / ".gnnviz-complete").exists()
    assert temp_files(tmp_path / "data") == []


def test_names_and_config_text_are_escaped_in_html(tmp_path, trained):
    evil = "<img src=x onerror=alert(1)>"
    run = copy_run(trained["gat"], tmp_path / evil / "run")
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "note": "<script>alert('summary')</script>"}))
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    cfg["run"]["comment"] = "</pre><script>alert('config')</script>"
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    out = draw(run, tmp_path / "viz")
    page = (out / "index.html").read_text()
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;config&#x27;)" in page and "&lt;img src=x onerror=alert(1)&gt;" in page


class _RunsCode:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("how", ["torch.save", "raw pickle"])
@pytest.mark.parametrize("which", ["checkpoint.pt", "graph.pt"])
def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, trained, how, which):
    run = copy_run(trained["gat"], tmp_path / "run")
    marker = tmp_path / "code-ran"
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "evil": _RunsCode(marker)}
    if how == "torch.save":
        torch.save(payload, run / which)
    else:
        (run / which).write_bytes(pickle.dumps(payload))
    with pytest.raises(RunError) as exc:
        load_checkpoint(run) if which == "checkpoint.pt" else load_graphs(run)
    assert str(exc.value).startswith(f"{run / which} holds Python objects beyond tensors and was refused (it could run code)")
    assert not marker.exists()
    if (which, how) == ("checkpoint.pt", "raw pickle"):  # once through the CLI
        r = gnnviz("visualize", "--run", run, "--out", tmp_path / "viz", env=env_for(tmp_path))
        assert r.returncode == 1
        assert one_error(r) == f"error: {exc.value}"
        assert not marker.exists() and not (tmp_path / "viz").exists()
        pickle.loads((run / which).read_bytes())  # proof that the file is a live one: unpickled, it runs
        assert marker.exists()


def _tamper(run: Path, change) -> None:
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    change(ckpt)
    torch.save(ckpt, run / "checkpoint.pt")


def _shape(ckpt):
    # Another shape with as many numbers (the parameter count still matches summary.json).
    key, v = next((k, v) for k, v in ckpt["state_dict"].items() if v.dim() == 2 and v.size(0) != v.size(1))
    ckpt["state_dict"][key] = torch.zeros(v.size(1), v.size(0))


WEIGHTS_CHANGED = "checkpoint.pt is damaged: its weights are not those written at training"


def _zero_in_largest_tensor(path: Path) -> None:
    """64 bytes zeroed in the middle of the checkpoint's largest tensor (torch writes its zip
    records uncompressed: the data sits after each local header)."""
    with zipfile.ZipFile(path) as z:
        info = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    blob = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", blob[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len + info.file_size // 2 - 32
    assert any(blob[start : start + 64]) and info.file_size >= 256
    blob[start : start + 64] = bytes(64)
    path.write_bytes(bytes(blob))


def _scaled(ckpt):
    key = next(k for k, v in ckpt["state_dict"].items() if v.is_floating_point() and v.numel() > 1)
    ckpt["state_dict"][key] = ckpt["state_dict"][key] * 1.01


BAD_CHECKPOINTS = {
    "empty": (lambda run: (run / "checkpoint.pt").write_bytes(b""), "is empty (a crashed write?); train the run again"),
    "truncated": (
        lambda run: (run / "checkpoint.pt").write_bytes((run / "checkpoint.pt").read_bytes()[:700]),
        "is truncated or not a checkpoint",
    ),
    "not_torch": (lambda run: (run / "checkpoint.pt").write_text("hello"), "is truncated or not a checkpoint"),
    "plain_state_dict": (
        lambda run: torch.save({"weight": torch.zeros(2, 2)}, run / "checkpoint.pt"),
        "is a foreign checkpoint, not one written by gnnviz train",
    ),
    "other_dataset": (
        lambda run: _tamper(run, lambda c: c.update(dataset="cora")),
        "holds a dataset 'cora' checkpoint, but {run} is a dataset 'karate' run: it comes from another run",
    ),
    "other_model": (
        lambda run: shutil.copy(run.parent / "gcn-src" / "checkpoint.pt", run / "checkpoint.pt"),
        "holds a model 'gcn' checkpoint, but {run} is a model 'gat' run",
    ),
    "other_shape": (lambda run: _tamper(run, _shape), "checkpoint does not match its model description"),
    "other_graph_size": (lambda run: _tamper(run, _for_seven_features), "the two files come from different runs"),
    # torch.load checks no stored bytes: without the digest training records, these load as weights
    "zeroed_bytes": (lambda run: _zero_in_largest_tensor(run / "checkpoint.pt"), WEIGHTS_CHANGED),
    "edited_weights": (lambda run: _tamper(run, _scaled), WEIGHTS_CHANGED),
}


def _for_seven_features(ckpt):
    # A consistent checkpoint for a graph with 7 features: the stored graph has 34.
    from gnnviz.models.gnn import GNN

    ckpt["model"]["kwargs"]["in_channels"] = 7
    ckpt["state_dict"] = GNN(**ckpt["model"]["kwargs"]).state_dict()


@pytest.mark.parametrize("case", sorted(BAD_CHECKPOINTS))
def test_bad_or_foreign_checkpoint_is_named(tmp_path, trained, case):
    from gnnviz.viz.visualize import visualize

    copy_run(trained["gcn"], tmp_path / "gcn-src")
    run = copy_run(trained["gat"], tmp_path / "run")
    spoil, needle = BAD_CHECKPOINTS[case]
    spoil(run)
    with pytest.raises(RunError) as exc:  # RunError: the CLI prints it as one line and exits 1
        visualize(run, tmp_path / "viz", quiet=True)
    assert needle.format(run=run) in str(exc.value) and "train" in str(exc.value)
    assert not (tmp_path / "viz").exists()
