"""Libraries' warnings (numpy, scikit-learn, ...) never reach a ``--quiet`` terminal, and without
``--quiet`` are one summary line; ``GNNVIZ_DEBUG=1`` shows each as Python would. One place holds
this for every command: ``gnnviz/cli/warned.py``, called by ``exits.run``."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from gnnviz.cli.app import app
from tests.support.cli import run_cli
from tests.support.runs import TINY_GRAPHS, handmade_run

NOTE = (
    "note: 3 warnings from sklearn, numpy (UndefinedMetricWarning: Precision is ill-defined and being set to 0.0 "
    "due to no predicted samples. Use `zero_division` para...); GNNVIZ_DEBUG=1 shows them"
)


def _warn_as_a_diverged_run_does() -> None:
    """Real warnings from scikit-learn and numpy, each raised in their own files (as a run with
    NaN embeddings gives them): an ill-defined metric, a mean of nothing (2 warnings)."""
    from sklearn.metrics import precision_score

    precision_score([0, 0], [0, 0])
    np.mean(np.array([]))


def gnnviz(capsys, *args):
    """run_cli with warnings shown as outside pytest (which records them itself, around each test's
    call): a warning gnnviz did not catch would be printed on stderr. Entering catch_warnings
    forgets which warnings an earlier test already showed once."""
    with warnings.catch_warnings():
        warnings.showwarning = lambda m, c, f, n, file=None, line=None: sys.stderr.write(warnings.formatwarning(m, c, f, n, line))
        return run_cli(capsys, *args)


@pytest.fixture()
def warning_visualize(monkeypatch):
    from gnnviz.viz.draw import curves

    real = curves.plot_curves

    def plot_curves(*args, **kwargs):
        _warn_as_a_diverged_run_does()
        return real(*args, **kwargs)

    monkeypatch.setattr(curves, "plot_curves", plot_curves)


@pytest.mark.parametrize("quiet", [False, True], ids=["plain", "quiet"])
def test_visualize_summarises_warnings_in_one_line_and_quiet_shows_none(tmp_path, capsys, monkeypatch, warning_visualize, quiet):
    monkeypatch.delenv("GNNVIZ_DEBUG", raising=False)
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path / "cache"))  # the same run twice: nothing drawn from cache
    run = handmade_run(tmp_path, *TINY_GRAPHS["isolated_nodes"])
    code, out, err = gnnviz(capsys, "visualize", "--run", run, "--out", tmp_path / "viz", *(["--quiet"] if quiet else []))
    assert code == 0 and out.strip() == str(tmp_path / "viz")
    assert "Warning" not in err.replace(NOTE, "")  # no warning line of its own
    if quiet:
        assert err == ""
    else:
        assert err.splitlines()[-1] == NOTE and err.count("warnings from") == 1


def test_a_command_without_quiet_summarises_and_debug_shows_each(tmp_path, capsys, monkeypatch):
    import gnnviz.runs.listing as listing
    from gnnviz.cli import exits

    monkeypatch.setitem(exits._state, "debug", False)  # --debug below switches it on for this process

    real = listing.list_runs

    def list_runs(folder):
        _warn_as_a_diverged_run_does()
        return real(folder)

    monkeypatch.setattr(listing, "list_runs", list_runs)
    handmade_run(tmp_path, *TINY_GRAPHS["no_edges"])
    monkeypatch.delenv("GNNVIZ_DEBUG", raising=False)
    code, out, err = gnnviz(capsys, "runs", tmp_path)
    assert code == 0 and out.startswith("name") and err == NOTE + "\n"
    code, out, err = gnnviz(capsys, "--debug", "runs", tmp_path)
    assert code == 0 and "note:" not in err
    assert "UndefinedMetricWarning: Precision is ill-defined" in err and "RuntimeWarning: Mean of empty slice" in err


def test_a_failed_command_keeps_its_one_error_line(tmp_path, capsys, monkeypatch):
    import gnnviz.runs.listing as listing

    def list_runs(folder):
        _warn_as_a_diverged_run_does()
        raise listing.RunError(f"{folder} is broken")

    monkeypatch.setattr(listing, "list_runs", list_runs, raising=True)
    monkeypatch.delenv("GNNVIZ_DEBUG", raising=False)
    code, _, err = gnnviz(capsys, "runs", tmp_path)
    assert code == 1 and err == f"error: {tmp_path} is broken\n"


def test_every_command_with_quiet_tells_the_summary_so():
    """quiet_flag wraps every command that has a ``quiet`` option, whatever its name."""
    import typer

    from gnnviz.cli import warned

    group = typer.main.get_command(app)
    with_quiet = [n for n, c in group.commands.items() if any(p.name == "quiet" for p in c.params)]
    assert {"train", "visualize", "compare", "explain"} <= set(with_quiet)
    state: dict = {}
    warned.quiet_flag(group, state)
    for name in with_quiet:
        for quiet in (True, False):
            state["quiet"] = None
            group.commands[name].callback(quiet=quiet, _real=lambda **kw: None)  # the wrapper, not the command
            assert state["quiet"] is quiet, name
