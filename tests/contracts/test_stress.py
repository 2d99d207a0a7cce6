"""``gnnviz visualize`` interrupted at random moments under CPU contention: no hang, right exit
codes, no temp files, earlier figures intact. The short version of ``make stress``
(``bench/stress_viz.py``, whose numbers are in docs/performance.md)."""

import importlib.util
from pathlib import Path

import pytest

from tests.unit.viz.test_visualize import make_run

REPO = Path(__file__).resolve().parents[2]


def _stress_module():
    spec = importlib.util.spec_from_file_location("stress_viz", REPO / "bench" / "stress_viz.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def karate(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("runs"), "gat_karate.yaml", "training.epochs=5", name="gat")


def test_interrupted_visualize_never_hangs_or_leaves_damage(karate):
    stress = _stress_module()
    # One busy loop, a few warm runs, a cheap figure set: seconds on an idle machine. The
    # timeout is generous because a hang is forever, while a busy CI machine is only slow.
    result = stress.stress(karate, 4, timeout=180, busy=1, seed=1, cold_share=0.0, extra=("--top-k", "0", "--layers", "1"))
    assert result["hangs"] == 0
    assert result["broken"] == []
    assert sum(result["exit_codes"].values()) == 4
    assert all(k.split(" -> ")[1] in {"0", "130", "143", "-2", "-15"} for k in result["exit_codes"])


def test_the_harness_sees_a_hang(karate, monkeypatch):
    # A "visualize" that never ends must be reported as a hang, not waited for.
    stress = _stress_module()
    monkeypatch.setattr(stress, "GNNVIZ", [stress.sys.executable, "-c", "import time; time.sleep(3600)"])
    monkeypatch.setattr(stress, "SIGNALS", {"none": None})
    monkeypatch.setattr(stress, "_timed_full_run", lambda *a, **k: 0.1)
    monkeypatch.setattr(stress, "_files", lambda folder: {"index.html": b"</html>\n"})
    result = stress.stress(karate, 1, timeout=2, busy=0, seed=0, cold_share=0.0, extra=("--top-k", "0"))
    assert result["hangs"] == 1 and "hang" in result["broken"][0]
