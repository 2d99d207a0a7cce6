"""Training curves from the run's ``metrics.csv``: loss and metric per epoch, train and val, the
drawn checkpoint's epoch marked.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gnnviz.datasets.base import metric_label
from gnnviz.viz.draw.style import _axes_grid, _wrap


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
    marked: str = "best epoch",
) -> Figure:
    """Loss and metric per epoch, train and val, the checkpointed epoch marked (dashed). All [T].

    min_loss_epoch: also mark where the validation loss was lowest (dotted), when it matters.
    marked: what the checkpointed epoch is called in the legend ("min-loss state, epoch").
    """
    fig = Figure(figsize=(11, 4.2))
    ax_loss, ax_metric = _axes_grid(fig, 1, 2, left=0.75, right=0.2, top=0.85, bottom=0.6, wgap=0.9)[0]
    pairs = ((ax_loss, train_loss, val_loss, "loss"), (ax_metric, train_metric, val_metric, metric_label(metric)))
    for ax, tr, va, name in pairs:
        ax.plot(epochs, tr, color="tab:blue", lw=1.4, label=f"train {name}")
        ax.plot(epochs, va, color="tab:orange", lw=1.4, label=f"val {name}")
        if best_epoch is not None:
            ax.axvline(best_epoch, color="0.3", ls="--", lw=1)
            at = np.flatnonzero(epochs == best_epoch)
            if at.size and np.isfinite(va[at[0]]):
                ax.plot(
                    [best_epoch],
                    [va[at[0]]],
                    "o",
                    color="tab:orange",
                    mec="black",
                    ms=7,
                    zorder=3,
                    label=f"{marked} {best_epoch}: val {va[at[0]]:.3f}",
                )
        if min_loss_epoch is not None:
            ax.axvline(min_loss_epoch, color="tab:red", ls=":", lw=1.2, label=f"lowest val loss: epoch {min_loss_epoch}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, frameon=False)
    ax_loss.set_title("loss", y=1.0, pad=6)
    ax_metric.set_title(metric_label(metric), y=1.0, pad=6)
    fig.suptitle(_wrap(title, fig, 11), fontsize=11)
    return fig
