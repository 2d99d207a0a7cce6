"""Pure drawing for ``gnnviz compare``: numbers in, ``matplotlib.figure.Figure`` out.

One colour per group (``group_colour``) in every figure; a group's seeds are drawn as points and
its aggregate as mean +- std. Nothing is saved or shown here and no backend is chosen (the entry
point does that); figures are built with ``Figure()`` directly, without pyplot state.
Neighbourhoods side by side reuse ``neighbourhoods.plot_neighbourhoods``. Axes sit at fixed margins in
inches (``_margins``) rather than under a layout engine, which took a third of the drawing time
(``gnnviz compare`` of two cached Cora runs is meant to take under 5 s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullLocator

from gnnviz.viz.draw import style

BASELINE_COLOUR = "#c44e52"
# The test-metric axis spans at least this much (5 points of accuracy): a narrower one makes
# differences of a point look like gulfs.
MIN_METRIC_SPAN = 0.05


def _margins(fig: Figure, *, left: float, right: float, top: float, bottom: float, wgap: float = 0.0) -> None:
    """Place the figure's subplots with margins and gaps given in inches."""
    fw, fh = fig.get_size_inches()
    fig.subplots_adjust(left=left / fw, right=1 - right / fw, top=1 - top / fh, bottom=bottom / fh, wspace=0.0)
    axes = fig.axes
    if len(axes) > 1 and wgap:
        width = (fw - left - right - wgap * (len(axes) - 1)) / len(axes)
        fig.subplots_adjust(wspace=wgap / width)


def group_colour(i: int) -> tuple[float, ...]:
    """The colour of group ``i`` in every compare figure (tab10, skipping its red for the baseline)."""
    palette = [k for k in range(10) if k != 3]
    return colormaps["tab10"](palette[i % len(palette)])


@dataclass(frozen=True)
class Band:
    """One group's curve over epochs [T]: mean [T], std [T] (NaN: no band), n seeds [T]."""

    label: str
    epochs: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n: np.ndarray
    colour_index: int = 0  # the group's index: its colour in every figure
    checkpoints: tuple[int, ...] = ()  # each seed's checkpoint epoch


def plot_curve_bands(panels: Sequence[tuple[str, Sequence[Band]]], *, title: str) -> Figure:
    """One panel per quantity (e.g. "val loss"), each group's mean line and +- std band.

    panels: (y label, bands in group order). Where a seed stopped early the band is taken over
    the seeds still training; a dot marks the last epoch of each seed that ended before the others.
    A triangle on the top edge marks each seed's checkpoint (the state compared).
    """
    fig = Figure(figsize=(4.3 * len(panels) + 0.6, 4.4))
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    _margins(fig, left=0.75, right=0.2, top=0.75, bottom=0.55, wgap=0.85)
    for ax, (name, bands) in zip(axes, panels, strict=True):
        for b in bands:
            colour = group_colour(b.colour_index)
            ax.plot(b.epochs, b.mean, color=colour, lw=1.3, label=f"{b.label} (n={int(b.n.max()) if b.n.size else 0})")
            ok = np.isfinite(b.std)
            if ok.any():
                ax.fill_between(
                    b.epochs,
                    b.mean - np.where(ok, b.std, 0),
                    b.mean + np.where(ok, b.std, 0),
                    where=ok,
                    color=colour,
                    alpha=0.22,
                    lw=0,
                )
            ends = np.flatnonzero(np.diff(b.n) < 0)  # a seed stopped after this epoch
            if ends.size:
                ax.plot(b.epochs[ends], b.mean[ends], "o", mfc="white", mec=colour, ms=6, mew=1.5, zorder=4)
            if b.checkpoints:
                ax.plot(
                    b.checkpoints,
                    np.ones(len(b.checkpoints)),
                    "v",
                    color=colour,
                    ms=7,
                    mec="black",
                    mew=0.5,
                    transform=ax.get_xaxis_transform(),
                    clip_on=False,
                    zorder=5,
                )
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(name, fontsize=10, y=1.0, pad=9)
        ax.grid(alpha=0.3)
    handles, _ = axes[0].get_legend_handles_labels()
    handles.append(Line2D([], [], ls="", marker="v", color="0.5", mec="black", mew=0.5, ms=7, label="a seed's checkpoint"))
    if any(np.any(np.diff(b.n) < 0) for _, bands in panels for b in bands):
        handles.append(
            Line2D(
                [], [], ls="", marker="o", mfc="white", mec="0.3", mew=1.5, ms=6, label="a seed stopped; mean of the rest after"
            )
        )
    axes[0].legend(handles=handles, fontsize=9, frameon=False)
    fig.suptitle(title, fontsize=11)
    return fig


def plot_test_metric(
    labels: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    metric: str,
    seeds: Sequence[Sequence[int | None]],
    title: str,
    test_nodes: int | None = None,
) -> Figure:
    """Per group: each seed's test metric as a point, the mean as a bar with +- std whiskers.

    values[g]: the group's runs (None: not recorded, left out); seeds[g]: their seeds, written
    next to the points. test_nodes: the test set's size when the metric is an accuracy (a share
    of test nodes): a group of one run then gets the 95% binomial interval of that share (the
    uncertainty from which nodes are in the test set alone), drawn grey, since it has no spread
    over seeds. The axis spans at least ``MIN_METRIC_SPAN``, so that a point or two of difference
    does not fill the figure.
    """
    fig = Figure(figsize=(max(4.8, 1.5 * len(labels) + 1.8), 4.4))
    ax = fig.add_subplot()
    rows = max([t.count("\n") + 1 for t in (_wrap(x, 16) for x in labels)] + [1])
    _margins(fig, left=0.85, right=0.2, top=0.4, bottom=0.3 + 0.17 * rows)
    lows: list[float] = []
    ends: list[float] = []  # every point and whisker end: the axis must show them all
    binomial = False
    for i, (vals, sds) in enumerate(zip(values, seeds, strict=True)):
        half = 0.0
        v = np.array([np.nan if x is None else float(x) for x in vals])
        ok = np.isfinite(v)
        colour = group_colour(i)
        if not ok.any():
            continue
        mean = float(v[ok].mean())
        std = float(v[ok].std(ddof=1)) if ok.sum() > 1 else 0.0
        ax.hlines(mean, i - 0.3, i + 0.3, color=colour, lw=2.5, zorder=3)
        if ok.sum() > 1:
            ax.errorbar([i], [mean], yerr=[std], fmt="none", ecolor="black", elinewidth=1.2, capsize=8, zorder=3)
            ends += [mean - std, mean + std]
        elif test_nodes and 0.0 <= mean <= 1.0:
            half = 1.96 * math.sqrt(mean * (1.0 - mean) / test_nodes)
            ax.errorbar([i], [mean], yerr=[half], fmt="none", ecolor="0.55", elinewidth=1.2, capsize=8, zorder=3)
            ends += [mean - half, mean + half]
            binomial = True
        # Seeds left of the whiskers, their names at the right end of the mean line: nothing overlaps.
        offsets = np.linspace(-0.2, -0.08, int(ok.sum())) if ok.sum() > 1 else np.full(1, -0.14)
        ax.scatter(i + offsets, v[ok], s=30, color=colour, edgecolors="black", linewidths=0.6, zorder=4)
        for y, s in zip(v[ok], np.asarray(sds, dtype=object)[ok], strict=True):
            if s is not None:
                ax.annotate(f"seed {s}", (i + 0.32, y), fontsize=7, va="center")
        if ok.sum() > 1:
            written = f"{style.plus_minus(mean, std)}\n(n={int(ok.sum())}, ± std)"
        elif half:
            written = f"{style.plus_minus(mean, half)}\n(n=1, ± 95% interval)"
        else:
            written = f"{style.sig(mean, 4)}\n(n=1, no spread)"
        ax.annotate(
            written,
            (i, 0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
        lows.append(float(v[ok].min()))
        ends += v[ok].tolist()
    ax.set_xticks(range(len(labels)), [_wrap(t, 16) for t in labels], fontsize=8)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    if ends:
        lo, hi = min(ends), max(ends)
        centre, span = (lo + hi) / 2, max(hi - lo, MIN_METRIC_SPAN)
        lo, hi = centre - 0.55 * span, centre + 0.55 * span
        # Room under the lowest point for the written means, and above the highest for the key.
        ax.set_ylim(lo - 0.25 * (hi - lo), hi + 0.3 * (hi - lo))
    ax.set_ylabel(f"test {metric}")
    ax.grid(axis="y", alpha=0.3)
    key = [
        Line2D([], [], color="0.3", lw=2.5, label="group mean"),
        Line2D([], [], ls="", marker="o", color="0.6", mec="black", mew=0.6, label="a seed"),
    ]
    if any(sum(x is not None for x in vals) > 1 for vals in values):
        key.insert(1, Line2D([], [], color="black", lw=1.2, marker="_", ms=10, label="± std over seeds (n − 1)"))
    if binomial:
        key.insert(
            1,
            Line2D(
                [], [], color="0.55", lw=1.2, marker="_", ms=10, label=f"one run: 95% interval from the {test_nodes} test nodes"
            ),
        )
    ax.legend(handles=key, fontsize=7, frameon=False, loc="upper right")
    ax.set_title(title, fontsize=10, y=1.0, pad=6)  # y given: no automatic placement, which measures every tick label
    return fig


@dataclass(frozen=True)
class LayerSeries:
    """One group's per-layer values: values[layer] = the group's runs' values (None: undefined)."""

    label: str
    colour_index: int
    values: list[list[float | None]]


def plot_layer_stats(
    lift: Sequence[LayerSeries],
    kl: Sequence[LayerSeries],
    *,
    baseline_lift: float | None,
    baseline_kl: float | None,
    max_lift: float | None,
    title: str,
) -> Figure:
    """Two panels, layers on the x axis: lift against labels and mean KL from uniform, per group
    its mean as a thick tick with +- std whiskers (n > 1), each seed a point left of the whisker and
    the mean's value right of it; GCN's fixed coefficients as a dashed line with its value written on it.

    Learned attention on Cora lifts about 1e-4 where GCN's coefficients lift 5e-3: on a linear
    axis the attention's marks would sit on zero. The lift axis is symmetric-log (linear within
    +- a threshold below the smallest value, shaded grey and named in the legend, logarithmic
    beyond, so negative lifts keep their sign); KL from uniform is positive and sits on a log axis.
    """
    layers = max([len(s.values) for s in lift] + [1])
    fig = Figure(figsize=(max(10.0, 2.2 * layers * max(len(lift), 1) + 3.0), 4.8))
    ax_lift, ax_kl = fig.subplots(1, 2)
    _margins(fig, left=0.85, right=0.2, top=0.75, bottom=0.95, wgap=1.0)
    shown = {ax_lift: [0.0], ax_kl: []}  # every value drawn, for the axis limits
    marks: list[float] = []  # lift means, seeds and baseline (not whisker ends): the linear band's width
    for ax, series, base, log in ((ax_lift, lift, baseline_lift, False), (ax_kl, kl, baseline_kl, True)):
        width = 0.8 / max(len(series), 1)
        for k, s in enumerate(series):
            colour = group_colour(s.colour_index)
            for layer, vals in enumerate(s.values):
                v = np.array([np.nan if x is None else float(x) for x in vals])
                ok = np.isfinite(v) & ((v > 0) if log else True)
                if not ok.any():
                    continue
                x = layer - 0.4 + width * (k + 0.5)
                mean = float(v[ok].mean())
                std = float(v[ok].std(ddof=1)) if ok.sum() > 1 else None
                ax.hlines(
                    mean, x - 0.4 * width, x + 0.4 * width, color=colour, lw=3, zorder=3, label=s.label if layer == 0 else None
                )
                # Seeds' points left of the whisker, the mean's value right of it: nothing covers a mark.
                ax.scatter(
                    np.full(ok.sum(), x - 0.18 * width), v[ok], s=14, color="white", edgecolors="black", linewidths=0.7, zorder=4
                )
                if std is not None:
                    # The same +- std on both panels; on the log axis a whisker reaching <= 0 runs
                    # off the bottom edge (clipped), which is what it means: the spread reaches zero.
                    ax.errorbar([x], [mean], yerr=[std], color="black", capsize=3, lw=1, zorder=3)
                    shown[ax] += [e for e in (mean - std, mean + std) if e > 0 or not log]
                shown[ax] += [mean, *v[ok].tolist()]
                if not log:
                    marks += [mean, *v[ok].tolist()]
                ax.annotate(
                    style.sig(mean, 2),
                    (x, mean),
                    xytext=(5, 3),
                    textcoords="offset points",
                    ha="left",
                    va="bottom",
                    fontsize=7.5,
                    zorder=5,
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8),
                )
        if base is not None and (base > 0 or not log):
            ax.axhline(base, color=BASELINE_COLOUR, ls="--", lw=1.2, label="GCN's fixed coefficients", zorder=1)
            ax.annotate(
                f"GCN fixed: {style.sig(base, 2)}",
                (1.0, base),
                xycoords=("axes fraction", "data"),
                xytext=(-3, 3),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize=8,
                color=BASELINE_COLOUR,
            )
            shown[ax].append(base)
            if not log:
                marks.append(base)
        ax.set_xticks(range(layers), [f"layer {i}" for i in range(layers)])
        ax.set_xlim(-0.6, layers - 0.4)
        ax.grid(axis="y", alpha=0.3)
    style.lift_axis(ax_lift, marks, limits=shown[ax_lift])
    ax_lift.set_ylabel("lift: same-label mass - local homophily")
    if max_lift is not None:  # a legend line without a mark: the ceiling would flatten the marks if drawn
        ax_lift.plot([], [], " ", label=f"largest possible: {style.sig(max_lift)}")
    ax_lift.set_title("lift: weight on same-label neighbours beyond averaging", fontsize=10, y=1.0, pad=6)
    ax_kl.set_yscale("log")
    if shown[ax_kl]:
        style.pad_limits(ax_kl, shown[ax_kl])
    ax_kl.set_ylabel("mean KL from uniform (nats, log scale)")
    ax_kl.set_title("distance from uniform attention (lower = closer)", fontsize=10, y=1.0, pad=6)
    for ax in (ax_lift, ax_kl):
        ax.yaxis.set_minor_locator(NullLocator())
        style.power_ticks(ax.yaxis)
        # Under the axes: the baseline line runs where a legend inside would sit.
        handles = ax.get_legend_handles_labels()[0]
        if handles:
            ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=min(len(handles), 2))
    fig.suptitle(title, fontsize=11)
    return fig


def plot_agreement(matrix: Sequence[Sequence[float | None]], labels: Sequence[str], *, nodes: str, title: str) -> Figure:
    """Runs x runs: the fraction of ``nodes`` on which two runs predict the same, written in each cell."""
    m = np.array([[np.nan if v is None else float(v) for v in row] for row in matrix])
    r = m.shape[0]
    side = max(4.5, 0.85 * r + 2.8)
    longest = max([max(len(line) for line in _wrap(t, 18).splitlines()) for t in labels] + [4])
    margin = 0.3 + 0.065 * longest  # tick labels: about 0.065 inch per character at 8 pt
    fig = Figure(figsize=(side + margin + 1.3, side + margin))
    ax = fig.add_subplot()
    _margins(fig, left=margin, right=1.3, top=0.4, bottom=margin)
    off = m[~np.eye(r, dtype=bool)]
    lo = float(np.nanmin(off)) if off.size and np.isfinite(off).any() else 0.0
    vmin = max(0.0, min(lo, 0.999) - 0.02)
    image = ax.imshow(m, cmap="viridis", vmin=vmin, vmax=1.0)
    fw, fh = fig.get_size_inches()
    box = ax.get_position()
    cax = fig.add_axes((box.x1 + 0.2 / fw, box.y0, 0.18 / fw, box.height))
    fig.colorbar(image, cax=cax, label=f"agreement ({nodes})")
    for i in range(r):
        for j in range(r):
            if np.isfinite(m[i, j]):
                dark = m[i, j] < vmin + 0.6 * (1.0 - vmin)
                ax.text(j, i, style.share(m[i, j], 3), ha="center", va="center", fontsize=8, color="white" if dark else "black")
    short = [_wrap(t, 18) for t in labels]
    ax.set_xticks(range(r), short, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(r), short, fontsize=8)
    ax.set_title(title, fontsize=10, y=1.0, pad=6)  # y given: no automatic placement, which measures every tick label
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text
