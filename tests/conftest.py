"""Shared fixtures: offline settings, a session-wide data root, the real-data mirror; and the
markers by which a run selects tests (``-m realdata``, ``-m "not browser"``, ``-m faults``).

Layout: ``unit/`` mirrors the ``gnnviz`` packages, ``contracts/`` holds the promises (one file per
family), ``browser/`` the explorer page in a real Chromium, ``support/`` the helpers they share.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

from gnnviz import env

# Before the helpers are imported: their asserts report values as test modules' do.
pytest.register_assert_rewrite("tests.support")

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """Under pytest-xdist, each worker's torch takes its share of the cores, not all of them: two
    workers each running two intra-op threads on two cores made explainer training and small
    trainings many times slower (PGExplainer's on a tiny graph: 39 s against 0.8 s with one thread)."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not workers:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    share = max(1, cores // max(1, int(workers)))
    os.environ.setdefault("OMP_NUM_THREADS", str(share))  # subprocesses the tests start
    import torch

    torch.set_num_threads(share)


def _mirror_path() -> Path:
    env = os.environ.get("GNNVIZ_DATA_MIRROR")
    return Path(env) if env else REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session", autouse=True)
def _offline_env(tmp_path_factory):
    """Never download, never touch the user's caches; subprocesses inherit this."""
    saved = {k: os.environ.get(k) for k in ("GNNVIZ_OFFLINE", "GNNVIZ_DATA_ROOT", "GNNVIZ_CACHE_DIR", "MPLBACKEND")}
    os.environ["GNNVIZ_OFFLINE"] = "1"
    os.environ["GNNVIZ_DATA_ROOT"] = str(tmp_path_factory.mktemp("data-root"))
    os.environ["GNNVIZ_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["MPLBACKEND"] = "Agg"
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The offline Cora/CiteSeer mirror. Required in CI (GNNVIZ_REQUIRE_REALDATA=1): never skipped there."""
    path = _mirror_path()
    if not (path / "Cora" / "raw").is_dir() or not (path / "CiteSeer" / "raw").is_dir():
        if env.flag("GNNVIZ_REQUIRE_REALDATA"):
            pytest.fail(f"real-data mirror missing at {path}; set GNNVIZ_DATA_MIRROR")
        pytest.skip(f"realdata: mirror not found at {path} (set GNNVIZ_DATA_MIRROR)")
    return path


@pytest.fixture()
def with_mirror(mirror, monkeypatch) -> Path:
    monkeypatch.setenv("GNNVIZ_DATA_MIRROR", str(mirror))
    return mirror


@pytest.fixture()
def no_mirror(monkeypatch):
    monkeypatch.delenv("GNNVIZ_DATA_MIRROR", raising=False)


def pytest_collection_modifyitems(items):
    """Markers from where a test is and what it needs, so that no file has to repeat them. The
    environment switches stay as they are: GNNVIZ_REQUIRE_REALDATA and GNNVIZ_REQUIRE_BROWSER turn
    a skip into a failure, GNNVIZ_FULL_FAULTS runs every point of the fault sweeps."""
    here = Path(__file__).parent
    for item in items:
        parts = Path(item.path).relative_to(here).parts
        if "mirror" in item.fixturenames:
            item.add_marker(pytest.mark.realdata)
        if parts[0] == "browser":
            item.add_marker(pytest.mark.browser)
        if parts[-1].startswith("test_faults"):
            item.add_marker(pytest.mark.faults)
