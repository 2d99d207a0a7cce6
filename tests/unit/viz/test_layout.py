"""Whole-graph coordinates: seeded, deterministic, cached, components packed apart."""

import numpy as np
import pytest
from torch_geometric.datasets import KarateClub

from gnnviz.viz import cache
from gnnviz.viz.coords import layout


def karate_edges():
    g = KarateClub()[0]
    return g.edge_index.numpy(), g.num_nodes


def two_cliques_and_isolated():
    """A 12-node ring with chords, a triangle, an edge and two isolated nodes: 5 components."""
    ring = [(i, (i + 1) % 12) for i in range(12)] + [(0, 6), (3, 9)]
    edges = ring + [(12, 13), (13, 14), (14, 12), (15, 16)]
    ei = np.array(edges).T
    return np.concatenate([ei, ei[::-1]], axis=1), 19


def test_same_seed_same_coordinates_other_seed_differs():
    ei, n = karate_edges()
    a = layout.compute_layout(ei, n, seed=0)
    b = layout.compute_layout(ei, n, seed=0)
    c = layout.compute_layout(ei, n, seed=1)
    np.testing.assert_array_equal(a.coords, b.coords)
    assert not np.allclose(a.coords, c.coords)
    assert a.coords.shape == (n, 2) and np.isfinite(a.coords).all()
    assert a.method == "Kamada-Kawai" and a.components == 1


def test_second_call_reads_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path))
    ei, n = karate_edges()
    first = layout.graph_layout(ei, n, seed=0)
    assert not first.cached
    files = list((tmp_path / "layouts").glob("*.npz"))
    assert len(files) == 1 and files[0].stem == layout.graph_key(ei, n, 0)
    second = layout.graph_layout(ei, n, seed=0)
    assert second.cached
    np.testing.assert_array_equal(first.coords, second.coords)
    assert second.method == first.method


def test_corrupt_or_stale_cache_is_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path))
    ei, n = karate_edges()
    path = cache.entry("layouts", layout.graph_key(ei, n, 0))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz")
    lay = layout.graph_layout(ei, n, seed=0)
    assert not lay.cached and lay.coords.shape == (n, 2)
    cache.write(path, coords=np.zeros((3, 2)), method=np.str_("x"), components=np.int64(1))  # wrong shape
    assert not layout.graph_layout(ei, n, seed=0).cached


def test_cache_key_depends_on_edges_nodes_and_seed():
    ei, n = karate_edges()
    keys = {
        layout.graph_key(ei, n, 0),
        layout.graph_key(ei, n + 1, 0),
        layout.graph_key(ei, n, 1),
        layout.graph_key(ei[:, 2:], n, 0),
    }
    assert len(keys) == 4


def _boxes(coords, groups):
    return [(coords[g].min(0), coords[g].max(0)) for g in groups]


def test_components_are_laid_out_apart_and_the_largest_fills_the_frame():
    ei, n = two_cliques_and_isolated()
    lay = layout.compute_layout(ei, n, seed=0)
    assert lay.components == 5 and "per component (5 packed)" in lay.method
    groups = [list(range(12)), [12, 13, 14], [15, 16], [17], [18]]
    boxes = _boxes(lay.coords, groups)
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            (alo, ahi), (blo, bhi) = boxes[i], boxes[j]
            overlap = (np.minimum(ahi, bhi) - np.maximum(alo, blo) > 1e-9).all()
            assert not overlap, (groups[i], groups[j])
    frame = np.ptp(lay.coords, axis=0)
    giant = np.ptp(lay.coords[groups[0]], axis=0)
    assert giant.prod() / frame.prod() > 0.5


def test_cora_sized_components_do_not_ring_the_giant_one():
    # A 300-node connected graph plus 40 pairs: the pairs must sit outside the giant's box.
    rng = np.random.default_rng(0)
    tree = [(i, int(rng.integers(0, i))) for i in range(1, 300)]
    extra = [tuple(rng.integers(0, 300, 2)) for _ in range(200)]
    pairs = [(300 + 2 * k, 301 + 2 * k) for k in range(40)]
    ei = np.array([e for e in tree + extra + pairs if e[0] != e[1]]).T
    lay = layout.compute_layout(ei, 380, seed=0)
    lo, hi = lay.coords[:300].min(0), lay.coords[:300].max(0)
    inside = ((lay.coords[300:] > lo) & (lay.coords[300:] < hi)).all(1)
    assert not inside.any()
    assert np.ptp(lay.coords[:300], axis=0).prod() / np.ptp(lay.coords, axis=0).prod() > 0.6


def test_big_components_use_a_fast_layout_and_say_so(monkeypatch):
    monkeypatch.setattr(layout, "BIG_COMPONENT", 20)
    ei, n = karate_edges()
    lay = layout.compute_layout(ei, n, seed=0)
    assert "Fruchterman-Reingold" in lay.method
    np.testing.assert_array_equal(lay.coords, layout.compute_layout(ei, n, seed=0).coords)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_graphs(n):
    ei = np.array([[i for i in range(n - 1)], [i + 1 for i in range(n - 1)]], dtype=np.int64).reshape(2, -1)
    lay = layout.compute_layout(ei, n, seed=0)
    assert lay.coords.shape == (n, 2) and np.isfinite(lay.coords).all()


def test_embedding_placement_puts_each_node_beside_its_nearest_sampled_node():
    # Three tight clusters in 5-D embedding space; one sampled node per cluster at a known spot.
    rng = np.random.default_rng(0)
    centres = np.eye(5)[:3] * 10
    cluster = np.repeat(np.arange(3), 40)
    x = centres[cluster] + rng.normal(scale=0.1, size=(120, 5))
    index = np.array([0, 40, 80])  # one per cluster
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    coords = layout.place_by_embedding(x, index, xy, seed=0)
    np.testing.assert_array_equal(coords[index], xy)  # sampled nodes keep their t-SNE spot
    # Everyone else sits within a few jitter widths of their cluster's sampled node.
    spacing = 100.0
    dist = np.linalg.norm(coords - xy[cluster], axis=1)
    assert dist.max() < 5 * layout.PLACE_JITTER * spacing
    assert np.unique(coords[cluster == 0], axis=0).shape[0] == 40  # jittered: a patch, not one dot
    np.testing.assert_array_equal(coords, layout.place_by_embedding(x, index, xy, seed=0))


def test_embedding_layout_is_cached_and_names_its_method(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 4)).astype(np.float32)
    index, xy = np.arange(0, 50, 5), rng.normal(size=(10, 2))
    first = layout.embedding_layout(x, index, xy, what="hidden layer 0")
    assert first.method == (
        "t-SNE of hidden layer 0 embeddings of 10 sampled nodes; the other 40 beside their nearest sampled node in embedding space"
    )
    second = layout.embedding_layout(x, index, xy, what="hidden layer 0")
    assert second.cached and not first.cached
    np.testing.assert_array_equal(first.coords, second.coords)
    assert not layout.embedding_layout(x + 1, index, xy, what="hidden layer 0").cached  # other embeddings, other entry
