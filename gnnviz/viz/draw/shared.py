"""The attention of nodes that share all their neighbours, as a target-by-neighbour heatmap per
layer (``analysis.shared.SharedBlock``): rows that rank the columns alike are static attention."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from gnnviz.analysis.shared import SharedBlock


def plot_shared_block(
    blocks: Sequence[SharedBlock],
    layers: Sequence[int],
    labels: np.ndarray,
    *,
    title: str,
) -> Figure:
    """One heatmap per layer: rows the targets, columns their shared neighbours, each tick
    'id (class c)', cells the row's weight (renormalised over the neighbours, so a row sums to 1)."""
    y = np.asarray(labels)
    first = blocks[0]
    t, s = first.targets.size, first.sources.size
    fig = Figure(figsize=(max(6.0, 0.45 * s * len(blocks) + 2.5), 0.4 * t + 2.6), layout="constrained")
    axes = fig.subplots(1, len(blocks), squeeze=False)[0]

    def tick(v: int) -> str:
        return f"{v} (class {int(y[v])})" if y.ndim == 1 else str(v)

    image = None
    for ax, b, layer in zip(axes, blocks, layers, strict=True):
        image = ax.imshow(b.weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(b.sources.size), [tick(int(v)) for v in b.sources], rotation=90, fontsize=7)
        ax.set_yticks(range(b.targets.size), [tick(int(v)) for v in b.targets], fontsize=7)
        ax.set_title(f"layer {layer}", fontsize=9)
        ax.set_xlabel("shared neighbour", fontsize=8)
    axes[0].set_ylabel("target node", fontsize=8)
    fig.colorbar(image, ax=list(axes), label="weight over the neighbours (self-loop left out)", shrink=0.8)
    shown = f"{t} of the {first.group}" if first.group > t else f"all {first.group}"
    fig.suptitle(
        f"{title}\n{shown} nodes with these {s} neighbours exactly; static attention: every row ranks the columns alike",
        fontsize=10,
    )
    return fig
