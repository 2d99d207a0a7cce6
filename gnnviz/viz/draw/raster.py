"""Big graphs as images: edges and nodes accumulated into pixel grids with numpy. Pure: arrays in,
arrays out; ``graph.py`` shows the images with ``imshow``.

A matplotlib ``LineCollection`` draws each edge as a path: fine for Cora's 5k edges, minutes and
gigabytes for millions. Here an edge from pixel a to pixel b is walked in equal steps, at most one
pixel apart, and each step adds its share of the edge's length to the pixel it lands in, so a
pixel's value is about the length of edge lying in it (a pixel crossed by k edges holds about k).
Past ``SAMPLE_BUDGET`` steps in all, every edge gets proportionally fewer steps, each weighted by
its larger share: the total ink per edge, and so the expected image, stays the same; only
single long edges turn dotted, which no one can follow among millions anyway.

Nodes become counts per pixel (``point_sums``) and the mean colour of each pixel's nodes
(``mean_colour``): with class colours, the count-weighted mix of the classes present.

Pixel convention: an image is [H, W], row 0 at the top (``imshow``'s default origin); a point
(x, y) of the extent (x0, x1, y0, y1) falls in column floor((x - x0) / (x1 - x0) * W) and row
H - 1 - floor((y - y0) / (y1 - y0) * H).
"""

from __future__ import annotations

import numpy as np

SAMPLE_BUDGET = 40_000_000  # steps over all edges: about 2 s and 200 MB of chunked temporaries
CHUNK = 4_000_000  # steps per chunk: bounds the temporaries' memory


def pixel_of(xy: np.ndarray, extent: tuple[float, float, float, float], shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) int arrays of points xy: [M, 2] (see the module docstring); clipped to the image."""
    x0, x1, y0, y1 = extent
    h, w = shape
    col = np.floor((xy[:, 0] - x0) * (w / (x1 - x0))).astype(np.int64)
    row = h - 1 - np.floor((xy[:, 1] - y0) * (h / (y1 - y0))).astype(np.int64)
    return np.clip(row, 0, h - 1), np.clip(col, 0, w - 1)


def edge_density(
    coords: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    extent: tuple[float, float, float, float],
    shape: tuple[int, int],
    *,
    budget: int = SAMPLE_BUDGET,
) -> np.ndarray:
    """[H, W] float64: about the length (in pixels) of edge lying in each pixel.

    coords: [N, 2] node positions in data units; src, dst: [E] node ids (each edge drawn once:
    pass an undirected edge in one direction only); extent: (x0, x1, y0, y1) of the image.
    """
    h, w = shape
    x0, x1, y0, y1 = extent
    # Work in pixel units: x in [0, W), y in [0, H) with y growing downwards.
    px = ((coords[:, 0] - x0) * (w / (x1 - x0))).astype(np.float32)
    py = ((y1 - coords[:, 1]) * (h / (y1 - y0))).astype(np.float32)
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    ax, ay, bx, by = px[src], py[src], px[dst], py[dst]
    length = np.hypot(bx - ax, by - ay).astype(np.float64)
    # One step per pixel of length (both ends included), fewer for all edges alike past the budget.
    steps = np.maximum(np.ceil(length).astype(np.int64) + 1, 2)
    total = int(steps.sum())
    if total > budget:
        steps = np.maximum(2, np.ceil(length * (budget / total)).astype(np.int64))
    # Each step carries length / steps, so an edge's total is its length; a point edge counts 1.
    share = (np.maximum(length, 1.0) / steps).astype(np.float32)
    image = np.zeros(h * w, dtype=np.float64)
    ends = np.cumsum(steps)
    start = 0
    while start < len(steps):
        # Edges [start, stop) hold about CHUNK steps.
        stop = max(start + 1, int(np.searchsorted(ends, (ends[start - 1] if start else 0) + CHUNK, side="right")))
        image += _walk(
            ax[start:stop], ay[start:stop], bx[start:stop], by[start:stop], steps[start:stop], share[start:stop], shape
        )
        start = stop
    return image.reshape(h, w)


def _walk(ax, ay, bx, by, steps: np.ndarray, share: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """[H * W] sums of ``share`` over the steps of these edges (coordinates in pixel units)."""
    h, w = shape
    edge = np.repeat(np.arange(len(steps), dtype=np.int32), steps)
    offsets = np.cumsum(steps) - steps
    k = np.arange(edge.size, dtype=np.int64) - np.repeat(offsets, steps)
    t = (k / np.repeat(steps - 1, steps)).astype(np.float32)
    x = ax[edge] + t * (bx[edge] - ax[edge])
    y = ay[edge] + t * (by[edge] - ay[edge])
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    cell = y[inside].astype(np.int64) * w + x[inside].astype(np.int64)
    return np.bincount(cell, weights=share[edge[inside]], minlength=h * w)


def point_sums(
    coords: np.ndarray, extent: tuple[float, float, float, float], shape: tuple[int, int], weights: np.ndarray | None = None
) -> np.ndarray:
    """[H, W]: nodes per pixel, or the sum of ``weights`` [N] over them. coords: [N, 2]."""
    h, w = shape
    row, col = pixel_of(coords, extent, shape)
    return np.bincount(row * w + col, weights=weights, minlength=h * w).reshape(h, w)


def mean_colour(
    coords: np.ndarray,
    rgba: np.ndarray,
    extent: tuple[float, float, float, float],
    shape: tuple[int, int],
    *,
    floor: float = 0.35,
) -> np.ndarray:
    """[H, W, 4]: each pixel the mean colour of its nodes (rgba: [N, 4], e.g. class colours: a
    pixel of 3 red and 1 blue node is 3/4 red), opacity from the ``equalised`` node count (at
    least ``floor`` where any node is), transparent where none is. datashader's categorical
    shading does the same with per-class counts."""
    counts = point_sums(coords, extent, shape)
    out = np.zeros((*shape, 4))
    for k in range(3):
        out[..., k] = point_sums(coords, extent, shape, np.asarray(rgba[:, k], dtype=np.float64)) / np.maximum(counts, 1)
    out[..., 3] = equalised(counts, floor)
    return out


def equalised(values: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """values: [H, W] >= 0 -> [H, W] in [floor, 1] by the rank of each non-zero value (histogram
    equalisation, datashader's ``eq_hist``); 0 stays 0. Densities span decades: a linear or even
    log scale leaves either the sparse rim or the dense core a flat colour."""
    out = np.zeros(values.shape, dtype=np.float64)
    nz = values > 0
    if not nz.any():
        return out
    v = values[nz]
    levels, at = np.unique(v, return_inverse=True)
    if levels.size == 1:
        out[nz] = 1.0
        return out
    # Each distinct value maps to the share of non-zero pixels at or below it, the smallest to 0.
    cdf = np.cumsum(np.bincount(at, minlength=levels.size)) / v.size
    rank = (cdf - cdf[0]) / (1 - cdf[0])
    out[nz] = floor + (1 - floor) * rank[at]
    return out


def grey_rgba(density: np.ndarray, *, darkest: float = 0.15, floor: float = 0.08, top: float = 0.7) -> np.ndarray:
    """density: [H, W] -> [H, W, 4] one grey (``darkest``) with opacity from ``floor`` to ``top``
    by ``equalised`` density; transparent where there is none."""
    rgba = np.zeros((*density.shape, 4))
    rgba[..., :3] = darkest
    level = equalised(density)
    rgba[..., 3] = np.where(density > 0, floor + (top - floor) * level, 0.0)
    return rgba
