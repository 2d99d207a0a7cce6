"""How far attention is from uniform, per layer and head: the entropy of learned vs uniform
attention over the same neighbours, and each node's KL from uniform on a log axis (numbers from
``gnnviz.analysis.attention``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.ticker
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gnnviz.viz.draw.style import _axes_grid, _bare, _count_text, _wrap, power_label, sig, sig_apart

ENTROPY_COLUMNS = 4  # entropy grid panels per row (a layer with more heads wraps): 5 made the text too small as shown
# KL from uniform of attention spread evenly over half of a node's neighbours: a yardstick on the log axis.
HALF_KL = math.log(2)
UNDERFLOW_BINS = 2  # width of the bar for nodes below the KL axis's first edge, in bins


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
    mean_learned, mean_uniform = sig_apart([panel.entropy.mean(), panel.uniform.mean()], 4)
    ax.stairs(learned, bins, fill=True, color="tab:orange", alpha=0.6, label=f"learned attention (mean {mean_learned})")
    ax.stairs(uniform, bins, color="black", lw=1.2, label=f"uniform, log(in-degree incl. self-loop) (mean {mean_uniform})")
    if title:
        ax.set_title(panel.title, fontsize=9, y=1.0, pad=4)
    ax.set_xlim(bins[0], bins[-1])
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_count_text))
    ax.grid(alpha=0.3)
    if legend:
        # Headroom above the tallest bar for the key: "best" still laid it over Karate's peak.
        ax.set_ylim(0, max(float(learned.max(initial=0)), float(uniform.max(initial=0)), 1.0) * 1.3)
        ax.legend(fontsize=8, frameon=False, loc="upper right")


def draw_kl_histogram(ax: Axes, panel: EntropyPanel, bins: np.ndarray, *, title: bool = True) -> None:
    """Per-node KL from uniform on a log axis (log-spaced ``bins``, e.g. ``attention.kl_bins``).

    Nodes below the first edge (uniform to float precision, or a lone self-loop with nothing to
    choose) have no place on a log axis: they get a bar of their own at the far left, grey and
    hatched, under a "<10^-6" tick, so that every node is in the picture.
    """
    kl = panel.divergence
    counts, _ = np.histogram(kl, bins=bins)
    ax.stairs(counts, bins, fill=True, color="tab:purple", alpha=0.7)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_count_text))
    ax.set_xscale("log")
    below = int((kl < bins[0]).sum())
    step = float(bins[1] / bins[0]) if bins.size > 1 else 10.0
    # The underflow bar: UNDERFLOW_BINS bins wide, one bin's gap before the first edge.
    lo_edge = bins[0] / step ** (UNDERFLOW_BINS + 1)
    hi_edge = bins[0] / step
    centre = math.sqrt(lo_edge * hi_edge)
    if below:
        ax.bar(lo_edge, below, width=hi_edge - lo_edge, align="edge", color="0.75", hatch="////", edgecolor="0.4", linewidth=0.6)
        ax.set_xlim(lo_edge / step**0.5, bins[-1])
    else:
        ax.set_xlim(bins[0], bins[-1])
    if kl.size:
        median = float(np.median(kl))
        if bins[0] <= median <= bins[-1]:
            ax.axvline(median, color="black", ls="--", lw=1)
        elif median < bins[0]:  # half the nodes or more are in the underflow bar
            ax.axvline(centre, color="black", ls="--", lw=1)
    if bins[0] <= HALF_KL <= bins[-1]:
        ax.axvline(HALF_KL, color="0.5", ls=":", lw=1.2)
    if below:
        ticks = [t for t in 10.0 ** np.arange(math.ceil(math.log10(bins[0])), math.floor(math.log10(bins[-1])) + 1)]
        # Every other decade when there are many, and the first edge's label left to the underflow bar's.
        shown = ticks[1::2] if len(ticks) > 5 else ticks[1:]
        ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator([centre, *ticks]))
        ax.xaxis.set_major_formatter(
            matplotlib.ticker.FuncFormatter(
                lambda v, _pos: f"<{power_label(bins[0])}" if v == centre else (power_label(v) if v in shown else "")
            )
        )
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_ylim(0, max(float(counts.max(initial=0)), below, 1.0) * 1.08)
    if title:
        ax.set_title(panel.title, fontsize=9, y=1.0, pad=4)
    ax.grid(alpha=0.3)


def plot_entropy_histogram(panel: EntropyPanel, bins: np.ndarray, kl_bins: np.ndarray, *, title: str) -> Figure:
    """One layer/head over all nodes: entropy of learned vs uniform attention (left, even bins
    ``bins`` shared by both), and each node's KL from uniform on a log axis (right, ``kl_bins``):
    near-uniform attention piles up far left, peaked attention towards 1 and above."""
    fig = Figure(figsize=(12, 5.0))
    ax, ax_kl = _axes_grid(fig, 1, 2, left=0.7, right=0.25, top=1.0, bottom=1.0, wgap=0.9)[0]
    draw_entropy_histogram(ax, panel, bins, title=False)
    ax.set_xlabel("entropy H of a node's incoming attention (nats)")
    ax.set_ylabel("nodes")
    ax.set_title("entropy, learned vs uniform (same bins)", fontsize=10, y=1.0, pad=4)
    draw_kl_histogram(ax_kl, panel, kl_bins, title=False)
    kl = panel.divergence
    below = (
        f";\nhatched grey: below {power_label(kl_bins[0])} (uniform to float precision, or only a self-loop)"
        if (kl < kl_bins[0]).any()
        else ""
    )
    ax_kl.set_xlabel(
        "KL from uniform = log(in-degree) - H (nats, log axis)\ndashed: median; dotted: log 2 = even over half the neighbours"
        + below
    )
    ax_kl.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax_kl.set_ylabel("nodes")
    ax_kl.set_title(
        f"distance from uniform, median {sig(float(np.median(kl)) if kl.size else float('nan'))}", fontsize=10, y=1.0, pad=4
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
    fig = Figure(figsize=(max(2.9 * ncols + 0.8, 7.0), 2.2 * r + 1.75))
    axes = _axes_grid(fig, r, ncols, left=0.7, right=0.15, top=0.75, bottom=1.0, wgap=0.6, hgap=0.55)
    used = {(gr, gc) for gr, gc, _ in placed}
    for (gr, gc), ax in np.ndenumerate(axes):
        if (gr, gc) not in used:
            _bare(ax)
    for gr, gc, panel in placed:
        ax = axes[gr, gc]
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4, integer=True))
        draw_kl_histogram(ax, panel, kl_bins)
        if gc == 0:
            ax.set_ylabel("nodes")
    fig.supxlabel(
        _wrap(
            "KL from uniform attention over the same neighbours = log(in-degree) - H, per node (nats, log axis); dashed: median; "
            "dotted: log 2, all weight spread evenly over half the neighbours"
            + (
                f"; hatched grey bar: nodes below the axis ({power_label(kl_bins[0])}: uniform to float precision, "
                "or only a self-loop)"
                if any((p.divergence < kl_bins[0]).any() for _, _, p in placed)
                else ""
            ),
            fig,
            10,
        ),
        fontsize=10,
        y=0.12 / fig.get_size_inches()[1] + 0.01,
    )
    fig.suptitle(_wrap(title, fig, 11), fontsize=11)
    return fig
