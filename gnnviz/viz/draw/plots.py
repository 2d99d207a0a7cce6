"""Pure drawing: arrays in, ``matplotlib.figure.Figure`` out. Never saves, shows or touches pyplot.

Figures are built with ``Figure()`` directly (no pyplot state, no GUI backend), so drawing is
headless-safe and figures are freed as soon as they go out of scope. ``report.py`` saves them.
Node colours come in as RGBA arrays from ``node_colours`` so every figure of a run agrees.

Axes are placed with fixed margins in inches (``_axes_grid``) rather than a layout engine:
constrained layout was 40% of the drawing time, and these figures' contents have fixed shapes.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib
import matplotlib.axis
import matplotlib.ticker

matplotlib.use("Agg")  # before anything imports pyplot: no display, no Cairo, no window

import numpy as np  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import Colormap, LinearSegmentedColormap, LogNorm, Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from gnnviz.analysis.attention import Neighbourhood  # noqa: E402
from gnnviz.viz.draw import raster  # noqa: E402

# Edge width in points for a weight w: WIDTH_FLOOR + WIDTH_PER_WEIGHT * w. The same mapping in
# every panel of every run (never rescaled to a neighbourhood's max, which would make uniform
# attention look peaked); the hairline floor keeps weight-0.001 edges visible.
WIDTH_FLOOR = 0.3
WIDTH_PER_WEIGHT = 16.0
# Edge colours on a log scale, fixed from 1e-3 to 1 for the same reason.
WEIGHT_NORM = (1e-3, 1.0)
# Neighbours with ids written next to them: all of them up to this many, else the heaviest few.
LABEL_ALL_UP_TO = 30
LABEL_TOP = 6
HOOD_COLUMNS = 4  # neighbourhood panels per row
ENTROPY_COLUMNS = 5  # entropy grid panels per row (a layer with more heads wraps)
SELF_LOOP_GAP_DEG = 36.0  # free sector at 12 o'clock where the self-loop is drawn
# KL from uniform of attention spread evenly over half of a node's neighbours: a yardstick on the log axis.
HALF_KL = math.log(2)
SPLIT_MARKERS = {"train": "o", "val": "s", "test": "^", "other": "."}
# Whole-graph figure: past this many edges they are drawn as an image (raster.py), past this many
# nodes so are the nodes; images are RASTER_PIXELS wide (the axes' width at about 200 dpi).
RASTER_EDGES = 50_000
RASTER_NODES = 200_000
RASTER_PIXELS = 1600
NODE_CELL_PIXELS = 4  # node images' pixels, in edge-image pixels
WRONG_CELL_PIXELS = 10  # the misclassified-share panel's cells, in edge-image pixels


def edge_width(weight: np.ndarray | float) -> np.ndarray:
    """Line width in points for attention/normalisation weights (same scale everywhere)."""
    return WIDTH_FLOOR + WIDTH_PER_WEIGHT * np.asarray(weight, dtype=float)


def weight_cmap() -> Colormap:
    """Greys from mid-grey to black: distinct from class colours, light edges still visible."""
    greys = colormaps["Greys"]
    return LinearSegmentedColormap.from_list("gnnviz_weights", greys(np.linspace(0.35, 1.0, 256)))


def weight_norm() -> LogNorm:
    return LogNorm(*WEIGHT_NORM, clip=True)


# ----------------------------------------------------------------------------- node colours


@dataclass(frozen=True)
class NodeColours:
    """Per-node RGBA [N, 4] and how to explain them.

    Categorical: ``legend`` holds (label, rgba) per class. Continuous: ``cmap``/``norm``/``label``
    describe a colour bar (used for PPI's count of positive labels).
    """

    rgba: np.ndarray
    classes: np.ndarray | None = None  # [N] class ids when categorical
    legend: list[tuple[str, tuple[float, ...]]] = field(default_factory=list)
    cmap: Colormap | None = None
    norm: Normalize | None = None
    label: str = "class"


def node_colours(
    values: np.ndarray,
    *,
    categorical: bool,
    label: str = "class",
    num_classes: int | None = None,
    names: Sequence[str] | None = None,
) -> NodeColours:
    """values: [N] class ids (categorical) or numbers (continuous, e.g. positive-label counts).

    names: class names for the legend (default "class 0", "class 1", ...).
    """
    values = np.asarray(values)
    if categorical:
        k = int(num_classes if num_classes is not None else (values.max() + 1 if values.size else 1))
        cmap = colormaps["tab10" if k <= 10 else "tab20"]
        palette = [cmap(i % cmap.N) for i in range(k)]
        rgba = np.asarray(palette, dtype=float).reshape(-1, 4)[values.astype(int)]
        legend = [(f"{i}: {names[i]}" if names is not None and i < len(names) else f"{label} {i}", palette[i]) for i in range(k)]
        return NodeColours(rgba, values.astype(int), legend, label=label)
    norm = Normalize(float(values.min()), float(max(values.max(), values.min() + 1)))
    cmap = colormaps["viridis"]
    return NodeColours(cmap(norm(values)), cmap=cmap, norm=norm, label=label)


def _axes_grid(fig: Figure, rows: int, cols: int, *, left=0.6, right=0.2, top=0.6, bottom=0.5, wgap=0.5, hgap=0.5) -> np.ndarray:
    """A rows x cols array of Axes filling the figure less margins and gaps given in inches."""
    fw, fh = fig.get_size_inches()
    w = (fw - left - right - wgap * (cols - 1)) / cols
    h = (fh - top - bottom - hgap * (rows - 1)) / rows
    axes = np.empty((rows, cols), dtype=object)
    for r in range(rows):
        for c in range(cols):
            x, y = left + c * (w + wgap), fh - top - (r + 1) * h - r * hgap
            axes[r, c] = fig.add_axes((x / fw, y / fh, w / fw, h / fh))
    return axes


def _wrap(text: str, fig: Figure, fontsize: float) -> str:
    """Break a long heading into lines that fit the figure (about 0.55 em per character)."""
    per_line = max(20, int(fig.get_size_inches()[0] * 72 / (0.55 * fontsize)) - 4)
    return "\n".join(textwrap.fill(line, per_line) for line in text.splitlines())


def _bare(ax: Axes) -> None:
    """No axis lines, ticks or labels (and no tick objects to lay out: they dominate draw time)."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.axis("off")


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def power_label(v: float, _pos: object = None) -> str:
    """A tick label for log and symlog axes: 10\u207b\u00b3 for powers of ten (plain text, so
    matplotlib's mathtext parser, a tenth of a second per process, is never started), else 3e-05."""
    if v == 0:
        return "0"
    exponent = math.log10(abs(v))
    sign = "\u2212" if v < 0 else ""
    if abs(exponent - round(exponent)) < 1e-9:
        return f"{sign}10{str(round(exponent)).translate(_SUPERSCRIPT)}"
    return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e")


def power_ticks(axis: matplotlib.axis.Axis) -> None:
    """Powers of ten as plain-text labels on a log or symlog ``axis``; minor ticks unlabelled."""
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(power_label))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _colour_bar(fig: Figure, mappable: ScalarMappable, *, x: float, y: float, height: float, label: str) -> None:
    """A vertical colour bar with its lower-left corner at (x, y) inches."""
    fw, fh = fig.get_size_inches()
    cax = fig.add_axes((x / fw, y / fh, 0.18 / fw, height / fh))
    bar = fig.colorbar(mappable, cax=cax, label=label)
    bar.ax.minorticks_off()
    if isinstance(mappable.norm, LogNorm):
        power_ticks(bar.ax.yaxis)


def _colour_key(
    fig: Figure | None, colours: NodeColours, nodes: np.ndarray | None = None, *, bar_at: tuple[float, float, float] | None = None
) -> list:
    """Legend handles for the classes among ``nodes`` (default all); for continuous colours, a
    colour bar at ``bar_at`` = (x, y, height) inches instead."""
    if colours.cmap is not None:
        if bar_at is not None and fig is not None:
            _colour_bar(
                fig, ScalarMappable(colours.norm, colours.cmap), x=bar_at[0], y=bar_at[1], height=bar_at[2], label=colours.label
            )
        return []
    classes = colours.classes if nodes is None else colours.classes[np.asarray(nodes, dtype=int)]
    present = set(np.unique(classes).tolist())
    return [
        Line2D([], [], ls="", marker="o", ms=7, mfc=rgba, mec="none", label=name)
        for i, (name, rgba) in enumerate(colours.legend)
        if i in present
    ]


def _wrong_handle(what: str) -> Line2D:
    return Line2D([], [], ls="", marker="o", ms=9, mfc="none", mec="black", mew=0.8, label=what)


def _ring(ax: Axes, xy: np.ndarray, size: np.ndarray | float, *, zorder: float = 4) -> None:
    """Thin black rings around points (the misclassified): the node's own colour stays visible."""
    if len(xy):
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=np.asarray(size) * 3.0 + 10,
            facecolors="none",
            edgecolors="black",
            linewidths=0.6,
            zorder=zorder,
        )


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
        ax.imshow(raster.mean_colour(coords, colours.rgba, extent, shape, floor=0.6), extent=extent, origin="upper",
                  interpolation="nearest", zorder=2)  # fmt: skip
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
        # The hub is easy to lose in a dense core: a bold ring, then its label off to the side.
        ax.scatter(
            *coords[hub], s=(40 if big else size[hub]) * 4 + 40, facecolors="none", edgecolors="black", linewidths=1.6, zorder=4
        )
        ax.annotate(
            f"node {hub}\ndegree {int(degree[hub])}{_tie_text(degree, hub)}", coords[hub], xytext=(30, 30), textcoords="offset points",
            fontsize=9, arrowprops=dict(arrowstyle="-", lw=1.0, shrinkA=0, shrinkB=2), zorder=3,
            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="0.5", alpha=0.9),
        )  # fmt: skip
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


def _count_text(value: float, _pos: int | None = None) -> str:
    """Axis counts that stay narrow on million-node graphs: 800, 40k, 1.2M."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def _wrap_to(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width) for line in text.splitlines())


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


def plot_degree(degree: np.ndarray, *, title: str) -> Figure:
    """Degree histogram (log counts) and the complementary CDF P(degree >= k) on log-log axes.

    degree: [N] in-degree without self-loops. The highest-degree node is called out on both.
    """
    degree = np.asarray(degree, dtype=int)
    fig = Figure(figsize=(11, 4.2))
    ax_hist, ax_ccdf = _axes_grid(fig, 1, 2, left=0.75, right=0.2, top=0.65, bottom=0.6, wgap=1.0)[0]
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
        called, (top, counts[top]), xytext=(-10, 40), textcoords="offset points", ha="right",
        fontsize=9, arrowprops=dict(arrowstyle="->", lw=0.8),
    )  # fmt: skip
    ax_hist.set_ylim(0.7, counts.max() * 3)
    pos = ks[ks > 0]
    # P(degree >= k) for each occurring k, from the sorted degrees (no pass over N per k).
    ccdf = 1.0 - np.searchsorted(np.sort(degree), pos, side="left") / len(degree)
    ax_ccdf.loglog(pos, ccdf, marker="o", ms=3, lw=1, color="tab:blue")
    ax_ccdf.set_xlabel("degree k (log)")
    ax_ccdf.set_ylabel("fraction of nodes with degree >= k (log)")
    ax_ccdf.set_title("degree distribution", y=1.0, pad=6)
    ax_ccdf.annotate(
        f"node {hub}" + (f" (+{ties - 1} tied)" if ties > 1 else ""), (top, 1 / len(degree)), xytext=(-10, 30), textcoords="offset points", ha="right",
        fontsize=9, arrowprops=dict(arrowstyle="->", lw=0.8),
    )  # fmt: skip
    for ax in (ax_hist, ax_ccdf):
        ax.grid(alpha=0.3)
    zero = int((degree == 0).sum())
    extra = f", {zero} isolated" if zero else ""
    fig.suptitle(_wrap(f"{title}: {len(degree)} nodes, mean degree {degree.mean():.2f}, max {top}{extra}", fig, 11), fontsize=11)
    return fig


# ----------------------------------------------------------------------------- neighbourhoods


@dataclass(frozen=True)
class NeighbourhoodPanel:
    """One panel: a node's incoming weights in one layer and head, and its heading."""

    hood: Neighbourhood
    title: str  # e.g. "layer 1, head 0" or "GCN normalisation, fixed, not learned"
    normalised: bool = True  # softmax attention (sums to 1); False for GCN coefficients


def plot_neighbourhoods(
    panels: Sequence[NeighbourhoodPanel | str], colours: NodeColours, *, title: str, columns: int | None = None
) -> Figure:
    """Radial drawings of one node's incoming edges, one panel per layer/head, up to 4 per row
    (or ``columns`` per row: ``gnnviz compare`` puts one run per column, one layer per row).

    The centre is the node, neighbours sit on a circle grouped by class; an edge's width and
    grey level show its weight on a scale shared by every panel and every figure. A text in
    place of a panel leaves its cell empty but for that text (a run with nothing to draw there).
    """
    cols = columns or min(len(panels), HOOD_COLUMNS)
    rows = math.ceil(len(panels) / cols)
    fw = max(4.6 * cols + 1.5, 8.5)
    hood = next(p.hood for p in panels if isinstance(p, NeighbourhoodPanel))
    # Legend entries first: their count and the heading's length decide the margins.
    if colours.cmap is None:
        handles = _colour_key(None, colours, np.concatenate([[hood.node], hood.sources]))
    else:
        handles = []
    handles += [Line2D([], [], color="black", lw=float(edge_width(w)), label=f"weight {w:g}") for w in (0.01, 0.05, 0.2, 0.5)]
    # Columns as wide as the longest entry (marker and padding ~0.75 inch, ~0.075 inch per character
    # at 9 pt): long class names (Cora's "1: Reinforcement_Learning") take fewer columns, never past the edge.
    column = 0.75 + 0.075 * max(len(str(h.get_label())) for h in handles)
    ncol = max(1, min(len(handles), int((fw - 0.3) / column)))
    legend_rows = math.ceil(len(handles) / ncol)
    heading = _wrap(title, Figure(figsize=(fw, 1)), 12)
    top, bottom = 0.38 + 0.24 * (heading.count("\n") + 1), 0.2 + 0.24 * legend_rows
    fig = Figure(figsize=(fw, 5.45 * rows + top + bottom + 0.45 * (rows - 1)))
    axes = _axes_grid(fig, rows, cols, left=0.1, right=1.4, top=top, bottom=bottom, wgap=0.2, hgap=0.45)
    for ax, panel in zip(axes.ravel(), panels, strict=False):  # the last row may have spare axes
        if isinstance(panel, NeighbourhoodPanel):
            draw_neighbourhood(ax, panel, colours)
        else:
            _bare(ax)
            ax.text(0.5, 0.5, _wrap_to(panel, 40), transform=ax.transAxes, ha="center", va="center", fontsize=10, color="0.35")
    for ax in axes.ravel()[len(panels) :]:
        _bare(ax)
    fh = fig.get_size_inches()[1]
    fig.suptitle(heading, fontsize=12, y=1 - 0.08 / fh, va="top")
    if colours.cmap is None:
        _colour_bar(
            fig,
            ScalarMappable(weight_norm(), weight_cmap()),
            x=fw - 1.0,
            y=fh / 2 - 1.5,
            height=3.0,
            label="edge weight (log colour scale)",
        )
    else:
        # Two colour bars: edge weights above, the nodes' continuous colour below.
        height = min(2.6, fh / 2 - 0.9)
        _colour_bar(
            fig,
            ScalarMappable(weight_norm(), weight_cmap()),
            x=fw - 1.0,
            y=fh / 2 + 0.15,
            height=height,
            label="edge weight (log)",
        )
        _colour_key(fig, colours, bar_at=(fw - 1.0, fh / 2 - 0.15 - height, height))
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=9, frameon=False)
    return fig


def draw_neighbourhood(ax: Axes, panel: NeighbourhoodPanel, colours: NodeColours) -> None:
    """Draw one radial neighbourhood into ``ax`` (see ``plot_neighbourhoods``).

    Neighbours keep the same place in every panel (ordered by class, then id), so heads and layers
    compare position by position; a gap at 12 o'clock holds the self-loop.
    """
    hood = panel.hood
    k = hood.sources.size
    cmap, norm = weight_cmap(), weight_norm()
    classes = colours.classes[hood.sources] if colours.classes is not None else np.zeros(k, int)
    order = np.lexsort((hood.sources, classes))
    gap = math.radians(SELF_LOOP_GAP_DEG)
    angle = np.pi / 2 - gap / 2 - (2 * np.pi - gap) * (np.arange(k) + 0.5) / max(k, 1)  # clockwise
    xy = np.zeros((k, 2))
    xy[order] = np.stack([np.cos(angle), np.sin(angle)], 1)
    # Heaviest edges drawn last so a thick edge is never hidden under thin ones.
    draw = np.argsort(hood.weights, kind="stable")
    segments = np.stack([xy[draw], np.zeros((k, 2))], axis=1) if k else np.zeros((0, 2, 2))
    ax.add_collection(
        LineCollection(
            segments, linewidths=edge_width(hood.weights[draw]), colors=cmap(norm(hood.weights[draw])), zorder=1, capstyle="round"
        )
    )
    node_size = float(np.clip(4000.0 / max(k, 1), 12.0, 160.0))
    ax.scatter(xy[:, 0], xy[:, 1], s=node_size, c=colours.rgba[hood.sources], edgecolors="white", linewidths=0.5, zorder=3)
    ax.scatter([0], [0], s=260, c=colours.rgba[[hood.node]], edgecolors="black", linewidths=1.5, zorder=4)
    box = dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85)
    ax.annotate(f"node {hood.node}", (0, 0), xytext=(0, -14), textcoords="offset points", ha="center", va="top",
                fontsize=9, fontweight="bold", zorder=5, bbox=box)  # fmt: skip
    if hood.self_weight is not None:
        w = hood.self_weight
        ax.add_patch(
            PathPatch(_loop_path(SELF_LOOP_GAP_DEG / 2), fill=False, lw=float(edge_width(w)), ec=cmap(norm(w)), zorder=2)
        )
        ax.text(0, 0.62, f"self-loop {w:.3g}", ha="center", va="bottom", fontsize=8, fontweight="bold", zorder=5)
    if k <= LABEL_ALL_UP_TO:
        for i in range(k):
            x, y = xy[i]
            rot = math.degrees(math.atan2(y, x))
            rot = rot - 180 if abs(rot) > 90 else rot  # keep text upright
            ax.text(1.09 * x, 1.09 * y, f"{hood.sources[i]}", rotation=rot, rotation_mode="anchor", fontsize=7 if k > 12 else 8,
                    ha="left" if x >= 0 else "right", va="center", zorder=5)  # fmt: skip
        heaviest = np.zeros(0, int)
    else:
        # Too many to label around the ring: outline the heaviest and list them in the caption.
        heaviest = np.argsort(-hood.weights, kind="stable")[:LABEL_TOP]
        ax.scatter(
            xy[heaviest, 0], xy[heaviest, 1], s=node_size * 3, facecolors="none", edgecolors="black", linewidths=1.0, zorder=4
        )
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.95, 1.45)  # room below the ring for the caption
    ax.set_aspect("equal")
    _bare(ax)
    ax.set_title(panel.title, fontsize=10, y=1.0, pad=6)
    ax.text(
        0.5, 0.0, _hood_caption(hood, panel.normalised, heaviest), transform=ax.transAxes, ha="center", va="bottom", fontsize=8
    )


def _loop_path(half_angle_deg: float, reach: float = 0.75) -> MplPath:
    """A teardrop from the centre up into the 12 o'clock gap and back: a cubic Bezier."""
    a = math.radians(90 + half_angle_deg * 0.8)
    b = math.radians(90 - half_angle_deg * 0.8)
    pts = [(0, 0), (reach * math.cos(a), reach * math.sin(a)), (reach * math.cos(b), reach * math.sin(b)), (0, 0)]
    return MplPath(pts, [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4])


def _hood_caption(hood: Neighbourhood, normalised: bool, heaviest: np.ndarray) -> str:
    deg = hood.in_degree
    w = np.append(hood.weights, [hood.self_weight] if hood.self_weight is not None else [])
    lines = [f"{hood.sources.size} neighbours + self-loop" if hood.self_weight is not None else f"{hood.sources.size} neighbours"]
    if normalised:
        h = float(-(w[w > 0] * np.log(w[w > 0])).sum())
        lines.append(f"sum = {hood.total:.3f}; max {w.max():.3g}; uniform 1/{deg} = {1 / deg:.3g}")
        if deg > 1:
            lines.append(f"entropy {h:.3f} of log({deg}) = {math.log(deg):.3f}: H/log(deg) = {h / math.log(deg):.3f}")
    else:
        lines.append(f"sum = {hood.total:.3f} (GCN weights need not sum to 1)")
        lines.append(f"max {w.max():.3g}; min {w.min():.3g}")
    if heaviest.size:
        items = [f"{hood.sources[i]}: {hood.weights[i]:.3g}" for i in heaviest]
        half = (len(items) + 1) // 2
        lines.append("heaviest (outlined): " + ", ".join(items[:half]))
        lines.append(", ".join(items[half:]))
        cut = hood.weights[heaviest[-1]]
        tied = int((hood.weights == cut).sum()) - int((hood.weights[heaviest] == cut).sum())
        if tied:
            lines.append(f"{tied} more with weight {cut:.3g} not outlined (ties: first in edge order)")
    return "\n".join(line for line in lines if line)


# ----------------------------------------------------------------------------- entropy


@dataclass(frozen=True)
class EntropyPanel:
    """One layer and head (or the head mean) over N nodes, and a heading.

    entropy, uniform: [N] entropies of the learned and the uniform attention over the same
    neighbours; kl: [N] KL from uniform, log(deg) - H (default: computed from those two);
    stats: that head's ``EntropyStats`` as a dict, if known.
    """

    entropy: np.ndarray
    uniform: np.ndarray
    title: str
    kl: np.ndarray | None = None
    stats: dict | None = None

    @property
    def divergence(self) -> np.ndarray:
        return self.kl if self.kl is not None else np.maximum(self.uniform - self.entropy, 0.0)


def draw_entropy_histogram(ax: Axes, panel: EntropyPanel, bins: np.ndarray, *, legend: bool = True, title: bool = True) -> None:
    """Both histograms with the same even bin edges: learned filled, uniform as a black outline."""
    learned, _ = np.histogram(panel.entropy, bins=bins)
    uniform, _ = np.histogram(panel.uniform, bins=bins)
    ax.stairs(
        learned, bins, fill=True, color="tab:orange", alpha=0.6, label=f"learned attention (mean {panel.entropy.mean():.3f})"
    )
    ax.stairs(
        uniform, bins, color="black", lw=1.2, label=f"uniform, log(in-degree incl. self-loop) (mean {panel.uniform.mean():.3f})"
    )
    if title:
        ax.set_title(panel.title, fontsize=9, y=1.0, pad=4)
    ax.set_xlim(bins[0], bins[-1])
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_count_text))
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=8, frameon=False, loc="best")


def draw_kl_histogram(ax: Axes, panel: EntropyPanel, bins: np.ndarray, *, title: bool = True, note_size: float = 8) -> None:
    """Per-node KL from uniform on a log axis (log-spaced ``bins``, e.g. ``attention.kl_bins``).

    Nodes below the first edge (uniform to float precision, or a lone self-loop with nothing to
    choose) cannot sit on a log axis: they are counted in a note, never drawn as a bar.
    """
    kl = panel.divergence
    counts, _ = np.histogram(kl, bins=bins)
    ax.stairs(counts, bins, fill=True, color="tab:purple", alpha=0.7)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_count_text))
    ax.set_xscale("log")
    ax.set_xlim(bins[0], bins[-1])
    below = int((kl < bins[0]).sum())
    if kl.size:
        median = float(np.median(kl))
        if bins[0] <= median <= bins[-1]:
            ax.axvline(median, color="black", ls="--", lw=1)
    if bins[0] <= HALF_KL <= bins[-1]:
        ax.axvline(HALF_KL, color="0.5", ls=":", lw=1.2)
    notes = []
    if below:
        notes.append(f"{below:,} of {kl.size:,} nodes below {bins[0]:.0e} (not shown)")
    if notes:
        ax.set_ylim(0, max(float(counts.max(initial=0)), 1.0) * 1.25)  # headroom: the note does not cover the bars
        ax.text(0.98, 0.97, "\n".join(notes), transform=ax.transAxes, ha="right", va="top", fontsize=note_size,
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="0.7", alpha=0.9))  # fmt: skip
    if title:
        ax.set_title(panel.title, fontsize=9, y=1.0, pad=4)
    ax.grid(alpha=0.3)


def plot_entropy_histogram(panel: EntropyPanel, bins: np.ndarray, kl_bins: np.ndarray, *, title: str) -> Figure:
    """One layer/head over all nodes: entropy of learned vs uniform attention (left, even bins
    ``bins`` shared by both), and each node's KL from uniform on a log axis (right, ``kl_bins``):
    near-uniform attention piles up far left, peaked attention towards 1 and above."""
    fig = Figure(figsize=(12, 4.8))
    ax, ax_kl = _axes_grid(fig, 1, 2, left=0.7, right=0.25, top=1.0, bottom=0.8, wgap=0.9)[0]
    draw_entropy_histogram(ax, panel, bins, title=False)
    ax.set_xlabel("entropy H of a node's incoming attention (nats)")
    ax.set_ylabel("nodes")
    ax.set_title("entropy, learned vs uniform (same bins)", fontsize=10, y=1.0, pad=4)
    draw_kl_histogram(ax_kl, panel, kl_bins, title=False)
    kl = panel.divergence
    ax_kl.set_xlabel(
        "KL from uniform = log(in-degree) - H (nats, log axis)\ndashed: median; dotted: log 2 = even over half the neighbours"
    )
    ax_kl.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax_kl.set_ylabel("nodes")
    ax_kl.set_title(
        f"distance from uniform, median {float(np.median(kl)) if kl.size else float('nan'):.2e}", fontsize=10, y=1.0, pad=4
    )
    fig.suptitle(_wrap(title, fig, 11), fontsize=11)
    return fig


def plot_entropy_grid(rows: Sequence[Sequence[EntropyPanel]], kl_bins: np.ndarray, *, title: str) -> Figure:
    """KL from uniform per node for every layer x head given, on one shared log axis; a layer's
    panels wrap after ``ENTROPY_COLUMNS``, each layer starts a row. kl_bins: [B + 1] log-spaced."""
    ncols = min(max(len(r) for r in rows), ENTROPY_COLUMNS)
    placed = []  # (grid row, column, panel)
    r = 0
    for row in rows:
        for i, panel in enumerate(row):
            placed.append((r + i // ncols, i % ncols, panel))
        r += math.ceil(len(row) / ncols)
    fig = Figure(figsize=(max(2.9 * ncols + 0.8, 7.0), 2.2 * r + 1.6))
    axes = _axes_grid(fig, r, ncols, left=0.7, right=0.15, top=0.75, bottom=0.85, wgap=0.6, hgap=0.55)
    used = {(gr, gc) for gr, gc, _ in placed}
    for (gr, gc), ax in np.ndenumerate(axes):
        if (gr, gc) not in used:
            _bare(ax)
    for gr, gc, panel in placed:
        ax = axes[gr, gc]
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4, integer=True))
        draw_kl_histogram(ax, panel, kl_bins, note_size=7)
        if gc == 0:
            ax.set_ylabel("nodes")
    fig.supxlabel(
        "KL from uniform attention over the same neighbours = log(in-degree) - H, per node (nats, log axis); dashed: median; "
        "dotted: log 2, all weight spread evenly over half the neighbours",
        fontsize=9, y=0.12 / fig.get_size_inches()[1] + 0.01,
    )  # fmt: skip
    fig.suptitle(_wrap(title, fig, 11), fontsize=11)
    return fig


# ----------------------------------------------------------------------------- t-SNE


@dataclass(frozen=True)
class ProjectionPanel:
    """coords: [M, 2] for the nodes ``index`` [M]; a heading."""

    coords: np.ndarray
    index: np.ndarray
    title: str


def plot_projections(
    panels: Sequence[ProjectionPanel],
    colours: NodeColours,
    wrong: np.ndarray,
    split: np.ndarray,
    *,
    title: str,
    wrong_label: str | None = None,
) -> Figure:
    """2-D embeddings side by side: colour = class, marker = split, black ring = misclassified.

    wrong: [N] bool; split: [N] str, one of ``SPLIT_MARKERS``. wrong_label: the legend entry for
    the rings (default "misclassified (<count>)"); where the panels draw a sample, it adds how
    many of the rings the sample holds.
    """
    fig = Figure(figsize=(6.0 * len(panels) + 2.6, 6.6))
    axes = _axes_grid(fig, 1, len(panels), left=0.15, right=2.6, top=0.95, bottom=0.15, wgap=0.25)[0]
    n_all = colours.rgba.shape[0]
    size = float(np.clip(20000.0 / max(n_all, 1), 10.0, 90.0))
    for ax, panel in zip(axes, panels, strict=True):
        idx = panel.index
        for name, marker in SPLIT_MARKERS.items():
            m = split[idx] == name
            if not m.any():
                continue
            sel = idx[m]
            ax.scatter(
                panel.coords[m, 0], panel.coords[m, 1], s=size * (2.2 if marker == "." else 1.0), marker=marker,
                c=colours.rgba[sel], linewidths=0, zorder={"train": 4, "other": 2}.get(name, 3),
            )  # fmt: skip
        _ring(ax, panel.coords[wrong[idx]], size, zorder=5)
        ax.set_title(panel.title, fontsize=10, y=1.0, pad=6)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal", adjustable="datalim")
    handles = _colour_key(fig, colours, bar_at=(fig.get_size_inches()[0] - 1.2, 0.5, 3.0))
    for name, marker in SPLIT_MARKERS.items():
        count = int((split == name).sum())
        if count:
            handles.append(Line2D([], [], ls="", marker=marker, ms=7, mfc="0.6", mec="none", label=f"{name} ({count:,})"))
    label = wrong_label or f"misclassified ({int(wrong.sum()):,})"
    drawn = np.unique(np.concatenate([np.asarray(p.index) for p in panels])) if panels else np.zeros(0, np.int64)
    if drawn.size < wrong.size:
        label += f"; {int(wrong[drawn].sum()):,} of them among the {drawn.size:,} nodes drawn"
    handles.append(_wrong_handle(label))
    legend = axes[-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, frameon=False)
    for text in legend.get_texts():
        text.set_text(_wrap_to(text.get_text(), 30))
    fig.suptitle(_wrap(title, fig, 11), fontsize=11)
    return fig


# ----------------------------------------------------------------------------- training curves


def plot_curves(
    epochs: np.ndarray,
    train_loss: np.ndarray,
    val_loss: np.ndarray,
    train_metric: np.ndarray,
    val_metric: np.ndarray,
    *,
    best_epoch: int | None,
    metric: str,
    title: str,
    min_loss_epoch: int | None = None,
) -> Figure:
    """Loss and metric per epoch, train and val, the checkpointed epoch marked (dashed). All [T].

    min_loss_epoch: also mark where the validation loss was lowest (dotted), when it matters.
    """
    fig = Figure(figsize=(11, 4.2))
    ax_loss, ax_metric = _axes_grid(fig, 1, 2, left=0.75, right=0.2, top=0.85, bottom=0.6, wgap=0.9)[0]
    pairs = ((ax_loss, train_loss, val_loss, "loss"), (ax_metric, train_metric, val_metric, metric.replace("_", " ")))
    for ax, tr, va, name in pairs:
        ax.plot(epochs, tr, color="tab:blue", lw=1.4, label=f"train {name}")
        ax.plot(epochs, va, color="tab:orange", lw=1.4, label=f"val {name}")
        if best_epoch is not None:
            ax.axvline(best_epoch, color="0.3", ls="--", lw=1)
            at = np.flatnonzero(epochs == best_epoch)
            if at.size and np.isfinite(va[at[0]]):
                ax.plot([best_epoch], [va[at[0]]], "o", color="tab:orange", mec="black", ms=7, zorder=3,
                        label=f"best epoch {best_epoch}: val {va[at[0]]:.3f}")  # fmt: skip
        if min_loss_epoch is not None:
            ax.axvline(min_loss_epoch, color="tab:red", ls=":", lw=1.2, label=f"lowest val loss: epoch {min_loss_epoch}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, frameon=False)
    ax_loss.set_title("loss", y=1.0, pad=6)
    ax_metric.set_title(metric.replace("_", " "), y=1.0, pad=6)
    fig.suptitle(_wrap(title, fig, 11), fontsize=11)
    return fig
