"""Node embeddings in 2-D side by side (t-SNE coordinates from ``coords/embeddings.py``):
colour = class, marker = split, black ring = misclassified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gnnviz.viz.draw.style import NodeColours, _axes_grid, _colour_key, _ring, _wrap, _wrap_to, _wrong_handle

SPLIT_MARKERS = {"train": "o", "val": "s", "test": "^", "other": "."}


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
    # 5 in a panel: at 6 the page showed the two-panel figure shrunk until its 9 pt legend read as 4 pt.
    fig = Figure(figsize=(5.0 * len(panels) + 2.6, 5.8))
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
                panel.coords[m, 0],
                panel.coords[m, 1],
                s=size * (2.2 if marker == "." else 1.0),
                marker=marker,
                c=colours.rgba[sel],
                linewidths=0,
                zorder={"train": 4, "other": 2}.get(name, 3),
            )
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
