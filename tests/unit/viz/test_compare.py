"""``gnnviz compare``: numbers checked against an independent computation, every bad input refused
with one line and nothing written, the page linking every figure, earlier compares never lost."""

from __future__ import annotations

import json
import math
import re
import shutil
import statistics
from pathlib import Path

import numpy as np
import pytest
import torch

from gnnviz.config import load_config
from gnnviz.experiment import train
from gnnviz.runs.load import load_checkpoint
from gnnviz.runs.status import process_fields
from gnnviz.runs.store import load_graphs
from gnnviz.viz.compare import compare
from tests.support.cli import run_cli
from tests.support.runs import retrain_on

REPO = Path(__file__).resolve().parents[3]
FAST = ("training.epochs=12", "training.patience=12")


def make_run(out: Path, *sets: str, name: str, seeds: int = 1) -> Path:
    cfg = load_config(REPO / "configs" / "gat_karate.yaml", [*FAST, *sets])
    return train(cfg, out=out, name=name, quiet=True, seeds=seeds)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Karate: GAT over two seeds (one --seeds folder), GCN, GATv2."""
    out = tmp_path_factory.mktemp("compare-runs")
    return {
        "gat": make_run(out, name="gat", seeds=2),
        "gcn": make_run(out, "model.name=gcn", "model.hidden=16", name="gcn"),
        "gatv2": make_run(out, "model.name=gatv2", name="gatv2"),
    }


@pytest.fixture(scope="module")
def compared(runs, tmp_path_factory):
    """One default compare of all four runs: (folder, compare.json, log lines)."""
    lines: list[str] = []
    folder = compare([runs["gat"], runs["gcn"], runs["gatv2"]], tmp_path_factory.mktemp("cmp") / "out", log=lines.append)
    return folder, json.loads((folder / "compare.json").read_text()), lines


def predictions(run: Path) -> np.ndarray:
    """The run's predictions from its checkpoint by a plain torch forward (not gnnviz.viz)."""
    from gnnviz.models.gnn import rebuild

    model = rebuild(load_checkpoint(run))
    g = load_graphs(run)[0][0]
    with torch.no_grad():
        return model(g.x, g.edge_index).argmax(1).numpy()


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


# ----------------------------------------------------------------------------- numbers


def test_groups_are_seed_aggregates_with_mean_and_sample_std(runs, compared):
    _, numbers, _ = compared
    groups = numbers["groups"]
    assert [g["label"] for g in groups] == ["GAT", "GCN", "GATV2"]
    gat = groups[0]
    assert gat["n"] == 2 and gat["seeds"] == [0, 1]
    assert gat["runs"] == [str(runs["gat"] / "seed-0"), str(runs["gat"] / "seed-1")]
    tests = [json.loads((runs["gat"] / s / "summary.json").read_text())["test_metric"] for s in ("seed-0", "seed-1")]
    assert gat["test_metric"]["values"] == tests
    assert gat["test_metric"]["mean"] == pytest.approx((tests[0] + tests[1]) / 2)
    assert gat["test_metric"]["std"] == pytest.approx(abs(tests[0] - tests[1]) / math.sqrt(2))  # n - 1
    gcn = groups[1]
    assert gcn["n"] == 1 and gcn["test_metric"]["std"] is None and gcn["layers"] == []
    # Per layer: the group's mean is the mean of its runs' values (GAT and GATv2 have 2 layers).
    by_path = {r["path"]: r for r in numbers["runs"]}
    for layer in range(2):
        values = [by_path[p]["layers"][layer]["lift"] for p in gat["runs"]]
        assert gat["layers"][layer]["lift"]["mean"] == pytest.approx(statistics.fmean(values))
        assert gat["layers"][layer]["lift"]["std"] == pytest.approx(statistics.stdev(values))


def test_agreement_and_flipping_nodes_match_an_independent_forward(runs, compared):
    _, numbers, _ = compared
    paths = [runs["gat"] / "seed-0", runs["gat"] / "seed-1", runs["gcn"], runs["gatv2"]]
    assert [r["path"] for r in numbers["runs"]] == [str(p) for p in paths]
    preds = np.stack([predictions(p) for p in paths])  # [R, N]
    g = load_graphs(paths[0])[0][0]
    test = g.test_mask.numpy()
    agreement = numbers["agreement"]
    assert agreement["nodes"] == "test" and agreement["node_count"] == int(test.sum())
    for i in range(4):
        for j in range(4):
            assert agreement["matrix"][i][j] == pytest.approx(float(np.mean(preds[i][test] == preds[j][test])))
            assert agreement["all_nodes_matrix"][i][j] == pytest.approx(float(np.mean(preds[i] == preds[j])))
    flips = numbers["flipping_nodes"]
    disagree = np.flatnonzero((preds != preds[0]).any(0))
    assert flips["count"] == disagree.size
    masks = {"train": g.train_mask.numpy(), "val": g.val_mask.numpy(), "test": test}
    for split, mask in masks.items():
        assert flips["nodes"][split] == [int(v) for v in disagree if mask[v]]
        assert flips["by_split"][split] == int(mask[disagree].sum())
    y = g.y.numpy()
    details = flips["test_details"]
    assert [d["node"] for d in details] == [int(v) for v in disagree if test[v]]
    for d in details:
        assert d["label"] == int(y[d["node"]])
        assert d["predictions"] == [int(p[d["node"]]) for p in preds]
        assert d["right"] == [bool(p[d["node"]] == y[d["node"]]) for p in preds]
    seeds_disagree = int(((preds[0] != preds[1]) & test).sum())
    assert numbers["groups"][0]["seed_disagreement"] == {"nodes": "test", "count": seeds_disagree}


def test_gcn_baseline_by_hand(runs, compared):
    """GCN's coefficients on karate: lift and KL from uniform computed loop by loop."""
    _, numbers, _ = compared
    g = load_graphs(runs["gcn"])[0][0]
    n, y = g.num_nodes, g.y.numpy()
    nbrs = [set() for _ in range(n)]
    for s, t in g.edge_index.t().tolist():
        if s != t:
            nbrs[t].add(s)
    deg = [len(nb) + 1 for nb in nbrs]  # the self-loop counts in GCN's degree
    lifts, kls = [], []
    for i in range(n):
        w = {j: 1 / math.sqrt(deg[i] * deg[j]) for j in nbrs[i]}
        if w:
            mass = sum(v for j, v in w.items() if y[j] == y[i]) / sum(w.values())
            lifts.append(mass - sum(y[j] == y[i] for j in w) / len(w))
        full = [*w.values(), 1 / deg[i]]
        p = [v / sum(full) for v in full]
        kls.append(math.log(len(p)) + sum(v * math.log(v) for v in p))
    base = numbers["baseline_fixed_coefficients"]
    assert base["lift"] == pytest.approx(statistics.fmean(lifts), abs=1e-12)
    assert base["kl_from_uniform"] == pytest.approx(statistics.fmean(kls), abs=1e-12)


def test_groups_split_on_config_but_not_on_seed_device_or_snapshots(runs):
    from dataclasses import replace

    from gnnviz.analysis.comparison import group_runs
    from gnnviz.viz.load import load_arrays

    a = load_arrays(runs["gat"] / "seed-0")

    def variant(seed: int, **changes) -> object:
        config = json.loads(json.dumps(a.config))
        config["run"]["seed"] = seed
        for key, value in changes.items():
            section, name = key.split("__")
            config[section][name] = value
        return replace(a, config=config, summary={**a.summary, "seed": seed})

    arrays = [
        variant(0), variant(1, run__device="cuda"), variant(2, training__snapshots=5),
        variant(0, training__lr=0.01), variant(1, training__lr=0.01), replace(variant(0, model__name="gcn"), model="gcn"),
    ]  # fmt: skip
    groups = group_runs(arrays)
    assert [g.runs for g in groups] == [[0, 1, 2], [3, 4], [5]]
    assert [g.label for g in groups] == ["GAT (training.lr=0.005)", "GAT (training.lr=0.01)", "GCN"]


# ----------------------------------------------------------------------------- files and page


def test_page_links_every_figure_and_json_lists_every_file(compared):
    folder, numbers, lines = compared
    on_disk = files_under(folder)
    figures = {f for f in on_disk if f.endswith(".png")}
    # Karate's two highest-degree nodes: 33 (17 neighbours) and 0 (16).
    assert figures == {
        "curves.png", "test_metric.png", "layers.png", "agreement.png", "neighbourhoods/node33.png", "neighbourhoods/node0.png",
    }  # fmt: skip
    page = (folder / "index.html").read_text()
    assert set(re.findall(r'<img src="([^"]+)"', page)) == figures
    for href in re.findall(r'href="([^"#]+)"', page):
        assert (folder / href).is_file(), href
    assert set(numbers["files"]) == on_disk
    assert numbers["neighbourhoods"]["nodes"] == [33, 0]
    assert any(line.startswith("timings: load") for line in lines)


def test_default_folder_is_new_each_time_and_an_earlier_compare_is_kept(runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pair = [runs["gcn"], runs["gatv2"]]
    fast = dict(top_k=0, dpi=30, quiet=True)
    first = compare(pair, **fast)
    before = {f: (first / f).read_bytes() for f in files_under(first)}
    second = compare(pair, **fast)
    assert first != second and first.parent == second.parent == Path("outputs")
    assert re.fullmatch(r"compare-\d{8}-\d{6}(-\d+)?", second.name)
    assert {f: (first / f).read_bytes() for f in files_under(first)} == before


def test_out_may_name_an_earlier_compare_whose_stale_files_go(runs, compared, tmp_path):
    earlier = tmp_path / "earlier"
    shutil.copytree(compared[0], earlier)
    compare([runs["gcn"], runs["gatv2"]], earlier, top_k=1, dpi=30, quiet=True)
    left = files_under(earlier)
    assert "neighbourhoods/node33.png" in left and "neighbourhoods/node0.png" not in left
    assert set(json.loads((earlier / "compare.json").read_text())["files"]) == left


# ----------------------------------------------------------------------------- bad input


def copy_run(run: Path, to: Path) -> Path:
    shutil.copytree(run, to)
    return to


def edit_summary(run: Path, **changes) -> None:
    path = run / "summary.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


@pytest.fixture()
def broken(runs, tmp_path):
    """Copies of the GCN run, each damaged one way: name -> path."""
    made = {}
    made["empty"] = tmp_path / "empty"
    made["empty"].mkdir()
    made["running"] = copy_run(runs["gcn"], tmp_path / "running")
    edit_summary(made["running"], status="running", **process_fields())
    made["dead"] = copy_run(runs["gcn"], tmp_path / "dead")
    fields = process_fields()
    edit_summary(made["dead"], status="running", **{**fields, "pid_started": fields["pid_started"] + 12345})  # our pid, reused
    made["failed"] = copy_run(runs["gcn"], tmp_path / "failed")
    edit_summary(made["failed"], status="failed", error="disk full")
    (made["failed"] / "checkpoint.pt").unlink()
    made["truncated"] = copy_run(runs["gcn"], tmp_path / "truncated")
    data = (made["truncated"] / "checkpoint.pt").read_bytes()
    (made["truncated"] / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    made["bad_json"] = copy_run(runs["gcn"], tmp_path / "bad_json")
    (made["bad_json"] / "summary.json").write_text("{not json")
    made["cora"] = copy_run(runs["gcn"], tmp_path / "cora")
    edit_summary(made["cora"], dataset="cora")
    made["graph"] = copy_run(runs["gcn"], tmp_path / "graph")
    blob = torch.load(made["graph"] / "graph.pt", weights_only=True)
    blob["graphs"][0]["edge_index"] = blob["graphs"][0]["edge_index"][:, 2:]  # two edges fewer
    retrain_on(made["graph"], blob)
    made["split"] = copy_run(runs["gcn"], tmp_path / "split")
    blob = torch.load(made["split"] / "graph.pt", weights_only=True)
    blob["graphs"][0]["test_mask"] = blob["graphs"][0]["test_mask"].roll(1)
    retrain_on(made["split"], blob)
    made["file"] = tmp_path / "a-file"
    made["file"].write_text("x")
    made["full"] = tmp_path / "full"
    made["full"].mkdir()
    (made["full"] / "notes.txt").write_text("mine")
    return made


BAD = [
    # (id, args after 'compare' with {name} placeholders, exit code, message pattern)
    ("one run", ["{gcn}"], 2, r"compare needs at least two runs, got one \(.*gcn\); pass two or more"),
    ("one seed of a --seeds folder", ["{gat}/seed-0"], 2, r"compare needs at least two runs"),
    ("missing path", ["{gcn}", "{tmp}/nowhere"], 1, r"run directory .*nowhere does not exist"),
    ("not a run", ["{gcn}", "{empty}"], 1, r"empty is incomplete \(missing config.yaml"),
    ("a file", ["{gcn}", "{file}"], 1, r"a-file is not a run directory"),
    ("same run twice", ["{gcn}", "{gcn}"], 2, r"gcn is given twice; pass each run once"),
    ("same run, two spellings", ["{gcn}", "{gcn}/../gcn"], 2, r"gcn and .*gcn/\.\./gcn are the same run"),
    ("a seed and its folder", ["{gat}", "{gat}/seed-1"], 2, r"gat/seed-1 is given twice \(also as a seed of .*gat\); pass each run once"),
    ("different datasets", ["{gcn}", "{cora}"], 2, r"runs of different datasets: .*gcn is karate, .*cora is cora; compare runs of one dataset"),
    ("different graph", ["{gcn}", "{graph}"], 2, r"graph was trained on another graph than .*gcn \(other edges\); compare runs of the same graph"),
    ("different split", ["{gcn}", "{split}"], 2, r"\(another train/val/test split\)"),
    ("still running", ["{gcn}", "{running}"], 1, r"running is still training \(process \d+\); wait for it"),
    ("dead", ["{gcn}", "{dead}"], 1, r"the run died \(process \d+ gone\)"),
    ("failed without checkpoint", ["{gcn}", "{failed}"], 1, r"failed \(disk full\) and has no checkpoint"),
    ("truncated checkpoint", ["{gcn}", "{truncated}"], 1, r"checkpoint.pt is truncated or not a checkpoint"),
    ("damaged summary", ["{gcn}", "{bad_json}"], 1, r"summary.json is not valid JSON; the run is damaged"),
    ("out is a file", ["{gcn}", "{gatv2}", "--out", "{file}"], 2, r"--out .*a-file is a file; pass a new folder"),
    ("out holds other files", ["{gcn}", "{gatv2}", "--out", "{full}"], 2, r"--out .*full already holds files that are not a gnnviz compare"),
    ("node out of range", ["{gcn}", "{gatv2}", "--nodes", "34"], 2, r"node 34 out of range; KarateClub has 34 nodes"),
    ("bad format", ["{gcn}", "{gatv2}", "--format", "jpg"], 2, r"--format 'jpg' is not supported"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_and_writes_nothing(runs, broken, tmp_path, monkeypatch, capsys, args, code, message):
    places = {**{k: str(v) for k, v in runs.items()}, **{k: str(v) for k, v in broken.items()}, "tmp": str(tmp_path)}
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # the default output folder would appear here
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    got, out, err = run_cli(capsys, "compare", *[a.format(**places) for a in args])
    assert got == code, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(message, lines[0]), lines[0]
    assert "Traceback" not in err
    assert list(work.iterdir()) == []
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before  # nothing written, nothing touched


def test_no_runs_at_all_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys, "compare")
    assert code == 2 and err.startswith("error: Missing argument") and "gnnviz compare --help" in err


def test_help_names_the_default_folder(capsys):
    code, out, _ = run_cli(capsys, "compare", "--help")
    assert code == 0
    assert "outputs/compare-<YYYYmmdd-HHMMSS>" in " ".join(out.split())


def test_neighbourhood_grid_takes_columns_and_text_cells():
    """compare's neighbourhood figure: one column per run, a text where a run has no such layer."""
    from gnnviz.analysis import attention as att
    from gnnviz.viz.draw import neighbourhoods, style

    ei = np.array([[1, 2, 0], [0, 0, 0]])
    panel = neighbourhoods.NeighbourhoodPanel(att.neighbourhood(ei, np.array([0.25, 0.25, 0.5]), 0), "GAT\nlayer 0")
    colours = style.node_colours(np.array([0, 1, 1]), categorical=True)
    fig = neighbourhoods.plot_neighbourhoods([panel, panel, panel, "GATV2: no layer 1"], colours, title="t", columns=3)
    panels = [ax for ax in fig.axes if ax.get_position().width > 0.1]  # not the colour bar
    grid = {(round(ax.get_position().x0, 3), round(ax.get_position().y0, 3)) for ax in panels}
    assert len({x for x, _ in grid}) == 3 and len({y for _, y in grid}) == 2  # 3 columns, 2 rows
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "GATV2: no layer 1" in texts


def test_layers_figure_reads_attention_lift_far_below_the_baseline():
    """A lift of 3e-5 next to GCN's 5.5e-3 (Cora) must not sit on zero: on the symmetric-log axis
    its mark stands well clear of 0 and below the baseline, every mean and the baseline are written,
    and a negative lift keeps its sign."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from gnnviz.viz.draw import compare as cp

    lift = [cp.LayerSeries("GAT", 0, [[3e-5], [4e-5, 5e-5]]), cp.LayerSeries("GATV2", 1, [[-2e-3], [1e-2]])]
    kl = [cp.LayerSeries("GAT", 0, [[1.2e-5], [7e-4, 8e-4]]), cp.LayerSeries("GATV2", 1, [[0.1], [0.3]])]
    fig = cp.plot_layer_stats(lift, kl, baseline_lift=5.5e-3, baseline_kl=0.046, max_lift=0.117, title="t")
    FigureCanvasAgg(fig).draw()
    ax_lift, ax_kl = fig.axes[:2]
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    for value in ("3e-5", "4.5e-5", "−0.002", "0.01", "1.2e-5", "0.00075", "0.1", "0.3", "0.0055", "0.046"):
        assert value in texts.split() or f"fixed: {value}" in texts, value
    y = lambda ax, v: ax.transData.transform((0, v))[1]  # noqa: E731 - pixels
    zero, gat, base = y(ax_lift, 0.0), y(ax_lift, 3e-5), y(ax_lift, 5.5e-3)
    assert zero < gat < base and gat - zero > 0.3 * (base - zero)  # linear: 0.5%
    assert y(ax_lift, -2e-3) < zero
    assert ax_kl.get_yscale() == "log" and ax_kl.get_ylim()[0] < 1.2e-5 and ax_kl.get_ylim()[1] > 0.3
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert "10⁻³" in labels and not any("$" in t for t in labels)  # plain text, no mathtext


def _whiskers(ax):
    from matplotlib.collections import LineCollection

    vertical = lambda seg: seg[0][0] == seg[-1][0] and seg[0][1] != seg[-1][1]  # noqa: E731 - not the mean's tick
    return [
        c
        for c in ax.collections
        if isinstance(c, LineCollection) and len(c.get_segments()) == 1 and vertical(c.get_segments()[0])
    ]


def test_layers_figure_whiskers_both_panels_and_writes_values_clear_of_the_points():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from gnnviz.viz.draw import compare as cp

    lift = [cp.LayerSeries("GAT", 0, [[1e-5, 3e-5, 2e-5]])]
    kl = [cp.LayerSeries("GAT", 0, [[1e-5, 3e-5, 2e-5]])]
    fig = cp.plot_layer_stats(lift, kl, baseline_lift=None, baseline_kl=None, max_lift=None, title="t")
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    for ax in fig.axes[:2]:
        (whisker,) = _whiskers(ax)  # +- std on the KL panel too, not only on the lift panel
        (lo, hi) = sorted(whisker.get_segments()[0][:, 1])
        assert lo == pytest.approx(2e-5 - 1e-5) and hi == pytest.approx(2e-5 + 1e-5)
        (label,) = [t for t in ax.texts if t.get_text() == "2e-5"]
        points = [c for c in ax.collections if c.get_offsets().shape[0] == 3][0]
        box = label.get_window_extent(renderer)
        for x, y in ax.transData.transform(points.get_offsets()):
            assert not (box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1)  # no value written on a point


def test_test_metric_of_single_runs_has_an_interval_and_a_fair_axis():
    """n = 1 per group: no spread over seeds, so accuracy gets the test set's binomial interval, and
    the axis spans at least MIN_METRIC_SPAN: 1.7 points apart must not fill the figure."""
    from gnnviz.viz.draw import compare as cp

    fig = cp.plot_test_metric(["GAT", "GCN"], [[0.835], [0.818]], metric="accuracy", seeds=[[0], [0]], title="t", test_nodes=1000)
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    assert hi - lo >= cp.MIN_METRIC_SPAN
    half = 1.96 * np.sqrt(0.835 * 0.165 / 1000)
    ends = sorted(y for w in _whiskers(ax) for y in w.get_segments()[0][:, 1])
    assert ends[-1] == pytest.approx(0.835 + half) and lo < ends[0] and hi > ends[-1]
    assert any("95% interval from the 1000 test nodes" in t.get_text() for t in ax.get_legend().get_texts())
    without = cp.plot_test_metric(["GAT", "GCN"], [[0.835], [0.818]], metric="micro-F1", seeds=[[0], [0]], title="t")
    assert not _whiskers(without.axes[0])  # no interval claimed where the binomial one does not apply
