"""A well-behaved Unix tool in every environment (issue 8, item 7), as a matrix.

Streams (closed stdout, a pipe closed at once, /dev/full for stdout or stderr), locales (C, POSIX,
a non-UTF-8 one), non-UTF-8 bytes and spaces in paths, HOME unset, TERM=dumb, no tty, relative,
absolute and ``~`` paths: the right exit code, no traceback, and the run directory as the last
stdout line whenever stdout can take it. Subprocesses (``python -m gnnviz``), since streams and
the environment are what is tested.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = "dataset:\n  name: karate\nmodel:\n  name: gcn\n  hidden: 8\ntraining:\n  epochs: 2\n  patience: 0\n"


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GNNVIZ_DEBUG", "LC_ALL", "LANG", "LC_CTYPE")}
    env.update(GNNVIZ_OFFLINE="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    env.update(GNNVIZ_DATA_ROOT=str(tmp / "data"), GNNVIZ_CACHE_DIR=str(tmp / "cache"))
    return env


def no_traceback(r: subprocess.CompletedProcess) -> None:
    assert b"Traceback" not in r.stderr and b"unexpected" not in r.stderr, r.stderr.decode(errors="replace")


GNNVIZ = f"{sys.executable} -m gnnviz"

ENVIRONMENTS = {
    "plain": {},
    "LANG=C": {"LANG": "C"},
    "LC_ALL=POSIX": {"LC_ALL": "POSIX"},
    "non-UTF-8 locale": {"LC_ALL": "en_US.ISO-8859-1", "PYTHONUTF8": "0"},
    "HOME unset": {"HOME": None},
    "TERM=dumb": {"TERM": "dumb"},
    "PYTHONIOENCODING=ascii": {"PYTHONIOENCODING": "ascii"},
}
PLACES = {
    "relative": lambda tmp: ("out", tmp / "out"),
    "absolute with spaces": lambda tmp: (str(tmp / "my runs"), tmp / "my runs"),
    "non-UTF-8 bytes": lambda tmp: (os.fsdecode(bytes(tmp) + b"/r\xe9sultats"), Path(os.fsdecode(bytes(tmp) + b"/r\xe9sultats"))),
    "tilde": lambda tmp: ("~/runs", tmp / "home" / "runs"),
}


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_runs_and_print_config_in_every_environment(tmp_path, environment, place):
    """The light commands across the whole matrix: exit 0, no traceback, bytes of paths kept."""
    env = base_env(tmp_path)
    (tmp_path / "home").mkdir()
    env["HOME"] = str(tmp_path / "home")
    for k, v in ENVIRONMENTS[environment].items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    if place == "tilde" and "HOME" not in env:
        pytest.skip("'~' needs HOME")
    arg, folder = PLACES[place](tmp_path)
    folder.mkdir(parents=True)
    run = folder / "k1"
    run.mkdir()
    (run / "summary.json").write_text('{"dataset": "karate", "model": "gcn", "status": "completed"}')
    r = subprocess.run([sys.executable, "-m", "gnnviz", "runs", arg], env=env, cwd=tmp_path, capture_output=True, timeout=120)
    no_traceback(r)
    assert r.returncode == 0, r.stderr
    assert b"k1" in r.stdout and b"damaged" in r.stdout  # no checkpoint: listed as damaged, not a crash
    r = subprocess.run([sys.executable, "-m", "gnnviz", "runs", os.fsencode(arg) + b"-missing"], env=env, cwd=tmp_path,
                       capture_output=True, timeout=120)  # fmt: skip
    no_traceback(r)
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1 and r.stderr.startswith(b"error: ")


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unix")
    (tmp / "k.yaml").write_text(CONFIG)
    return tmp


STREAMS = {
    # name: (shell redirection, expected exit code, stdout must end with the run directory)
    "pipe": ("", 0, True),
    "stdout closed": (">&-", 0, False),
    "stdout into a pipe closed at once": ("| head -c 0", 0, False),
    "stdout to /dev/full": (">/dev/full", 1, False),
    "stderr to /dev/full": ("2>/dev/full", 0, True),
    "stderr closed": ("2>&-", 0, True),
    "stdin closed": ("<&-", 0, True),
}


@pytest.mark.parametrize("stream", list(STREAMS))
def test_train_with_every_kind_of_stream(work, stream):
    redirect, code, prints = STREAMS[stream]
    env = base_env(work)
    name = "s-" + "".join(c if c.isalnum() else "-" for c in stream)
    out = work / "out dir"
    r = subprocess.run(
        ["bash", "-c", f"{GNNVIZ} train --config k.yaml --out 'out dir' --name {name} {redirect}; echo \"rc=$?\" >> rc-{name}"],
        env=env, cwd=work, capture_output=True, timeout=600,
    )  # fmt: skip
    got = int((work / f"rc-{name}").read_text().strip().split("=")[1])
    assert got == code, r.stderr.decode(errors="replace")
    no_traceback(r)
    if "stderr" not in stream:
        lines = r.stderr.decode().strip().splitlines()
        if code == 1:
            assert lines[-1].startswith("error: cannot write standard output") and "ENOSPC" in lines[-1], lines
            assert sum(line.startswith("error: ") for line in lines) == 1
    if prints:
        # As given (relative), and alone: log lines never move to stdout, also with stderr closed.
        assert r.stdout.decode().strip().splitlines() == [f"out dir/{name}"], r.stdout
    # Whatever happened to stdout, the run itself is complete.
    assert (out / name / "checkpoint.pt").is_file()


def test_non_utf8_run_folder_and_c_locale_round_trip(work):
    """train prints the run directory byte for byte, runs lists it, visualize draws it: the page
    and messages show the bytes that are not UTF-8 escaped (``\\xff``) and stay valid UTF-8."""
    env = {**base_env(work), "LC_ALL": "C"}
    out = bytes(work) + b"/\xff\xfe runs"
    r = subprocess.run([sys.executable, "-m", "gnnviz", "train", "--config", "k.yaml", "--out", out, "--name", "u", "--quiet"],
                       env=env, cwd=work, capture_output=True, timeout=600)  # fmt: skip
    no_traceback(r)
    assert r.returncode == 0, r.stderr
    run = r.stdout.splitlines()[-1]
    assert run == out + b"/u" and os.path.isdir(run)
    r = subprocess.run([sys.executable, "-m", "gnnviz", "runs", out], env=env, cwd=work, capture_output=True, timeout=120)
    assert r.returncode == 0 and b"completed" in r.stdout, r.stderr
    r = subprocess.run([sys.executable, "-m", "gnnviz", "visualize", "--run", run, "--quiet"], env=env, cwd=work,
                       capture_output=True, timeout=600)  # fmt: skip
    no_traceback(r)
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == run + b"/viz", r.stderr
    page = (Path(os.fsdecode(run)) / "viz" / "index.html").read_bytes().decode("utf-8")  # valid UTF-8
    assert "\\xff\\xfe runs/u" in page
    r = subprocess.run([sys.executable, "-m", "gnnviz", "visualize", "--run", out + b"/gone"], env=env, cwd=work,
                       capture_output=True, timeout=120)  # fmt: skip
    assert (
        r.returncode == 1 and r.stderr.startswith(b"error: run directory ") and b"\\xff\\xfe runs/gone does not exist" in r.stderr
    )


@pytest.mark.parametrize("args", [["--help"], ["train", "--print-config"]], ids=["help", "print-config"])
def test_output_into_a_closed_pipe_has_no_traceback(tmp_path, args):
    # Like `gnnviz ... | head -n 0`: the reader is gone before gnnviz writes a byte.
    proc = subprocess.Popen(
        [sys.executable, "-m", "gnnviz", *args], cwd=REPO, env=base_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert proc.returncode == 1, err  # Python's convention for EPIPE; not a crash, not 130
    assert err == "", err  # no traceback, no "Exception ignored ... BrokenPipeError"
