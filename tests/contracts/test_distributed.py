"""Distributed training under torchrun: the same training as one process, and every ending clean.

Multi-process tests cost seconds each (torchrun and two ranks start up), so there are few:
equality with one process (full batch and mini-batch), a rank killed mid-training, a rank that
hangs (named after a 4 s GNNVIZ_DIST_TIMEOUT), Ctrl-C, and the launcher killed (SIGKILL) as its
ranks start, mid-training, in the final test evaluation and while saving.
The rest are pure functions.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gnnviz import distributed
from tests.support.tolerance import float32_atol

REPO = Path(__file__).resolve().parents[2]
FIXED = ["--set", "model.dropout=0", "--set", "model.attn_dropout=0"]


def env() -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if k not in ("GNNVIZ_DEBUG", "WORLD_SIZE", "RANK", "LOCAL_RANK")}
    e.update(GNNVIZ_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    return e


def train_args(out: Path, name: str, *extra: str) -> list[str]:
    return ["train", "--config", "configs/gat_karate.yaml", "--out", str(out), "--name", name, "--quiet", *FIXED, *extra]


def summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


@pytest.mark.parametrize("batch", ["0", "7"], ids=["full-batch", "mini-batch"])
def test_two_ranks_train_the_same_parameters_as_one_process(tmp_path, batch):
    """Dropout off, early stopping on (patience 10): two ranks under plain torchrun, each on its
    part of every batch, with DDP averaging gradients of losses scaled by each rank's share, stop
    at the same epoch as one process with the same validation numbers every epoch and the same
    best parameters within float32 rounding of every step in another summation order (see
    tests/support/tolerance.py; measured: 4e-7), and only rank 0 writes a run directory. Full
    batch splits karate's 16 seeds 8/8; batches of 7 give batches of 7, 7 and 2 split 4/3, 4/3
    and 1/1, so a wrong scaling of uneven parts would show."""
    common = ["--set", "training.epochs=200", "--set", "training.patience=10", "--set", f"training.batch_size={batch}"]
    one = subprocess.run([sys.executable, "-m", "gnnviz", *train_args(tmp_path, "one", *common)],
                         env=env(), cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "gnnviz",
         *train_args(tmp_path, "two", *common, "--tensorboard")],
        env=env(), cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert two.returncode == 0, two.stderr
    assert two.stdout.splitlines() == [str(tmp_path / "two")]  # rank 1 prints nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]
    s1, s2 = summary(tmp_path / "one"), summary(tmp_path / "two")
    assert s2["status"] == s1["status"] == "early_stopped" and s2["ranks"] == 2
    assert (s2["epochs_run"], s2["best_epoch"], s2["test_metric"]) == (s1["epochs_run"], s1["best_epoch"], s1["test_metric"])
    a = torch.load(tmp_path / "one" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "two" / "checkpoint.pt", weights_only=True)
    # Every epoch takes one step per batch (karate's 16 seeds: 1 full batch, or 3 of at most 7).
    steps = s1["epochs_run"] * (1 if batch == "0" else 3)
    atol = float32_atol(list(a["state_dict"].values()), steps)
    for key, value in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][key], value, atol=atol, rtol=0)
    rows = [
        [line.split(",")[1:5] for line in (tmp_path / r / "metrics.csv").read_text().splitlines()[1:]] for r in ("one", "two")
    ]
    for x, y in zip(*rows, strict=True):
        assert [float(v) for v in x] == pytest.approx([float(v) for v in y], abs=atol)
    # TensorBoard (issue 20): rank 0 alone writes, once: one event file with one row per epoch.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert len(list((tmp_path / "two" / "tb").glob("events.out.tfevents.*"))) == 1
    acc = EventAccumulator(str(tmp_path / "two" / "tb"), size_guidance={"scalars": 0})
    acc.Reload()
    epochs = [int(line.split(",")[0]) for line in (tmp_path / "two" / "metrics.csv").read_text().splitlines()[1:]]
    assert [e.step for e in acc.Scalars("loss/val")] == epochs and len(epochs) == s2["epochs_run"]


def start(tmp_path: Path, name: str) -> tuple[subprocess.Popen, Path]:
    """``gnnviz train --nproc 2`` for (nearly) ever, once its first epochs are on disk."""
    run = tmp_path / name
    proc = subprocess.Popen(
        [sys.executable, "-m", "gnnviz",
         *train_args(tmp_path, name, "--nproc", "2", "--set", "training.epochs=1000000", "--set", "training.patience=0")],
        env=env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        metrics = run / "metrics.csv"
        if metrics.is_file() and len(metrics.read_text().splitlines()) > 3:
            return proc, run
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    proc.kill()
    pytest.fail("training did not start within 240 s")


def rank_pid(launcher: int, rank: int) -> int:
    """The pid of ``rank`` among the launcher's children (torchrun starts them directly)."""
    for child in Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split():
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        if f"RANK={rank}".encode() in environ:
            return int(child)
    raise AssertionError(f"no rank {rank} under {launcher}")


def test_a_killed_rank_fails_the_run_and_stops_the_others(tmp_path):
    proc, run = start(tmp_path, "killed")
    victim = rank_pid(proc.pid, 1)
    os.kill(victim, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)  # no hang: rank 0 is stopped too
    assert proc.returncode == 1, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: rank 1 (pid {victim}) was killed by SIGKILL; the other ranks were stopped (run {run})"], err
    assert "Traceback" not in err and "torch.distributed" not in err
    s = summary(run)
    assert s["status"] == "failed" and s["error"] == f"rank 1 (pid {victim}) was killed by SIGKILL; the other ranks were stopped"
    assert (run / "checkpoint.pt").is_file()  # the best state so far is kept


def test_ctrl_c_interrupts_every_rank(tmp_path):
    proc, run = start(tmp_path, "stopped")
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the launcher's process group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert not [line for line in err.splitlines() if line.startswith("error:")], err
    assert "Traceback" not in err
    assert summary(run)["status"] == "interrupted" and (run / "checkpoint.pt").is_file()


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a parent that does not reap it has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _in_sessions(sids: set[int]) -> list[int]:
    """The live processes of the sessions ``sids`` (the launcher's, started with a new session,
    and the ranks': torchrun starts each in a session of its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[3]) in sids and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found


def _ranks_started(launcher: subprocess.Popen, count: int, timeout: float = 120) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            children = [int(c) for c in Path(f"/proc/{launcher.pid}/task/{launcher.pid}/children").read_text().split()]
        except OSError:
            children = []
        if len(children) >= count:
            return children
        assert launcher.poll() is None, launcher.communicate()
        time.sleep(0.05)
    launcher.kill()
    pytest.fail(f"the ranks did not start within {timeout} s")


# Loaded by every rank (sitecustomize on PYTHONPATH): rank 0 marks the moment it enters a late
# phase (the final test evaluation, or saving the checkpoint) and stays in it for a few seconds,
# so that the launcher is killed while rank 0 is there.
IN_PHASE = """
import os
phase = os.environ.get("GNNVIZ_TEST_PHASE")
if os.environ.get("RANK") == "0" and phase:
    import time
    from pathlib import Path

    def enter():
        Path(os.environ["GNNVIZ_TEST_MARK"]).write_text(str(os.getpid()))
        time.sleep(3)

    if phase == "saving":
        import gnnviz.experiment as experiment
        real_save = experiment.save_checkpoint
        def save_checkpoint(*a, **k):
            enter()
            return real_save(*a, **k)
        experiment.save_checkpoint = save_checkpoint
    else:
        import gnnviz.training.loop as loop
        real_steps = loop.make_steps
        def make_steps(*a, **k):
            train_step, evaluate = real_steps(*a, **k)
            local = getattr(evaluate, "local", evaluate)
            def test_first(split):
                if split == "test":
                    enter()
                return local(split)
            evaluate.local = test_first
            return train_step, evaluate
        loop.make_steps = make_steps
"""


@pytest.mark.parametrize("phase", ["starting", "training", "evaluating", "saving"])
def test_ranks_end_when_their_launcher_is_killed(tmp_path, phase):
    """SIGKILL gives the launcher no chance to stop its ranks: they must end by themselves."""
    if phase == "training":
        proc, run = start(tmp_path, phase)
        ranks = [rank_pid(proc.pid, 0), rank_pid(proc.pid, 1)]
    elif phase == "starting":  # killed the moment its ranks exist, before they have even imported torch
        proc = subprocess.Popen(
            [sys.executable, "-m", "gnnviz", *train_args(tmp_path, phase, "--nproc", "2")],
            env=env(), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        ranks, run = _ranks_started(proc, 2), tmp_path / phase
    else:  # rank 0 in its final test evaluation, or writing the checkpoint
        hook, mark = tmp_path / "hook", tmp_path / "in-phase"
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(IN_PHASE)
        e = {**env(), "PYTHONPATH": f"{hook}{os.pathsep}{REPO}", "GNNVIZ_TEST_PHASE": phase, "GNNVIZ_TEST_MARK": str(mark)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "gnnviz", *train_args(tmp_path, phase, "--nproc", "2", "--set", "training.epochs=3")],
            env=e, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        ranks, run = _ranks_started(proc, 2), tmp_path / phase
        deadline = time.monotonic() + 240
        while not mark.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        if not mark.exists():
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"rank 0 never reached {phase}")
    sessions = {proc.pid, *ranks}
    try:
        proc.kill()
        proc.wait(timeout=30)
        deadline = time.monotonic() + distributed.ORPHAN_GRACE_S + 60
        while time.monotonic() < deadline and _in_sessions(sessions):
            time.sleep(0.2)
        left = _in_sessions(sessions)
        assert not left and not any(_alive(r) for r in ranks), f"left running: {left}"
        if phase != "starting":  # rank 0 saved as after any SIGTERM: the run does not say running
            s = summary(run)
            assert s["status"] in ("interrupted", "completed") and (run / "checkpoint.pt").is_file(), s
            if phase == "training":
                assert s["status"] == "interrupted"
    finally:
        for pid in _in_sessions(sessions):
            os.kill(pid, signal.SIGKILL)


# Loaded by every rank (sitecustomize on PYTHONPATH): rank 1 stops answering at its 4th guarded
# step, asleep in Python as a rank stuck in a loop or a read would be.
HANG_RANK_1 = """
import os
if os.environ.get("RANK") == "1":
    import time
    from gnnviz import distributed
    real = distributed.World.guard
    def guard(self, fn):
        guarded, calls = real(self, fn), [0]
        def run(*a, **k):
            calls[0] += 1
            if calls[0] == 4:
                time.sleep(3600)
            return guarded(*a, **k)
        return run
    distributed.World.guard = guard
"""


def test_a_rank_that_hangs_is_named_as_hung_after_the_timeout(tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HANG_RANK_1)
    e = {**env(), "PYTHONPATH": f"{hook}{os.pathsep}{REPO}", distributed.TIMEOUT_ENV: "4"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gnnviz", *train_args(tmp_path, "hung", "--nproc", "2", "--set", "training.epochs=50")],
        env=e, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        _, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 1, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    expected = "rank 1 (pid {}) hung: the other ranks had no answer from it within 4 s (GNNVIZ_DIST_TIMEOUT); it was stopped"
    pid = errors[0].split("(pid ")[1].split(")")[0] if "(pid " in errors[0] else "?"
    assert errors[0] == f"error: {expected.format(pid)} (run {tmp_path / 'hung'})", err
    s = summary(tmp_path / "hung")
    assert s["status"] == "failed" and s["error"] == expected.format(pid)


# ----------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    "failures, line, code",
    [
        ({0: (143, "terminated: terminated", 11), 1: (-9, "Signal 9 (SIGKILL) received by PID 12", 12)},
         "rank 1 (pid 12) was killed by SIGKILL; the other ranks were stopped", 1),
        ({0: (1, "peer-lost: another rank stopped", 11), 1: (1, "error: out of memory (MemoryError); ...", 12)},
         "rank 1: out of memory (MemoryError); ...", 1),
        ({0: (2, "error: unknown dataset 'x'; choose one of ...", 11), 1: (2, "error: unknown dataset 'x'; choose one of ...", 12)},
         "unknown dataset 'x'; choose one of ...", 2),
        ({0: (130, "interrupted: interrupted", 11), 1: (130, "interrupted: interrupted", 12)}, "interrupted", 130),
        # rank 0 failed at once; torchrun then stopped rank 1 with SIGTERM before it could say so
        ({0: (2, "error: run.device=cuda:1 names one GPU", 11), 1: (-15, "Signal 15 (SIGTERM) received by PID 12", 12)},
         "run.device=cuda:1 names one GPU", 2),
        ({1: (1, "To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html", 12)},
         "rank 1 (pid 12) exited with code 1; rerun with --debug for its traceback", 1),
        # rank 1 hung: rank 0 gave up waiting for it; torchrun then stopped rank 1 (or killed it, unanswering)
        ({0: (1, f"peer-lost: {distributed.WAITED} 5 s (GNNVIZ_DIST_TIMEOUT)", 11), 1: (143, "terminated: terminated", 12)},
         "rank 1 (pid 12) hung: the other ranks had no answer from it within 5 s (GNNVIZ_DIST_TIMEOUT); it was stopped", 1),
        ({0: (1, f"peer-lost: {distributed.WAITED} 5 s (GNNVIZ_DIST_TIMEOUT)", 11), 1: (-9, "Signal 9 (SIGKILL) received", 12)},
         "rank 1 (pid 12) hung: the other ranks had no answer from it within 5 s (GNNVIZ_DIST_TIMEOUT); it was stopped", 1),
        # a rank that failed of its own accord is the cause even when another timed out waiting for it
        ({0: (1, f"peer-lost: {distributed.WAITED} 5 s (GNNVIZ_DIST_TIMEOUT)", 11), 1: (1, "error: disk full", 12)},
         "rank 1: disk full", 1),
    ],
)  # fmt: skip
def test_failure_line_names_the_rank_that_caused_the_others(failures, line, code):
    assert distributed.failure_line(failures) == (line, code)


def write_run(run: Path, status: str, rows: int = 2, **extra) -> None:
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"status": status, **extra}))
    (run / "metrics.csv").write_text("epoch,train_loss\n" + "".join(f"{i},1.0\n" for i in range(rows)))


@pytest.mark.parametrize(
    "before, after",
    [
        (("running", {}), ("failed", "rank 1 died")),  # rank 0 killed before writing its ending
        (("interrupted", {}), ("failed", "rank 1 died")),  # rank 0 stopped by torchrun's SIGTERM
        (("failed", {"error": "PeerLost: another rank stopped"}), ("failed", "rank 1 died")),
        (("completed", {}), ("completed", None)),
        (("failed", {"error": "OSError: disk full"}), ("failed", "OSError: disk full")),
    ],
)
def test_settle_leaves_no_run_running_and_names_the_cause(tmp_path, before, after):
    run = tmp_path / "r"
    write_run(run, before[0], **before[1])
    distributed.settle(run, "rank 1 died", interrupted=False)
    s = summary(run)
    assert (s["status"], s.get("error")) == after


def test_settle_removes_a_run_stopped_before_its_first_epoch(tmp_path):
    write_run(tmp_path / "r", "running", rows=0)
    distributed.settle(tmp_path / "r", "rank 1 died", interrupted=False)
    assert not (tmp_path / "r").exists()
