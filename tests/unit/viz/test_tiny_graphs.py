"""Tiny and odd graphs (one node, no edges, isolated nodes, a lone self-loop, two components):
layout, entropy, t-SNE and a whole visualize neither crash nor write non-JSON numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.support.runs import TINY_GRAPHS, draw, edge_array, handmade_run


@pytest.mark.parametrize("case", sorted(TINY_GRAPHS))
def test_tiny_graphs_do_not_crash_layout_entropy_or_tsne(case):
    from gnnviz.analysis import attention as att
    from gnnviz.viz.coords.embeddings import tsne
    from gnnviz.viz.coords.layout import graph_layout

    n, pairs = TINY_GRAPHS[case]
    ei = edge_array(pairs)
    lay = graph_layout(ei, n, use_cache=False)
    assert lay.coords.shape == (n, 2) and np.isfinite(lay.coords).all()
    looped = att.with_self_loops(ei, n)
    alpha = np.full((looped.shape[1], 2), 1.0) / np.maximum(att.in_degree(looped, n), 1)[looped[1]][:, None]
    h, uniform = att.entropy(looped, alpha, n), att.uniform_entropy(looped, n)
    assert h.shape == (n, 2) and np.allclose(h[:, 0], uniform)
    stats = att.entropy_stats(h[:, 0], uniform).as_dict()
    ratio = stats.pop("mean_normalised_entropy")  # undefined (nan) only when no node has a choice
    assert np.isfinite(ratio) or stats["nodes_in_ratio"] == 0
    assert all(np.isfinite(v) for v in stats.values())
    for x in (np.random.default_rng(0).normal(size=(n, 4)), np.zeros((n, 4))):
        p = tsne(x, use_cache=False)
        assert p.coords.shape == (n, 2) and np.isfinite(p.coords).all()


@pytest.mark.parametrize("case", ["single_node", "isolated_nodes"])
def test_tiny_graph_runs_visualize(tmp_path, case):
    run = handmade_run(tmp_path, *TINY_GRAPHS[case])
    out = draw(run, tmp_path / "viz")
    assert (out / "index.html").is_file() and (out / "layout.png").stat().st_size > 0
    assert json.loads((out / "attention_stats.json").read_text())["layers"]


def test_single_node_stats_are_strict_json(tmp_path):
    out = draw(handmade_run(tmp_path, *TINY_GRAPHS["single_node"]), tmp_path / "viz")

    def refuse(constant: str):
        pytest.fail(f"{constant} in a JSON file")

    for name in ("attention_stats.json", "timings.json"):  # NaN is not JSON: browsers and jq refuse it
        json.loads((out / name).read_text(), parse_constant=refuse)
