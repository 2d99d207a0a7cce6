"""Limits checked before anything starts: a path the file system or the command cannot use, more
ranks than the machine has cores or memory for, a generated graph larger than the memory left, a
series of seeds past the largest seed. Each is exit 2 with one line naming what and why, and
nothing created. In-process (``run_cli``): a table of cases, no training.
"""

from __future__ import annotations

import os

import pytest

from gnnviz import machine
from gnnviz.cli.launch import check_nproc
from gnnviz.datasets.synthetic import SyntheticParams, check_fits, memory_floor
from gnnviz.errors import ConfigError
from tests.support.cli import run_cli

LONG = "a" * 300  # longer than any Linux file system's 255-byte names
KARATE = ("--set", "dataset.name=karate", "--set", "training.epochs=1")


@pytest.fixture
def places(tmp_path):
    """A regular file, a folder, a FIFO, a loop of links."""
    (tmp_path / "file").write_text("x\n")
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    return tmp_path


# (command and arguments, the option named, the problem the line says). {t} is the test's folder.
BAD_PATHS = {
    "config_too_long": (["train", "--config", "{t}/" + LONG + ".yaml"], "--config", "longer than the file system allows"),
    "config_device": (["train", "--config", "/dev/zero"], "--config", "is a character device, not a file"),
    "config_fifo": (["train", "--config", "{t}/fifo"], "--config", "is a FIFO (named pipe), not a file"),
    "config_under_a_file": (["train", "--config", "{t}/file/c.yaml"], "--config", "a part of it is a file, not a folder"),
    "config_link_loop": (["train", "--config", "{t}/loop1"], "--config", "symbolic links loop"),
    "out_too_long": (["train", *KARATE, "--out", "{t}/" + LONG], "--out", "longer than the file system allows"),
    "out_deep_too_long": (["train", *KARATE, "--out", "{t}/new/" + LONG + "/x"], "--out", "longer than the file system"),
    "out_under_a_file": (["train", *KARATE, "--out", "{t}/file/sub"], "--out", "a part of it is a file, not a folder"),
    "out_device": (["train", *KARATE, "--out", "/dev/null"], "--out", "is a character device, not a folder"),
    "data_root_fifo": (["train", *KARATE, "--out", "{t}/o", "--data-root", "{t}/fifo"], "--data-root", "is a FIFO"),
    "data_root_too_long": (["datasets", "--data-root", "{t}/" + LONG], "--data-root", "longer than the file system"),
    "run_too_long": (["visualize", "--run", "{t}/" + LONG], "--run", "longer than the file system allows"),
    "run_fifo": (["visualize", "--run", "{t}/fifo"], "--run", "is a FIFO (named pipe), not a folder"),
    "run_link_loop": (["visualize", "--run", "{t}/loop1"], "--run", "symbolic links loop"),
    "viz_out_device": (["visualize", "--run", "{t}/folder", "--out", "/dev/null"], "--out", "is a character device"),
    "compare_run_too_long": (["compare", "{t}/folder", "{t}/" + LONG], "RUN", "longer than the file system allows"),
    "compare_out_under_a_file": (["compare", "{t}/folder", "{t}/folder", "--out", "{t}/file/o"], "--out", "is a file, not"),
    "config_folder": (["train", "--config", "{t}/folder"], "config path", "is a directory; pass a YAML file"),
}


@pytest.mark.parametrize("case", sorted(BAD_PATHS))
def test_a_path_that_cannot_be_used_is_exit_2_naming_it(places, capsys, case):
    args, option, problem = BAD_PATHS[case]
    args = [a.replace("{t}", str(places)) for a in args]
    before = sorted(p.name for p in places.iterdir())
    code, out, err = run_cli(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and out == "", err
    assert lines[0].startswith(f"error: {option} ") and problem in lines[0], lines[0]
    assert sorted(p.name for p in places.iterdir()) == before  # nothing created, nothing read forever


@pytest.mark.parametrize(
    ("nproc", "cores", "available", "says"),
    [
        (3, 2, 2**40, "more ranks than the 2 CPU cores"),
        (100_000, 16, 2**40, "use at most --nproc 16"),
        (99999999999999999999, 16, 2**40, "more ranks than the 16 CPU cores"),
        (8, 16, 1 * 2**30, "use at most --nproc 4 or free memory"),
    ],
)
def test_nproc_is_checked_against_the_machine_before_any_rank_starts(nproc, cores, available, says):
    with pytest.raises(ConfigError, match=says):
        check_nproc(nproc, cores=cores, available=available)
    check_nproc(2, cores=2, available=2 * machine.RANK_MEMORY)  # what fits passes


def test_nproc_too_large_is_refused_by_the_cli(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", *KARATE, "--nproc", "99999999999999999999", "--out", tmp_path / "o")
    assert code == 2 and f"CPU cores this process may use; use at most --nproc {machine.cores()}" in err
    assert not (tmp_path / "o").exists()


def test_a_generated_graph_is_checked_against_memory_before_it_is_built(tmp_path, capsys):
    small = SyntheticParams(nodes=1000)
    check_fits(small, available=memory_floor(small))
    with pytest.raises(ConfigError, match=r"dataset.nodes=1,000 .* needs at least .* lower dataset.nodes"):
        check_fits(small, available=memory_floor(small) - 1)
    # 2e9 nodes passed the "below 2**31" check and ended in igraph's InternalError; 3e8 ran to 4 GB+.
    # Through the CLI only where this machine must refuse it (a machine with the memory would build it).
    available = machine.available_memory()
    for nodes in (2_000_000_000, 300_000_000):
        if available is None or available >= memory_floor(SyntheticParams(nodes=nodes)):
            continue
        sets = ("--set", "dataset.name=synthetic", "--set", f"dataset.nodes={nodes}")
        code, _, err = run_cli(capsys, "train", *sets, "--out", tmp_path / "o")
        assert code == 2 and f"dataset.nodes={nodes:,}" in err and "memory available" in err, err
        assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("seed", "seeds", "ok"), [(2**32 - 1, 2, False), (2**32 - 3, 3, True), (2**32 - 3, 4, False)])
def test_a_series_of_seeds_past_the_largest_seed_is_refused_before_it_starts(tmp_path, capsys, seed, seeds, ok):
    from gnnviz.config import load_config
    from gnnviz.experiment import train

    cfg = load_config(None, ["dataset.name=karate", f"run.seed={seed}"])
    if ok:  # the range check alone: stop at the next check (an existing run name) to train nothing
        (tmp_path / "taken").mkdir()
        with pytest.raises(ConfigError, match="already exists"):
            train(cfg, out=tmp_path, name="taken", seeds=seeds, quiet=True)
        return
    with pytest.raises(ConfigError, match=f"--seeds {seeds} from run.seed={seed} reaches seed {seed + seeds - 1}"):
        train(cfg, out=tmp_path / "o", seeds=seeds, quiet=True)
    assert not (tmp_path / "o").exists()
