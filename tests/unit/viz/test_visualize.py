"""``visualize`` end to end on real runs: every file, correct numbers, errors before any write."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from gnnviz.config import load_config
from gnnviz.errors import GnnvizError
from gnnviz.experiment import train
from gnnviz.viz.coords import embeddings
from gnnviz.viz.pages.explorer import ASSETS as EXPLORER_ASSETS
from gnnviz.viz.visualize import visualize

REPO = Path(__file__).resolve().parents[3]


def make_run(out: Path, config: str, *sets: str, name: str, data_root: Path | None = None) -> Path:
    cfg = load_config(REPO / "configs" / config, list(sets))
    return train(cfg, out=out, name=name, quiet=True, data_root=data_root)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    fast = ("training.epochs=12", "training.patience=12")
    return {
        "gat": make_run(out, "gat_karate.yaml", *fast, name="gat"),
        "gcn": make_run(out, "gat_karate.yaml", "model.name=gcn", "model.hidden=16", *fast, name="gcn"),
        "sage": make_run(out, "gat_karate.yaml", "model.name=sage", "model.hidden=16", *fast, name="sage"),
    }


@pytest.fixture()
def gat(runs):
    return runs["gat"]


@pytest.fixture(scope="module")
def gat_viz(runs, tmp_path_factory):
    """One full default visualize of the karate GAT run: (output folder, log lines)."""
    lines = []
    out = visualize(runs["gat"], tmp_path_factory.mktemp("gat-viz") / "viz", log=lines.append)
    return out, lines


# Cheap options for tests that only need some figure: no neighbourhoods, one layer.
FEW = dict(top_k=0, layers=[1])


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


KARATE_GAT_FILES = {
    "layout.png", "degree.png", "curves.png", "tsne.png", "entropy.png", "index.html",
    "attention_stats.json", "timings.json",
    "entropy/layer0_head0.png", "entropy/layer0_mean.png", "entropy/layer1_head0.png",
    # top-4 karate nodes by degree: 33 (17), 0 (16), 32 (12), 2 (10)
    *(f"attention/node{n}.png" for n in (33, 0, 32, 2)),
    # what attention learned (issue 9 part 3)
    *(f"insight/{n}.png" for n in ("lift", "lift_by_degree", "ranking", "switched_off", "class_flow")),
    # the explorer page (issue 10)
    "explorer.html", "explorer/data.js", "explorer/explain.js", *(path for _, path in EXPLORER_ASSETS),
}  # fmt: skip


def test_karate_gat_writes_every_figure(gat_viz, tmp_path):
    out, lines = gat_viz
    assert out.name == "viz"
    assert files_under(out) == KARATE_GAT_FILES
    assert any(line.startswith("layout: Kamada-Kawai") for line in lines)
    assert any(line.startswith("timings: load") for line in lines)
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings["seconds"]) == {"load", "layout", "tsne", "attention", "insight", "drawing", "html", "total"}
    # CPU seconds per stage (the total aside): a cold load runs the model, so it takes CPU time.
    assert set(timings["cpu_seconds"]) == set(timings["seconds"]) - {"total"} and timings["cpu_seconds"]["load"] > 0
    # Every figure drawn has its seconds (bench/run.py sums the insight figures').
    assert {f"{stem}.png" for stem in timings["figures"]} == {f for f in KARATE_GAT_FILES if f.endswith(".png")}
    assert timings["switch_off"] >= 0.0  # 0 when the forward passes came from the cache: test_arrays
    assert timings["layout_method"] == "Kamada-Kawai"
    for f in KARATE_GAT_FILES:
        if f.endswith(".png"):
            assert (out / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f


def test_default_output_is_run_viz_and_quiet_logs_nothing(gat):
    lines = []
    out = visualize(gat, quiet=True, log=lines.append, **FEW)
    assert out == gat / "viz" and lines == [] and (out / "index.html").is_file()


def test_attention_stats_are_consistent(gat_viz):
    out, _ = gat_viz
    stats = json.loads((out / "attention_stats.json").read_text())
    assert [layer["layer"] for layer in stats["layers"]] == [0, 1]
    assert stats["layers"][0]["heads"] == 8 and len(stats["layers"][0]["per_head"]) == 8
    for layer in stats["layers"]:
        assert layer["max_abs_sum_error"] < 1e-5  # every node's attention sums to 1, every head
        for s in layer["per_head"] + [layer["mean_over_heads"]]:
            assert s["mean_kl_from_uniform"] == pytest.approx(s["mean_uniform_entropy"] - s["mean_entropy"], abs=1e-9)
            assert s["mean_kl_from_uniform"] >= -1e-9
            assert 0 < s["mean_normalised_entropy"] <= 1 + 1e-9
            assert s["nodes"] == 34 and s["nodes_in_ratio"] == 34  # karate has no isolated node


def test_index_links_every_figure_relatively_and_escapes_text(gat_viz):
    out, _ = gat_viz
    page = (out / "index.html").read_text()
    srcs = set(re.findall(r'<img src="([^"]+)"', page))
    assert srcs == {f for f in KARATE_GAT_FILES if f.endswith(".png")}
    assert all(not s.startswith(("/", "http")) and (out / s).is_file() for s in srcs)
    assert "<td>karate</td>" in page and "hidden: 64" in page  # summary and resolved config
    assert "<script" not in page


def test_pages_keep_the_machine_out(runs, gat_viz):
    # summary.json names the process and host that trained the run; pages that travel do not.
    from gnnviz.runs.schema import MACHINE_FIELDS
    from gnnviz.viz.pages.explorer import read_data_js

    out, _ = gat_viz
    assert MACHINE_FIELDS <= set(json.loads((runs["gat"] / "summary.json").read_text()))
    page = (out / "index.html").read_text()
    assert not any(f"<th>{k}</th>" in page for k in MACHINE_FIELDS)
    data = out / "explorer" / "data.js"
    if data.is_file():
        shown = read_data_js(data.read_bytes())["meta"]["summary"]
        assert not MACHINE_FIELDS & set(shown)


def test_same_run_draws_identical_layout_and_tsne(gat, tmp_path, monkeypatch):
    # Fresh caches for both calls: the coordinates are recomputed, and must come out the same,
    # whether the layout ran in this process (karate is below the helper's size) or in the helper
    # process, which then also draws every second figure: every figure is the same, byte for byte.
    # "c": no process to be had (fork fails): the helper's work is done here, with no error.
    def no_fork():
        raise OSError(11, "Resource temporarily unavailable")

    pictures = []
    for name, helper_from in (("a", None), ("b", 0), ("c", 0)):
        if helper_from is not None:
            monkeypatch.setattr("gnnviz.viz.visualize.PARALLEL_LAYOUT_MIN_NODES", helper_from)
        if name == "c":
            monkeypatch.setattr("gnnviz.viz.visualize.Helper", no_fork)
        monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path / f"cache-{name}"))
        out = visualize(gat, tmp_path / name, quiet=True, **FEW)
        timings = json.loads((out / "timings.json").read_text())
        assert timings["layout_cached"] is False
        assert (timings["layout_helper_cpu"] is None) == (name != "b")
        drawn = sorted(f for f in files_under(out) if f.endswith(".png")) + ["explorer/data.js"]
        assert len(drawn) > 4 and {"layout.png", "tsne.png"} <= set(drawn)
        pictures.append({f: (out / f).read_bytes() for f in drawn})
    assert pictures[0] == pictures[1] == pictures[2]


def test_nodes_layers_heads_and_svg(gat, tmp_path):
    out = visualize(gat, tmp_path, nodes=[5, 33], top_k=1, layers=[0], heads=[2, 7], fmt="svg", quiet=True)
    got = files_under(out)
    assert got >= {
        "attention/node33.svg",
        "attention/node5.svg",
        "entropy/layer0_head2.svg",
        "entropy/layer0_head7.svg",
        "layout.svg",
    }
    assert not any("layer1" in f for f in got)
    hood = (out / "attention/node5.svg").read_text()
    assert "layer 0, head 2 of 8" in hood and "layer 0, head 7 of 8" in hood and "mean over" not in hood
    assert (out / "layout.svg").read_text().lstrip().startswith("<?xml")


def test_every_figure_and_the_page_name_the_checkpoint_drawn(gat, tmp_path):
    out = visualize(gat, tmp_path, top_k=1, fmt="svg", quiet=True)
    summary = json.loads((gat / "summary.json").read_text())
    stamp = f"checkpoint epoch {summary['best_epoch']}, val accuracy {summary['val_metric']:.3f}, val loss "
    for f in files_under(out):
        if f.endswith(".svg"):
            text = " ".join(re.sub(r"<[^>]+>", " ", (out / f).read_text()).split())
            assert stamp in text or stamp.replace(", val loss ", "") in text, f
    page = (out / "index.html").read_text()
    assert f"<h1>GAT on KarateClub, {stamp}" in page
    assert re.search(r"misclassified</th><td>\d+ of 34 nodes \(train \d+, val \d+, test \d+", page)
    # KL on the page to 3 significant figures, written as the figures write it (style.sig: 3.24e-3).
    from gnnviz.viz.draw.style import sig

    stats = json.loads((out / "attention_stats.json").read_text())
    kl = stats["layers"][0]["per_head"][0]["mean_kl_from_uniform"]
    assert f"<td>{sig(kl)}</td>" in page and "e-0" not in page


def test_entropy_overview_honours_heads(gat, tmp_path):
    out = visualize(gat, tmp_path / "all", top_k=0, fmt="svg", quiet=True)
    every = (out / "entropy.svg").read_text()
    assert all(f"layer 0, head {h}:" in every for h in range(8)) and "layer 0, mean of 8 heads" in every
    out = visualize(gat, tmp_path / "some", top_k=0, heads=[2], fmt="svg", quiet=True)
    some = (out / "entropy.svg").read_text()
    assert "layer 0, head 2:" in some
    assert not any(f"layer 0, head {h}:" in some for h in (0, 1, 3)) and "mean of" not in some
    assert {f for f in files_under(out) if f.startswith("entropy/")} == {"entropy/layer0_head2.svg"}


def test_warning_when_the_checkpoint_is_far_before_the_loss_minimum(runs, tmp_path):
    run = copy_run(runs["sage"], tmp_path / "run")
    # 60 epochs whose validation loss falls to the end, while the checkpoint is from epoch <= 12.
    rows = [f"{e},1.0,0.5,{10.0 - 0.1 * e},0.5,0.01" for e in range(1, 61)]
    (run / "metrics.csv").write_text("epoch,train_loss,train_metric,val_loss,val_metric,seconds\n" + "\n".join(rows) + "\n")
    logged: list[str] = []
    out = visualize(run, tmp_path / "viz", log=logged.append)
    assert any("the validation loss kept falling until epoch 60 of 60" in m for m in logged)
    page = (out / "index.html").read_text()
    assert 'class="warning"' in page and "kept falling until epoch 60 of 60" in page
    # A run whose checkpoint is at the loss minimum gets no warning.
    logged.clear()
    visualize(runs["sage"], tmp_path / "plain", log=logged.append)
    assert not any("kept falling" in m for m in logged)


def test_gcn_draws_fixed_normalisation_instead_of_attention(runs, tmp_path):
    out = visualize(runs["gcn"], tmp_path, quiet=True)
    got = files_under(out)
    assert {"layout.png", "degree.png", "curves.png", "tsne.png", "index.html", "gcn_norm/node33.png"} <= got
    assert not any(f.startswith(("attention/", "entropy")) for f in got)
    # Of "what attention learned", only the class-to-class flow of the fixed coefficients.
    assert {f for f in got if f.startswith("insight/")} == {"insight/class_flow.png"}
    page = (out / "index.html").read_text()
    assert "fixed, not learned" in page and "does not sum to 1" in page
    (flow,) = json.loads((out / "attention_stats.json").read_text())["class_flow"]["layers"]
    assert flow["layer"] is None and "GCN" in flow["weights"]
    # No attention to measure, but the fixed coefficients get the label measure a learned attention must beat.
    ins = json.loads((out / "attention_stats.json").read_text())["insight"]
    assert ins["layers"] == [] and ins["switched_off"] == {}
    base = ins["baseline_fixed_coefficients"]["overall"]
    assert base["nodes"] == 34 and -1 < base["lift"][0] < 1
    assert "What attention learned" in page


def test_sage_gets_every_figure_but_attention(runs, tmp_path):
    got = files_under(visualize(runs["sage"], tmp_path, quiet=True))
    explorer = {"explorer.html", "explorer/data.js", "explorer/explain.js", *(path for _, path in EXPLORER_ASSETS)}
    assert got == {"layout.png", "degree.png", "curves.png", "tsne.png", "index.html", "timings.json", *explorer}


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(nodes=[9999]), "node 9999 out of range; KarateClub has 34 nodes (0..33)"),
        (dict(nodes=[-1]), "node -1 out of range; KarateClub has 34 nodes (0..33)"),
        (dict(layers=[2]), "layer 2 does not exist; the gat model has 2 layers (0..1)"),
        (dict(heads=[8]), "head 8 does not exist; layer 0 has 8 heads (0..7), layer 1 has 1 head (0)"),
        (dict(graph_index=1), "--graph-index 1 out of range; the KarateClub run stores 1 graph (0..0)"),
        (dict(fmt="jpg"), "--format 'jpg' is not supported; choose png or svg"),
        (dict(top_k=-1), "--top-k -1 must be 0 or more"),
        (dict(dpi=0), "--dpi 0 is out of range; pass a whole number from 30 to 1200"),
        (dict(dpi=-5), "--dpi -5 is out of range"),
        (dict(dpi=100000), "--dpi 100000 is out of range"),
    ],
)
def test_bad_options_fail_before_writing(gat, tmp_path, kwargs, message):
    with pytest.raises(GnnvizError) as err:
        visualize(gat, tmp_path / "viz", quiet=True, **kwargs)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "viz").exists()


def test_heads_on_a_model_without_attention(runs, tmp_path):
    with pytest.raises(GnnvizError, match="the gcn model has no attention heads; drop --heads"):
        visualize(runs["gcn"], tmp_path, heads=[0], quiet=True)


def copy_run(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        if f.is_file():
            (dst / f.name).write_bytes(f.read_bytes())
    return dst


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda r: (r / "checkpoint.pt").unlink(), "is incomplete (missing checkpoint.pt)"),
        (
            lambda r: (r / "checkpoint.pt").write_bytes((r / "checkpoint.pt").read_bytes()[:300]),
            "is truncated or not a checkpoint",
        ),
        (lambda r: torch.save({"state_dict": {}}, r / "checkpoint.pt"), "foreign checkpoint"),
        (lambda r: (r / "graph.pt").write_bytes(b""), "graph.pt is empty"),
    ],
)
def test_damaged_runs_fail_and_keep_earlier_figures(gat, tmp_path, damage, message):
    run = copy_run(gat, tmp_path / "run")
    out = visualize(run, quiet=True, **FEW)
    before = {f: (out / f).read_bytes() for f in files_under(out)}
    damage(run)
    with pytest.raises(GnnvizError, match=re.escape(message)):
        visualize(run, quiet=True, nodes=[1])
    assert {f: (out / f).read_bytes() for f in files_under(out)} == before


def test_missing_run_directory(tmp_path):
    with pytest.raises(GnnvizError, match="does not exist; create one with 'gnnviz train"):
        visualize(tmp_path / "nope")


def test_a_checkpoint_for_another_graph(runs, tmp_path):
    run = copy_run(runs["gat"], tmp_path / "run")
    # A graph.pt with other features: the model cannot run on it.
    blob = torch.load(run / "graph.pt", weights_only=True)
    blob["graphs"][0]["x"] = torch.zeros(34, 5)
    torch.save(blob, run / "graph.pt")
    with pytest.raises(
        GnnvizError, match=r"says in_channels \(node features\)=\d+ but .*graph.pt says in_channels \(node features\)=5"
    ):
        visualize(run, tmp_path / "viz", quiet=True)
    assert not (tmp_path / "viz").exists()


def test_output_folder_that_is_a_file(gat, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(GnnvizError, match="is a file; pass --out DIR"):
        visualize(gat, tmp_path / "f", quiet=True)


def test_a_drawing_failure_writes_nothing(gat, tmp_path, monkeypatch):
    # A failure while drawing leaves every earlier figure as it was and no temp files behind.
    out = visualize(gat, tmp_path, quiet=True, **FEW)
    layout_before = (out / "layout.png").read_bytes()
    from gnnviz.viz.draw import graph

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(graph, "plot_degree", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        visualize(gat, tmp_path, quiet=True, top_k=0, layers=[0])
    # Nothing was written: figures are all rendered before the first file is replaced.
    assert (out / "layout.png").read_bytes() == layout_before
    assert not (out / "entropy" / "layer0_head0.png").exists()
    assert not [f for f in os.listdir(out) if f.startswith(".")]


# ----------------------------------------------------------------------------- multi-graph (PPI format)


def test_ppi_style_multilabel_run(tmp_path):
    from tests.support.ppi_fixture import write_ppi_raw

    root = tmp_path / "data"
    write_ppi_raw(root / "PPI")
    run = make_run(tmp_path / "runs", "gat_ppi.yaml", "model.hidden=32", "model.heads=2", "model.out_heads=2",
                   "training.epochs=1", name="ppi", data_root=root)  # fmt: skip
    out = visualize(run, tmp_path / "viz", graph_index=1, quiet=True)
    got = files_under(out)
    assert {"layout.png", "tsne.png", "entropy.png", "attention_stats.json"} <= got
    assert {f"entropy/layer{i}_mean.png" for i in range(3)} <= got
    stats = json.loads((out / "attention_stats.json").read_text())
    assert stats["graph"] == "PPI test graph 1"
    with pytest.raises(GnnvizError, match=r"--graph-index 2 out of range; the PPI run stores 2 graphs \(0..1\)"):
        visualize(run, tmp_path / "viz", graph_index=2, quiet=True)


# ----------------------------------------------------------------------------- real Cora


@pytest.mark.realdata
def test_cora_gat_attention_is_near_uniform_and_the_hub_has_168_neighbours(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("GNNVIZ_DATA_MIRROR", str(mirror))
    # Keeps the test fast, and exercises t-SNE's subsampling on real embeddings.
    monkeypatch.setattr(embeddings, "MAX_POINTS", 1000)
    run = make_run(tmp_path, "gat_cora.yaml", "training.epochs=15", name="cora")
    lines = []
    out = visualize(run, log=lines.append, top_k=1)
    got = files_under(out)
    assert {"layout.png", "degree.png", "curves.png", "tsne.png", "entropy.png", "attention/node1358.png"} <= got
    assert any("per component (78 packed)" in line for line in lines)
    page = (out / "index.html").read_text()
    # The hub, its class by name, and the checkpoint drawn.
    assert re.search(r"Node 1358 \(168 neighbours, class \d: [A-Z][A-Za-z_]+\)", page)
    assert "<h1>GAT on Cora, checkpoint epoch " in page
    assert "t-SNE of the embeddings (random 1,000 of 2,708 nodes)" in page
    stats = json.loads((out / "attention_stats.json").read_text())
    for layer in stats["layers"]:
        for s in layer["per_head"]:
            assert s["mean_normalised_entropy"] > 0.95  # GAT on Cora: close to uniform
            assert s["mean_entropy"] == pytest.approx(s["mean_uniform_entropy"], rel=0.1)


def test_names_from_the_run_are_drawn_as_text_not_mathtext(runs, tmp_path):
    run = copy_run(runs["sage"], tmp_path / "run")
    odd = r"$\frac{$ and $x^$"  # unbalanced mathtext: matplotlib would raise on it
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "metric": odd}))
    page = (visualize(run, quiet=True) / "index.html").read_text()
    assert odd in page  # the page shows the name itself, not its TeX-escaped form
    from gnnviz.viz.figures.run import literal

    assert literal(odd) == r"\$\frac{\$ and \$x^\$"


def test_stats_json_is_strict_when_no_node_has_a_choice():
    from gnnviz.analysis import attention as att
    from gnnviz.viz.write import to_json as _json

    ei = att.with_self_loops(np.zeros((2, 0), dtype=np.int64), 3)  # three nodes, self-loops only
    h, u = att.entropy(ei, np.ones(3), 3), att.uniform_entropy(ei, 3)
    stats = att.entropy_stats(h, u).as_dict()
    assert np.isnan(stats["mean_normalised_entropy"])  # undefined: log 1 = 0 for every node
    text = _json({"layers": [stats]})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c))["layers"][0]["mean_normalised_entropy"] is None


def test_warm_visualize_reuses_the_forward_pass_without_pyg(gat, tmp_path):
    """A second visualize of the same files reads the cached forward: same numbers, no PyG import."""
    import subprocess
    import sys

    env = {**os.environ, "GNNVIZ_CACHE_DIR": str(tmp_path / "cache")}
    script = (
        "import sys; from pathlib import Path; from gnnviz.viz.visualize import visualize; "
        f"visualize(Path({str(gat)!r}), Path(sys.argv[1]), top_k=0, quiet=True); print('torch_geometric' in sys.modules)"
    )
    cold = subprocess.run([sys.executable, "-c", script, tmp_path / "a"], capture_output=True, text=True, env=env)
    warm = subprocess.run([sys.executable, "-c", script, tmp_path / "b"], capture_output=True, text=True, env=env)
    assert cold.returncode == warm.returncode == 0, cold.stderr + warm.stderr
    assert (cold.stdout.strip(), warm.stdout.strip()) == ("True", "False")
    stats = [(tmp_path / d / "attention_stats.json").read_text() for d in ("a", "b")]
    assert stats[0] == stats[1]
    # Changing the checkpoint's bytes changes the key: the model runs again. (A weight: another
    # epoch would be refused, as summary.json records the state's epoch.)
    ckpt = torch.load(gat / "checkpoint.pt", weights_only=True)
    first = next(k for k, v in ckpt["state_dict"].items() if v.is_floating_point())
    ckpt["state_dict"][first] = ckpt["state_dict"][first] * 1.01
    from gnnviz.runs.store import weights_digest

    ckpt["state_sha256"] = weights_digest(ckpt["state_dict"])  # as if trained so (an edit is refused)
    other = tmp_path / "other"
    import shutil

    shutil.copytree(gat, other, ignore=shutil.ignore_patterns("viz"))
    torch.save(ckpt, other / "checkpoint.pt")
    again = subprocess.run([sys.executable, "-c", script.replace(repr(str(gat)), repr(str(other))), tmp_path / "c"],
                           capture_output=True, text=True, env=env)  # fmt: skip
    assert again.returncode == 0 and again.stdout.strip() == "True"


def test_gat_page_answers_what_attention_learned(gat_viz, runs):
    """Issue 9 part 3, end to end: the numbers in attention_stats.json are the insight functions'
    on the drawn arrays, GAT's attention is exactly static, and the page links the explorer."""
    from gnnviz.analysis import insight
    from gnnviz.viz.load import load_arrays

    out, _ = gat_viz
    stats = json.loads((out / "attention_stats.json").read_text())["insight"]
    a = load_arrays(runs["gat"])
    assert [entry["layer"] for entry in stats["layers"]] == [0, 1]
    for entry in stats["layers"]:
        la = a.attention[entry["layer"]]
        want = insight.attention_vs_labels(la.edge_index, la.alpha, a.y)["overall"]["lift"]
        assert entry["labels"]["overall"]["lift"][:-1] == pytest.approx(want, abs=1e-9)
        # Brody et al.: GAT ranks neighbours the same way for every query node, whatever its weights.
        assert entry["ranking"]["pairs"] > 0
        assert all(v == 1.0 for v in entry["ranking"]["agreement"] if v is not None)
    assert {"uniform:0", "uniform:1", "uniform:all", "gcn:0", "gcn:1", "gcn:all"} == set(stats["switched_off"])
    assert all(ch["nodes"] == int((a.split == "test").sum()) for ch in stats["switched_off"].values())
    page = (out / "index.html").read_text()
    assert "What attention learned" in page and 'href="explorer.html"' in page


def test_class_flow_in_attention_stats_is_the_arrays_flow_per_layer(runs, gat_viz):
    from gnnviz.analysis import attention as att
    from gnnviz.viz.load import load_arrays

    out, _ = gat_viz
    flows = json.loads((out / "attention_stats.json").read_text())["class_flow"]["layers"]
    a = load_arrays(runs["gat"])
    assert [f["layer"] for f in flows] == [0, 1]
    for f in flows:
        la = a.attention[f["layer"]]
        want = att.class_flow(la.edge_index, la.alpha.mean(1), a.y, a.logits.shape[1])
        np.testing.assert_allclose(f["mass"], want.mass, rtol=1e-9)
        np.testing.assert_allclose(np.nansum(f["share"], axis=1), 1.0)
        assert f["edges"] == want.edges.tolist()


def test_above_the_force_layout_limit_the_layout_comes_from_the_embeddings(runs, tmp_path, monkeypatch):
    from gnnviz.viz.coords import embeddings, layout

    monkeypatch.setattr(layout, "FORCE_LAYOUT_MAX_NODES", 10)
    monkeypatch.setattr(embeddings, "MAX_POINTS", 20)
    lines: list[str] = []
    out = visualize(runs["gat"], tmp_path / "viz", log=lines.append, **FEW)
    method = json.loads((out / "timings.json").read_text())["layout_method"]
    assert method.startswith("t-SNE of hidden layer 0 embeddings of 20 sampled nodes; the other 14 beside")
    assert any(line.startswith("layout: t-SNE of hidden layer 0") for line in lines)
    assert "layout.png" in files_under(out)
    # The second visualize reads the placement from the layout cache.
    lines.clear()
    visualize(runs["gat"], tmp_path / "again", log=lines.append, **FEW)
    assert any(line.startswith("layout: t-SNE") and line.endswith("(cached)") for line in lines)


def test_above_the_explorer_limit_the_page_says_why_there_is_no_explorer(runs, tmp_path, monkeypatch):
    from gnnviz.viz.pages import explorer

    monkeypatch.setattr(explorer, "MAX_NODES", 33)
    lines: list[str] = []
    out = visualize(runs["gat"], tmp_path / "viz", log=lines.append, **FEW)
    got = files_under(out)
    assert "explorer.html" not in got and not any(f.startswith("explorer/") for f in got)
    page = (out / "index.html").read_text()
    assert "No interactive explorer for this run: the graph has 34 nodes, more than the explorer&#x27;s limit of 33" in page
    assert 'href="explorer.html"' not in page
    assert any(line.startswith("note: no explorer page: the graph has 34 nodes") for line in lines)


def test_above_the_switch_off_limit_the_log_says_attention_was_not_switched_off(runs, tmp_path, monkeypatch):
    from gnnviz.viz import load as arrays

    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path / "cache"))  # the forward is computed again
    monkeypatch.setattr(arrays, "SWITCH_OFF_MAX_EDGES", 100)
    lines: list[str] = []
    out = visualize(runs["gat"], tmp_path / "viz", log=lines.append, **FEW)
    assert "insight/switched_off.png" not in files_under(out)
    assert "insight/lift.png" in files_under(out)
    assert any(
        line.startswith("note: attention was not switched off (insight/switched_off): the graph has 156 edges") for line in lines
    )


def test_layout_heading_counts_each_undirected_edge_once():
    from gnnviz.viz.figures.run import _undirected_edges

    # 0-1 and 1-2 stored both ways, 0-3 one way, a self-loop (not an edge), 1-2 once more.
    ei = np.array([[0, 1, 1, 2, 2, 0, 2], [1, 0, 2, 1, 2, 3, 1]])
    assert _undirected_edges(ei) == 3
    assert _undirected_edges(np.array([[4], [4]])) == 0
