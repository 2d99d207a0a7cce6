"""One node's incoming weights drawn radially, one panel per layer and head (attention, or GCN's
fixed coefficients). An edge's width and grey level follow one scale shared by every panel, run
and figure (``edge_width``, ``weight_cmap``, ``weight_norm``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Colormap, LinearSegmentedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from gnnviz.analysis.attention import Neighbourhood
from gnnviz.viz.draw import style
from gnnviz.viz.draw.style import NodeColours, _axes_grid, _bare, _colour_bar, _colour_key, _wrap, _wrap_to

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
SELF_LOOP_GAP_DEG = 36.0  # free sector at 12 o'clock where the self-loop is drawn


def edge_width(weight: np.ndarray | float) -> np.ndarray:
    """Line width in points for attention/normalisation weights (same scale everywhere)."""
    return WIDTH_FLOOR + WIDTH_PER_WEIGHT * np.asarray(weight, dtype=float)


def weight_cmap() -> Colormap:
    """Greys from mid-grey to black: distinct from class colours, light edges still visible."""
    greys = colormaps["Greys"]
    return LinearSegmentedColormap.from_list("gnnviz_weights", greys(np.linspace(0.35, 1.0, 256)))


def weight_norm() -> LogNorm:
    return LogNorm(*WEIGHT_NORM, clip=True)


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
    # Panel titles of two lines (compare's "GAT, seed 0\nlayer 0, ...") reach up into the margin.
    title_lines = max(p.title.count("\n") + 1 for p in panels if isinstance(p, NeighbourhoodPanel))
    top, bottom = 0.38 + 0.24 * (heading.count("\n") + 1) + 0.17 * (title_lines - 1), 0.2 + 0.24 * legend_rows
    fig = Figure(figsize=(fw, 5.45 * rows + top + bottom + 0.45 * (rows - 1)))
    # Panels as wide as they draw (4.6 in each), centred, with the colour bar just right of them:
    # a figure widened for its legend must not leave one panel stranded far from its colour bar.
    # Where the figure has room, the panels are centred under the heading and the bar sits in the
    # right margin (a lone gcn_norm panel read as pushed aside); else panels and bar are centred together.
    content = 4.6 * cols + 0.2 * (cols - 1)
    bar_room = 1.3  # colour bar, its ticks and label
    centred = (fw - content) / 2
    left = centred if centred >= bar_room + 0.1 else max(0.1, (fw - bar_room - content) / 2)
    axes = _axes_grid(fig, rows, cols, left=left, right=fw - left - content, top=top, bottom=bottom, wgap=0.2, hgap=0.45)
    bar_x = left + content + 0.1
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
            x=bar_x,
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
            x=bar_x,
            y=fh / 2 + 0.15,
            height=height,
            label="edge weight (log)",
        )
        _colour_key(fig, colours, bar_at=(bar_x, fh / 2 - 0.15 - height, height))
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=9, frameon=False)
    return fig


def draw_neighbourhood(ax: Axes, panel: NeighbourhoodPanel, colours: NodeColours) -> None:
    """Draw one radial neighbourhood into ``ax`` (see ``plot_neighbourhoods``).

    Neighbours keep the same place in every panel (ordered by class, then id), so heads and layers
    compare position by position; a gap at 12 o'clock holds the self-loop.
    """
    raw = panel.hood
    # GCN's coefficients sum to several at a hub (5.7 at Cora's node 1358): on attention's width
    # scale they would look 5-10x heavier than any attention. Drawn as shares of their sum, they
    # sum to 1 as attention does; the caption keeps the raw numbers.
    hood = raw if panel.normalised else shares(raw)
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
    ax.annotate(
        f"node {hood.node}",
        (0, 0),
        xytext=(0, -14),
        textcoords="offset points",
        ha="center",
        va="top",
        fontsize=9,
        fontweight="bold",
        zorder=5,
        bbox=box,
    )
    if hood.self_weight is not None:
        w = hood.self_weight
        ax.add_patch(
            PathPatch(_loop_path(SELF_LOOP_GAP_DEG / 2), fill=False, lw=float(edge_width(w)), ec=cmap(norm(w)), zorder=2)
        )
        ax.text(0, 0.62, f"self-loop {style.sig(w)}", ha="center", va="bottom", fontsize=8, fontweight="bold", zorder=5)
    if k <= LABEL_ALL_UP_TO:
        for i in range(k):
            x, y = xy[i]
            rot = math.degrees(math.atan2(y, x))
            rot = rot - 180 if abs(rot) > 90 else rot  # keep text upright
            ax.text(
                1.09 * x,
                1.09 * y,
                f"{hood.sources[i]}",
                rotation=rot,
                rotation_mode="anchor",
                fontsize=7 if k > 12 else 8,
                ha="left" if x >= 0 else "right",
                va="center",
                zorder=5,
            )
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
        0.5,
        0.0,
        _hood_caption(hood, panel.normalised, heaviest, raw=raw),
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=8,
    )


def shares(hood: Neighbourhood) -> Neighbourhood:
    """``hood`` with every weight divided by their sum (self-loop included): weights that sum to 1."""
    total = hood.total
    if total <= 0:
        return hood
    self_weight = None if hood.self_weight is None else hood.self_weight / total
    return Neighbourhood(hood.node, hood.sources, hood.weights / total, self_weight)


def _loop_path(half_angle_deg: float, reach: float = 0.75) -> MplPath:
    """A teardrop from the centre up into the 12 o'clock gap and back: a cubic Bezier."""
    a = math.radians(90 + half_angle_deg * 0.8)
    b = math.radians(90 - half_angle_deg * 0.8)
    pts = [(0, 0), (reach * math.cos(a), reach * math.sin(a)), (reach * math.cos(b), reach * math.sin(b)), (0, 0)]
    return MplPath(pts, [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4])


def _hood_caption(hood: Neighbourhood, normalised: bool, heaviest: np.ndarray, *, raw: Neighbourhood | None = None) -> str:
    deg = hood.in_degree
    w = np.append(hood.weights, [hood.self_weight] if hood.self_weight is not None else [])
    lines = [f"{hood.sources.size} neighbours + self-loop" if hood.self_weight is not None else f"{hood.sources.size} neighbours"]
    if normalised:
        h = float(-(w[w > 0] * np.log(w[w > 0])).sum())
        top, even = style.sig_apart([w.max(), 1 / deg])
        lines.append(f"sum = {hood.total:.3f}; max {top}; uniform 1/{deg} = {even}")
        if deg > 1:
            ent, most = style.sig_apart([h, math.log(deg)], 4)
            lines.append(f"entropy {ent} of log({deg}) = {most}: {style.stated('H/log(deg)', style.share(h / math.log(deg), 3))}")
    else:
        raw = raw or hood
        r = np.append(raw.weights, [raw.self_weight] if raw.self_weight is not None else [])
        total = style.sig(raw.total, 4)
        lines.append(f"raw coefficients: sum {total} (need not be 1); max {style.sig(r.max())}, min {style.sig(r.min())}")
        top, even = style.sig_apart([w.max(), 1 / deg])
        lines.append(f"drawn as shares (each / {total}): max {top}; uniform 1/{deg} = {even}")
    if heaviest.size:
        items = [f"{hood.sources[i]}: {style.sig(hood.weights[i])}" for i in heaviest]
        half = (len(items) + 1) // 2
        lines.append(("heaviest (outlined): " if normalised else "heaviest shares (outlined): ") + ", ".join(items[:half]))
        lines.append(", ".join(items[half:]))
        cut = hood.weights[heaviest[-1]]
        tied = int((hood.weights == cut).sum()) - int((hood.weights[heaviest] == cut).sum())
        if tied:
            lines.append(f"{tied} more with weight {style.sig(cut)} not outlined (ties: first in edge order)")
    return "\n".join(line for line in lines if line)
