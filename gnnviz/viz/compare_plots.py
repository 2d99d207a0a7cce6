"""Pure drawing for ``gnnviz compare``: numbers in, ``matplotlib.figure.Figure`` out.

One colour per group (``group_colour``) in every figure; a group's seeds are drawn as points and
its aggregate as mean +- std. Nothing is saved or shown here and no backend is chosen (the entry
point does that); figures are built with ``Figure()`` directly, without pyplot state.
Neighbourhoods side by side reuse ``plots.plot_neighbourhoods``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

BASELINE_COLOUR = "#c44e52"


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


def plot_curve_bands(panels: Sequence[tuple[str, Sequence[Band]]], *, title: str) -> Figure:
    """One panel per quantity (e.g. "val loss"), each group's mean line and +- std band.

    panels: (y label, bands in group order). Where a seed stopped early the band is taken over
    the seeds still training; a dot marks the last epoch of each seed that ended before the others.
    """
    fig = Figure(figsize=(4.3 * len(panels) + 0.6, 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (name, bands) in zip(axes, panels, strict=True):
        for i, b in enumerate(bands):
            colour = group_colour(i)
            ax.plot(b.epochs, b.mean, color=colour, lw=1.3, label=f"{b.label} (n={int(b.n.max()) if b.n.size else 0})")
            ok = np.isfinite(b.std)
            if ok.any():
                ax.fill_between(b.epochs, b.mean - np.where(ok, b.std, 0), b.mean + np.where(ok, b.std, 0),
                                where=ok, color=colour, alpha=0.22, lw=0)  # fmt: skip
            ends = np.flatnonzero(np.diff(b.n) < 0)  # a seed stopped after this epoch
            if ends.size:
                ax.plot(b.epochs[ends], b.mean[ends], "o", color=colour, ms=4, mec="black", mew=0.5)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, frameon=False)
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
    fig = Figure(figsize=(max(4.8, 1.5 * len(labels) + 1.8), 4.4), layout="constrained")
    ax = fig.add_subplot()
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
        ax.annotate(f"{mean:.4f}{spread}\n(n={int(ok.sum())})", (i, 0), xycoords=("data", "axes fraction"),
                    xytext=(0, 4), textcoords="offset points", ha="center", va="bottom", fontsize=8)  # fmt: skip
        lows.append(float(v[ok].min()))
    ax.set_xticks(range(len(labels)), [_wrap(t, 16) for t in labels], fontsize=8)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    if lows:  # room under the lowest point for the written means
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo - 0.25 * (hi - lo), hi)
    ax.set_ylabel(f"test {metric}")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title, fontsize=10)
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
    """Two panels, layers on the x axis: lift against labels (linear) and mean KL from uniform
    (log), one bar per group (mean, +- std whiskers, each seed a point) and GCN's fixed
    coefficients as a dashed line. Values are written on the bars: a lift of 1e-4 next to a
    baseline of 5e-3 is still readable."""
    layers = max([len(s.values) for s in lift] + [1])
    fig = Figure(figsize=(max(10.0, 2.2 * layers * max(len(lift), 1) + 3.0), 4.6), layout="constrained")
    ax_lift, ax_kl = fig.subplots(1, 2)
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
                ax.bar([x], [mean], width=width * 0.9, color=colour, label=s.label if layer == 0 else None, zorder=2)
                if std is not None and not log:  # on the log axis mean - std can be <= 0: the seeds' points show the spread
                    ax.errorbar([x], [mean], yerr=[std], color="black", capsize=3, lw=1, zorder=3)
                ax.scatter(np.full(ok.sum(), x), v[ok], s=12, color="white", edgecolors="black", linewidths=0.6, zorder=4)
                ax.annotate(f"{mean:.2g}", (x, mean), xytext=(0, 3), textcoords="offset points", ha="center",
                            va="bottom", fontsize=7, rotation=90 if len(series) > 3 else 0, zorder=5)  # fmt: skip
        if base is not None and (base > 0 or not log):
            ax.axhline(base, color=BASELINE_COLOUR, ls="--", lw=1.2, label=f"GCN's fixed coefficients ({base:.2g})", zorder=1)
        ax.set_xticks(range(layers), [f"layer {i}" for i in range(layers)])
        ax.set_xlim(-0.6, layers - 0.4)
        ax.grid(axis="y", alpha=0.3)
    ax_lift.axhline(0.0, color="black", lw=0.8)
    ax_lift.set_ylabel("lift: same-label mass - local homophily")
    ceiling = f"; largest possible {max_lift:.3g}" if max_lift is not None else ""
    ax_lift.set_title(f"attention on same-label neighbours, beyond averaging (0 = uniform{ceiling})", fontsize=9)
    ax_lift.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    ax_kl.set_yscale("log")
    ax_kl.set_ylabel("mean KL from uniform (nats)")
    ax_kl.set_title("how far attention is from uniform (log axis; lower = closer)", fontsize=9)
    for ax in (ax_lift, ax_kl):  # under the axes: the baseline line runs where a legend inside would sit
        handles = ax.get_legend_handles_labels()[0]
        if handles:
            ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=min(len(handles), 3))
    fig.suptitle(title, fontsize=11)
    return fig


def plot_agreement(matrix: Sequence[Sequence[float | None]], labels: Sequence[str], *, nodes: str, title: str) -> Figure:
    """Runs x runs: the fraction of ``nodes`` on which two runs predict the same, written in each cell."""
    m = np.array([[np.nan if v is None else float(v) for v in row] for row in matrix])
    r = m.shape[0]
    side = max(4.5, 0.85 * r + 2.8)
    fig = Figure(figsize=(side + 1.0, side), layout="constrained")
    ax = fig.add_subplot()
    off = m[~np.eye(r, dtype=bool)]
    lo = float(np.nanmin(off)) if off.size and np.isfinite(off).any() else 0.0
    vmin = max(0.0, min(lo, 0.999) - 0.02)
    image = ax.imshow(m, cmap="viridis", vmin=vmin, vmax=1.0)
    fig.colorbar(image, ax=ax, shrink=0.8, label=f"agreement ({nodes})")
    for i in range(r):
        for j in range(r):
            if np.isfinite(m[i, j]):
                dark = m[i, j] < vmin + 0.6 * (1.0 - vmin)
                ax.text(j, i, f"{m[i, j]:.3f}", ha="center", va="center", fontsize=8, color="white" if dark else "black")
    short = [_wrap(t, 18) for t in labels]
    ax.set_xticks(range(r), short, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(r), short, fontsize=8)
    ax.set_title(title, fontsize=10)
    return fig


def plot_flips(
    nodes: Sequence[int],
    predictions: Sequence[Sequence[int]],
    right: Sequence[Sequence[bool]],
    truth: Sequence[int],
    labels: Sequence[str],
    *,
    class_names: Sequence[str] | None,
    total: int,
    title: str,
) -> Figure:
    """The nodes on which the runs disagree (rows) against the runs (columns): each cell the
    predicted class, coloured by it, marked x where wrong; the true class in the first column.
    ``total``: how many such nodes exist (only these rows are drawn)."""
    f, r = len(nodes), len(labels)
    fig = Figure(figsize=(max(5.5, 0.9 * (r + 1) + 3.2), 0.24 * f + 2.6), layout="constrained")
    ax = fig.add_subplot()
    cmap = colormaps["tab10"]
    grid = (
        np.column_stack([np.asarray(truth, dtype=int), np.asarray(predictions, dtype=int).reshape(f, r)])
        if f
        else np.zeros((0, r + 1))
    )
    ax.imshow(cmap(grid % 10), aspect="auto", interpolation="nearest")
    for i in range(f):
        for j in range(r + 1):
            ax.text(j, i, str(int(grid[i, j])), ha="center", va="center", fontsize=7, color="white", fontweight="bold")
            if j > 0 and not right[i][j - 1]:
                ax.plot([j + 0.32], [i], marker="x", color="black", ms=6, mew=1.6)
    ax.axvline(0.5, color="white", lw=3)
    ax.set_xticks(range(r + 1), ["true class", *[_wrap(t, 18) for t in labels]], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(f), [f"node {v}" for v in nodes], fontsize=7)
    shown = f"{f} of {total}" if f < total else f"all {total}"
    ax.set_xlabel(f"{shown} nodes on which the runs disagree; cell = predicted class, x = wrong", fontsize=8)
    if class_names:
        present = sorted({int(v) for v in np.asarray(grid).ravel()})
        key = "; ".join(f"{c}: {class_names[c]}" for c in present if c < len(class_names))
        fig.text(0.5, 0.0, _wrap(key, 110), ha="center", va="bottom", fontsize=7)
    ax.set_title(title, fontsize=10)
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text
