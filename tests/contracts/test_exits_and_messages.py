"""Exit codes and one-line errors: success is exit 0 with the run directory on stdout; bad input
is exit 2 and the machine's or the data's failures exit 1, each as one ``error:`` line that says
what to do, with nothing created; an unexpected error shows its traceback only with --debug.

Through the real CLI, ``python -m gnnviz`` in a subprocess, on karate for a few epochs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml

from gnnviz.config import load_config
from gnnviz.errors import ConfigError, DivergedError
from gnnviz.experiment import train
from gnnviz.runs.store import read_metrics
from tests.support.cli import REPO, env_for, gnnviz, one_error
from tests.support.runs import entries

KARATE = ("--set", "dataset.name=karate", "--set", "training.epochs=3", "--set", "training.patience=0")


def test_unexpected_error_is_one_line_and_traceback_only_with_debug(tmp_path):
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


def test_no_command_prints_the_help_and_names_the_commands(tmp_path):
    r = gnnviz(env=env_for(tmp_path))
    assert r.returncode == 2 and "Usage: gnnviz" in r.stdout + r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert (
        last == "error: no command given; choose one of train, visualize, compare, explain, datasets, runs; see 'gnnviz --help'"
    )


@pytest.mark.parametrize("value", ["0", "false", "no", "off", ""])
def test_gnnviz_debug_off_values_show_no_traceback(tmp_path, value):
    r = gnnviz("train", "--config", tmp_path / "missing.yaml", env=env_for(tmp_path, GNNVIZ_DEBUG=value))
    assert r.returncode == 2 and one_error(r).startswith("error: config file")


def test_usage_error_is_one_line_exit_2(tmp_path):
    r = gnnviz("visualize", env=env_for(tmp_path))
    assert r.returncode == 2
    assert one_error(r).startswith(
        "error: missing the run directory: gnnviz visualize RUN (or --run RUN); 'gnnviz runs' lists the runs in outputs/"
    )
    r = gnnviz("train", "--seeds", "many", env=env_for(tmp_path))
    assert r.returncode == 2 and "Invalid value for '--seeds'" in one_error(r)


def test_success_is_exit_0_and_piped_stderr_has_no_progress_bar(tmp_path):
    r = gnnviz("train", *KARATE, "--set", "training.epochs=40", "--out", tmp_path / "o", "--name", "ok", env=env_for(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines() == [str(tmp_path / "o" / "ok")]
    # stderr is a pipe, not a terminal: no carriage-return progress bar, only the plain log lines.
    assert "\r" not in r.stderr and "[#" not in r.stderr and "ETA" not in r.stderr
    assert [line.split(":")[0] for line in r.stderr.strip().splitlines()] == [
        "config",
        "device",
        "train",
    ]  # no --config: the defaults, said


# The issue-2 bad-input list and the rest of promise 2, through the real CLI: exit 2, one line that
# says what to do, nothing created (no output folder, no data root).
BAD_INPUT = {
    "missing_config": (["--config", "nope.yaml"], "config file nope.yaml does not exist; pass an existing file"),
    "config_is_a_folder": (["--config", "configs"], "config path configs is a directory"),
    "empty_config": (["--config", "{tmp}/empty.yaml"], "is empty; write at least one section"),
    "non_mapping_config": (["--config", "{tmp}/list.yaml"], "must be a mapping of sections"),
    "unknown_key_suggests": (["--config", "{tmp}/typo.yaml"], "unknown key 'model.hiden'; model has name, hidden"),
    "unknown_section_suggests": (
        ["--set", "modle.hidden=8"],
        "unknown section 'modle'; choose one of dataset, model, training, run (did you mean 'model'?)",
    ),
    "wrong_type": (["--set", "model.hidden=abc"], "model.hidden=abc must be a whole number"),
    "wrong_float": (["--set", "training.lr=abc"], "training.lr=abc must be a number"),
    "wrong_range": (["--set", "model.dropout=1.5"], "model.dropout=1.5 must be in [0, 1)"),
    "non_finite": (["--set", "training.lr=.inf"], "training.lr=.inf must be a finite number"),
    "heads_on_gcn": (["--set", "model.name=gcn", "--set", "model.heads=4"], "model.heads is only for attention models"),
    "hidden_not_divisible_by_heads": (
        ["--set", "model.hidden=60"],
        "model.hidden=60 must be divisible by model.heads=8: hidden counts all heads together (8 heads x 8 features = 64)",
    ),
    "config_as_argument": (["{tmp}/typo.yaml"], "the config goes after --config: gnnviz train --config {tmp}/typo.yaml"),
    "unknown_key_in_file_names_its_line": (["--config", "{tmp}/typo.yaml"], "{tmp}/typo.yaml:2: unknown key 'model.hiden'"),
    "other_name_for_a_key": (["--set", "training.learning_rate=0.01"], "(did you mean 'lr'?)"),
    "removed_key_loss": (
        ["--set", "dataset.name=ppi", "--set", "training.loss=cross_entropy"],
        "training.loss was removed: the loss follows the dataset's task",
    ),
    "unknown_model": (
        ["--set", "model.name=gcnn"],
        "unknown model.name 'gcnn'; choose one of gat, gatv2, gcn, sage, mlp (did you mean 'gcn'?)",
    ),
    "unknown_dataset": (
        ["--set", "dataset.name=coraa"],
        "unknown dataset.name 'coraa'; choose one of cora, citeseer, ppi, karate, synthetic, ba_shapes, tree_cycles, tree_grid, infection, dictionary_lookup, minesweeper, ogbn-arxiv, ogbn-products (did you mean 'cora'?)",
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
    "nproc_zero": (["--nproc", "0"], "--nproc 0 must be at least 1"),
    "nproc_with_seeds": (["--nproc", "2", "--seeds", "2"], "--seeds 2 with --nproc: train one seed at a time"),
    "nproc_with_one_gpu": (
        ["--nproc", "2", "--device", "cuda:1"],
        "run.device=cuda:1 names one GPU, but each rank takes the GPU of its local rank",
    ),
    "unknown_option": (["--bogus"], "No such option"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_nothing_created(tmp_path, case):
    (tmp_path / "empty.yaml").write_text("# nothing but a comment\n")
    (tmp_path / "list.yaml").write_text("- model\n- dataset\n")
    (tmp_path / "typo.yaml").write_text("model:\n  hiden: 8\n")
    (tmp_path / "tag.yaml").write_text(f"model: !!python/object/apply:os.system ['touch {tmp_path}/pwned']\n")
    (tmp_path / "file").write_text("not a folder")
    args, needle = BAD_INPUT[case]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out = tmp_path / "out"
    if "--out" not in args:
        args += ["--out", str(out)]
    r = gnnviz("train", *args, env=env_for(tmp_path))
    assert r.returncode == 2, r.stderr
    assert needle.replace("{tmp}", str(tmp_path)) in one_error(r)
    assert not out.exists() and not (tmp_path / "data").exists() and not (tmp_path / "pwned").exists()
    assert (tmp_path / "file").read_text() == "not a folder"


def test_malformed_yaml_names_file_line_and_column(tmp_path):
    (tmp_path / "c.yaml").write_text("training:\n  lr: 0.01\n  epochs: [3\nmodel: {}\n")
    r = gnnviz("train", "--config", tmp_path / "c.yaml", "--out", tmp_path / "o", env=env_for(tmp_path))
    line = one_error(r)
    assert r.returncode == 2 and line.startswith(f"error: {tmp_path / 'c.yaml'}:4:6: malformed YAML: expected ',' or ']'")
    assert line.endswith("; fix the syntax there")
    assert not (tmp_path / "o").exists() and not (tmp_path / "data").exists()


def test_missing_cuda_fails_before_anything_is_created(tmp_path):
    from gnnviz.training.device import resolve_device

    device = "cuda:99" if torch.cuda.is_available() else "cuda"
    r = gnnviz("train", *KARATE, "--out", tmp_path / "o", "--device", device, env=env_for(tmp_path))
    line = one_error(r)
    assert r.returncode == 2 and line.startswith(f"error: --device {device} ")
    assert ("CUDA is not available here" in line and line.endswith("use --device cpu or auto")) or "does not exist" in line
    assert not (tmp_path / "o").exists() and not (tmp_path / "data").exists()
    for spec in ("cuda", "cuda:0", "cuda:1", "cuda:99"):  # an index that is not there fails the same way
        if spec == "cuda" or int(spec.split(":")[1]) >= torch.cuda.device_count():
            with pytest.raises(ConfigError, match=f"--device {spec} (asked for CUDA|does not exist)"):
                resolve_device(spec)


def test_auto_device_says_what_it_picked_and_the_run_records_it(tmp_path):
    said: list[str] = []
    cfg = load_config(None, ["dataset.name=karate", "training.epochs=2", "run.device=auto"])
    train(cfg, out=tmp_path / "o", name="auto", log=said.append, progress=False)
    picked = "cuda" if torch.cuda.is_available() else "cpu"
    assert said[0] == f"device: {picked} (auto)"
    summary = json.loads((tmp_path / "o" / "auto" / "summary.json").read_text())
    assert summary["device"] == picked
    assert yaml.safe_load((tmp_path / "o" / "auto" / "config.yaml").read_text())["run"]["device"] == "auto"


def test_offline_without_mirror_or_raw_files(tmp_path):
    env = env_for(tmp_path)
    env.pop("GNNVIZ_DATA_MIRROR", None)
    r = gnnviz("train", "--set", "dataset.name=cora", "--out", tmp_path / "o", env=env)
    line = one_error(r)
    assert r.returncode == 1
    assert "ind.cora.x" in line and "GNNVIZ_OFFLINE is set" in line
    assert f"put them in {tmp_path / 'data' / 'Cora' / 'raw'}" in line and "GNNVIZ_DATA_MIRROR" in line
    assert not (tmp_path / "o").exists() and not (tmp_path / "data" / "Cora").exists()


def test_data_root_that_is_a_file(tmp_path):  # an --out that is a file: see test_..._nothing_created
    (tmp_path / "root-file").write_text("x")
    r = gnnviz(
        "train",
        "--set",
        "dataset.name=cora",
        "--data-root",
        tmp_path / "root-file",
        "--out",
        tmp_path / "o",
        env=env_for(tmp_path),
    )
    assert r.returncode == 1
    assert one_error(r) == (
        f"error: data root {tmp_path / 'root-file'} is a file, not a folder; pass --data-root DIR or set GNNVIZ_DATA_ROOT"
    )
    assert not (tmp_path / "o").exists() and (tmp_path / "root-file").read_text() == "x"


def test_read_only_data_root_and_out(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes; the is-a-file cases cover the same check")
        r = gnnviz(
            "train", "--set", "dataset.name=cora", "--data-root", ro / "data", "--out", tmp_path / "o", env=env_for(tmp_path)
        )
        assert r.returncode == 1 and "pass a writable --data-root DIR" in one_error(r)
        r = gnnviz("train", *KARATE, "--out", ro / "out", env=env_for(tmp_path))
        assert r.returncode == 2 and "is not writable; pass --out DIR" in one_error(r)
        assert entries(ro) == [] and not (tmp_path / "o").exists()
    finally:
        ro.chmod(0o755)


def test_existing_run_name_is_an_error_and_untouched(tmp_path):
    (tmp_path / "o" / "mine").mkdir(parents=True)
    (tmp_path / "o" / "mine" / "notes.txt").write_text("keep me")
    (tmp_path / "o" / "afile").write_text("also mine")
    r = gnnviz("train", *KARATE, "--out", tmp_path / "o", "--name", "mine", env=env_for(tmp_path))
    assert r.returncode == 2
    assert one_error(r) == f"error: run {tmp_path / 'o' / 'mine'} already exists; choose another --name or remove it first"
    with pytest.raises(ConfigError, match="afile already exists; choose another --name"):  # a file of that name too
        train(load_config(None, ["dataset.name=karate"]), out=tmp_path / "o", name="afile", quiet=True)
    assert entries(tmp_path / "o") == ["afile", "mine", "mine/notes.txt"]
    assert (tmp_path / "o" / "afile").read_text() == "also mine"
    assert not (tmp_path / "data").exists()  # refused before the dataset was even loaded


def test_diverging_run_stops_and_keeps_the_last_good_state(tmp_path):
    r = gnnviz("train", *KARATE, "--set", "training.lr=1e30", "--out", tmp_path / "o", "--name", "div", env=env_for(tmp_path))
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
    assert all(np.isfinite(list(row.values())).all() for row in read_metrics(run / "metrics.csv"))
    # In a series of seeds, divergence ends the series and the aggregate says so.
    cfg = load_config(None, ["dataset.name=karate", "training.epochs=3", "training.lr=1e30"])
    with pytest.raises(DivergedError, match="lower training.lr"):
        train(cfg, out=tmp_path, name="series", seeds=2, quiet=True)
    agg = json.loads((tmp_path / "series" / "summary.json").read_text())
    assert agg["status"] == "diverged" and agg["test_metric_mean"] is None and agg["seeds"] == [0]


def test_help_shows_words_not_python_types(capsys):
    # Every command's --help: nothing after a flag, no Python type, no default eaten by markup.
    from gnnviz.cli.app import app
    from tests.support.cli import run_cli

    for command in ["", *(c.name or c.callback.__name__ for c in app.registered_commands)]:
        code, out, _ = run_cli(capsys, *([command] if command else []), "--help")
        assert code == 0
        for bad in ("<bool>", "<str>", "list[", "<float>"):
            assert bad not in out, (command, bad, out)
        assert not re.search(r"\s\.(?!\.)", out), (command, out)


def test_visualize_takes_the_run_as_argument_or_option(tmp_path, capsys):
    from tests.support.cli import run_cli

    code, _, err = run_cli(capsys, "visualize", tmp_path / "a", "--run", tmp_path / "b")
    assert code == 2 and f"two runs given, {tmp_path / 'a'} and --run {tmp_path / 'b'}" in err
    for args in ([tmp_path / "nope"], ["--run", tmp_path / "nope"]):
        code, _, err = run_cli(capsys, "visualize", *args)
        assert code == 1 and f"run directory {tmp_path / 'nope'} does not exist" in err


def test_train_without_config_says_it_trains_the_defaults(tmp_path, capsys):
    from tests.support.cli import run_cli

    quick = ["--set", "dataset.name=karate", "--set", "training.epochs=1", "--out", tmp_path]
    code, _, err = run_cli(capsys, "train", *quick, "--name", "a")
    assert code == 0
    assert err.splitlines()[0].startswith("config: none given, training the defaults (gat on karate)")
    (tmp_path / "k.yaml").write_text("dataset: {name: karate}\n")
    code, _, err = run_cli(capsys, "train", "--config", tmp_path / "k.yaml", *quick, "--name", "b")
    assert code == 0 and "config: none given" not in err


def test_advice_names_what_to_do_not_train_again(tmp_path, capsys, monkeypatch):
    # Issue 19's wrong-advice cases, each with the advice it must give instead of "train again".
    from tests.support.cli import run_cli

    cfg = load_config(None, ["dataset.name=karate", "training.epochs=2"])
    run = train(cfg, out=tmp_path / "outs", name="k", quiet=True)
    (run / "viz").mkdir()
    code, _, err = run_cli(capsys, "visualize", tmp_path / "outs")
    assert code != 0 and f"{tmp_path / 'outs'} is a folder of runs (k), not a run; pass one of them, e.g. {run}" in err
    assert "train again" not in err
    code, _, err = run_cli(capsys, "visualize", run / "viz")
    assert code != 0 and f"is inside the run {run}" in err and f"pass the run itself: {run}" in err
    # A run still training (this very process): wait, then run the command again; not "visualize it".
    summary = json.loads((run / "summary.json").read_text())
    from gnnviz.runs.status import _process_start

    summary.update(status="running", pid=os.getpid(), pid_started=_process_start(os.getpid()))
    summary.pop("host", None)
    (run / "summary.json").write_text(json.dumps(summary))
    other = train(cfg, out=tmp_path / "outs", name="k2", quiet=True)
    code, _, err = run_cli(capsys, "compare", run, other, "--out", tmp_path / "cmp")
    assert code != 0 and f"{run} is still training (process {os.getpid()}); wait for it to finish" in err
    assert "then run this again" in err and "visualize it" not in err
    # A mirror that is set but lacks the files is named as such, not as "no mirror".
    (tmp_path / "mirror").mkdir()
    monkeypatch.setenv("GNNVIZ_DATA_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("GNNVIZ_OFFLINE", "1")
    code, out, err = run_cli(capsys, "datasets", "--data-root", tmp_path / "empty")
    assert code == 0 and f"the mirror GNNVIZ_DATA_MIRROR={tmp_path / 'mirror'} lacks them" in out + err


def test_seeds_are_labelled_as_their_folders(tmp_path, capsys):
    from tests.support.cli import run_cli

    code, _, err = run_cli(capsys, "train", *KARATE, "--seeds", "2", "--out", tmp_path, "--name", "s")
    assert code == 0
    assert [line.split(":")[0] for line in err.splitlines() if line.startswith("seed-")] == ["seed-0 (1 of 2)", "seed-1 (2 of 2)"]
    assert sorted(p.name for p in (tmp_path / "s").glob("seed-*")) == ["seed-0", "seed-1"]


def test_an_error_caused_by_our_own_ctrl_c_ends_as_the_ctrl_c(tmp_path, capsys, monkeypatch):
    # A Ctrl-C that cuts a C extension's import short surfaces as "ImportError: initialization
    # failed" (seen in the signal-timing sweep): the ending is the Ctrl-C's, 130, not "unexpected".
    from gnnviz.cli import exits
    from gnnviz.runs import listing
    from tests.support.cli import run_cli

    def cut_short(folder):
        try:
            exits._on_sigint(signal.SIGINT, None)
        except KeyboardInterrupt:
            pass  # swallowed where the signal landed, as a module's init does
        raise ImportError("initialization failed")

    monkeypatch.setattr(listing, "list_runs", cut_short)
    code, _, err = run_cli(capsys, "runs", tmp_path)
    assert code == 130 and "unexpected" not in err
    monkeypatch.setattr(listing, "list_runs", lambda folder: (_ for _ in ()).throw(ImportError("initialization failed")))
    code, _, err = run_cli(capsys, "runs", tmp_path)  # without a signal it is the bug it looks like
    assert code == 1 and "unexpected ImportError: initialization failed" in err
