"""Pure drawing for ``insight``'s numbers: arrays in, ``matplotlib.figure.Figure`` out.

Each function draws one panel: on ``ax`` when given (the figure it belongs to is returned), else
on a new ``Figure`` (built directly, no pyplot state). Nothing is saved or shown here, and no
backend is chosen: the caller's entry point does that. Undefined values (None) are not drawn.
Titles are the caller's: they name what the panel was drawn from (dataset, model, checkpoint).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gnnviz.viz.draw import style

HEAD_COLOUR = "#4c72b0"
BASELINE_COLOUR = "#c44e52"
GROUP_GAP = 1.0  # empty slots between the bars of two layers
FLOW_NUMBERS_UP_TO = 10  # classes in a flow matrix: beyond, the cells are too small for numbers


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _per_head_positions(values: Sequence[Sequence[float | None]]) -> tuple[np.ndarray, np.ndarray, list[str], list[float]]:
    """x [B], heights [B] (NaN for None), tick labels and layer centres for bars grouped by layer."""
    xs, hs, labels, centres = [], [], [], []
    x = 0.0
    for heads in values:
        start = x
        for h, v in enumerate(heads):
            xs.append(x)
            hs.append(np.nan if v is None else float(v))
            labels.append(f"h{h}")
            x += 1
        centres.append((start + x - 1) / 2 if heads else start)
        x += GROUP_GAP
    return np.array(xs), np.array(hs), labels, centres


def _layer_labels(ax: Axes, centres: list[float], notes: Sequence[str] = ()) -> None:
    """Layer names (and a note each, if given) under the head ticks."""
    for layer, c in enumerate(centres):
        note = f" ({notes[layer]})" if layer < len(notes) else ""
        ax.annotate(
            f"layer {layer}{note}",
            (c, 0),
            xycoords=("data", "axes fraction"),
            xytext=(0, -22),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=9,
        )


def plot_lift(
    lift: Sequence[Sequence[float | None]],
    *,
    baseline: float | None = None,
    max_lift: float | None = None,
    title: str,
    ax: Axes | None = None,
) -> Figure:
    """Lift (label mass - local homophily) per layer and head: lift[layer][head].

    ``baseline``: the same measure for GCN's fixed coefficients on the same graph, drawn as a
    line: what a learned attention has to beat. ``max_lift``: the largest possible mean lift
    (all weight on same-label neighbours), written in the legend rather than drawn. The y axis is
    ``style.lift_axis`` (symmetric-log, as in ``gnnviz compare``), so a lift of 1e-5 is readable
    next to GCN's 5e-3; each bar's value is written at its end.
    """
    fig, ax = _axes(ax, (max(6.0, 0.45 * sum(len(h) for h in lift) + 2.5), 3.6))
    xs, hs, labels, centres = _per_head_positions(lift)
    ok = np.isfinite(hs)
    ax.bar(xs[ok], hs[ok], width=0.8, color=HEAD_COLOUR, label="learned attention", zorder=2)
    if baseline is not None and abs(baseline) < style.ROUNDING:
        baseline = 0.0  # float rounding of an exact 0 (uniform weights on a regular graph): say 0, not -2.8e-17
    if baseline is not None:
        ax.axhline(
            baseline, color=BASELINE_COLOUR, ls="--", lw=1.2, label=f"GCN coefficients ({style.sig(baseline, 2, signed=True)})"
        )
    if max_lift is not None:  # a legend line without a mark
        ax.plot([], [], " ", label=f"largest possible: {style.sig(max_lift)}")
    marks = [*hs[ok].tolist(), *([baseline] if baseline is not None else [])]
    # Headroom for the values written past the bars' ends: about 1.5 decades on the log parts.
    style.lift_axis(ax, marks, limits=[float(v) * 30 for v in hs[ok]])
    for x, h in zip(xs[ok], hs[ok], strict=True):
        ax.annotate(
            style.sig(float(h), 2, signed=True),
            (x, h),
            xytext=(0, 2 if h >= 0 else -2),
            textcoords="offset points",
            ha="center",
            va="bottom" if h >= 0 else "top",
            fontsize=6.5,
            rotation=90,
        )
    ax.set_xticks(xs, labels, fontsize=8)
    _layer_labels(ax, centres)
    ax.set_ylabel("lift: label mass - local homophily")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, frameon=False)
    ax.set_title(title, fontsize=10)
    return fig


def plot_lift_by_degree(
    bins: Sequence[tuple[int, int]],
    series: Mapping[str, Sequence[float | None]],
    nodes: Sequence[int],
    *,
    title: str,
    ax: Axes | None = None,
) -> Figure:
    """Lift by neighbour-count bin: one line per series (e.g. "layer 0 (head mean)", "GCN").

    bins: [lo, hi] per bin; series: name -> lift per bin (None where the bin is empty);
    nodes: nodes per bin, written under the bin's label.
    """
    fig, ax = _axes(ax, (max(6.0, 0.7 * len(bins) + 2.0), 3.2))
    x = np.arange(len(bins))
    for i, (name, values) in enumerate(series.items()):
        v = np.array([np.nan if y is None else float(y) for y in values])
        look = {"color": BASELINE_COLOUR, "ls": "--"} if "gcn" in name.lower() else {"color": f"C{i}"}
        ax.plot(x, v, marker="o", ms=4, label=name, **look)
    style.lift_axis(ax, [float(y) for values in series.values() for y in values if y is not None])
    ax.set_xticks(x, [f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in bins] if bins else [], fontsize=8)
    for xi, n in zip(x, nodes, strict=True):
        ax.annotate(
            f"n={n:,}",
            (xi, 0),
            xycoords=("data", "axes fraction"),
            xytext=(0, -22),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=7,
            color="0.35",
        )
    ax.set_xlabel("neighbours (self-loop not counted)", labelpad=18)
    ax.set_ylabel("mean lift (symmetric-log)")
    # Beside the axes: inside, "best" still covered a bin's point whenever every corner held one.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(title, fontsize=10)
    return fig


def plot_ranking_agreement(
    agreement: Sequence[Sequence[float | None]],
    *,
    pairs: Sequence[int],
    title: str,
    ax: Axes | None = None,
) -> Figure:
    """Share of concordant neighbour rankings per layer and head: agreement[layer][head].

    1.0 is static attention (GAT's, whatever its weights); below it, targets disagree on the order
    of neighbours they share (dynamic, possible for GATv2). pairs: target pairs measured per layer.
    """
    fig, ax = _axes(ax, (max(6.0, 0.35 * sum(len(h) for h in agreement) + 2.5), 3.2))
    xs, hs, labels, centres = _per_head_positions(agreement)
    ok = np.isfinite(hs)
    ax.bar(xs[ok], hs[ok], width=0.8, color=HEAD_COLOUR)
    ax.axhline(1.0, color="black", ls=":", lw=1.0, label="static: every target ranks alike")
    ax.axhline(0.5, color="0.5", ls=":", lw=1.0, label="unrelated rankings")
    ax.set_ylim(0.0, 1.12)  # bars start at 0: a bar's length is its value
    for x, h in zip(xs[ok], hs[ok], strict=True):
        ax.annotate(
            style.sig(float(h), 3), (x, h), xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=7
        )
    ax.set_xticks(xs, labels, fontsize=8)
    _layer_labels(ax, centres, [f"{p} pairs" for p in pairs])
    ax.set_ylabel("concordant / (concordant + discordant)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, frameon=False)
    ax.set_title(title, fontsize=10)
    return fig


def plot_ablation(
    names: Sequence[str],
    change: Sequence[float | None],
    changed: Sequence[int],
    *,
    nodes: int,
    metric: str,
    title: str,
    ax: Axes | None = None,
) -> Figure:
    """Metric change when attention is switched off, one bar per replacement (named for a reader,
    e.g. "uniform weights in all layers"); each bar's change is written beside the axes.

    change: after - before per replacement (None: undefined); changed: nodes whose prediction
    changes, out of ``nodes``, written next to each bar.
    """
    fig, ax = _axes(ax, (8.0, 0.45 * len(names) + 1.4))
    y = np.arange(len(names))[::-1]
    v = np.array([np.nan if c is None else float(c) for c in change])
    ok = np.isfinite(v)
    colours = np.where(v[ok] < 0, BASELINE_COLOUR, HEAD_COLOUR)
    ax.barh(y[ok], v[ok], height=0.6, color=colours)
    ax.axvline(0.0, color="black", lw=0.8)
    span = max(float(np.nanmax(np.abs(v))) if ok.any() else 0.0, 1e-3)
    ax.set_xlim(-1.15 * span, 1.15 * span)
    for yi, vi, k in zip(y, v, changed, strict=True):
        text = (f"{style.sig(float(vi), 2, signed=True)}; " if np.isfinite(vi) else "metric undefined; ") + (
            f"{k}/{nodes} predictions change"
        )
        ax.annotate(
            text,
            (1.0, yi),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=7,
        )
    ax.set_yticks(y, list(names), fontsize=8)
    ax.set_xlabel(f"{metric} change (switched off - trained)")
    ax.set_title(title, fontsize=10)
    return fig


def plot_over_training(
    epochs: Sequence[int],
    val_metric: Sequence[float | None],
    lift: Mapping[str, Sequence[float | None]],
    kl: Mapping[str, Sequence[float | None]],
    *,
    metric: str,
    best_epoch: int | None = None,
    title: str,
) -> Figure:
    """Attention over training, three panels sharing the epoch axis: the validation metric, the
    lift of attention against labels and the mean KL from uniform attention (log axis), one line
    per series (e.g. "layer 0 (mean of heads)"); ``best_epoch``, the checkpoint, dashed."""
    fig = Figure(figsize=(7.0, 7.0), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    x = np.asarray(epochs, dtype=float)

    def arr(values: Sequence[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else float(v) for v in values])

    axes[0].plot(x, arr(val_metric), marker="o", ms=3, color="black")
    axes[0].set_ylabel(f"val {metric}")
    for i, (name, values) in enumerate(lift.items()):
        axes[1].plot(x, arr(values), marker="o", ms=3, color=f"C{i}", label=name)
    style.lift_axis(axes[1], [float(y) for values in lift.values() for y in values if y is not None], band_label=False)
    axes[1].set_ylabel("lift (same-label mass\n- homophily, symlog)")
    for i, (name, values) in enumerate(kl.items()):
        v = arr(values)
        ok = np.isfinite(v) & (v > 0)
        axes[2].plot(x[ok], v[ok], marker="o", ms=3, color=f"C{i}", label=name)
    axes[2].set_yscale("log")
    axes[2].set_ylabel("mean KL from\nuniform (nats)")
    axes[2].set_xlabel("epoch")
    if lift:
        axes[1].legend(fontsize=8, loc="best")
    for ax in axes:
        if best_epoch is not None:
            ax.axvline(best_epoch, color="0.4", ls="--", lw=1.0)
        ax.grid(alpha=0.3)
    axes[0].set_title(title, fontsize=10)
    return fig


def plot_class_flow(panels: Sequence[tuple[str, np.ndarray]], uniform: np.ndarray, names: Sequence[str], *, title: str) -> Figure:
    """Class-to-class attention: rows = the class of the node paying attention, columns = the
    class of the neighbour it pays it to. First ``uniform`` [C, C], the shares that plain
    averaging over the same neighbours gives (the graph's own mix, each row summing to 1, in
    blue); then one panel per (title, share [C, C]) coloured and written as its change from
    uniform (share - uniform; red: more than averaging, blue: less), on one linear colour scale
    shared by the panels (a faint panel changed little), to two significant figures (0 only when
    exactly 0). Only the change is written: a share
    and its uniform share written side by side read as a difference that rounding made (0.92 vs
    0.91 for a change of 7e-5). Up to ``FLOW_NUMBERS_UP_TO`` classes the cells carry numbers.
    Panels sit two to a row, so the figure stays narrow enough for its text to be read where the
    page shows it. names: [C] class labels for the rows."""
    c = uniform.shape[0]
    numbers = c <= FLOW_NUMBERS_UP_TO
    shown = [("uniform weights over the same neighbours\n(the graph's own mix): share", uniform), *panels]
    cols = min(2, len(shown))
    rows = -(-len(shown) // cols)
    cell = float(np.clip(4.0 / max(c, 1), 0.12, 0.55))
    side = min(max(c * cell, 2.6), 5.5)
    tick = 9 if c <= 12 else 7
    # Room for the longest class name at ``tick`` points (about 0.55 em a character) and the axis label.
    left = 0.6 + 0.5 * tick / 72 * max((len(n) for n in names), default=2)
    gap, row_gap, top, bottom, bars = 0.45, 1.15, 1.05, 0.55, 2.3
    fig = Figure(figsize=(left + cols * side + (cols - 1) * gap + bars, top + rows * side + (rows - 1) * row_gap + bottom))
    fw, fh = fig.get_size_inches()
    changes = [share - uniform for _, share in panels]
    finite = np.concatenate([d[np.isfinite(d)].ravel() for d in changes]) if changes else np.zeros(0)
    reach = max(float(np.abs(finite).max()) if finite.size else 0.0, style.ROUNDING)
    change_norm = Normalize(-reach, reach)  # linear: a colour's strength is the change's size
    share_image = change_image = None
    for k, (name, share) in enumerate(shown):
        r, col = divmod(k, cols)
        x, y = left + col * (side + gap), fh - top - (r + 1) * side - r * row_gap
        ax = fig.add_axes((x / fw, y / fh, side / fw, side / fh))
        values = share if k == 0 else changes[k - 1]
        if k == 0:
            share_image = ax.imshow(
                np.ma.masked_invalid(values), cmap=colormaps["Blues"], vmin=0, vmax=1, interpolation="nearest"
            )
        else:
            change_image = ax.imshow(
                np.ma.masked_invalid(values), cmap=colormaps["RdBu_r"], norm=change_norm, interpolation="nearest"
            )
            name = f"{name}:\nchange from uniform"
        ax.set_title(name, fontsize=10)
        ax.set_xticks(range(c), [str(i) for i in range(c)], fontsize=tick)
        ax.set_yticks(range(c), list(names) if col == 0 and names else [str(i) for i in range(c)], fontsize=tick)
        ax.set_xlabel("neighbour's class", fontsize=9)
        if col == 0:
            ax.set_ylabel("attending node's class", fontsize=9)
        if not numbers:
            continue
        for i in range(c):
            for j in range(c):
                v = float(values[i, j])
                if not np.isfinite(v):
                    continue
                if k == 0:
                    text, dark = style.share(v), v > 0.6
                else:
                    text, dark = style.sig(v, 2, signed=True, short=True), abs(change_norm(v) - 0.5) > 0.35
                ax.text(j, i, text, ha="center", va="center", fontsize=8.5, color="white" if dark else "black")
    bar_height = min(side, 3.5)
    bar_y = fh - top - bar_height
    x0 = left + cols * side + (cols - 1) * gap + 0.3
    if share_image is not None:
        cax = fig.add_axes((x0 / fw, bar_y / fh, 0.15 / fw, bar_height / fh))
        fig.colorbar(share_image, cax=cax).set_label("uniform share", fontsize=9, labelpad=2)
    if change_image is not None:
        cax = fig.add_axes(((x0 + 0.85) / fw, bar_y / fh, 0.15 / fw, bar_height / fh))
        bar = fig.colorbar(change_image, cax=cax)
        bar.set_label("change from uniform", fontsize=9, labelpad=2)
        # Significant figures, no offset label ("1e-4" above the bar reads as part of the scale).
        cax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: style.sig(v, 2, signed=True, short=True)))
    fig.suptitle(title, fontsize=11, y=1 - 0.1 / fh, va="top")
    return fig
