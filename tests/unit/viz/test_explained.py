"""Explanations in the explorer: what ``explorer/explain.js`` holds, and which explain.json it
shows (``viz/explained.py``), whichever of visualize and explain ran first."""

from __future__ import annotations

import json

import pytest

from gnnviz.runs.load import state_digest
from gnnviz.viz import explained
from gnnviz.viz.pages.explorer import EXPLAIN, PAGE, explain_data, explain_js, read_explain_js
from tests.support.explain_runs import house_graph, trained_run


def doc(digest: str, nodes=(3, 7), methods=("saliency", "gnnexplainer")) -> dict:
    """An explain.json of the shape gnnviz explain writes (numbers made up; the page shows whatever it is given)."""
    rows = []
    for v in nodes:
        edges = [[v + 1, v], [v, v + 1], [v + 2, v + 1]]
        rows.append(
            {
                "node": v,
                "computation_edges": len(edges),
                "edges": edges,
                "truth_edges": 1,
                "truth_edge_mask": [False, True, False],
                "methods": {
                    m: {"scores": [0.1 * (i + 1) * (k + 1) for i in range(3)], "auc": 0.5 + 0.1 * k, "fid_plus": 1.0,
                        "fid_minus": 0.0, "top_edges": []}
                    for k, m in enumerate(methods)
                },
            }
        )  # fmt: skip
    return {
        "inputs_sha256": digest,
        "state": "selected",
        "checkpoint_epoch": 5,
        "ground_truth": True,
        "settings": {"methods": list(methods), "keep": 0.2},
        "methods": {m: {"description": f"{m} says"} for m in methods},
        "nodes": rows,
        "files": ["explain.json", "index.html", *(f"node-{v}.png" for v in nodes[:-1])],
    }


def test_explain_data_holds_each_explained_node_as_explain_json_has_it():
    d = doc("abc")
    got = explain_data(d, "abc", href="../explain", run="runs/my run")
    assert got["inputs_sha256"] == "abc" and got["note"] is None
    ex = got["explained"]
    assert ex["methods"] == ["saliency", "gnnexplainer"] and ex["ground_truth"] is True and ex["keep"] == 0.2
    assert set(ex["nodes"]) == {"3", "7"}
    for row in d["nodes"]:
        node = ex["nodes"][str(row["node"])]
        assert node["edges"] == [i for pair in row["edges"] for i in pair]  # [s0, t0, s1, t1, ...]
        assert node["truth"] == row["truth_edge_mask"] and node["computation_edges"] == 3
        for m in ex["methods"]:
            want = row["methods"][m]
            assert node["methods"][m] == {k: want[k] for k in ("scores", "auc", "fid_plus", "fid_minus")}
    # The figure is linked only where explain wrote it; the hint keeps the nodes explained now.
    assert ex["nodes"]["3"]["figure"] == "node-3.png" and ex["nodes"]["7"]["figure"] is None
    assert ex["index"] == "../explain/index.html"
    assert ex["hint"] == "gnnviz explain 'runs/my run' --nodes 3,7,{node} --methods saliency,gnnexplainer"
    assert ex["descriptions"]["saliency"] == "saliency says"
    settings = {"methods": ["saliency"], "keep": 0.3, "seed": 0, "gnnexplainer_epochs": 30, "repeats": 1}
    other = explain_data(d | {"settings": settings, "state": "last"}, "abc", run="r")["explained"]["hint"]
    assert other == "gnnviz explain r --nodes 3,7,{node} --methods saliency --epochs 30 --keep 0.3 --state last"
    # explain.js round-trips; nothing explained is an explorer as before (null).
    assert read_explain_js(explain_js(got)) == got
    assert explain_data(None, "abc") == {"inputs_sha256": "abc", "note": None, "explained": None}
    with pytest.raises(ValueError):
        read_explain_js(b"window.GNNVIZ_EXPLORER_DATA = {};")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return trained_run(tmp_path_factory.mktemp("runs"), house_graph(), "gcn", steps=5, name="gcn")


def write_explain_json(run, d) -> None:
    (run / "explain").mkdir(exist_ok=True)
    (run / "explain" / "explain.json").write_text(json.dumps(d))


def test_visualize_shows_an_explain_json_of_the_same_bytes_and_names_a_stale_one(run, tmp_path):
    digest = state_digest(run)
    page_dir = run / "viz"
    shown, note = explained.for_page(run, "selected", page_dir, digest)
    assert shown["explained"] is None and note is None  # nothing explained: nothing said
    write_explain_json(run, doc(digest))
    shown, note = explained.for_page(run, "selected", page_dir, digest)
    assert note is None and set(shown["explained"]["nodes"]) == {"3", "7"}
    assert shown["explained"]["href"] == "../explain"
    # A page drawn elsewhere links the same folder from where it is.
    elsewhere = explained.for_page(run, "selected", tmp_path / "out" / "viz", digest)[0]["explained"]["href"]
    assert (tmp_path / "out" / "viz" / elsewhere).resolve() == (run / "explain").resolve()
    # Trained again since (other bytes), an older gnnviz's, a damaged file: not shown, and said why.
    for d, words in (
        (doc("0" * 64), "another checkpoint"),
        ({k: v for k, v in doc(digest).items() if k != "inputs_sha256"}, "older gnnviz"),
    ):
        write_explain_json(run, d)
        shown, note = explained.for_page(run, "selected", page_dir, digest)
        assert shown["explained"] is None and shown["note"] == note and words in note and "gnnviz explain" in note, note
    (run / "explain" / "explain.json").write_text("{not json")
    shown, note = explained.for_page(run, "selected", page_dir, digest)
    assert shown["explained"] is None and "cannot be read" in note
    # Another state looks in its own folders.
    assert explained.explain_dir(run, "last") == run / "explain-last" and explained.viz_dir(run, "last") == run / "viz-last"


def test_explain_refreshes_only_an_explorer_drawn_from_the_same_bytes(run):
    digest = state_digest(run)
    d = doc(digest)
    lines = []
    out = run / "explain"
    assert explained.refresh(run, "selected", out, d, lines.append) is None and lines == []  # no explorer yet
    viz = run / "viz"
    (viz / "explorer").mkdir(parents=True, exist_ok=True)
    (viz / PAGE).write_text("<html></html>")
    (viz / EXPLAIN).write_bytes(explain_js(explain_data(None, digest)))
    assert explained.refresh(run, "selected", out, d, lines.append) == viz / PAGE
    got = read_explain_js((viz / EXPLAIN).read_bytes())
    assert got == explain_data(d, digest, href="../explain", run=str(run)) and "shows these explanations" in lines[-1]
    # An explorer of other bytes (visualized before training again) is left alone, with a note.
    other = explain_js(explain_data(None, "1" * 64))
    (viz / EXPLAIN).write_bytes(other)
    assert explained.refresh(run, "selected", out, d, lines.append) is None
    assert (viz / EXPLAIN).read_bytes() == other and "gnnviz visualize" in lines[-1] and "another checkpoint" in lines[-1]
    # An explorer from before explain.js existed: visualize again.
    (viz / EXPLAIN).unlink()
    assert explained.refresh(run, "selected", out, d, lines.append) is None and "older gnnviz" in lines[-1]
    # explain --out elsewhere into an explorer from before explain.js: nothing written there either.
    assert explained.refresh(run, "selected", run / "elsewhere", d, lines.append) is None
    assert not (viz / EXPLAIN).exists()


def test_explain_out_elsewhere_is_named_by_the_explorer_not_shown(run, tmp_path, monkeypatch):
    """The explorer shows only the state's default folder (the run directory must not depend on
    files outside it); explain --out ELSEWHERE records where, keeping what the page shows, and says
    where the explorer looks. visualize drawing the state's explorer again keeps the record."""
    import shutil

    run = shutil.copytree(run, tmp_path / "run", ignore=shutil.ignore_patterns("viz"))
    digest = state_digest(run)
    lines = []
    out = tmp_path / "elsewhere"
    # No explorer yet: only the note (visualize will not look there either).
    assert explained.refresh(run, "selected", out, doc(digest, nodes=(9,)), lines.append) is None
    assert "shows only the explanations in" in lines[-1] and str(out) in lines[-1] and str(run / "explain") in lines[-1]
    viz = run / "viz"
    (viz / "explorer").mkdir(parents=True)
    (viz / PAGE).write_text("<html></html>")
    shown = explain_data(doc(digest), digest, run=str(run))
    (viz / EXPLAIN).write_bytes(explain_js(shown))
    there = doc(digest, nodes=(9, 3))
    assert explained.refresh(run, "selected", out, there, lines.append) == viz / PAGE
    page = read_explain_js((viz / EXPLAIN).read_bytes())
    record = page.pop("elsewhere")
    assert page == shown  # the explanations shown stay those of RUN/explain
    assert record == {
        "folder": str(out.resolve()),
        "index": (out / "index.html").resolve().as_uri(),
        "nodes": [9, 3],
        "shows": str(run / "explain"),
    }
    assert str(out) in lines[-1] and f"{viz / PAGE} says so" in lines[-1], lines[-1]
    # Explained into the default folder afterwards: shown, and the record stays.
    explained.refresh(run, "selected", run / "explain", doc(digest, nodes=(4,)), lines.append)
    page = read_explain_js((viz / EXPLAIN).read_bytes())
    assert set(page["explained"]["nodes"]) == {"4"} and page["elsewhere"] == record
    # visualize into RUN/viz keeps it (same bytes, the run's own file); a page drawn elsewhere,
    # an explorer of other bytes, or a hand-edited record does not.
    assert explained.for_page(run, "selected", viz, digest)[0]["elsewhere"] == record
    assert "elsewhere" not in explained.for_page(run, "selected", tmp_path / "viz", digest)[0]
    assert "elsewhere" not in explained.for_page(run, "selected", viz, "2" * 64)[0]
    for bad in ({"nodes": "9"}, {"nodes": [True]}, {"folder": 1}, {"index": 2}):
        (viz / EXPLAIN).write_bytes(explain_js(shown | {"elsewhere": record | bad}))
        assert "elsewhere" not in explained.for_page(run, "selected", viz, digest)[0], bad
    # A run whose explorer cannot be written: the explanations stand, the page is as it was, a note.
    (viz / EXPLAIN).write_bytes(explain_js(shown))
    before = (viz / EXPLAIN).read_bytes()

    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("gnnviz.io.atomic_write_bytes", refuse)
    assert explained.refresh(run, "selected", out, there, lines.append) is None
    assert (
        viz / EXPLAIN
    ).read_bytes() == before and "cannot be written (Permission denied); the explorer is left as it was" in lines[-2]
    assert "shows only the explanations in" in lines[-1]  # and still where they are
