"""The floor plan holds: no import circle among gnnviz's modules, lazy imports inside functions
included (a lazy import that only dodges a circle is still a circle)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def module_graph(root: Path) -> dict[str, set[str]]:
    """gnnviz module -> the gnnviz modules it imports anywhere in its source (a package counts as
    its ``__init__``; ``from pkg import sub`` as the submodule)."""
    mods = {
        ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): p for p in (root / "gnnviz").rglob("*.py")
    }

    def owner(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in mods else node.module for a in node.names]
            else:
                continue
            for name in names:
                target = owner(name) if name.startswith("gnnviz") else None
                if target not in (None, m, "gnnviz"):
                    graph[m].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_anywhere_in_gnnviz():
    graph = module_graph(ROOT)
    assert len(graph) > 50 and graph["gnnviz.experiment"], "the scan found gnnviz's modules and their imports"
    assert circles(graph) == []


def test_the_circle_finder_sees_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []
