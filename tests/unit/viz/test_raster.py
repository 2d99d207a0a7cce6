"""The big-graph rasteriser: known pixels for known edges and points, ink conserved, shading."""

import numpy as np
import pytest

from gnnviz.viz.draw import raster

EXTENT = (0.0, 16.0, 0.0, 16.0)  # one data unit per pixel on a 16 x 16 image


def test_horizontal_edge_lights_exactly_the_pixels_it_crosses():
    coords = np.array([[2.5, 5.5], [10.5, 5.5]])
    img = raster.edge_density(coords, np.array([0]), np.array([1]), EXTENT, (16, 16))
    row = 16 - 1 - 5  # y = 5.5 is pixel row 5 from the bottom
    lit = np.argwhere(img > 0)
    np.testing.assert_array_equal(lit[:, 0], row)
    np.testing.assert_array_equal(lit[:, 1], np.arange(2, 11))
    assert img.sum() == pytest.approx(8.0)  # the edge's length in pixels


def test_diagonal_edge_stays_on_the_diagonal_and_is_connected():
    coords = np.array([[0.5, 0.5], [7.5, 7.5]])
    img = raster.edge_density(coords, np.array([0]), np.array([1]), (0, 8, 0, 8), (8, 8))
    lit = {tuple(int(i) for i in p) for p in np.argwhere(img > 0)}
    diagonal = {(7 - i, i) for i in range(8)}
    assert diagonal <= lit
    # A step landing on a pixel corner may light a neighbour of the diagonal, never further.
    assert all(abs((7 - r) - c) <= 1 for r, c in lit)
    assert sum(img[r, c] for r, c in lit - diagonal) < 1.5
    assert img.sum() == pytest.approx(7 * np.sqrt(2))


def test_a_pixel_crossed_by_k_edges_holds_about_k():
    # Three vertical edges through column 4 and one horizontal edge crossing them in row 8.
    coords = np.array([[4.5, 0.5], [4.5, 15.5], [0.5, 7.5], [15.5, 7.5]])
    src, dst = np.array([0, 0, 0, 2]), np.array([1, 1, 1, 3])
    img = raster.edge_density(coords, src, dst, EXTENT, (16, 16))
    assert img[8, 4] == pytest.approx(4.0, rel=0.1)
    assert img[3, 4] == pytest.approx(3.0, rel=0.1)
    assert img[8, 10] == pytest.approx(1.0, rel=0.1)


def test_past_the_budget_every_edge_keeps_its_ink():
    rng = np.random.default_rng(0)
    coords = rng.uniform(0, 16, size=(50, 2))
    src, dst = rng.integers(50, size=200), rng.integers(50, size=200)
    full = raster.edge_density(coords, src, dst, EXTENT, (16, 16))
    thin = raster.edge_density(coords, src, dst, EXTENT, (16, 16), budget=500)
    assert thin.sum() == pytest.approx(full.sum(), rel=1e-6)
    assert (thin > 0).sum() < (full > 0).sum()  # fewer steps: long edges become dotted


def test_chunks_give_the_same_image(monkeypatch):
    rng = np.random.default_rng(1)
    coords = rng.uniform(0, 16, size=(30, 2))
    src, dst = rng.integers(30, size=100), rng.integers(30, size=100)
    whole = raster.edge_density(coords, src, dst, EXTENT, (16, 16))
    monkeypatch.setattr(raster, "CHUNK", 7)
    np.testing.assert_allclose(raster.edge_density(coords, src, dst, EXTENT, (16, 16)), whole)


def test_point_sums_put_each_node_in_its_pixel():
    coords = np.array([[0.5, 0.5], [0.7, 0.2], [15.5, 15.5], [15.9, 0.1]])
    counts = raster.point_sums(coords, EXTENT, (16, 16))
    assert counts.sum() == 4
    assert counts[15, 0] == 2 and counts[0, 15] == 1 and counts[15, 15] == 1  # row 15 = bottom
    wrong = raster.point_sums(coords, EXTENT, (16, 16), np.array([1.0, 0, 0, 1]))
    assert wrong[15, 0] == 1 and wrong[15, 15] == 1 and wrong.sum() == 2


def test_mean_colour_is_the_count_weighted_mix_and_empty_is_transparent():
    coords = np.array([[0.5, 0.5]] * 4 + [[1.5, 0.5]] * 5)
    red, blue = [1.0, 0, 0, 1], [0, 0, 1.0, 1]
    rgba = raster.mean_colour(coords, np.array([red, red, red, blue] + [blue] * 5), (0, 3, 0, 1), (1, 3))
    np.testing.assert_allclose(rgba[0, 0, :3], [0.75, 0, 0.25])
    np.testing.assert_allclose(rgba[0, 1, :3], [0, 0, 1])
    assert rgba[0, 2, 3] == 0 and rgba[0, 0, 3] > 0 and rgba[0, 1, 3] > rgba[0, 0, 3]


def test_equalised_orders_by_rank_and_keeps_zero():
    v = np.array([[0.0, 1.0, 1000.0, 10.0]])
    e = raster.equalised(v)
    assert e[0, 0] == 0 and e[0, 2] == 1.0
    assert 0 <= e[0, 1] < e[0, 3] < e[0, 2]
