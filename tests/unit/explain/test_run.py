"""``gnnviz explain`` on tiny trained runs with a known explanation: numbers, files and errors."""

import html
import json
import re

import numpy as np
import pytest
import torch

from tests.support.cli import run_cli
from tests.support.explain_runs import house_graph, trained_run
from tests.support.runs import entries


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain-runs")
    g = house_graph()
    return {m: trained_run(root, g, m, steps=100, name=m) for m in ("gcn", "gat")}, g


def explain(run, tmp_path, *args):
    from gnnviz.explain.run import explain as run_explain

    return run_explain(run, tmp_path / "ex", **dict(args))


def test_saliency_auc_matches_a_recomputation_on_the_whole_graph(runs, tmp_path):
    """The numbers come from each node's computation subgraph; recomputed here on the whole graph
    with PyG's mask and autograd, scored with scikit-learn."""
    from sklearn.metrics import roc_auc_score
    from torch_geometric.explain.algorithm.utils import clear_masks, set_masks
    from torch_geometric.utils import k_hop_subgraph

    from gnnviz.models.gnn import rebuild
    from gnnviz.runs.load import load_checkpoint

    (by_model, g) = runs
    motif = [int(v) for v in np.flatnonzero(g.truth_node_mask.numpy())[:3]]
    out = explain(by_model["gcn"], tmp_path, ("nodes", motif), ("methods", "saliency"))
    doc = json.loads((out / "explain.json").read_text())
    model = rebuild(load_checkpoint(by_model["gcn"]))
    for row in doc["nodes"]:
        node = row["node"]
        mask = torch.ones(g.edge_index.size(1), requires_grad=True)
        set_masks(model, mask, g.edge_index, apply_sigmoid=False)
        logits = model(g.x, g.edge_index)[node]
        (grad,) = torch.autograd.grad(logits[logits.argmax()], mask)
        clear_masks(model)
        inner = k_hop_subgraph(node, 2, g.edge_index, num_nodes=g.num_nodes)[0]  # 3 layers: targets within 2 hops
        comp = torch.isin(g.edge_index[1], inner).numpy()
        want = roc_auc_score(g.truth_edge_mask.numpy()[comp], grad.abs().numpy()[comp])
        assert row["methods"]["saliency"]["auc"] == pytest.approx(want, abs=1e-6)
        assert row["computation_edges"] == int(comp.sum())
        assert row["predicted"] == int(logits.argmax())
    got = doc["methods"]["saliency"]
    assert got["auc_mean"] == pytest.approx(np.mean([r["methods"]["saliency"]["auc"] for r in doc["nodes"]]))
    assert 0 <= got["fid_plus"] <= 1 and 0 <= got["fid_minus"] <= 1
    assert set(doc["definitions"]) >= {"auc", "auc_pooled", "fid_plus", "fid_minus", "computation_edges"}
    assert entries(out) == sorted(
        ["explain.json", "features.png", "fidelity_curve.png", "index.html", "summary.png", *(f"node-{v}.png" for v in motif)]
    )
    from gnnviz.explain.methods import METHODS, Subgraph

    for row in doc["nodes"][:2]:  # feature attribution: |d predicted logit / d x| summed over nodes
        x = g.x.clone().requires_grad_(True)
        logits = model(x, g.edge_index)[row["node"]]
        (grad,) = torch.autograd.grad(logits[logits.argmax()], x)
        want = grad.abs().sum(0).numpy()
        got = row["methods"]["saliency"]["top_features"]
        assert [i for i, _ in got] == list(np.argsort(-want, kind="stable"))
        np.testing.assert_allclose([v for _, v in got], np.sort(want)[::-1], rtol=1e-5)
    assert doc["feature_names"] is None and "top_features" in doc["definitions"]
    assert METHODS["gnnexplainer"].features is None and isinstance(Subgraph, type)


def test_nodes_of_a_big_graph_are_explained_without_its_whole_forward_with_the_same_numbers(runs, tmp_path, monkeypatch):
    """Above WHOLE_GRAPH_MAX_EDGES, --nodes runs the model on the nodes' computation subgraphs only
    (the whole graph's forward would fail here); predictions, scores and fidelities are those of the
    path that checks them against the whole graph's forward."""
    import gnnviz.viz.load
    from gnnviz.explain import run as explain_run

    (by_model, g) = runs
    nodes = [0, int(np.flatnonzero(g.truth_node_mask.numpy())[0])]
    args = (("nodes", nodes), ("methods", "gnnexplainer,saliency"), ("epochs", 5), ("dpi", 40))
    whole = json.loads((explain(by_model["gcn"], tmp_path / "whole", *args) / "explain.json").read_text())
    with monkeypatch.context() as m:
        m.setattr(explain_run, "WHOLE_GRAPH_MAX_EDGES", g.edge_index.size(1) - 1)
        m.setattr(gnnviz.viz.load, "_forward", lambda *a: pytest.fail("the whole graph's forward ran"))
        lean = json.loads((explain(by_model["gcn"], tmp_path / "lean", *args) / "explain.json").read_text())
    assert whole["whole_graph"] is True and lean["whole_graph"] is False
    assert lean["nodes"] == whole["nodes"]  # predictions, edges, scores, fidelities, features
    for name, got in lean["methods"].items():
        assert {k: v for k, v in got.items() if k != "seconds"} == {
            k: v for k, v in whole["methods"][name].items() if k != "seconds"
        }
    assert lean["agreement"] == whole["agreement"] and lean["key"] == whole["key"]
    assert lean["notes"][0].startswith("predictions from each explained node's computation subgraph alone")
    # ...and says that whether the model tells nodes apart (a whole-graph question) was not checked
    assert lean["notes"][1:] == [n for n in whole["notes"] if not n.startswith("the model predicts class")]


@pytest.mark.parametrize("model", ["gcn", "gat"])
def test_default_nodes_of_a_big_graph_come_from_its_logits_alone_with_the_same_numbers(runs, tmp_path, monkeypatch, model):
    """Above WHOLE_GRAPH_MAX_EDGES, explain without --nodes runs the whole graph's forward for its
    logits alone (visualize's forward with attention, embeddings and cache entry would fail here):
    the same default nodes, predictions, scores, fidelities and key as visualize's forward gives,
    and a note saying what was not computed."""
    import gnnviz.viz.load
    from gnnviz.explain import run as explain_run

    (by_model, g) = runs
    args = (("methods", "gnnexplainer,saliency"), ("epochs", 5), ("dpi", 40))
    whole = json.loads((explain(by_model[model], tmp_path / "whole", *args) / "explain.json").read_text())
    with monkeypatch.context() as m:
        m.setattr(explain_run, "WHOLE_GRAPH_MAX_EDGES", g.edge_index.size(1) - 1)
        m.setattr(gnnviz.viz.load, "_forward", lambda *a: pytest.fail("visualize's forward ran"))
        lean = json.loads((explain(by_model[model], tmp_path / "lean", *args) / "explain.json").read_text())
    assert [r["node"] for r in lean["nodes"]] == [r["node"] for r in whole["nodes"]]
    assert lean["nodes"] == whole["nodes"]  # predictions, edges, scores, fidelities, features
    for name, got in lean["methods"].items():
        assert {k: v for k, v in got.items() if k != "seconds"} == {
            k: v for k, v in whole["methods"][name].items() if k != "seconds"
        }
    assert lean["agreement"] == whole["agreement"] and lean["key"] == whole["key"]
    assert whole["whole_graph"] is True and lean["whole_graph"] is True
    assert lean["notes"][0].startswith("the whole graph's forward computed its logits alone")
    assert lean["notes"][1:] == whole["notes"]  # the whole-graph notes (one class for every node) still apply


def test_fidelity_curve_matches_masking_the_top_edges_on_the_whole_graph(runs, tmp_path):
    """Each point of a node's curve is PyG's fidelity of its top share of edges, recomputed here on
    the whole graph with PyG's masks; at the --keep share it is the node's fid+/fid-, and keeping
    every computation edge keeps every prediction (fid- = 0 at share 1)."""
    from torch_geometric.explain.algorithm.utils import clear_masks, set_masks

    from gnnviz.models.gnn import rebuild
    from gnnviz.runs.load import load_checkpoint

    (by_model, g) = runs
    # enough nodes that at least 3 have no tie at their top-k cut (ties depend on the trained weights)
    nodes = [int(v) for v in np.flatnonzero(g.truth_node_mask.numpy())[:8]] + [0, 1, 2, 3]
    out = explain(by_model["gcn"], tmp_path, ("nodes", nodes), ("methods", "saliency"))
    doc = json.loads((out / "explain.json").read_text())
    shares = doc["settings"]["curve_keep"]
    assert shares[0] > 0 and shares[-1] == 1.0 and shares == sorted(shares) and "fidelity_curve" in doc["definitions"]
    at_keep = shares.index(doc["settings"]["keep"])
    model = rebuild(load_checkpoint(by_model["gcn"]))
    pairs = {(int(u), int(v)): i for i, (u, v) in enumerate(g.edge_index.T.tolist())}
    checked = 0

    def predict(mask):
        set_masks(model, mask, g.edge_index, apply_sigmoid=False)
        with torch.no_grad():
            p = int(model(g.x, g.edge_index)[node].argmax())
        clear_masks(model)
        return p

    for row in doc["nodes"]:
        node = row["node"]
        d = row["methods"]["saliency"]
        curve = d["fidelity_curve"]
        assert len(curve["fid_plus"]) == len(shares) == len(curve["fid_minus"])
        assert (curve["fid_plus"][at_keep], curve["fid_minus"][at_keep]) == (d["fid_plus"], d["fid_minus"])
        assert curve["fid_minus"][-1] == 0.0
        k = int(np.ceil(shares[0] * row["computation_edges"]))
        top = d["top_edges"]
        if k >= len(top) or top[k - 1][2] <= top[k][2]:
            continue  # the top k edges are not all listed, or tie with the next one
        hard = torch.zeros(g.edge_index.size(1))
        hard[[pairs[(u, v)] for u, v, _ in top[:k]]] = 1.0
        want = predict(torch.ones_like(hard))
        assert curve["fid_plus"][0] == float(predict(1.0 - hard) != want)
        assert curve["fid_minus"][0] == float(predict(hard) != want)
        checked += 1
    assert checked >= 3
    got = doc["methods"]["saliency"]["fidelity_curve"]
    assert got["keep"] == shares
    want = np.mean([r["methods"]["saliency"]["fidelity_curve"]["fid_plus"] for r in doc["nodes"]], axis=0)
    np.testing.assert_allclose(got["fid_plus"], want)


def test_repeats_average_gnnexplainer_over_seeds_and_report_their_spread_per_edge(runs, tmp_path):
    """--repeats 2 runs GNNExplainer with seeds seed + node and seed + node + num_nodes: the same
    masks two single runs give with --seed 0 and --seed num_nodes; its score is their mean, its
    spread per edge their population standard deviation. Saliency (deterministic) runs once."""
    from gnnviz.explain.run import explain as run_explain

    (by_model, g) = runs
    nodes = [int(v) for v in np.flatnonzero(g.truth_node_mask.numpy())[:2]]
    common = {"nodes": nodes, "methods": "gnnexplainer,saliency", "epochs": 5}
    n = g.num_nodes

    def read(folder, **kw):
        return json.loads((run_explain(by_model["gcn"], tmp_path / folder, **common, **kw) / "explain.json").read_text())

    two, first, second = read("two", repeats=2), read("first", seed=0), read("second", seed=n)
    assert "stability.png" in two["files"] and "stability.png" not in first["files"]
    for r2, r0, r1 in zip(two["nodes"], first["nodes"], second["nodes"], strict=True):
        assert r2["edges"] == r0["edges"] == r1["edges"] and len(r2["edges"]) == r2["computation_edges"]
        a, b = np.array(r0["methods"]["gnnexplainer"]["scores"]), np.array(r1["methods"]["gnnexplainer"]["scores"])
        assert not np.allclose(a, b)  # another seed, another mask
        got = r2["methods"]["gnnexplainer"]
        # float32 masks: the repeats' union and the single runs round apart by a few ulps (1.8e-6 seen)
        np.testing.assert_allclose(got["scores"], (a + b) / 2, rtol=1e-5)
        np.testing.assert_allclose(got["stability"]["edge_std"], np.abs(a - b) / 2, rtol=1e-5, atol=1e-8)
        assert got["stability"]["repeats"] == 2
        assert got["stability"]["edge_std_max"] == pytest.approx(np.abs(a - b).max() / 2)
        assert r2["methods"]["saliency"]["scores"] == r0["methods"]["saliency"]["scores"]
        assert "stability" not in r2["methods"]["saliency"] and "stability" not in r0["methods"]["gnnexplainer"]
    summary = two["methods"]["gnnexplainer"]["stability"]
    want = np.mean([r["methods"]["gnnexplainer"]["stability"]["edge_std_mean"] for r in two["nodes"]])
    assert summary["edge_std_mean"] == pytest.approx(want) and 0 <= summary["top_overlap"] <= 1
    assert "stability" not in two["methods"]["saliency"] and two["settings"]["repeats"] == 2


def test_nodes_explained_in_parts_give_the_numbers_of_one_union(runs, tmp_path, monkeypatch):
    """A memory budget of one subgraph: every node explained in its own part, the same numbers as
    all nodes in one union."""
    from gnnviz.explain import methods
    from gnnviz.explain.run import explain as run_explain

    (by_model, g) = runs
    nodes = [int(v) for v in np.flatnonzero(g.truth_node_mask.numpy())[:1]] + [0]
    common = {"nodes": nodes, "methods": "gnnexplainer,saliency", "epochs": 5, "repeats": 2, "dpi": 20}

    def read(folder):
        doc = json.loads((run_explain(by_model["gcn"], tmp_path / folder, **common) / "explain.json").read_text())
        for m in doc["methods"].values():
            m.pop("seconds")
        return doc

    together = read("together")
    calls = []
    original = methods.union
    monkeypatch.setattr(methods, "union", lambda s: calls.append(len(s)) or original(s))
    monkeypatch.setattr(methods, "BATCH_NUMBERS", 1)
    apart = read("apart")
    assert calls and max(calls) == 1
    for a, b in zip(together["nodes"], apart["nodes"], strict=True):
        for m in a["methods"]:
            np.testing.assert_allclose(a["methods"][m]["scores"], b["methods"][m]["scores"], rtol=1e-5, atol=1e-7)
            assert a["methods"][m]["fid_plus"] == b["methods"][m]["fid_plus"]


def test_a_seeds_folder_compares_the_explanations_of_the_same_nodes_across_training_seeds(runs, tmp_path):
    """Each seed explained in its own run's explain folder (seed-N/explain, where its explorer shows
    them) for the first seed's nodes; per node and method, the rank correlation and top-share
    overlap between seeds recomputed from the seeds' own explain.json; seed-2 is a copy of seed-0,
    so that pair agrees exactly. A second explain recomputes nothing."""
    import shutil

    from scipy.stats import spearmanr

    from gnnviz.explain import scores as sc
    from gnnviz.explain.run import explain as run_explain
    from gnnviz.runs.store import save_summary

    (by_model, g) = runs
    agg = tmp_path / "agg"
    agg.mkdir()
    shutil.copytree(by_model["gcn"], agg / "seed-0")
    trained_run(agg, g, "gcn", steps=100, name="seed-1", seed=1)
    shutil.copytree(by_model["gcn"], agg / "seed-2")
    save_summary(agg, {"dataset": "tiny", "model": "gcn", "metric": "accuracy", "status": "completed", "runs": []})
    nodes = [int(v) for v in np.flatnonzero(g.truth_node_mask.numpy())[:2]] + [0]
    out = run_explain(agg, nodes=nodes, methods="saliency")
    assert out == agg / "explain" and sorted(p.name for p in out.iterdir()) == ["explain.json", "index.html"]
    doc = json.loads((out / "explain.json").read_text())
    seeds = [json.loads((agg / s / "explain" / "explain.json").read_text()) for s in ("seed-0", "seed-1", "seed-2")]
    assert [r["node"] for r in doc["nodes"]] == nodes and doc["seeds"] == ["seed-0", "seed-1", "seed-2"]
    assert doc["seed_folders"] == ["../seed-0/explain", "../seed-1/explain", "../seed-2/explain"]
    for i, row in enumerate(doc["nodes"]):
        a, b, c = (np.array(d["nodes"][i]["methods"]["saliency"]["scores"]) for d in seeds)
        assert np.array_equal(a, c)
        rho = [spearmanr(x, y).statistic for x, y in ((a, b), (a, c), (b, c))]
        assert row["methods"]["saliency"]["spearman"] == pytest.approx(np.mean(rho))
        every = np.ones(a.size, dtype=bool)
        hard = [sc.top_share(v, every, 0.2) for v in (a, b, c)]
        want = np.mean([sc.jaccard(hard[0], hard[1]), 1.0, sc.jaccard(hard[1], hard[2])])
        assert row["methods"]["saliency"]["top_overlap"] == pytest.approx(want)
        assert row["predicted"] == [d["nodes"][i]["predicted"] for d in seeds]
    assert doc["methods"]["saliency"]["spearman"] == pytest.approx(
        np.mean([r["methods"]["saliency"]["spearman"] for r in doc["nodes"]])
    )
    assert 'href="../seed-1/explain/index.html"' in (out / "index.html").read_text()
    stamps = {p: p.stat().st_mtime_ns for p in agg.rglob("*") if p.is_file()}
    run_explain(agg, nodes=nodes, methods="saliency")
    assert {p: p.stat().st_mtime_ns for p in agg.rglob("*") if p.is_file()} == stamps
    # --out: every seed in OUT/seed-N, the seed runs untouched.
    elsewhere = run_explain(agg, tmp_path / "elsewhere", nodes=nodes, methods="saliency")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["explain.json", "index.html", "seed-0", "seed-1", "seed-2"]
    assert json.loads((elsewhere / "explain.json").read_text())["seed_folders"] == ["seed-0", "seed-1", "seed-2"]
    assert 'href="seed-1/index.html"' in (elsewhere / "index.html").read_text()
    assert {p: p.stat().st_mtime_ns for p in agg.rglob("*") if p.is_file()} == stamps


def test_each_seeds_explorer_shows_its_explanations_and_names_those_written_elsewhere(runs, tmp_path, capsys):
    """explain of a --seeds folder refreshes every seed run's own explorer (RUN/viz) with that seed's
    explanations; with --out, each explorer instead records where its seed's explanations went (it
    shows only RUN/explain's: nothing outside the run directory), keeping what it shows."""
    import shutil

    from gnnviz.explain.run import explain as run_explain
    from gnnviz.runs.load import state_digest
    from gnnviz.runs.store import save_summary
    from gnnviz.viz.pages.explorer import EXPLAIN, PAGE, explain_data, explain_js, read_explain_js

    (by_model, g) = runs
    agg = tmp_path / "agg"
    agg.mkdir()
    shutil.copytree(by_model["gcn"], agg / "seed-0")
    trained_run(agg, g, "gcn", steps=20, name="seed-1", seed=1)
    save_summary(agg, {"dataset": "tiny", "model": "gcn", "metric": "accuracy", "status": "completed", "runs": []})
    for s in ("seed-0", "seed-1"):  # each seed visualized first, as far as explain looks
        viz = agg / s / "viz"
        (viz / "explorer").mkdir(parents=True)
        (viz / PAGE).write_text("<html></html>")
        (viz / EXPLAIN).write_bytes(explain_js(explain_data(None, state_digest(agg / s))))
    # A seed whose explain folder holds someone else's files: one line, and no seed explained.
    (agg / "seed-1" / "explain").mkdir()
    (agg / "seed-1" / "explain" / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, "explain", "--run", agg, "--nodes", "0", "--methods", "saliency")
    assert code == 2 and "did not write" in err and len(err.strip().splitlines()) == 1, err
    assert not (agg / "seed-0" / "explain").exists() and not (agg / "explain").exists()
    shutil.rmtree(agg / "seed-1" / "explain")
    lines = []
    run_explain(agg, nodes=[0, 21], methods="saliency", log=lines.append)
    pages = {}
    for s in ("seed-0", "seed-1"):
        doc = json.loads((agg / s / "explain" / "explain.json").read_text())
        page = read_explain_js((agg / s / "viz" / EXPLAIN).read_bytes())
        assert page == explain_data(doc, state_digest(agg / s), run=str(agg / s)), s
        assert (
            page["explained"]["nodes"]["21"]["methods"]["saliency"]["scores"] == doc["nodes"][1]["methods"]["saliency"]["scores"]
        )
        pages[s] = page
    assert pages["seed-0"]["explained"]["nodes"] != pages["seed-1"]["explained"]["nodes"]  # each its own seed's
    assert sum("shows these explanations" in line for line in lines) == 2, lines

    lines.clear()
    out = tmp_path / "out"
    run_explain(agg, out, nodes=[0, 5], methods="saliency", log=lines.append)
    for s in ("seed-0", "seed-1"):
        page = read_explain_js((agg / s / "viz" / EXPLAIN).read_bytes())
        assert page.pop("elsewhere") == {
            "folder": str((out / s).resolve()),
            "index": (out / s / "index.html").resolve().as_uri(),
            "nodes": [0, 5],
            "shows": str(agg / s / "explain"),
        }
        assert page == pages[s]  # what it shows is as it was
    said = [line for line in lines if "the explorer shows only the explanations in" in line]
    assert len(said) == 2 and str(out / "seed-1") in said[1] and str(agg / "seed-1" / "explain") in said[1], lines


def test_default_methods_are_those_the_model_allows():
    from gnnviz.explain.run import parse_methods

    assert parse_methods(None, True) == [
        "gnnexplainer",
        "integrated_gradients",
        "saliency",
        "attention_last",
        "attention_mean",
        "attention_tree",
    ]
    assert parse_methods(None, False) == ["gnnexplainer", "integrated_gradients", "saliency"]
    assert parse_methods("pgexplainer", False) == ["pgexplainer"]  # off by default: it trains first
    assert parse_methods("saliency,attention,saliency", True) == [
        "saliency",
        "attention_last",
        "attention_mean",
        "attention_tree",
    ]


def test_default_nodes_cover_classes_and_splits(runs, tmp_path):
    (by_model, g) = runs
    out = explain(by_model["gat"], tmp_path, ("methods", "saliency,attention"))
    doc = json.loads((out / "explain.json").read_text())
    seen = {(r["split"], r["true"]) for r in doc["nodes"]}
    assert seen == {(s, c) for s in ("train", "val", "test") for c in range(4)}
    assert doc["ground_truth"] is True
    assert all(0 <= doc["methods"][m]["auc_pooled"] <= 1 for m in doc["settings"]["methods"])
    # The motif-nodes-only AUC (the literature's protocol) is over exactly the nodes inside a motif.
    motif = g.truth_node_mask.numpy()
    assert [r["in_truth"] for r in doc["nodes"]] == [bool(motif[r["node"]]) for r in doc["nodes"]]
    inside = [r for r in doc["nodes"] if r["in_truth"]]
    assert 0 < len(inside) < len(doc["nodes"])
    for m in doc["settings"]["methods"]:
        got, aucs = doc["methods"][m], [r["methods"][m]["auc"] for r in inside if r["methods"][m]["auc"] is not None]
        assert got["auc_inside_nodes"] == len(aucs) and got["auc_inside_mean"] == pytest.approx(np.mean(aucs))
        assert 0 <= got["auc_inside_pooled"] <= 1
    rho, overlap = np.array(doc["agreement"]["spearman"], dtype=float), np.array(doc["agreement"]["top_overlap"])
    assert doc["agreement"]["methods"] == doc["settings"]["methods"]
    np.testing.assert_allclose(np.diag(rho), 1.0)
    np.testing.assert_allclose(rho, rho.T)
    np.testing.assert_allclose(np.diag(overlap), 1.0)
    assert ((overlap >= 0) & (overlap <= 1)).all()
    page = (out / "index.html").read_text()  # the run page's look, every figure, the numbers with definitions
    from gnnviz.viz.pages.index import STYLE

    assert STYLE in page and "index.html" in doc["files"]
    shown = set(re.findall(r'<img src="([^"]+)"', page))
    assert shown == {f for f in doc["files"] if f.endswith(".png")} and len(shown) == len(doc["nodes"]) + 3
    for m in doc["settings"]["methods"]:
        got = doc["methods"][m]
        assert f"<td>{m}</td><td>{got['auc_mean']:.3f} +- {got['auc_std']:.3f} ({got['auc_nodes']})</td>" in page
        assert f"<td>{got['fid_plus']:.3f}</td><td>{got['fid_minus']:.3f}</td>" in page
    assert all(html.escape(d) in page for d in doc["definitions"].values())
    assert not re.search(r"\b(pid|host)\b", page)


def test_same_seed_same_explanations_and_a_rerun_replaces_only_its_own_files(runs, tmp_path):
    (by_model, g) = runs
    motif = [int(v) for v in np.flatnonzero(g.truth_node_mask.numpy())[:2]]
    first = explain(by_model["gat"], tmp_path, ("nodes", motif), ("methods", "gnnexplainer"), ("epochs", 10))
    doc = json.loads((first / "explain.json").read_text())
    stamps = {p.name: p.stat().st_mtime_ns for p in first.iterdir()}
    again = explain(by_model["gat"], tmp_path, ("nodes", motif), ("methods", "gnnexplainer"), ("epochs", 10))
    assert {p.name: p.stat().st_mtime_ns for p in again.iterdir()} == stamps  # nothing recomputed or rewritten
    (again / "explain.json").write_text(json.dumps(doc | {"key": "another"}))  # as if from other settings
    explain(by_model["gat"], tmp_path, ("nodes", motif), ("methods", "gnnexplainer"), ("epochs", 10))
    recomputed = json.loads((again / "explain.json").read_text())
    assert recomputed["nodes"] == doc["nodes"] and recomputed["key"] == doc["key"]
    explain(by_model["gat"], tmp_path, ("nodes", [0]), ("methods", "saliency"))
    assert entries(first) == ["explain.json", "features.png", "fidelity_curve.png", "index.html", "node-0.png", "summary.png"]
    (first / "explain.json").unlink()  # as if stopped before its last file: still its folder
    explain(by_model["gat"], tmp_path, ("nodes", [0]), ("methods", "saliency"))
    assert entries(first) == ["explain.json", "features.png", "fidelity_curve.png", "index.html", "node-0.png", "summary.png"]


def test_what_the_helper_process_scores_and_draws_is_what_one_process_gives(runs, tmp_path, monkeypatch):
    """The forked helper (viz/helper.py) scores some methods and draws some figures, and is reaped
    after; where no process can be forked everything is done here, to the same numbers and bytes."""
    import os

    from gnnviz.explain.run import _lpt, _split
    from gnnviz.viz import helper as helper_module

    assert _lpt([1.0, 0.2, 0.3, 0.9, 0.1]) == [2, 3]  # 1.0 here, 0.9 there, 0.3 there, 0.2 here, 0.1 here
    assert _lpt([1.0, 1.0]) == [1] and _lpt([1.0], mine=2.0) == [0] and _lpt([]) == []
    edges = lambda *names: [(m, "edges") for m in names]  # noqa: E731
    assert _split(edges("gnnexplainer", "saliency"), 5, 2, 10) == (edges("gnnexplainer"), edges("saliency"))
    assert _split(edges("pgexplainer", "saliency", "integrated_gradients"), 5, 1, 10) == (
        edges("pgexplainer"),
        edges("saliency", "integrated_gradients"),
    )
    # A feature attribution is a unit of its own whose cost grows with the features: on 1,433 (Cora)
    # Integrated Gradients' outweighs GNNExplainer's 100 epochs and goes where nothing else does.
    ig = [("gnnexplainer", "edges"), ("integrated_gradients", "edges"), ("integrated_gradients", "features")]
    assert _split(ig, 100, 1, 1433) == ([("integrated_gradients", "features")], ig[:2])
    assert _split(ig, 100, 1, 10) == ([("gnnexplainer", "edges")], ig[1:])
    (by_model, g) = runs
    motif = [int(v) for v in np.flatnonzero(g.truth_node_mask.numpy())[:3]]
    args = (("nodes", motif), ("methods", "gnnexplainer,saliency"), ("epochs", 5), ("repeats", 2), ("dpi", 40))
    started, tasks = [], []
    real = helper_module.Helper

    class Counted(real):
        def __init__(self):
            super().__init__()
            started.append(self._process.pid)

        def submit(self, fn, *args):
            tasks.append(fn.__name__)
            return super().submit(fn, *args)

    monkeypatch.setattr(helper_module, "Helper", Counted)
    beside = explain(by_model["gcn"], tmp_path / "beside", *args)
    assert len(started) == 1 and tasks == ["_score_there", "draw_each"]
    with pytest.raises(ProcessLookupError):
        os.kill(started[0], 0)  # killed and reaped by the call

    def no_fork():
        raise ValueError("cannot find context for 'fork'")

    monkeypatch.setattr(helper_module, "Helper", no_fork)
    alone = explain(by_model["gcn"], tmp_path / "alone", *args)
    pngs = sorted(p.name for p in beside.glob("*.png"))
    assert len(pngs) == 3 + 4  # the nodes', fidelity_curve, stability, features, summary
    assert pngs == sorted(p.name for p in alone.glob("*.png"))
    for name in pngs:
        assert (beside / name).read_bytes() == (alone / name).read_bytes(), name
    docs = [json.loads((d / "explain.json").read_text()) for d in (beside, alone)]
    for doc in docs:
        for m in doc["methods"].values():
            assert m.pop("seconds") >= 0
    assert docs[0] == docs[1]


@pytest.mark.parametrize(
    ("model", "sets"), [("gcn", ()), ("gat", ()), ("gatv2", ()), ("sage", ()), ("sage", ("model.aggr=max",))]
)
def test_leaving_out_edges_into_the_farthest_hop_changes_no_number(tmp_path, monkeypatch, model, sets):
    """A computation subgraph keeps only the edges into nodes within L hops: every score (gradients,
    GNNExplainer from the same start, attention), fidelity and feature attribution is the one the
    whole L + 1 hops' edges give, bit for bit. SAGE (no self-loops) under its default mean and
    under max, whose neighbour aggregation has no normaliser at all."""
    from gnnviz.explain import methods as mt
    from gnnviz.explain.subgraph import Hops

    g = house_graph(base=40, motifs=3)
    run = trained_run(tmp_path, g, model, steps=30, layers=2, name=model, sets=sets)
    nodes = [0, 7, *[int(v) for v in np.flatnonzero(g.truth_node_mask.numpy())[:2]]]
    names = "gnnexplainer,integrated_gradients,saliency" + (",attention" if model.startswith("gat") else "")
    args = (("nodes", nodes), ("methods", names), ("epochs", 20), ("dpi", 20))
    edges = []
    real_union = mt.union

    def counted(subs):
        edges.append(sum(s.edge_index.size(1) for s in subs))
        return real_union(subs)

    monkeypatch.setattr(mt, "union", counted)
    monkeypatch.setattr("gnnviz.explain.run.union", counted)
    trimmed = json.loads((explain(run, tmp_path / "trimmed", *args) / "explain.json").read_text())
    few = edges[0]
    real_within = Hops.within
    # every edge of the L + 1 hops kept: "within L hops" read as within L + 1 (k_hop's own depth)
    monkeypatch.setattr(Hops, "within", lambda self, node, hops: real_within(self, node, hops + (hops == 2)))
    edges.clear()
    whole = json.loads((explain(run, tmp_path / "whole", *args) / "explain.json").read_text())
    assert few < edges[0]  # edges were left out
    # Exactly the same numbers, but for GNNExplainer's last float32 bits (its masks' sigmoid and
    # log run vectorised over a shorter tensor, so an entry may fall in another SIMD lane: 1 ulp).
    for a, b in zip(trimmed["nodes"], whole["nodes"], strict=True):
        rough_a, rough_b = a["methods"].pop("gnnexplainer"), b["methods"].pop("gnnexplainer")
        assert a == b
        np.testing.assert_allclose(rough_a["scores"], rough_b["scores"], rtol=0, atol=1e-6)
        assert rough_a["fid_plus"] == rough_b["fid_plus"] and rough_a["fid_minus"] == rough_b["fid_minus"]
    for m, d in trimmed["methods"].items():
        if m != "gnnexplainer":
            assert {k: v for k, v in d.items() if k != "seconds"} == {
                k: v for k, v in whole["methods"][m].items() if k != "seconds"
            }


def test_explain_after_visualize_shows_its_numbers_in_that_explorer(runs, tmp_path):
    """explain.json names the bytes it explains; an explorer drawn from them (RUN/viz) gets them in
    explorer/explain.js, as visualize would have embedded them."""
    import shutil

    from gnnviz.explain.run import explain as run_explain
    from gnnviz.runs.load import state_digest
    from gnnviz.viz.pages.explorer import EXPLAIN, PAGE, explain_data, explain_js, read_explain_js

    (by_model, g) = runs
    run = tmp_path / "run"
    shutil.copytree(by_model["gcn"], run)
    viz = run / "viz"
    (viz / "explorer").mkdir(parents=True)
    (viz / PAGE).write_text("<html></html>")  # what visualize writes, as far as explain looks
    (viz / EXPLAIN).write_bytes(explain_js(explain_data(None, state_digest(run))))
    lines = []
    out = run_explain(run, nodes=[0, 21], methods="saliency", log=lines.append)
    doc = json.loads((out / "explain.json").read_text())
    assert out == run / "explain" and doc["inputs_sha256"] == state_digest(run)
    page = read_explain_js((viz / EXPLAIN).read_bytes())["explained"]
    assert page["href"] == "../explain" and page["methods"] == ["saliency"]
    for row in doc["nodes"]:
        shown = page["nodes"][str(row["node"])]
        assert shown["edges"] == [i for e in row["edges"] for i in e]
        assert shown["methods"]["saliency"]["scores"] == row["methods"]["saliency"]["scores"]
        assert shown["methods"]["saliency"]["auc"] == row["methods"]["saliency"]["auc"]
        assert shown["truth"] == row["truth_edge_mask"] and sum(shown["truth"]) == row["truth_edges"]
        assert len(shown["truth"]) == row["computation_edges"]
        assert (viz / page["href"] / shown["figure"]).is_file()
    assert any("shows these explanations" in line for line in lines), lines


def test_a_hubs_figure_draws_its_own_edges_and_says_how_many_of_how_many(monkeypatch):
    """The thinning (explain/draw.py's thin_edges, tested in test_draw.py) as the node figure uses it."""
    from gnnviz.explain import draw
    from gnnviz.explain.draw import plot_node
    from gnnviz.explain.run import DRAW_MAX_EDGES, _node_figure
    from tests.unit.explain.test_draw import hub

    src, dst, scores, truth = hub()
    methods = {m: {"auc": 0.5, "fid_plus": 1.0, "fid_minus": 0.0} for m in scores}
    row = {
        "node": 0,
        "split": "test",
        "true": 1,
        "predicted": 1,
        "correct": True,
        "computation_edges": src.size,
        "methods": methods,
    }
    drawn = {}

    def spy(pos, edges, vals, *, node_ids, **kw):  # what reaches the drawing
        drawn.update(ids=node_ids[edges], vals=vals, truth=kw["truth_edges"])
        return plot_node(pos, edges, vals, node_ids=node_ids, **kw)

    monkeypatch.setattr(draw, "plot_node", spy)
    fig = _node_figure(row, src, dst, scores, truth, None, 0, None, ("ba_shapes", "gcn", "epoch 9"))
    s, d = drawn["ids"]
    assert s.size == DRAW_MAX_EDGES
    assert int(((s == 0) | (d == 0)).sum()) == int(((src == 0) | (dst == 0)).sum())  # every edge of node 0
    assert int(drawn["truth"].sum()) == int(truth.sum())  # and every motif edge
    title = fig._suptitle.get_text().replace("\n", " ")
    assert f"{DRAW_MAX_EDGES} of {src.size} computation edges drawn" in title, title


def test_pgexplainer_is_trained_on_training_nodes_scored_and_not_recomputed(runs, tmp_path, capsys):
    (by_model, g) = runs
    motif = [int(v) for v in np.flatnonzero(g.truth_node_mask.numpy())[:2]]
    out = explain(by_model["gcn"], tmp_path, ("nodes", motif), ("methods", "pgexplainer,saliency"))
    doc = json.loads((out / "explain.json").read_text())
    got = doc["methods"]["pgexplainer"]
    assert doc["settings"]["methods"] == ["pgexplainer", "saliency"] and doc["agreement"]["methods"][0] == "pgexplainer"
    assert doc["settings"]["pgexplainer_train_nodes"] == 300 and "pgexplainer training" in doc["definitions"]
    assert 0 <= got["auc_pooled"] <= 1 and got["auc_nodes"] == 2 and "PGExplainer" in got["description"]
    for row in doc["nodes"]:
        scores = row["methods"]["pgexplainer"]["scores"]
        assert len(scores) == row["computation_edges"] and all(0 <= v <= 1 for v in scores)
    for m in doc["settings"]["methods"]:  # a note names a method scoring most edges exactly 0, and only then
        zero = np.mean([v == 0 for r in doc["nodes"] for v in r["methods"][m]["scores"]])
        assert any(n.startswith(f"{m} scores") for n in doc["notes"]) == (zero > 0.5), (m, zero, doc["notes"])
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    explain(by_model["gcn"], tmp_path, ("nodes", motif), ("methods", "pgexplainer,saliency"))
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps  # same seed: nothing recomputed

    none = house_graph()  # a run whose split has no training nodes: nothing to train PGExplainer on
    none.val_mask, none.train_mask = none.val_mask | none.train_mask, torch.zeros_like(none.train_mask)
    from tests.support.explain_runs import trained_run

    run = trained_run(tmp_path, none, "gcn", steps=5, name="no-train")
    before = entries(run)
    code, _, err = run_cli(capsys, "explain", "--run", run, "--methods", "pgexplainer", "--out", tmp_path / "none")
    assert (
        code == 2
        and "trains on the run's training nodes" in err
        and "has no training nodes" in err
        and len(err.strip().splitlines()) == 1
    ), err
    assert not (tmp_path / "none").exists() and entries(run) == before


def test_a_method_scoring_most_edges_exactly_zero_gets_a_note(runs, tmp_path, monkeypatch):
    from dataclasses import replace

    from gnnviz.explain.methods import METHODS

    (by_model, g) = runs
    flat = replace(
        METHODS["saliency"], score=lambda subs, seeds, epochs: [torch.zeros(s.edge_index.size(1)) for s in subs], features=None
    )
    monkeypatch.setitem(METHODS, "saliency", flat)
    out = explain(by_model["gcn"], tmp_path, ("nodes", [0]), ("methods", "saliency"))
    notes = json.loads((out / "explain.json").read_text())["notes"]
    assert any(n.startswith("saliency scores 100% of the computation edges exactly 0") for n in notes), notes


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["--methods", "salency"], 2, "unknown method 'salency'"),
        (["--methods", "attention"], 2, "has no attention"),
        (["--nodes", "9999"], 2, "--nodes 9999 out of range"),
        (["--keep", "0"], 2, "--keep 0"),
        (["--repeats", "0"], 2, "--repeats 0 must be at least 1"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(runs, tmp_path, capsys, args, code, words):
    (by_model, _) = runs
    run = by_model["gcn"]
    before = entries(run)
    got, out, err = run_cli(capsys, "explain", "--run", run, "--out", tmp_path / "ex", *args)
    assert got == code and words in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "ex").exists() and entries(run) == before


def test_a_damaged_run_and_a_foreign_out_folder_are_refused(runs, tmp_path, capsys):
    import shutil

    from gnnviz.runs.status import process_fields
    from gnnviz.runs.store import save_summary

    (by_model, _) = runs
    broken = shutil.copytree(by_model["gcn"], tmp_path / "broken")
    (broken / "checkpoint.pt").write_bytes(b"not a checkpoint")
    code, _, err = run_cli(capsys, "explain", "--run", broken)
    assert code == 1 and len(err.strip().splitlines()) == 1 and not (broken / "explain").exists()
    training = shutil.copytree(by_model["gcn"], tmp_path / "training")
    summary = json.loads((training / "summary.json").read_text())
    save_summary(training, summary | {"status": "running", **process_fields()})
    code, _, err = run_cli(capsys, "explain", "--run", training)
    assert code == 1 and "still training" in err and len(err.strip().splitlines()) == 1, err
    assert not (training / "explain").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, "explain", "--run", by_model["gcn"], "--out", other)
    assert code == 2 and "did not write" in err and entries(other) == ["notes.txt"]


def test_help_shows_the_methods_and_examples(capsys):
    code, out, _ = run_cli(capsys, "explain", "--help")
    assert code == 0 and "Examples:" in out and "gnnviz explain --run" in out and "attention_tree" in out and "pgexplainer" in out
    # Where the explorer looks, and what --out elsewhere means for it (viz/explained.py).
    said = " ".join(out.replace("│", " ").split())
    assert "shows the explanations of RUN/explain (or RUN/explain-<state>) only" in said, said
    assert "With --out elsewhere it shows none of them: it says where they are" in said, said


def test_a_gat_on_constant_features_is_reported_as_telling_no_nodes_apart(tmp_path):
    """BA-Shapes with the literature's constant features: a GAT's attention-weighted means of
    identical vectors are identical vectors, so every node gets the same embedding in every layer
    and the same prediction whatever the training did. explain says so in explain.json and on its
    page (the share of the predicted class is the accuracy) rather than presenting the edge scores
    as if they explained a choice."""
    from gnnviz.config import load_config
    from gnnviz.experiment import train
    from gnnviz.explain.run import explain as run_explain
    from gnnviz.viz.load import load_arrays

    sets = ["dataset.name=ba_shapes", "dataset.node_features=constant", "model.name=gat", "model.layers=3"]
    sets += ["model.hidden=8", "model.heads=2", "training.epochs=20", "training.patience=0"]
    run = train(load_config(None, sets), out=tmp_path, name="gat-constant", quiet=True)
    a = load_arrays(run)
    for layer in a.embeddings:  # identical rows in every layer: nothing tells two nodes apart
        assert np.ptp(np.asarray(layer), axis=0).max() < 1e-5
    pred = a.logits.argmax(axis=1)
    assert np.unique(pred).size == 1
    y = np.asarray(a.y)
    assert int(pred[0]) == int(np.bincount(y).argmax())  # trained to the class prior: the majority class
    out = run_explain(run, tmp_path / "ex", methods="saliency", nodes=[0, 400])
    doc = json.loads((out / "explain.json").read_text())
    note = next(n for n in doc["notes"] if n.startswith("the model predicts class"))
    assert f"class {int(pred[0])} for every node (accuracy {float((y == pred[0]).mean()):.3f})" in note
    assert "describe a constant function" in note
    page = (out / "index.html").read_text()
    assert html.escape(note, quote=False) in page or note in page


def test_a_full_disk_while_writing_leaves_the_earlier_explanation_whole(runs, tmp_path, monkeypatch):
    """Every figure and explain.json are written in full before any replaces the earlier
    explanation's files: a disk that fills up partway leaves that explanation as it was, byte for
    byte, and no temporary file behind."""
    import errno
    import os

    from gnnviz import io

    (by_model, g) = runs
    first = explain(by_model["gcn"], tmp_path, ("nodes", [0, 1]), ("methods", "saliency"))
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    real, calls = os.fsync, {"n": 0}

    def fsync(fd):  # the fourth file written finds the disk full
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(io.os, "fsync", fsync)
    with pytest.raises(OSError, match="No space left"):
        explain(by_model["gcn"], tmp_path, ("nodes", [2, 3, 4]), ("methods", "saliency,gnnexplainer"))
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before


def test_an_explain_folder_whose_explain_json_is_damaged_is_explained_again(runs, tmp_path):
    """Only explain's own file names there: its explain.json damaged (cut short) is replaced by a
    whole new explanation; a file of another name still stops it (test_a_damaged_run_...)."""
    (by_model, g) = runs
    first = explain(by_model["gcn"], tmp_path, ("nodes", [0]), ("methods", "saliency"))
    (first / "explain.json").write_text('{"broken')
    again = explain(by_model["gcn"], tmp_path, ("nodes", [0]), ("methods", "saliency"))
    doc = json.loads((again / "explain.json").read_text())
    assert [r["node"] for r in doc["nodes"]] == [0] and all((again / f).is_file() for f in doc["files"])
