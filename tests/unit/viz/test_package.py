"""The visualize path's one-way flow: in ``gnnviz/analysis/`` and ``gnnviz/viz/`` only ``viz/load.py`` may touch torch (or what imports it)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "gnnviz"
TORCH_FREE = ("analysis", "viz")
# torch itself, PyG, and the gnnviz modules that import torch at module level.
TORCH_MODULES = ("torch", "torch_geometric", "gnnviz.models", "gnnviz.training", "gnnviz.experiment", "gnnviz.snapshots")
ALLOWED = {"viz/load.py"}


def imported_modules(source: str) -> set[str]:
    """Every module an ``import`` or ``from ... import`` names, at any depth (lazy imports too)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def touches_torch(names: set[str]) -> set[str]:
    return {n for n in names if any(n == t or n.startswith(t + ".") for t in TORCH_MODULES)}


@pytest.mark.parametrize(
    "module", sorted(p.relative_to(PACKAGE).as_posix() for d in TORCH_FREE for p in (PACKAGE / d).rglob("*.py"))
)
def test_only_load_imports_torch(module):
    found = touches_torch(imported_modules((PACKAGE / module).read_text()))
    if module in ALLOWED:
        assert "torch" in found  # the scan itself works: it sees load.py's lazy import
    else:
        assert not found, f"gnnviz/{module} imports {sorted(found)}; only viz/load.py may (see the package docstring)"


@pytest.mark.parametrize("module", sorted(p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "analysis").rglob("*.py")))
def test_analysis_imports_nothing_from_viz(module):
    """Data flows one way: viz reads analysis, never the reverse (no cycle, analysis usable alone)."""
    found = {n for n in imported_modules((PACKAGE / module).read_text()) if n == "gnnviz.viz" or n.startswith("gnnviz.viz.")}
    assert not found, f"gnnviz/{module} imports {sorted(found)}; gnnviz/analysis/ must not import gnnviz.viz"


def test_the_scan_sees_lazy_and_from_imports():
    src = "def f():\n    import torch.nn as nn\n\nfrom gnnviz import models\n"
    assert touches_torch(imported_modules(src)) == {"torch.nn", "gnnviz.models"}


def test_importing_the_drawing_modules_loads_no_torch():
    code = (
        "import sys; import gnnviz.viz.visualize, gnnviz.viz.figures.run, gnnviz.viz.draw.graph, gnnviz.viz.draw.neighbourhoods, "
        "gnnviz.viz.draw.entropy, gnnviz.viz.draw.embeddings, gnnviz.viz.draw.curves, gnnviz.viz.draw.encode, "
        "gnnviz.viz.pages.index, gnnviz.analysis.run, gnnviz.analysis.arrays, gnnviz.viz.write, gnnviz.viz.options; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
