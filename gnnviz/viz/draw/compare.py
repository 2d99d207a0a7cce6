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
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullLocator

from gnnviz.viz.draw import style

BASELINE_COLOUR = "#c44e52"


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
    axes[0].legend(handles=handles, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    return fig


def plot_test_metric(
    labels: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    metric: str,
    seeds: Sequence[Sequence[int | None]],
    title: str,
) -> Figure:
    """Per group: each seed's test metric as a point, the mean as a bar with +- std whiskers.

    values[g]: the group's runs (None: not recorded, left out); seeds[g]: their seeds, written
    next to the points.
    """
    fig = Figure(figsize=(max(4.8, 1.5 * len(labels) + 1.8), 4.4))
    ax = fig.add_subplot()
    rows = max([t.count("\n") + 1 for t in (_wrap(x, 16) for x in labels)] + [1])
    _margins(fig, left=0.85, right=0.2, top=0.4, bottom=0.3 + 0.17 * rows)
    lows = []
    for i, (vals, sds) in enumerate(zip(values, seeds, strict=True)):
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
        # Seeds left of the whiskers, their names at the right end of the mean line: nothing overlaps.
        offsets = np.linspace(-0.2, -0.08, int(ok.sum())) if ok.sum() > 1 else np.full(1, -0.14)
        ax.scatter(i + offsets, v[ok], s=30, color=colour, edgecolors="black", linewidths=0.6, zorder=4)
        for y, s in zip(v[ok], np.asarray(sds, dtype=object)[ok], strict=True):
            if s is not None:
                ax.annotate(f"seed {s}", (i + 0.32, y), fontsize=7, va="center")
        spread = f" +- {std:.4f}" if ok.sum() > 1 else ""
        ax.annotate(
            f"{mean:.4f}{spread}\n(n={int(ok.sum())})",
            (i, 0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
        lows.append(float(v[ok].min()))
    ax.set_xticks(range(len(labels)), [_wrap(t, 16) for t in labels], fontsize=8)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    if lows:  # room under the lowest point for the written means
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo - 0.25 * (hi - lo), hi)
    ax.set_ylabel(f"test {metric}")
    ax.grid(axis="y", alpha=0.3)
    key = [
        Line2D([], [], color="0.3", lw=2.5, label="group mean"),
        Line2D([], [], ls="", marker="o", color="0.6", mec="black", mew=0.6, label="a seed"),
    ]
    if any(sum(x is not None for x in vals) > 1 for vals in values):
        key.insert(1, Line2D([], [], color="black", lw=1.2, marker="_", ms=10, label="+- std (n - 1)"))
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
    its mean as a thick tick (+- std whiskers on the lift panel), each seed a point and the mean
    written next to it; GCN's fixed coefficients as a dashed line with its value written on it.

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
                if std is not None and not log:  # on the log axis mean - std can be <= 0: the seeds' points show the spread
                    ax.errorbar([x], [mean], yerr=[std], color="black", capsize=3, lw=1, zorder=3)
                    shown[ax] += [mean - std, mean + std]
                ax.scatter(np.full(ok.sum(), x), v[ok], s=14, color="white", edgecolors="black", linewidths=0.7, zorder=4)
                shown[ax] += [mean, *v[ok].tolist()]
                if not log:
                    marks += [mean, *v[ok].tolist()]
                # Beyond the mark and its seeds' points: above a positive mean, below a negative one.
                down = mean < 0 and not log
                end = float(v[ok].min()) if down else max(mean, float(v[ok].max()))
                ax.annotate(
                    f"{mean:.2g}",
                    (x, min(end, mean) if down else end),
                    xytext=(0, -6 if down else 6),
                    textcoords="offset points",
                    ha="center",
                    va="top" if down else "bottom",
                    fontsize=7.5,
                    rotation=90 if len(series) > 3 else 0,
                    zorder=5,
                )
        if base is not None and (base > 0 or not log):
            ax.axhline(base, color=BASELINE_COLOUR, ls="--", lw=1.2, label="GCN's fixed coefficients", zorder=1)
            ax.annotate(
                f"GCN fixed: {base:.2g}",
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
    threshold = _symlog_threshold(marks)
    ax_lift.set_yscale("symlog", linthresh=threshold, linscale=0.5)
    ax_lift.axhspan(
        -threshold, threshold, color="0.9", lw=0, zorder=0, label=f"linear scale within ±{style.power_label(threshold)}"
    )
    ax_lift.axhline(0.0, color="black", lw=0.8)
    _pad_limits(ax_lift, shown[ax_lift])
    ax_lift.set_ylabel("lift: same-label mass - local homophily")
    if max_lift is not None:  # a legend line without a mark: the ceiling would flatten the marks if drawn
        ax_lift.plot([], [], " ", label=f"largest possible: {max_lift:.3g}")
    ax_lift.set_title("lift: weight on same-label neighbours beyond averaging", fontsize=10, y=1.0, pad=6)
    ax_kl.set_yscale("log")
    if shown[ax_kl]:
        _pad_limits(ax_kl, shown[ax_kl])
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


def _symlog_threshold(values: Sequence[float]) -> float:
    """The power of ten at or below the smallest non-zero |value| (1e-3 when all are 0): values
    that differ by orders of magnitude all sit in the logarithmic part of a symlog axis."""
    small = [abs(v) for v in values if np.isfinite(v) and v != 0]
    return 10.0 ** math.floor(math.log10(min(small))) if small else 1e-3


def _pad_limits(ax: Axes, values: Sequence[float], pad: float = 0.12) -> None:
    """y limits around ``values`` with ``pad`` of the range free above and below, measured in the
    axis's own scale (log, symlog), so the values written beyond the marks fit."""
    forward = ax.yaxis.get_transform()
    ends = forward.transform(np.array([[min(values)], [max(values)]], dtype=float)).ravel()
    span = max(ends[1] - ends[0], 1e-9)
    lo, hi = forward.inverted().transform(np.array([[ends[0] - pad * span], [ends[1] + pad * span]])).ravel()
    ax.set_ylim(lo, hi)


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
                ax.text(j, i, f"{m[i, j]:.3f}", ha="center", va="center", fontsize=8, color="white" if dark else "black")
    short = [_wrap(t, 18) for t in labels]
    ax.set_xticks(range(r), short, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(r), short, fontsize=8)
    ax.set_title(title, fontsize=10, y=1.0, pad=6)  # y given: no automatic placement, which measures every tick label
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text
