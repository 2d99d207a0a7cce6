"""The graph itself: the whole-graph layout (nodes coloured by class, sized by degree, the
misclassified ringed; drawn as images past ``RASTER_EDGES`` edges or ``RASTER_NODES`` nodes) and
the degree distribution. Coordinates come from ``coords/layout.py``; images from ``raster.py``.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gnnviz.viz.draw import raster
from gnnviz.viz.draw.style import NodeColours, _axes_grid, _bare, _colour_bar, _colour_key, _ring, _wrap, _wrap_to, _wrong_handle

# Whole-graph figure: past this many edges they are drawn as an image (raster.py), past this many
# nodes so are the nodes; images are RASTER_PIXELS wide (the axes' width at about 200 dpi).
RASTER_EDGES = 50_000
RASTER_NODES = 200_000
RASTER_PIXELS = 1600
NODE_CELL_PIXELS = 4  # node images' pixels, in edge-image pixels
WRONG_CELL_PIXELS = 10  # the misclassified-share panel's cells, in edge-image pixels
# The busiest node's callout: a shape no other mark uses (black rings are the misclassified).
HUB_MARKER = "s"
HUB_COLOUR = "black"


# ----------------------------------------------------------------------------- whole graph


def plot_graph_layout(
    coords: np.ndarray,
    edge_index: np.ndarray,
    colours: NodeColours,
    degree: np.ndarray,
    wrong: np.ndarray,
    *,
    title: str,
    wrong_label: str | None = None,
    node_ids: bool = False,
) -> Figure:
    """The whole graph: nodes coloured by class, sized by degree, misclassified ringed in black.

    coords: [N, 2]; edge_index: [2, E] (drawn once per unordered pair); degree: [N]; wrong: [N] bool.
    wrong_label: the legend entry for the rings (default "misclassified (<count>)"); node_ids:
    write every node's id on it (for small graphs).
    Edges are one LineCollection and nodes one scatter (plus one for the rings): an artist per
    edge or node, as igraph's own drawing makes, is 40x slower. Past ``RASTER_EDGES`` edges they
    are an image instead (``raster.py``: a LineCollection of 5M edges takes minutes), and past
    ``RASTER_NODES`` nodes so are the nodes, with a second panel for where the misclassified
    nodes are (rings of a million nodes would cover everything).
    """
    n = coords.shape[0]
    src, dst = np.asarray(edge_index)
    keep = src < dst  # an undirected edge is stored twice; draw it once
    if not keep.any():
        keep = src != dst
    src, dst = src[keep], dst[keep]
    big = n > RASTER_NODES
    fig = Figure(figsize=(18.5, 9) if big else (10.5, 9))
    if big:
        ax, ax_wrong = _axes_grid(fig, 1, 2, left=0.15, right=2.5, top=1.0, bottom=0.15, wgap=0.3)[0]
    else:
        # The heading is centred on the axes, which leave 2.5 in for the legend: wrap it to the
        # axes' width (about 0.55 em per character) and make room for its lines.
        heading = _wrap_to(title, max(20, int((10.5 - 2.65) * 72 / (0.55 * 11))))
        top = 0.2 + 0.2 * (heading.count("\n") + 1)
        ax = _axes_grid(fig, 1, 1, left=0.15, right=2.5, top=top, bottom=0.15)[0, 0]
    extent = _extent(coords)
    if len(src) > RASTER_EDGES:
        shape = _raster_shape(extent)
        density = raster.edge_density(coords, src, dst, extent, shape)
        ax.imshow(raster.grey_rgba(density), extent=extent, origin="upper", interpolation="antialiased", zorder=1)
    else:
        segments = np.stack([coords[src], coords[dst]], axis=1)
        # Denser graphs get fainter edges so the node colours stay visible under thousands of lines.
        alpha = float(np.clip(800.0 / max(len(segments), 1), 0.1, 0.5))
        ax.add_collection(LineCollection(segments, linewidths=0.4, colors=[(0.2, 0.2, 0.2, alpha)], zorder=1))
    size = _node_sizes(degree, n)
    if big:
        # Coarser than the edges: a node pixel then holds several nodes and reads as a colour.
        shape = _raster_shape(extent, RASTER_PIXELS // NODE_CELL_PIXELS)
        ax.imshow(
            raster.mean_colour(coords, colours.rgba, extent, shape, floor=0.6),
            extent=extent,
            origin="upper",
            interpolation="nearest",
            zorder=2,
        )
        _wrong_share(ax_wrong, coords, wrong, extent, wrong_label or f"misclassified ({int(wrong.sum())} of {wrong.size})")
    else:
        order = np.argsort(degree, kind="stable")  # hubs drawn last, on top
        ax.scatter(coords[order, 0], coords[order, 1], s=size[order], c=colours.rgba[order], linewidths=0, zorder=2)
        _ring(ax, coords[wrong], size[wrong], zorder=3)
    if node_ids:
        for i in range(n):
            ax.text(*coords[i], str(i), fontsize=7, ha="center", va="center", zorder=5, color="black")
    hub = int(np.argmax(degree)) if n else 0  # the lowest id among equals
    if n:
        # The hub is easy to lose in a dense core: a bold square (rings mean misclassified), then
        # its label off to the side.
        ax.scatter(
            *coords[hub],
            s=(40 if big else size[hub]) * 4 + 40,
            marker=HUB_MARKER,
            facecolors="none",
            edgecolors=HUB_COLOUR,
            linewidths=1.8,
            zorder=4,
        )
        ax.annotate(
            f"node {hub}\ndegree {int(degree[hub])}{_tie_text(degree, hub)}",
            coords[hub],
            xytext=(30, 30),
            textcoords="offset points",
            fontsize=9,
            arrowprops=dict(arrowstyle="-", lw=1.0, color=HUB_COLOUR, shrinkA=0, shrinkB=2),
            zorder=3,
            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="0.5", alpha=0.9),
        )
    _frame(ax, coords)
    if big:
        ax.set_title("nodes coloured by class (mixed where classes share a pixel) over edge density", fontsize=10, pad=4)
        fig.suptitle(_wrap(title, fig, 11), fontsize=11, y=1 - 0.08 / fig.get_size_inches()[1], va="top")
    else:
        ax.set_title(heading, fontsize=11, y=1.0, pad=6)
    handles = _colour_key(fig, colours, bar_at=(fig.get_size_inches()[0] - 2.1, 1.0, 4.0))
    if not big:
        handles.append(_wrong_handle(wrong_label or f"misclassified ({int(wrong.sum())})"))
        handles.append(Line2D([], [], ls="", marker="o", ms=3, mfc="0.5", mec="none", label="size ~ degree"))
    if n:
        handles.append(
            Line2D(
                [], [], ls="", marker=HUB_MARKER, ms=10, mfc="none", mec=HUB_COLOUR, mew=1.8, label="busiest node (most edges)"
            )
        )
    else:
        handles.append(Line2D([], [], ls="", marker="s", ms=7, mfc="0.3", mec="none", label="edges (darker = denser)"))
    legend = (ax_wrong if big else ax).legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False
    )
    for text in legend.get_texts():
        text.set_text(_wrap_to(text.get_text(), 30))
    return fig


def _extent(coords: np.ndarray, pad: float = 0.03) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) around coords with ``pad`` of the longer span on every side (as ``_frame``)."""
    if not len(coords):
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = coords.min(0), coords.max(0)
    span = max(float((hi - lo).max()), 1e-9)
    return (lo[0] - pad * span, hi[0] + pad * span, lo[1] - pad * span, hi[1] + pad * span)


def _raster_shape(extent: tuple[float, float, float, float], pixels: int = RASTER_PIXELS) -> tuple[int, int]:
    """(H, W) with square pixels and ``pixels`` along the longer side."""
    w, h = extent[1] - extent[0], extent[3] - extent[2]
    scale = pixels / max(w, h)
    return max(1, round(h * scale)), max(1, round(w * scale))


def _wrong_share(ax: Axes, coords: np.ndarray, wrong: np.ndarray, extent: tuple[float, float, float, float], what: str) -> None:
    """Share of ``what`` nodes among the nodes of each cell (cells of about WRONG_CELL_PIXELS
    image pixels, so a share is of dozens of nodes, not of one or two)."""
    shape = _raster_shape(extent, max(RASTER_PIXELS // WRONG_CELL_PIXELS, 1))
    counts = raster.point_sums(coords, extent, shape)
    bad = raster.point_sums(coords, extent, shape, wrong.astype(np.float64))
    share = np.ma.masked_where(counts == 0, bad / np.maximum(counts, 1))
    cmap = colormaps["magma_r"].with_extremes(bad=(1, 1, 1, 0))
    top = max(float(share.max()) if share.count() else 0.0, 1e-3)
    im = ax.imshow(share, extent=extent, origin="upper", cmap=cmap, vmin=0, vmax=top, interpolation="nearest", zorder=1)
    _frame(ax, coords)
    ax.set_title(_wrap_to(what, 90) + "\ncolour = their share of each cell's nodes", fontsize=10, pad=4)
    fig = ax.figure
    fw, _ = fig.get_size_inches()
    _colour_bar(fig, im, x=fw - 1.3, y=0.6, height=3.0, label="share of the cell's nodes")


def _tie_text(values: np.ndarray, chosen: int) -> str:
    """', 1 of 3 with that value (lowest id shown)' when other entries equal the chosen one."""
    tied = int((np.asarray(values) == values[chosen]).sum())
    return f"\n(1 of {tied} with degree {int(values[chosen])}; lowest id shown)" if tied > 1 else ""


def _node_sizes(degree: np.ndarray, n: int) -> np.ndarray:
    """Marker areas (points^2) growing with sqrt(degree); the largest shrinks as graphs grow."""
    degree = np.asarray(degree, dtype=float)
    biggest = float(np.clip(6000.0 / max(n, 1), 40.0, 400.0))
    smallest = biggest / 12
    top = max(float(degree.max()) if degree.size else 1.0, 1.0)
    return smallest + (biggest - smallest) * np.sqrt(degree / top)


def _frame(ax: Axes, coords: np.ndarray, pad: float = 0.03) -> None:
    ax.set_aspect("equal")
    _bare(ax)
    if len(coords):
        lo, hi = coords.min(0), coords.max(0)
        span = max(float((hi - lo).max()), 1e-9)
        ax.set_xlim(lo[0] - pad * span, hi[0] + pad * span)
        ax.set_ylim(lo[1] - pad * span, hi[1] + pad * span)


# ----------------------------------------------------------------------------- degrees


def plot_degree(degree: np.ndarray, *, title: str, drawn_for: str = "") -> Figure:
    """Degree histogram (log counts) and the complementary CDF P(degree >= k) on log-log axes.

    degree: [N] in-degree without self-loops. The highest-degree node is called out on both.
    title: the graph's name, followed by its numbers; drawn_for: the run the figure belongs to,
    a second line (the graph does not depend on the model, but the page does).
    """
    degree = np.asarray(degree, dtype=int)
    fig = Figure(figsize=(11, 4.2 + (0.2 if drawn_for else 0.0)))
    ax_hist, ax_ccdf = _axes_grid(fig, 1, 2, left=0.75, right=0.2, top=0.85 if drawn_for else 0.65, bottom=0.6, wgap=1.0)[0]
    hub = int(np.argmax(degree))
    top = int(degree[hub])
    counts = np.bincount(degree)
    ks = np.flatnonzero(counts)
    ax_hist.bar(ks, counts[ks], width=0.9 if top < 60 else 1.0, color="tab:blue", alpha=0.85)
    ax_hist.set_yscale("log")
    ax_hist.set_xlabel("degree (incoming edges, self-loops not counted)")
    ax_hist.set_ylabel("nodes (log scale)")
    ax_hist.set_title("degree histogram", y=1.0, pad=6)
    ties = int((degree == top).sum())
    called = f"node {hub}: degree {top}" + (f" (1 of {ties} with degree {top}; lowest id)" if ties > 1 else "")
    ax_hist.annotate(
        called,
        (top, counts[top]),
        xytext=(-10, 40),
        textcoords="offset points",
        ha="right",
        fontsize=9,
        arrowprops=dict(arrowstyle="->", lw=0.8),
    )
    ax_hist.set_ylim(0.7, counts.max() * 3)
    pos = ks[ks > 0]
    # P(degree >= k) for each occurring k, from the sorted degrees (no pass over N per k).
    ccdf = 1.0 - np.searchsorted(np.sort(degree), pos, side="left") / len(degree)
    ax_ccdf.loglog(pos, ccdf, marker="o", ms=3, lw=1, color="tab:blue")
    ax_ccdf.set_xlabel("degree k (log)")
    ax_ccdf.set_ylabel("fraction of nodes with degree >= k (log)")
    ax_ccdf.set_title("degree distribution", y=1.0, pad=6)
    ax_ccdf.annotate(
        f"node {hub}" + (f" (+{ties - 1} tied)" if ties > 1 else ""),
        (top, 1 / len(degree)),
        xytext=(-10, 30),
        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.9),
        textcoords="offset points",
        ha="right",
        fontsize=9,
        arrowprops=dict(arrowstyle="->", lw=0.8),
    )
    for ax in (ax_hist, ax_ccdf):
        ax.grid(alpha=0.3)
    zero = int((degree == 0).sum())
    extra = f", {zero} isolated" if zero else ""
    heading = f"{title}: {len(degree):,} nodes, mean degree {degree.mean():.2f}, max {top}{extra}"
    if drawn_for:
        heading += f"\ndrawn for {drawn_for}"
    fig.suptitle(_wrap(heading, fig, 11), fontsize=11)
    return fig
