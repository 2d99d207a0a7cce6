"""The explorer shows gnnviz explain's explanations: a clicked explained node draws the chosen
method's edge scores on its computation edges and lists explain.json's numbers, in Chromium and
Firefox, from file://.

Screenshots land in each test's tmp dir (``pytest --basetemp DIR`` to keep them somewhere known).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gnnviz.runs.load import state_digest
from gnnviz.viz.explained import for_page
from gnnviz.viz.pages.explorer import explorer_files
from tests.browser.test_explorer_browser import close, wait_camera
from tests.support.explain_runs import house_graph, trained_run
from tests.support.explorer_inputs import explorer_inputs, write_files

EXPLAINED = [24, 27, 5]  # two house nodes (their motif in reach: AUC defined) and one of the base


@pytest.fixture(scope="module")
def house_run(tmp_path_factory):
    return trained_run(tmp_path_factory.mktemp("runs"), house_graph(), "gcn", steps=300, name="gcn")


@pytest.fixture(scope="module")
def explained_page(house_run):
    """A GCN trained on a small BA-houses graph, explained (RUN/explain), then its explorer drawn
    as visualize draws it: (explain.json, page path)."""
    from gnnviz.explain.run import explain

    run = house_run
    out = explain(run, nodes=EXPLAINED, methods="saliency,gnnexplainer", epochs=30)
    viz = run / "viz"
    shown, note = for_page(run, "selected", viz, state_digest(run))
    assert note is None
    html = write_files(explorer_files(**explorer_inputs(run), explained=shown), viz)
    return json.loads((out / "explain.json").read_text()), html


def pair_max(row: dict, method: str) -> dict[tuple[int, int], float]:
    """explain.json's scores of one node, each node pair once with its larger direction (what is drawn)."""
    best: dict[tuple[int, int], float] = {}
    for (u, v), s in zip(row["edges"], row["methods"][method]["scores"], strict=True):
        key = (min(u, v), max(u, v))
        best[key] = max(best.get(key, -np.inf), s)
    return best


def truth_pairs(row: dict) -> set[tuple[int, int]]:
    """The node pairs of explain.json's known explanation (either direction in it)."""
    return {(min(u, v), max(u, v)) for (u, v), t in zip(row["edges"], row["truth_edge_mask"], strict=True) if t}


def drawn_pairs(page) -> dict[tuple[int, int], tuple[float, float, float, bool]]:
    drawn = page.js("return window.gnnvizExplorer.overlayDrawn")  # [u, t, score, width, opacity, in the motif]
    assert all(len(d) == 6 for d in drawn), drawn
    return {(min(u, t), max(u, t)): (s, lw, a, truth) for u, t, s, lw, a, truth in drawn}


def test_a_clicked_explained_node_shows_explain_json(explained_page, open_page, tmp_path):
    doc, html = explained_page
    page = open_page(html)
    assert page.console_errors() == []
    methods = doc["settings"]["methods"]
    assert page.js("return document.getElementById('explain-method').value") == methods[0]  # the first method
    node = 27
    row = next(r for r in doc["nodes"] if r["node"] == node)
    page.click_node(node)
    assert page.js("return window.gnnvizExplorer.state.selected") == node
    wait_camera(page)
    # The numbers: AUC (a motif is in reach), fid+ and fid- per method, as explain.json has them.
    cells = page.js(
        "return [...document.querySelectorAll('#explain-table tr[data-method]')].map(tr => [tr.dataset.method, "
        "Object.fromEntries([...tr.querySelectorAll('[data-field]')].map(td => [td.dataset.field, td.textContent]))])"
    )
    assert [m for m, _ in cells] == methods
    for m, got in cells:
        want = row["methods"][m]
        assert want["auc"] is not None and close(got["auc"], want["auc"]), (m, got)
        assert close(got["fid_plus"], want["fid_plus"]) and close(got["fid_minus"], want["fid_minus"]), (m, got)
        assert close(got["top"], max(want["scores"])), (m, got)
    selected_row = page.js("return document.querySelector('#explain-table tr.sel').dataset.method")
    assert selected_row == methods[0]
    # The lines: every computation edge's node pair, its score, wider and more opaque for more.
    want = pair_max(row, methods[0])
    got = drawn_pairs(page)
    assert set(got) == set(want) and len(want) > 3
    for pair, (s, *_) in got.items():
        assert abs(s - want[pair]) <= 1e-12 * max(1.0, abs(want[pair])), pair
    by_score = sorted(got.values())
    assert [d[1] for d in by_score] == sorted(d[1] for d in by_score), "wider is not higher"
    assert [d[2] for d in by_score] == sorted(d[2] for d in by_score), "more opaque is not higher"
    assert by_score[0][1] < by_score[-1][1]
    # The known explanation (the house) is marked on its pairs, and only there.
    assert {p for p, d in got.items() if d[3]} == truth_pairs(row) and 0 < len(truth_pairs(row)) < len(got)
    # The scale is stated, on the graph and under the numbers.
    high = max(want.values())
    scale = page.js("const e = document.getElementById('explain-scale'); return !e.hidden && e.textContent")
    assert scale and methods[0] in scale and f"{high:.3g}"[:3] in scale and "known explanation" in scale, scale
    details = page.js("return document.getElementById('details').textContent")
    assert "linearly from" in details and "thickest" in details
    # Every node of the computation subgraph stays in view (not dimmed).
    hood = set(page.js("return [...window.gnnvizExplorer.state.hoodSet]"))
    assert {u for pair in want for u in pair} <= hood | {node}
    # The node's figure in explain/, linked from the page's folder.
    href = page.js("return document.getElementById('explain-figure').getAttribute('href')")
    assert href == f"../explain/node-{node}.png" and (Path(html).parent / href).is_file()
    page.screenshot(tmp_path / "explained-click.png")
    page.js("document.getElementById('explain-table').scrollIntoView()")
    page.screenshot(tmp_path / "explained-click-table.png")

    # The second method: its own scores; off: the incoming weights again, as without explanations.
    page.select("explain-method", methods[1])
    want = pair_max(row, methods[1])
    got = drawn_pairs(page)
    assert set(got) == set(want)
    assert all(abs(got[p][0] - want[p]) <= 1e-12 * max(1.0, abs(want[p])) for p in want)
    assert page.js("return document.querySelector('#explain-table tr.sel').dataset.method") == methods[1]
    page.select("explain-method", "")
    drawn = page.js("return window.gnnvizExplorer.overlayDrawn")
    assert drawn and all(len(d) == 3 for d in drawn)  # [source, weight, width]: the incoming edges
    assert page.js("return document.getElementById('explain-scale').hidden") is True
    page.select("explain-method", methods[0])

    # A node with no explanation: nothing drawn of one, and the command that explains it.
    other = 30
    assert other not in EXPLAINED
    page.type_into("search-id", f"{other}\n")
    assert page.js("return window.gnnvizExplorer.state.selected") == other
    wait_camera(page)
    hint = page.js("const e = document.getElementById('explain-hint'); return e && e.textContent")
    assert hint and "gnnviz explain" in hint and f"--nodes {','.join(map(str, EXPLAINED))},{other}" in hint, hint
    assert page.js("return document.getElementById('explain-table')") is None
    assert all(len(d) == 3 for d in page.js("return window.gnnvizExplorer.overlayDrawn"))
    page.screenshot(tmp_path / "unexplained-click.png")
    assert page.console_errors() == []


def test_a_node_explained_with_out_elsewhere_says_where_it_is(house_run, open_page, tmp_path):
    """explain --out ELSEWHERE is not shown (the run folder needs nothing outside it): a clicked node
    it explained names that folder, links its index.html and says which folder the explorer shows,
    on a page with explanations of its own and on one without; other nodes say nothing of it."""
    import shutil

    from gnnviz.explain.run import explain
    from gnnviz.viz.explained import viz_dir

    run = shutil.copytree(house_run, tmp_path / "run", ignore=shutil.ignore_patterns("viz", "explain"))
    viz = viz_dir(run)
    write_files(explorer_files(**explorer_inputs(run), explained=for_page(run, "selected", viz, state_digest(run))[0]), viz)
    lines = []
    out = explain(run, tmp_path / "elsewhere", nodes=[24, 5], methods="saliency", log=lines.append)
    assert any(str(out) in line and "says so when one of these nodes is clicked" in line for line in lines), lines
    # visualize drawing the page again keeps the record
    html = write_files(
        explorer_files(**explorer_inputs(run), explained=for_page(run, "selected", viz, state_digest(run))[0]), viz
    )

    def check(own: bool) -> None:
        page = open_page(html)
        assert page.console_errors() == []
        page.type_into("search-id", "24\n")
        wait_camera(page)
        said = page.js("const e = document.getElementById('explain-elsewhere'); return e && e.textContent")
        assert said and str(out.resolve()) in said and str(run / "explain") in said and "--out" in said, said
        link = page.js("return document.getElementById('explain-elsewhere-index').getAttribute('href')")
        assert link == (out / "index.html").resolve().as_uri() and (out / "index.html").is_file()
        page.screenshot(tmp_path / f"elsewhere-{own}.png")
        page.type_into("search-id", "30\n")
        wait_camera(page)
        assert page.js("return document.getElementById('explain-elsewhere')") is None
        assert (page.js("return document.getElementById('explain-table')") is not None) == own
        assert page.console_errors() == []

    check(own=False)  # nothing shown: the page says only where node 24's explanation is
    explain(run, nodes=[30], methods="saliency")  # into RUN/explain: shown there, the record kept
    check(own=True)
