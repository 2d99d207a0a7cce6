"""Issue #5: bad input, interrupts and untrusted files get clear errors, and nothing is lost.

Each test names the promise it checks (``test_p<N>_...``) and asserts the exit code, the
message and what is or is not on disk afterwards. Runs are tiny (karate, a few epochs, or
graphs built inline); the CLI is run as a user runs it, ``python -m gnnviz`` in a subprocess.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from gnnviz import runs
from gnnviz.config import load_config
from gnnviz.errors import ConfigError, DataError, DivergedError, RunError
from gnnviz.experiment import train

REPO = Path(__file__).resolve().parents[1]
KARATE = ("--set", "dataset.name=karate", "--set", "training.epochs=3", "--set", "training.patience=0")


# ----------------------------------------------------------------------------- helpers


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Offline, private data root and caches; one OpenMP thread (t-SNE spins on a busy 2-core box)."""
    env = {
        **os.environ,
        "GNNVIZ_OFFLINE": "1",
        "GNNVIZ_DATA_ROOT": str(tmp_path / "data"),
        "GNNVIZ_CACHE_DIR": str(tmp_path / "cache"),
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
    }
    env.pop("GNNVIZ_DEBUG", None)
    env.update(extra)
    return env


def gnnviz(tmp_path: Path, *args, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gnnviz", *map(str, args)],
        cwd=REPO, capture_output=True, text=True, env=env or env_for(tmp_path), timeout=timeout,
    )  # fmt: skip


def one_error(r: subprocess.CompletedProcess) -> str:
    """The single stderr line of a failed command: 'error: what is wrong; what to do'."""
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]


def entries(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() else []


def temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.endswith((".tmp", ".partial"))]


def draw(run: Path, out: Path) -> Path:
    from threadpoolctl import threadpool_limits

    from gnnviz.viz.visualize import visualize

    with threadpool_limits(1):
        return visualize(run, out, quiet=True)


def copy_run(run: Path, dest: Path) -> Path:
    shutil.copytree(run, dest)
    return dest


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """Two finished karate runs (GAT and GCN). Tests copy them before changing anything."""
    out = tmp_path_factory.mktemp("runs")
    gat = load_config(None, ["dataset.name=karate", "training.epochs=5", "training.patience=0"])
    gcn = load_config(None, ["dataset.name=karate", "model.name=gcn", "training.epochs=5", "training.patience=0"])
    return {"gat": train(gat, out=out, name="gat", quiet=True), "gcn": train(gcn, out=out, name="gcn", quiet=True)}


@pytest.fixture()
def cora_raw(mirror, tmp_path) -> Path:
    """A data root holding a private copy of Cora's raw files (never the read-only mirror)."""
    root = tmp_path / "data"
    shutil.copytree(mirror / "Cora" / "raw", root / "Cora" / "raw")
    return root


# ----------------------------------------------------------------------------- 1. exit codes and one-line errors


def test_p1_unexpected_error_is_one_line_and_traceback_only_with_debug(tmp_path):
    # An internal bug (here: a RuntimeError where the config loads) must not dump a traceback,
    # and --debug / GNNVIZ_DEBUG shows one without local variables.
    script = (
        "import sys, gnnviz.config as c\n"
        "def boom(*a, **k):\n"
        "    secret_local = 'hunter2-' * 3\n"
        "    raise RuntimeError('boom in training')\n"
        "c.load_config = boom\n"
        "from gnnviz.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    args = ["train", *KARATE, "--out", tmp_path / "o"]
    r = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True, env=env_for(tmp_path), cwd=REPO
    )
    assert r.returncode == 1
    assert one_error(r) == (
        "error: unexpected RuntimeError: boom in training; rerun with --debug (or GNNVIZ_DEBUG=1) for the traceback and report it"
    )
    for debug_args, env in ((["--debug"], env_for(tmp_path)), ([], env_for(tmp_path, GNNVIZ_DEBUG="1"))):
        r = subprocess.run(
            [sys.executable, "-c", script, *debug_args, *map(str, args)], capture_output=True, text=True, env=env, cwd=REPO
        )
        assert r.returncode == 1
        assert "Traceback (most recent call last)" in r.stderr and "boom in training" in r.stderr
        assert "hunter2" not in r.stderr  # frames only, never local variables
    assert not (tmp_path / "o").exists()


def test_p1_usage_error_is_one_line_exit_2(tmp_path):
    r = gnnviz(tmp_path, "visualize")
    assert r.returncode == 2
    assert "--run" in one_error(r) and "gnnviz visualize --help" in r.stderr
    r = gnnviz(tmp_path, "train", "--seeds", "many")
    assert r.returncode == 2 and "Invalid value for '--seeds'" in one_error(r)


def test_p1_p8_success_is_exit_0_and_piped_stderr_has_no_progress_bar(tmp_path):
    r = gnnviz(tmp_path, "train", *KARATE, "--set", "training.epochs=40", "--out", tmp_path / "o", "--name", "ok")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines() == [str(tmp_path / "o" / "ok")]
    # stderr is a pipe, not a terminal: no carriage-return progress bar, only the plain log lines.
    assert "\r" not in r.stderr and "[#" not in r.stderr and "ETA" not in r.stderr
    assert [line.split(":")[0] for line in r.stderr.strip().splitlines()] == ["device", "train"]


# ----------------------------------------------------------------------------- 2. config and options

# The issue-2 bad-input list and the rest of promise 2, through the real CLI: exit 2, one line that
# says what to do, nothing created (no output folder, no data root).
BAD_INPUT = {
    "missing_config": (["--config", "nope.yaml"], "config file nope.yaml does not exist; pass an existing file"),
    "config_is_a_folder": (["--config", "configs"], "config path configs is a directory"),
    "empty_config": (["--config", "{tmp}/empty.yaml"], "is empty; write at least one section"),
    "non_mapping_config": (["--config", "{tmp}/list.yaml"], "must be a mapping of sections"),
    "malformed_yaml_names_file_line_column": (["--config", "{tmp}/bad.yaml"], "{tmp}/bad.yaml:4:9: malformed YAML"),
    "unknown_key_suggests": (["--config", "{tmp}/typo.yaml"], "unknown key 'model.hiden'; model has name, hidden"),
    "unknown_section_suggests": (
        ["--set", "modle.hidden=8"],
        "unknown section 'modle'; choose one of dataset, model, training, run (did you mean 'model'?)",
    ),
    "wrong_type": (["--set", "model.hidden=abc"], "model.hidden=abc must be a whole number"),
    "wrong_range": (["--set", "model.dropout=1.5"], "model.dropout=1.5 must be in [0, 1)"),
    "non_finite": (["--set", "training.lr=.inf"], "training.lr=.inf must be a finite number"),
    "heads_on_gcn": (["--set", "model.name=gcn", "--set", "model.heads=4"], "model.heads is only for attention models"),
    "hidden_not_divisible_by_heads": (["--set", "model.hidden=60"], "model.hidden=60 must be divisible by model.heads=8"),
    "removed_key_loss": (
        ["--set", "dataset.name=ppi", "--set", "training.loss=cross_entropy"],
        "training.loss was removed: the loss follows the dataset's task",
    ),
    "unknown_model": (
        ["--set", "model.name=gcnn"],
        "unknown model.name 'gcnn'; choose one of gat, gatv2, gcn, sage (did you mean 'gcn'?)",
    ),
    "unknown_dataset": (
        ["--set", "dataset.name=coraa"],
        "unknown dataset.name 'coraa'; choose one of cora, citeseer, ppi, karate, synthetic, ogbn-arxiv, ogbn-products (did you mean 'cora'?)",
    ),
    "unknown_device": (["--device", "tpu"], "run.device='tpu' is not a device; choose auto, cpu, cuda or cuda:N"),
    "set_without_equals": (["--set", "model.hidden"], "--set 'model.hidden' is not key=value; write e.g. --set model.hidden=32"),
    "set_unknown_path": (["--set", "model.hidden.size=3"], "must be section.field"),
    "set_unknown_key_suggests": (["--set", "training.epoch=3"], "unknown key 'training.epoch'; training has epochs"),
    "set_wrong_type": (["--set", "training.fast=maybe"], "training.fast=maybe must be true or false"),
    "set_list_value": (["--set", "model.hidden=[1, 2]"], "value must be a single number, string or boolean"),
    "set_yaml_tag": (["--set", "model.name=!!python/object/apply:os.system ['touch {tmp}/pwned']"], "YAML tags are not allowed"),
    "file_yaml_tag": (["--config", "{tmp}/tag.yaml"], "configs hold plain data only, remove the YAML tag"),
    "seeds_zero": (["--seeds", "0"], "--seeds 0 must be at least 1"),
    "name_escapes_out": (["--name", "../escaped"], "run name '../escaped' is not allowed"),
    "out_is_a_file": (["--out", "{tmp}/file"], "is a file; pass --out DIR naming a folder"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_p2_bad_input_is_one_line_exit_2_nothing_created(tmp_path, case):
    (tmp_path / "empty.yaml").write_text("# nothing but a comment\n")
    (tmp_path / "list.yaml").write_text("- model\n- dataset\n")
    (tmp_path / "bad.yaml").write_text("model:\n  name: gat\n  hidden: [8, 16\ntraining: {}\n")
    (tmp_path / "typo.yaml").write_text("model:\n  hiden: 8\n")
    (tmp_path / "tag.yaml").write_text(f"model: !!python/object/apply:os.system ['touch {tmp_path}/pwned']\n")
    (tmp_path / "file").write_text("not a folder")
    args, needle = BAD_INPUT[case]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out = tmp_path / "out"
    if "--out" not in args:
        args += ["--out", str(out)]
    r = gnnviz(tmp_path, "train", *args)
    assert r.returncode == 2, r.stderr
    assert needle.replace("{tmp}", str(tmp_path)) in one_error(r)
    assert not out.exists() and not (tmp_path / "data").exists() and not (tmp_path / "pwned").exists()
    assert (tmp_path / "file").read_text() == "not a folder"


def test_p2_malformed_yaml_names_file_line_and_column(tmp_path):
    (tmp_path / "c.yaml").write_text("training:\n  lr: 0.01\n  epochs: [3\nmodel: {}\n")
    r = gnnviz(tmp_path, "train", "--config", tmp_path / "c.yaml", "--out", tmp_path / "o")
    line = one_error(r)
    assert r.returncode == 2 and line.startswith(f"error: {tmp_path / 'c.yaml'}:4:6: malformed YAML: expected ',' or ']'")
    assert line.endswith("; fix the syntax there")


def test_p2_values_are_parsed_as_data_never_evaluated(tmp_path):
    marker = tmp_path / "evaluated"
    for item in (f"run.device=__import__('os').system('touch {marker}')", f"dataset.name=$(touch {marker})"):
        with pytest.raises(ConfigError):
            load_config(None, [item])
    assert load_config(None, ["training.lr=1e-3"]).training.lr == 1e-3  # a number, however YAML 1.1 reads it
    assert not marker.exists()


# ----------------------------------------------------------------------------- 3. device


def test_p3_missing_cuda_fails_before_anything_is_created(tmp_path):
    from gnnviz.training import resolve_device

    device = "cuda:99" if torch.cuda.is_available() else "cuda"
    r = gnnviz(tmp_path, "train", *KARATE, "--out", tmp_path / "o", "--device", device)
    line = one_error(r)
    assert r.returncode == 2 and line.startswith(f"error: --device {device} ")
    assert ("CUDA is not available here" in line and line.endswith("use --device cpu or auto")) or "does not exist" in line
    assert not (tmp_path / "o").exists() and not (tmp_path / "data").exists()
    for spec in ("cuda", "cuda:0", "cuda:1", "cuda:99"):  # an index that is not there fails the same way
        if spec == "cuda" or int(spec.split(":")[1]) >= torch.cuda.device_count():
            with pytest.raises(ConfigError, match=f"--device {spec} (asked for CUDA|does not exist)"):
                resolve_device(spec)


def test_p3_auto_says_what_it_picked_and_the_run_records_it(tmp_path):
    said: list[str] = []
    cfg = load_config(None, ["dataset.name=karate", "training.epochs=2", "run.device=auto"])
    train(cfg, out=tmp_path / "o", name="auto", log=said.append, progress=False)
    picked = "cuda" if torch.cuda.is_available() else "cpu"
    assert said[0] == f"device: {picked} (auto)"
    summary = json.loads((tmp_path / "o" / "auto" / "summary.json").read_text())
    assert summary["device"] == picked
    assert yaml.safe_load((tmp_path / "o" / "auto" / "config.yaml").read_text())["run"]["device"] == "auto"


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


def test_p3_cuda_trained_run_visualizes_on_cpu(tmp_path, trained):
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


# ----------------------------------------------------------------------------- 4. data


def test_p4_offline_without_mirror_or_raw_files(tmp_path):
    env = env_for(tmp_path)
    env.pop("GNNVIZ_DATA_MIRROR", None)
    r = gnnviz(tmp_path, "train", "--set", "dataset.name=cora", "--out", tmp_path / "o", env=env)
    line = one_error(r)
    assert r.returncode == 1
    assert "ind.cora.x" in line and "GNNVIZ_OFFLINE is set" in line
    assert f"put them in {tmp_path / 'data' / 'Cora' / 'raw'}" in line and "GNNVIZ_DATA_MIRROR" in line
    assert not (tmp_path / "o").exists() and not (tmp_path / "data" / "Cora").exists()


@pytest.mark.parametrize("name", ["ind.cora.graph", "ind.cora.x", "ind.cora.test.index"])
def test_p4_truncated_raw_file_is_named_and_poisons_nothing(tmp_path, cora_raw, mirror, name, monkeypatch):
    from gnnviz.datasets import load_dataset

    bad = cora_raw / "Cora" / "raw" / name
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    monkeypatch.delenv("GNNVIZ_DATA_MIRROR", raising=False)
    if name == "ind.cora.graph":  # once through the CLI: exit code, one line, no run directory
        r = gnnviz(tmp_path, "train", "--set", "dataset.name=cora", "--out", tmp_path / "o", env=env_for(tmp_path))
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


def test_p4_half_made_processed_cache_is_rebuilt(tmp_path, cora_raw):
    from gnnviz.datasets import load_dataset

    load_dataset("cora", cora_raw)
    processed = cora_raw / "Cora" / "processed"
    # A kill while PyG processed: the data file is cut short and the completion mark is missing.
    (processed / ".gnnviz-complete").unlink()
    (processed / "data.pt").write_bytes((processed / "data.pt").read_bytes()[:100])
    ds = load_dataset("cora", cora_raw)
    assert ds.train[0].num_nodes == 2708 and (processed / ".gnnviz-complete").exists()


def test_p4_data_root_that_is_a_file(tmp_path):  # an --out that is a file: see test_p2_..._nothing_created
    (tmp_path / "root-file").write_text("x")
    r = gnnviz(tmp_path, "train", "--set", "dataset.name=cora", "--data-root", tmp_path / "root-file", "--out", tmp_path / "o")
    assert r.returncode == 1
    assert one_error(r) == (
        f"error: data root {tmp_path / 'root-file'} is a file, not a folder; pass --data-root DIR or set GNNVIZ_DATA_ROOT"
    )
    assert not (tmp_path / "o").exists() and (tmp_path / "root-file").read_text() == "x"


def test_p4_read_only_data_root_and_out(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes; the is-a-file cases cover the same check")
        r = gnnviz(tmp_path, "train", "--set", "dataset.name=cora", "--data-root", ro / "data", "--out", tmp_path / "o")
        assert r.returncode == 1 and "pass a writable --data-root DIR" in one_error(r)
        r = gnnviz(tmp_path, "train", *KARATE, "--out", ro / "out")
        assert r.returncode == 2 and "is not writable; pass --out DIR" in one_error(r)
        assert entries(ro) == [] and not (tmp_path / "o").exists()
    finally:
        ro.chmod(0o755)


LOAD_CORA = "from gnnviz.datasets import load_dataset; d = load_dataset('cora'); print(d.train[0].num_nodes, int(d.train[0].test_mask.sum()))"


def test_p4_two_processes_preparing_the_same_dataset_both_succeed(tmp_path, mirror):
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


# ----------------------------------------------------------------------------- 5. run directories


def test_p5_existing_run_name_is_an_error_and_untouched(tmp_path):
    (tmp_path / "o" / "mine").mkdir(parents=True)
    (tmp_path / "o" / "mine" / "notes.txt").write_text("keep me")
    (tmp_path / "o" / "afile").write_text("also mine")
    r = gnnviz(tmp_path, "train", *KARATE, "--out", tmp_path / "o", "--name", "mine")
    assert r.returncode == 2
    assert one_error(r) == f"error: run {tmp_path / 'o' / 'mine'} already exists; choose another --name or remove it first"
    with pytest.raises(ConfigError, match="afile already exists; choose another --name"):  # a file of that name too
        train(load_config(None, ["dataset.name=karate"]), out=tmp_path / "o", name="afile", quiet=True)
    assert entries(tmp_path / "o") == ["afile", "mine", "mine/notes.txt"]
    assert (tmp_path / "o" / "afile").read_text() == "also mine"
    assert not (tmp_path / "data").exists()  # refused before the dataset was even loaded


def test_p5_default_names_are_numbered_and_race_free(tmp_path):
    got: list[Path] = []
    barrier = threading.Barrier(8)

    def make() -> None:
        barrier.wait()
        got.append(runs.create_run_dir(tmp_path, None, "karate-gat-20260101-000000"))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = sorted(p.name for p in got)
    assert len(set(names)) == 8
    assert names == sorted(["karate-gat-20260101-000000", *(f"karate-gat-20260101-000000-{i}" for i in range(2, 9))])


@pytest.mark.parametrize("name", ["../up", "/etc/abs", "a/b", "..", ".", ".hidden", "a\\b", "x" * 200, "a..b", "sp ace", "<b>"])
def test_p5_names_cannot_escape_the_output_folder(tmp_path, name):
    with pytest.raises(ConfigError, match="is not allowed; use letters, digits"):
        runs.create_run_dir(tmp_path / "out", name, "default")
    assert entries(tmp_path) in ([], ["out"]) and entries(tmp_path / "out") == []


def test_p5_names_and_config_text_are_escaped_in_html(tmp_path, trained):
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


def test_p5_names_in_plot_titles_are_not_parsed_as_mathtext(tmp_path, trained):
    run = copy_run(trained["gat"], tmp_path / "run")
    odd = r"$\frac{$ and $x^$"  # a foreign run can name its dataset anything; titles must show it as text
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "dataset": odd}))
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["dataset"]["name"] = odd  # the files of a run agree with each other (else: refused, see test_faults)
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    _tamper(run, lambda c: c.update(dataset=odd))
    assert (draw(run, tmp_path / "viz") / "index.html").is_file()


# ----------------------------------------------------------------------------- 6. interrupts


def _train_until_rows(tmp_path: Path, rows: int) -> tuple[subprocess.Popen, Path]:
    run = tmp_path / "o" / "long"
    cmd = [sys.executable, "-m", "gnnviz", "train", "--set", "dataset.name=karate", "--set", "training.epochs=100000",
           "--set", "training.patience=0", "--out", str(tmp_path / "o"), "--name", "long"]  # fmt: skip
    # SIG_DFL in the child: a shell may start the test runner with Ctrl-C ignored, which Python inherits.
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 120
    metrics = run / "metrics.csv"
    while time.monotonic() < deadline and proc.poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) > rows:
            return proc, run
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"training never wrote {rows} rows: {proc.communicate()[1]}")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_p6_interrupt_mid_training_leaves_a_usable_run(tmp_path, sig, code):
    proc, run = _train_until_rows(tmp_path, 4)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "interrupted after" in err and out == ""
    summary = json.loads((run / "summary.json").read_text())
    metrics = runs.read_metrics(run / "metrics.csv")
    assert summary["status"] == "interrupted"
    assert len(metrics) >= 4 and summary["epochs_run"] >= len(metrics)
    assert 1 <= summary["best_epoch"] <= summary["epochs_run"]
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)  # loads as plain tensors, nothing else
    assert ckpt["epoch"] == summary["best_epoch"]
    assert temp_files(run) == []
    if sig == signal.SIGINT:  # once is enough: the interrupted run draws like any other
        assert (draw(run, tmp_path / "viz") / "index.html").is_file()


def test_p6_interrupted_series_of_seeds_keeps_finished_seeds_and_an_honest_aggregate(tmp_path, monkeypatch):
    import gnnviz.experiment as experiment

    real_fit = experiment.fit

    def fit(*args, on_epoch, seed, **kwargs):
        def report(row):
            on_epoch(row)
            if seed == 1 and row["epoch"] == 3:
                raise KeyboardInterrupt  # Ctrl-C in the middle of the second seed

        return real_fit(*args, on_epoch=report, seed=seed, **kwargs)

    monkeypatch.setattr(experiment, "fit", fit)
    cfg = load_config(None, ["dataset.name=karate", "training.epochs=6", "training.patience=0"])
    with pytest.raises(KeyboardInterrupt):
        train(cfg, out=tmp_path, name="series", seeds=3, quiet=True)
    root = tmp_path / "series"
    agg = json.loads((root / "summary.json").read_text())
    assert agg["status"] == "interrupted" and agg["seeds"] == [0, 1] and not (root / "seed-2").exists()
    assert [r["status"] for r in agg["runs"]] == ["completed", "interrupted"]
    first = json.loads((root / "seed-0" / "summary.json").read_text())
    assert agg["test_metric_mean"] == first["test_metric"]  # the cut-short seed is not averaged in
    assert torch.load(root / "seed-1" / "checkpoint.pt", weights_only=True)["epoch"] == 3
    assert len(runs.read_metrics(root / "seed-1" / "metrics.csv")) == 3


# Delivers the signal from inside the drawing step (in a figure worker where there is a pool), so
# that it lands mid-drawing every time: a terminal's Ctrl-C reaches the whole process group,
# `kill PID` only the main process.
SIGNAL_WHILE_DRAWING = """
import os, signal, sys
from gnnviz.viz.draw import curves
real = curves.plot_curves
def plot_curves(*args, **kwargs):
    if sys.argv[1] == "SIGINT":
        os.killpg(os.getpgid(0), signal.SIGINT)
    else:
        os.kill(int(os.environ["GNNVIZ_TEST_MAIN_PID"]), signal.SIGTERM)
    return real(*args, **kwargs)
curves.plot_curves = plot_curves
os.environ["GNNVIZ_TEST_MAIN_PID"] = str(os.getpid())
from gnnviz.cli import main
main(sys.argv[2:])
"""


@pytest.mark.parametrize("sig, code", [("SIGINT", 130), ("SIGTERM", 143)], ids=["ctrl-c", "sigterm"])
def test_p6_signal_while_drawing_exits_cleanly_and_writes_nothing_partial(tmp_path, sig, code):
    out = tmp_path / "viz"
    run = _handmade_run(tmp_path, *TINY_GRAPHS["isolated_nodes"])  # quick to lay out: drawing starts soon
    args = ["visualize", "--run", str(run), "--out", str(out), "--quiet"]
    proc = subprocess.run(
        [sys.executable, "-c", SIGNAL_WHILE_DRAWING, sig, *args], cwd=REPO, env=env_for(tmp_path), capture_output=True,
        text=True, timeout=120, start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert proc.returncode == code, proc.stderr
    # Nothing from the figure workers either: no "Process ForkPoolWorker", no traceback, no hang.
    assert proc.stdout == "" and proc.stderr == ""
    assert entries(out) == []


def test_p6_interrupt_before_the_first_epoch_leaves_no_run_behind(tmp_path, monkeypatch):
    def stop(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "save_graphs", stop)
    cfg = load_config(None, ["dataset.name=karate", "training.epochs=3"])
    with pytest.raises(KeyboardInterrupt):
        train(cfg, out=tmp_path, name="early", quiet=True)
    assert entries(tmp_path) == []  # nothing worth keeping existed: no half run directory


def test_p6_a_kill_while_writing_keeps_the_previous_file(tmp_path, trained, monkeypatch):
    run = copy_run(trained["gat"], tmp_path / "run")
    before = {f: (run / f).read_bytes() for f in ("checkpoint.pt", "summary.json", "config.yaml")}

    def killed(_fd):
        raise KeyboardInterrupt  # the moment between writing the temporary file and renaming it

    monkeypatch.setattr(runs.os, "fsync", killed)
    ckpt = runs.load_checkpoint(run)
    with pytest.raises(KeyboardInterrupt):
        runs.save_checkpoint(run, ckpt["model"]["kwargs"], ckpt["state_dict"], dataset="karate", task="multiclass", epoch=99)
    with pytest.raises(KeyboardInterrupt):
        runs.save_summary(run, {"status": "half"})
    with pytest.raises(KeyboardInterrupt):
        runs.save_config(run, "half: written\n")
    assert {f: (run / f).read_bytes() for f in before} == before
    assert temp_files(run) == []


def test_p6_a_kill_while_drawing_keeps_the_previous_figures(tmp_path, trained, monkeypatch):
    out = tmp_path / "viz"
    out.mkdir()
    (out / "layout.png").write_bytes(b"an earlier good figure")

    def killed(_fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs.os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        draw(trained["gat"], out)
    assert (out / "layout.png").read_bytes() == b"an earlier good figure"
    assert entries(out) == ["layout.png"]


# ----------------------------------------------------------------------------- 7. untrusted files


class _RunsCode:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("how", ["torch.save", "raw pickle"])
@pytest.mark.parametrize("which", ["checkpoint.pt", "graph.pt"])
def test_p7_a_checkpoint_that_would_run_code_is_refused(tmp_path, trained, how, which):
    run = copy_run(trained["gat"], tmp_path / "run")
    marker = tmp_path / "code-ran"
    payload = {"format": runs.CHECKPOINT_FORMAT, "version": runs.CHECKPOINT_VERSION, "evil": _RunsCode(marker)}
    if how == "torch.save":
        torch.save(payload, run / which)
    else:
        (run / which).write_bytes(pickle.dumps(payload))
    with pytest.raises(RunError) as exc:
        runs.load_checkpoint(run) if which == "checkpoint.pt" else runs.load_graphs(run)
    assert str(exc.value).startswith(f"{run / which} holds Python objects beyond tensors and was refused (it could run code)")
    assert not marker.exists()
    if (which, how) == ("checkpoint.pt", "raw pickle"):  # once through the CLI
        r = gnnviz(tmp_path, "visualize", "--run", run, "--out", tmp_path / "viz")
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
}


def _for_seven_features(ckpt):
    # A consistent checkpoint for a graph with 7 features: the stored graph has 34.
    from gnnviz.models import GNN

    ckpt["model"]["kwargs"]["in_channels"] = 7
    ckpt["state_dict"] = GNN(**ckpt["model"]["kwargs"]).state_dict()


@pytest.mark.parametrize("case", sorted(BAD_CHECKPOINTS))
def test_p7_bad_or_foreign_checkpoint_is_named(tmp_path, trained, case):
    from gnnviz.viz.visualize import visualize

    copy_run(trained["gcn"], tmp_path / "gcn-src")
    run = copy_run(trained["gat"], tmp_path / "run")
    spoil, needle = BAD_CHECKPOINTS[case]
    spoil(run)
    with pytest.raises(RunError) as exc:  # RunError: the CLI prints it as one line and exits 1
        visualize(run, tmp_path / "viz", quiet=True)
    assert needle.format(run=run) in str(exc.value) and "train" in str(exc.value)
    assert not (tmp_path / "viz").exists()


# ----------------------------------------------------------------------------- 8. numerics and edge cases


def test_p8_diverging_run_stops_and_keeps_the_last_good_state(tmp_path):
    r = gnnviz(tmp_path, "train", *KARATE, "--set", "training.lr=1e30", "--out", tmp_path / "o", "--name", "div")
    run = tmp_path / "o" / "div"
    assert r.returncode == 1
    line = r.stderr.strip().splitlines()[-1]
    assert "Traceback" not in r.stderr
    assert line.startswith("error: training diverged at epoch ") and "lower training.lr" in line and str(run) in line
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "diverged"
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ckpt["epoch"] == summary["best_epoch"]
    assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values())
    assert all(np.isfinite(list(row.values())).all() for row in runs.read_metrics(run / "metrics.csv"))
    # In a series of seeds, divergence ends the series and the aggregate says so.
    cfg = load_config(None, ["dataset.name=karate", "training.epochs=3", "training.lr=1e30"])
    with pytest.raises(DivergedError, match="lower training.lr"):
        train(cfg, out=tmp_path, name="series", seeds=2, quiet=True)
    agg = json.loads((tmp_path / "series" / "summary.json").read_text())
    assert agg["status"] == "diverged" and agg["test_metric_mean"] is None and agg["seeds"] == [0]


TINY_GRAPHS = {
    "single_node": (1, []),
    "no_edges": (5, []),
    "isolated_nodes": (7, [(0, 1), (1, 0), (1, 2), (2, 1)]),
    "self_loop_only": (3, [(0, 0)]),
    "two_components": (6, [(0, 1), (1, 0), (3, 4), (4, 3), (4, 5), (5, 4)]),
}


def _edges(pairs) -> np.ndarray:
    return np.array(pairs, dtype=np.int64).reshape(-1, 2).T.copy()


@pytest.mark.parametrize("case", sorted(TINY_GRAPHS))
def test_p8_tiny_graphs_do_not_crash_layout_entropy_or_tsne(case):
    from gnnviz.analysis import attention as att
    from gnnviz.viz.coords.embeddings import tsne
    from gnnviz.viz.coords.layout import graph_layout

    n, pairs = TINY_GRAPHS[case]
    ei = _edges(pairs)
    lay = graph_layout(ei, n, use_cache=False)
    assert lay.coords.shape == (n, 2) and np.isfinite(lay.coords).all()
    looped = att.with_self_loops(ei, n)
    alpha = np.full((looped.shape[1], 2), 1.0) / np.maximum(att.in_degree(looped, n), 1)[looped[1]][:, None]
    h, uniform = att.entropy(looped, alpha, n), att.uniform_entropy(looped, n)
    assert h.shape == (n, 2) and np.allclose(h[:, 0], uniform)
    stats = att.entropy_stats(h[:, 0], uniform).as_dict()
    ratio = stats.pop("mean_normalised_entropy")  # undefined (nan) only when no node has a choice
    assert np.isfinite(ratio) or stats["nodes_in_ratio"] == 0
    assert all(np.isfinite(v) for v in stats.values())
    for x in (np.random.default_rng(0).normal(size=(n, 4)), np.zeros((n, 4))):
        p = tsne(x, use_cache=False)
        assert p.coords.shape == (n, 2) and np.isfinite(p.coords).all()


def _handmade_run(folder: Path, n: int, pairs) -> Path:
    """A run on a graph no dataset has, written through the run-directory format."""
    from torch_geometric.data import Data

    from gnnviz.config import Config
    from gnnviz.models import GNN

    torch.manual_seed(0)
    ei = torch.tensor(_edges(pairs))
    g = Data(x=torch.rand(n, 3), edge_index=ei, y=torch.arange(n) % 2, num_nodes=n)
    g.train_mask = g.val_mask = g.test_mask = torch.ones(n, dtype=torch.bool)
    model = GNN("gat", 3, 2, hidden=4, heads=2, out_heads=1)
    run = runs.create_run_dir(folder, "tiny", "x")
    runs.save_config(run, Config().to_yaml())
    runs.save_summary(run, {"dataset": "tiny", "model": "gat", "metric": "accuracy", "best_epoch": 1, "status": "completed"})
    runs.save_graphs(run, [g], dataset="tiny", task="multiclass", split="all")
    runs.save_checkpoint(run, model.kwargs, model.state_dict(), dataset="tiny", task="multiclass", epoch=1)
    writer = runs.MetricsWriter(run / "metrics.csv")
    writer.write({"epoch": 1, "train_loss": 0.7, "train_metric": 0.5, "val_loss": 0.7, "val_metric": 0.5, "seconds": 0.01})
    writer.close()
    return run


@pytest.mark.parametrize("case", ["single_node", "isolated_nodes"])
def test_p8_tiny_graph_runs_visualize(tmp_path, case):
    run = _handmade_run(tmp_path, *TINY_GRAPHS[case])
    out = draw(run, tmp_path / "viz")
    assert (out / "index.html").is_file() and (out / "layout.png").stat().st_size > 0
    assert json.loads((out / "attention_stats.json").read_text())["layers"]


def test_p8_single_node_stats_are_strict_json(tmp_path):
    out = draw(_handmade_run(tmp_path, *TINY_GRAPHS["single_node"]), tmp_path / "viz")

    def refuse(constant: str):
        pytest.fail(f"{constant} in a JSON file")

    for name in ("attention_stats.json", "timings.json"):  # NaN is not JSON: browsers and jq refuse it
        json.loads((out / name).read_text(), parse_constant=refuse)


@pytest.mark.parametrize("args", [["--help"], ["train", "--print-config"]], ids=["help", "print-config"])
def test_p8_output_into_a_closed_pipe_has_no_traceback(tmp_path, args):
    # Like `gnnviz ... | head -n 0`: the reader is gone before gnnviz writes a byte.
    proc = subprocess.Popen(
        [sys.executable, "-m", "gnnviz", *args], cwd=REPO, env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert proc.returncode == 1, err  # Python's convention for EPIPE; not a crash, not 130
    assert err == "", err  # no traceback, no "Exception ignored ... BrokenPipeError"
