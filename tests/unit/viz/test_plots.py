"""Pure drawing functions: what the figures encode, checked on their artists."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import PathPatch, StepPatch  # noqa: E402

from gnnviz.analysis import attention as att  # noqa: E402
from gnnviz.viz.draw import curves, embeddings, entropy, graph, neighbourhoods, style  # noqa: E402


def star(weights, self_weight=0.1):
    """Node 0 receiving from nodes 1..k with the given weights, plus its self-loop."""
    k = len(weights)
    ei = np.array([list(range(1, k + 1)) + [0], [0] * (k + 1)])
    w = np.append(np.asarray(weights, dtype=float), self_weight)
    return att.neighbourhood(ei, w, 0)


def colours(n, classes=3):
    return style.node_colours(np.arange(n) % classes, categorical=True)


def edges_of(ax):
    (lc,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    return lc


def test_line_widths_grow_with_attention():
    weights = np.array([0.05, 0.4, 0.1, 0.25, 0.1])
    hood = star(weights)
    fig = Figure()
    ax = fig.add_subplot()
    neighbourhoods.draw_neighbourhood(ax, neighbourhoods.NeighbourhoodPanel(hood, "t"), colours(6))
    lc = edges_of(ax)
    widths = np.asarray(lc.get_linewidths())
    # Segments are drawn lightest first; pair each segment with its weight by its outer end.
    segs = lc.get_segments()
    assert len(segs) == 5 and len(widths) == 5
    drawn_weights = np.sort(weights)
    assert np.all(np.diff(widths) >= 0) and widths[-1] > widths[0]
    np.testing.assert_allclose(widths, neighbourhoods.edge_width(drawn_weights))


def test_widths_are_absolute_not_rescaled_to_the_neighbourhood_max():
    # Uniform attention over 100 neighbours must look thin, not like 100 maximal edges.
    uniform = star(np.full(100, 1 / 101), self_weight=1 / 101)
    peaked = star([0.9, 0.05], self_weight=0.05)
    w_uniform = [edges_of(_draw(uniform)).get_linewidths()]
    w_peaked = edges_of(_draw(peaked)).get_linewidths()
    assert max(w_uniform[0]) < 0.2 * max(w_peaked)
    np.testing.assert_allclose(neighbourhoods.edge_width(1 / 101), w_uniform[0][0])


def _draw(hood):
    fig = Figure()
    ax = fig.add_subplot()
    neighbourhoods.draw_neighbourhood(ax, neighbourhoods.NeighbourhoodPanel(hood, "t"), colours(hood.sources.max() + 1))
    return ax


def test_self_loop_is_drawn_and_labelled():
    ax = _draw(star([0.3, 0.3], self_weight=0.4))
    loops = [p for p in ax.patches if isinstance(p, PathPatch)]
    assert len(loops) == 1 and loops[0].get_linewidth() == pytest.approx(neighbourhoods.edge_width(0.4))
    assert any("self-loop 0.4" in t.get_text() for t in ax.texts)


def test_neighbours_keep_their_place_across_panels():
    a = _draw(star([0.7, 0.1, 0.1]))
    b = _draw(star([0.1, 0.1, 0.7]))
    pa = [c for c in a.collections if isinstance(c, PathCollection)][0].get_offsets()
    pb = [c for c in b.collections if isinstance(c, PathCollection)][0].get_offsets()
    np.testing.assert_allclose(pa, pb)


def test_caption_states_sums_and_never_claims_gcn_weights_sum_to_one():
    att_text = "\n".join(t.get_text() for t in _draw(star([0.45, 0.45], 0.1)).texts)
    assert "sum = 1.000" in att_text and "uniform 1/3" in att_text
    fig = Figure()
    ax = fig.add_subplot()
    gcn = star([0.3, 0.2], self_weight=0.25)
    neighbourhoods.draw_neighbourhood(
        ax, neighbourhoods.NeighbourhoodPanel(gcn, "GCN normalisation, fixed, not learned", normalised=False), colours(3)
    )
    text = "\n".join(t.get_text() for t in ax.texts)
    assert "raw coefficients: sum 0.75 (need not be 1)" in text and "drawn as shares (each / 0.75)" in text
    assert "sum = 1" not in text
    assert ax.get_title() == "GCN normalisation, fixed, not learned"


def test_gcn_coefficients_are_drawn_on_attentions_scale_as_shares_of_their_sum():
    # At a hub GCN's coefficients sum to several (5.7 at Cora's node 1358): drawn raw on
    # attention's width scale they would look 5-10x heavier than any attention.
    raw = star([1.2, 0.8, 2.0], self_weight=1.0)  # sums to 5
    fig = Figure()
    ax = fig.add_subplot()
    neighbourhoods.draw_neighbourhood(ax, neighbourhoods.NeighbourhoodPanel(raw, "gcn", normalised=False), colours(4))
    widths = np.sort(np.asarray(edges_of(ax).get_linewidths()))
    np.testing.assert_allclose(widths, neighbourhoods.edge_width(np.sort([1.2, 0.8, 2.0]) / 5.0))
    (loop,) = [p for p in ax.patches if isinstance(p, PathPatch)]
    assert loop.get_linewidth() == pytest.approx(neighbourhoods.edge_width(0.2))
    assert any("self-loop 0.2" in t.get_text() for t in ax.texts)


def test_hub_with_many_neighbours_lists_only_the_heaviest():
    w = np.full(168, 0.9 / 168)
    w[7] = 0.05
    ax = _draw(star(w / w.sum() * 0.99, self_weight=0.01))
    text = "\n".join(t.get_text() for t in ax.texts)
    assert "heaviest (outlined): 8: " in text  # node 8 sits at position 7
    assert not [t for t in ax.texts if t.get_text().isdigit()]  # no ring of 168 labels
    outlined = [c for c in ax.collections if isinstance(c, PathCollection)][-1]
    assert len(outlined.get_offsets()) == neighbourhoods.LABEL_TOP


def test_entropy_histograms_share_bin_edges_and_kl_is_on_a_log_axis():
    rng = np.random.default_rng(0)
    uniform = rng.uniform(0, 3, 50)
    panel = entropy.EntropyPanel(uniform * rng.uniform(0.5, 1, 50), uniform, "layer 0, head 0")
    bins = att.entropy_bins(panel.uniform, panel.entropy)
    kl_bins = att.kl_bins(panel.divergence)
    fig = entropy.plot_entropy_histogram(panel, bins, kl_bins, title="t")
    steps = [p for p in fig.axes[0].patches if isinstance(p, StepPatch)]
    assert len(steps) == 2
    edges = [s.get_data().edges for s in steps]
    np.testing.assert_array_equal(edges[0], edges[1])
    np.testing.assert_array_equal(edges[0], bins)
    assert steps[0].get_data().values.sum() == 50 and steps[1].get_data().values.sum() == 50
    tallest = max(s.get_data().values.max() for s in steps)
    assert fig.axes[0].get_ylim()[1] >= 1.25 * tallest  # room for the key above the bars
    (kl,) = [p for p in fig.axes[1].patches if isinstance(p, StepPatch)]
    assert fig.axes[1].get_xscale() == "log"
    np.testing.assert_array_equal(kl.get_data().edges, kl_bins)
    assert kl.get_data().values.sum() == (panel.divergence >= kl_bins[0]).sum()


def test_kl_panel_draws_the_nodes_below_its_log_axis_as_a_bar_of_their_own():
    panel = entropy.EntropyPanel(np.array([0.0, np.log(3) - 1e-9, 0.1]), np.array([0.0, np.log(3), np.log(3)]), "x")
    fig = Figure()
    ax = fig.add_subplot()
    bins = att.kl_bins(panel.divergence)
    entropy.draw_kl_histogram(ax, panel, bins)
    (bar,) = [p for p in ax.patches if not isinstance(p, StepPatch)]
    assert bar.get_height() == 2 and bar.get_hatch()  # the two nodes below the first edge
    assert bar.get_x() + bar.get_width() < bins[0] and ax.get_xlim()[0] < bar.get_x()  # left of the axis, in view
    fig.canvas.draw()
    assert f"<{style.power_label(bins[0])}" in [t.get_text() for t in ax.get_xticklabels()]


def test_the_kl_key_names_the_hatched_bar_only_where_there_is_one():
    near = entropy.EntropyPanel(np.array([0.0, np.log(3) - 1e-9, 0.1]), np.array([0.0, np.log(3), np.log(3)]), "x")
    far = entropy.EntropyPanel(np.array([0.5, 0.1, 0.2]), np.array([np.log(3), np.log(3), np.log(2)]), "x")
    keys = []
    for panel in (near, far):
        fig = entropy.plot_entropy_histogram(
            panel, att.entropy_bins(panel.uniform, panel.entropy), att.kl_bins(panel.divergence), title="t"
        )
        keys.append(fig.axes[1].get_xlabel())
        grid = entropy.plot_entropy_grid([[panel]], att.kl_bins(panel.divergence), title="t")
        keys.append(" ".join(t.get_text() for t in grid.texts))
    assert ["hatched grey" in k for k in keys] == [True, True, False, False]


def test_entropy_grid_has_a_panel_per_layer_and_head():
    p = entropy.EntropyPanel(np.ones(5) * 0.5, np.ones(5), "x")
    kl_bins = att.kl_bins(p.divergence)
    fig = entropy.plot_entropy_grid([[p, p, p], [p]], kl_bins, title="t")
    drawn = [ax for ax in fig.axes if ax.patches]
    assert len(drawn) == 4
    for ax in drawn:
        edges = {tuple(s.get_data().edges) for s in ax.patches}
        assert edges == {tuple(kl_bins)}
        assert ax.get_xscale() == "log"


def test_class_names_reach_the_legend():
    c = style.node_colours(np.array([0, 1, 2]), categorical=True, names=["Theory", "ML", "DB"])
    assert [name for name, _ in c.legend] == ["0: Theory", "1: ML", "2: DB"]


def test_ties_are_stated_where_one_of_equals_is_picked():
    degree = np.array([3, 5, 5, 1])
    fig = graph.plot_degree(degree, title="t")
    assert any("1 of 2 with degree 5" in t.get_text() for t in fig.axes[0].texts)
    coords = np.random.default_rng(0).normal(size=(4, 2))
    fig = graph.plot_graph_layout(
        coords, np.array([[0, 1], [1, 0]]), colours(4), degree, np.zeros(4, bool), title="t", node_ids=True
    )
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("1 of 2 with degree 5" in t for t in texts)
    assert {"0", "1", "2", "3"} <= set(texts)  # node ids on a small graph
    # The sixth heaviest of 40 equal weights: the caption says others tie with it.
    ax = _draw(star(np.full(40, 0.02), self_weight=0.2))
    assert any("more with weight 0.02 not outlined" in t.get_text() for t in ax.texts)


def test_graph_layout_is_one_line_collection_one_scatter_and_rings():
    n = 50
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(n, 2))
    ei = np.array([[i, (i + 1) % n] for i in range(n)]).T
    ei = np.concatenate([ei, ei[::-1]], 1)
    wrong = np.zeros(n, bool)
    wrong[:5] = True
    fig = graph.plot_graph_layout(coords, ei, colours(n), np.full(n, 2), wrong, title="layout: Kamada-Kawai")
    ax = fig.axes[0]
    assert len([c for c in ax.collections if isinstance(c, LineCollection)]) == 1
    nodes, rings, hub = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(nodes.get_offsets()) == n and len(rings.get_offsets()) == 5  # the misclassified
    assert len(hub.get_offsets()) == 1
    # The busiest node's mark is not the misclassified ring, and the legend names it.
    assert hub.get_paths()[0].vertices.shape != rings.get_paths()[0].vertices.shape
    markers = {h.get_label(): h.get_marker() for h in ax.get_legend().legend_handles}
    assert markers["busiest node (most edges)"] == graph.HUB_MARKER != markers[next(k for k in markers if "misclassified" in k)]
    assert len(edges_of(ax).get_segments()) == n  # each undirected edge once
    assert "Kamada-Kawai" in ax.get_title()
    assert any("misclassified (5)" in t.get_text() for t in ax.get_legend().get_texts())


def test_big_graphs_are_drawn_as_images_with_a_misclassified_share_panel(monkeypatch):
    n = 60
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(n, 2))
    ei = np.array([[i, (i + 1) % n] for i in range(n)]).T
    ei = np.concatenate([ei, ei[::-1]], 1)
    wrong = np.zeros(n, bool)
    wrong[:6] = True
    monkeypatch.setattr(graph, "RASTER_EDGES", 10)
    monkeypatch.setattr(graph, "RASTER_NODES", n + 1)
    fig = graph.plot_graph_layout(coords, ei, colours(n), np.full(n, 2), wrong, title="t")
    ax = fig.axes[0]
    assert not [c for c in ax.collections if isinstance(c, LineCollection)]
    (edges,) = ax.images  # edges as one image; nodes still a scatter with rings
    assert edges.get_array().shape[2] == 4 and edges.get_array()[..., 3].max() > 0
    assert len([c for c in ax.collections if isinstance(c, PathCollection)]) == 3
    monkeypatch.setattr(graph, "RASTER_NODES", 10)
    fig = graph.plot_graph_layout(coords, ei, colours(n), np.full(n, 2), wrong, title="t")
    ax, ax_wrong = fig.axes[:2]
    assert len(ax.images) == 2  # edge density, then nodes by class
    nodes = ax.images[1].get_array()
    opaque = nodes[..., 3] > 0
    assert opaque.sum() > 10  # the nodes, in class colours (a pixel of one class is that colour)
    palette = {tuple(np.round(c[:3], 3)) for _, c in colours(n).legend}
    assert palette <= {tuple(np.round(p, 3)) for p in nodes[opaque][:, :3]}
    (share,) = ax_wrong.images
    assert share.get_array().max() > 0 and "misclassified (6 of 60)" in ax_wrong.get_title()


def test_node_sizes_grow_with_degree():
    sizes = graph._node_sizes(np.array([1, 4, 16, 168]), 2708)
    assert np.all(np.diff(sizes) > 0)


def test_projection_marks_splits_and_mistakes():
    n = 40
    split = np.array(["train", "val", "test", "other"] * 10)
    wrong = np.arange(n) % 7 == 0
    panel = embeddings.ProjectionPanel(np.random.default_rng(0).normal(size=(n, 2)), np.arange(n), "hidden")
    fig = embeddings.plot_projections([panel, panel], colours(n), wrong, split, title="t")
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert {"train (10)", "val (10)", "test (10)", "other (10)", f"misclassified ({wrong.sum()})"} <= set(labels)
    # Panels of a sample (the first 20 nodes): the legend says how many rings the sample holds.
    half = embeddings.ProjectionPanel(panel.coords[:20], np.arange(20), "hidden")
    fig = embeddings.plot_projections([half, half], colours(n), wrong, split, title="t", wrong_label="wrong (6 of 40)")
    labels = [t.get_text().replace("\n", " ") for t in fig.axes[1].get_legend().get_texts()]
    assert "wrong (6 of 40); 3 of them among the 20 nodes drawn" in labels


def test_continuous_colours_get_a_colour_bar():
    c = style.node_colours(np.array([0, 3, 5, 10]), categorical=False, label="positive labels")
    assert c.cmap is not None and c.rgba.shape == (4, 4)
    fig = graph.plot_graph_layout(
        np.random.default_rng(0).normal(size=(4, 2)), np.array([[0, 1], [1, 0]]), c, np.ones(4), np.zeros(4, bool), title="t"
    )
    assert any(ax.get_ylabel() == "positive labels" for ax in fig.axes)


def test_curves_mark_the_best_epoch():
    e = np.arange(1, 11, dtype=float)
    fig = curves.plot_curves(
        e, 1 / e, 1 / e + 0.1, 1 - 1 / e, 0.9 - 1 / e, best_epoch=7, metric="accuracy", title="t", min_loss_epoch=10
    )
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert any(s.startswith("best epoch 7") for s in labels)
    assert "lowest val loss: epoch 10" in labels


def test_counts_on_histogram_axes_stay_narrow():
    assert [style._count_text(v) for v in (0, 800, 9999, 40000, 120000, 1_200_000)] == ["0", "800", "9999", "40k", "120k", "1.2M"]


def _nesting(text):
    depth = deepest = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        deepest = max(deepest, depth)
    return deepest


def test_degree_title_names_the_run_on_its_own_line_without_nested_parentheses():
    fig = graph.plot_degree(np.array([3, 5, 1]), title="Cora", drawn_for="GAT on Cora (checkpoint epoch 49, val accuracy 0.830)")
    heading = fig._suptitle.get_text()
    assert heading.splitlines()[-1].startswith("drawn for GAT on Cora") and _nesting(heading) == 1


def test_a_lone_panel_is_centred_under_its_heading_with_its_colour_bar_beside_it():
    # gcn_norm/ draws one panel in a figure widened for its legend: it used to sit left of centre.
    panel = neighbourhoods.NeighbourhoodPanel(star([0.2, 0.3, 0.1]), "the same in every layer")
    fig = neighbourhoods.plot_neighbourhoods([panel], colours(4), title="GCN, node 0")
    ring, bar = fig.axes[0].get_position(), fig.axes[-1].get_position()
    assert (ring.x0 + ring.x1) / 2 == pytest.approx(0.5, abs=0.01)
    assert 0 < bar.x0 - ring.x1 < 0.05  # beside the panel, not across a gap
