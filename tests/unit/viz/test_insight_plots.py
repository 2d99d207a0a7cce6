"""Insight figures: what each encodes, checked on its artists; pure and torch-free."""

import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from gnnviz.viz.draw import insight as ip


def bars(ax):
    """The bars drawn by ``ax.bar``/``barh`` (not the lift axis's grey band, also a Rectangle)."""
    return [p for c in ax.containers for p in c.patches if isinstance(p, Rectangle)]


def texts(ax):
    return [t.get_text() for t in ax.texts]


def hline_at(ax, y):
    return any(isinstance(ln, Line2D) and np.allclose(ln.get_ydata(), y) and ln.get_linestyle() != "None" for ln in ax.lines)


def test_lift_bars_are_the_values_per_layer_and_head_with_the_gcn_baseline():
    fig = ip.plot_lift([[0.01, -0.02, None], [0.03]], baseline=0.005, max_lift=0.12, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert [b.get_height() for b in bars(ax)] == pytest.approx([0.01, -0.02, 0.03])  # None is not drawn
    assert [b.get_x() + b.get_width() / 2 for b in bars(ax)] == pytest.approx([0, 1, 4])  # a gap between layers
    assert hline_at(ax, 0.005)
    assert "largest possible: 0.12" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts(ax) == ["+0.01", "−0.02", "+0.03", "layer 0", "layer 1"]  # each bar's value, then the layers
    assert ax.get_title() == "t"


def test_lift_uses_the_one_symmetric_log_axis_so_small_lifts_stay_readable():
    # Cora: attention lifts ~1e-5 where GCN lifts 5.5e-3; on a linear axis the bars sit on zero.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ip.plot_lift([[1e-5, -2e-5], [4e-5]], baseline=5.5e-3, title="t")
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    assert ax.get_yscale() == "symlog"
    y = lambda v: ax.transData.transform((0, v))[1]  # noqa: E731 - pixels
    assert y(1e-5) - y(0) > 0.1 * (y(5.5e-3) - y(0))  # linear: 0.2%
    by_degree = ip.plot_lift_by_degree([(1, 1), (2, 3)], {"layer 0": [1e-5, 2e-5], "GCN": [5e-3, 6e-3]}, [3, 4], title="t")
    assert by_degree.axes[0].get_yscale() == "symlog"


def test_panels_draw_on_a_given_axes():
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert ip.plot_lift([[0.1]], title="a", ax=left) is fig
    assert ip.plot_ranking_agreement([[0.9]], pairs=[10], title="b", ax=right) is fig
    assert len(fig.axes) == 2 and len(bars(left)) == 1 and len(bars(right)) == 1


def test_ranking_agreement_bars_and_the_static_line():
    fig = ip.plot_ranking_agreement([[1.0, 0.8], [0.95]], pairs=[120, 80], title="t")
    ax = fig.axes[0]
    assert [b.get_height() for b in bars(ax)] == pytest.approx([1.0, 0.8, 0.95])
    assert hline_at(ax, 1.0) and hline_at(ax, 0.5)
    assert texts(ax) == ["1", "0.8", "0.95", "layer 0 (120 pairs)", "layer 1 (80 pairs)"]  # values, then layers
    assert ax.get_ylim()[0] == 0  # bars start at 0: a bar's length is its value
    low = ip.plot_ranking_agreement([[0.2]], pairs=[5], title="t").axes[0]
    assert low.get_ylim()[0] == 0


def test_lift_by_degree_lines_follow_the_bins():
    bins = [(1, 1), (2, 3), (4, 7)]
    fig = ip.plot_lift_by_degree(bins, {"layer 0": [0.0, 0.01, None], "GCN": [0.0, 0.02, 0.03]}, [5, 7, 0], title="t")
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.lines}
    np.testing.assert_allclose(lines["layer 0"].get_ydata(), [0.0, 0.01, np.nan])
    np.testing.assert_allclose(lines["GCN"].get_ydata(), [0.0, 0.02, 0.03])
    assert lines["GCN"].get_linestyle() == "--"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2-3", "4-7"]
    assert texts(ax) == ["n=5", "n=7", "n=0"]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1  # beside the points, never over one


def test_ablation_bars_are_the_metric_change_with_the_changed_counts():
    fig = ip.plot_ablation(
        ["uniform weights in layer 0", "uniform weights in all layers", "GCN's coefficients in all layers"],
        [0.002, -0.01, None],
        [3, 12, 40],
        nodes=1000,
        metric="accuracy",
        title="t",
    )
    ax = fig.axes[0]
    widths = [b.get_width() for b in bars(ax)]
    assert widths == pytest.approx([0.002, -0.01])
    neg = [b for b in bars(ax) if b.get_width() < 0][0]
    pos = [b for b in bars(ax) if b.get_width() > 0][0]
    assert neg.get_facecolor() != pos.get_facecolor()
    assert texts(ax) == [
        "+0.002; 3/1000 predictions change",
        "−0.01; 12/1000 predictions change",
        "metric undefined; 40/1000 predictions change",
    ]
    at = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert at["uniform weights in layer 0"] > at["uniform weights in all layers"] > at["GCN's coefficients in all layers"]


def test_switched_off_rows_are_named_for_a_reader():
    from gnnviz.viz.figures.run import switch_name

    assert switch_name("uniform:0") == "uniform weights in layer 0"
    assert switch_name("gcn:all") == "GCN's coefficients in all layers"


def test_insight_modules_import_no_torch_and_no_pyplot():
    code = "import sys, gnnviz.analysis.insight, gnnviz.viz.draw.insight; print('torch' in sys.modules, 'matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_class_flow_shows_uniform_shares_first_then_each_layers_change_from_them():
    from gnnviz.viz.draw.insight import plot_class_flow

    uniform = np.array([[0.8, 0.2], [0.3, 0.7]])
    layer = np.array([[0.9, 0.1], [0.3, 0.7]])
    fig = plot_class_flow([("layer 0, mean of 8 heads", layer)], uniform, ["class 0: a", "class 1: b"], title="t")
    maps = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in maps][1] == "layer 0, mean of 8 heads:\nchange from uniform" and len(maps) == 2
    np.testing.assert_allclose(maps[1].images[0].get_array(), layer - uniform)  # colour = the change
    assert {t.get_text() for t in maps[1].texts} == {"+0.1", "−0.1", "0"}  # only the change: no share beside it
    assert {t.get_text() for t in maps[0].texts} == {"0.80", "0.20", "0.30", "0.70"}
    assert [t.get_text() for t in maps[0].get_yticklabels()] == ["class 0: a", "class 1: b"]


def test_class_flow_changes_keep_significant_figures_and_never_read_as_rounding():
    # Cora: attention's changes from uniform are ~1e-4. Two decimals printed "+0.00" everywhere,
    # and a share written beside its uniform share read 0.92 vs 0.91 for a change of 7e-5.
    uniform = np.array([[0.915, 0.085], [0.3, 0.7]])
    layer = uniform + np.array([[7.4e-5, -7.4e-5], [-6.9e-5, 6.9e-5]])
    fig = ip.plot_class_flow([("layer 0", layer)], uniform, [], title="t")
    maps = [ax for ax in fig.axes if ax.images]
    assert {t.get_text() for t in maps[1].texts} == {"+7.4e-5", "−7.4e-5", "−6.9e-5", "+6.9e-5"}
    assert not any(t.get_text().startswith(("0.9", "0.08")) for t in maps[1].texts)


def test_class_flow_panels_sit_two_to_a_row():
    uniform = np.full((3, 3), 1 / 3)
    fig = ip.plot_class_flow([(f"layer {i}", uniform) for i in range(3)], uniform, [], title="t")
    maps = [ax for ax in fig.axes if ax.images]
    lefts = sorted({round(ax.get_position().x0, 3) for ax in maps})
    rows = sorted({round(ax.get_position().y0, 3) for ax in maps})
    assert len(maps) == 4 and len(lefts) == 2 and len(rows) == 2
