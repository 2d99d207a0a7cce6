"""The one way tests run the ``gnnviz`` command.

``run_cli`` runs it in this process, as the console script does (``gnnviz.cli.main``), and is the
choice for tables of exit codes and messages. ``gnnviz`` runs ``python -m gnnviz`` in a
subprocess, for what only a real process shows: signals, pipes and closed streams, the
environment it starts in. ``env_for`` gives such a process private data and cache folders, and
``one_error`` reads the single stderr line of a failed command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``gnnviz ARGS`` in this process as the console script does; return (exit code, stdout, stderr)."""
    from gnnviz import cli
    from gnnviz.cli import exits

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    capsys.readouterr()
    try:
        cli.main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        for s, h in saved.items():
            signal.signal(s, h)
        exits._state.pop("terminated", None)
        exits._state.pop("interrupted", None)
    out, err = capsys.readouterr()
    return code, out, err


def gnnviz(*args, env: dict[str, str] | None = None, cwd: Path | None = REPO, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m gnnviz ARGS`` in a subprocess (text streams captured); ``env`` defaults to this
    process's environment, which the session fixture keeps offline with private folders."""
    return subprocess.run(
        [sys.executable, "-m", "gnnviz", *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )


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


def one_error(r: subprocess.CompletedProcess) -> str:
    """The single stderr line of a failed command: 'error: what is wrong; what to do'."""
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]
