"""What every figure here shares: node colours and their key, axes placed in inches, headings
wrapped to fit, plain-text ticks for powers of ten, the one axis for lifts (``lift_axis``),
rings around the misclassified, and the one way to write a number in a figure: ``sig``
(significant figures, never rounded to zero), ``sig_apart`` (numbers read side by side, written
apart when they differ), ``share`` (a share in [0, 1], never rounded to 0 or 1) and
``plus_minus`` (mean ± spread). Fixed decimals elsewhere are for bounded metrics only
(accuracy 0.774, loss 1.836).

Figures are built with ``Figure()`` directly (no pyplot state, no GUI backend), so drawing is
headless-safe and figures are freed as soon as they go out of scope. ``write.py`` saves them.
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

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D


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


def sig(value: float, digits: int = 3, *, signed: bool = False, short: bool = False, zeros: bool = False) -> str:
    """``value`` to ``digits`` significant figures, never rounded to zero: 0.00673, 1.2e-5,
    0.83; with ``signed``, a leading + or − (a true 0 is written "0"); with ``short``, the
    shorter of the plain and the scientific form (3.4e-4 rather than 0.00034: a table's cell);
    with ``zeros``, trailing zeros kept (5.12990 beside 5.12989)."""
    if not np.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    text = f"{abs(value):{'#' if zeros else ''}.{digits}g}".replace("e-0", "e-").replace("e+0", "e").rstrip(".")
    if short:
        science = f"{abs(value):.{digits - 1}e}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")
        text = science if len(science) < len(text) else text
    sign = "−" if value < 0 else ("+" if signed else "")
    return sign + text


def sig_apart(values: Sequence[float], digits: int = 3, *, most: int = 6, signed: bool = False) -> list[str]:
    """``sig`` for numbers read side by side (a learned mean next to the uniform one, two groups'
    means): the fewest significant figures, at least ``digits`` and at most ``most``, at which
    values that differ are written differently, so 0.9151 beside 0.9150 never reads as equal."""
    values = [float(v) for v in values]
    for d in range(digits, most + 1):
        texts = [sig(v, d, signed=signed, zeros=True) for v in values]
        if all(texts[i] != texts[j] for i in range(len(values)) for j in range(i) if values[i] != values[j]):
            return texts
    return texts


def share(value: float, decimals: int = 2) -> str:
    """A share in [0, 1] to ``decimals`` places, never rounded to 0 or 1 when it is neither:
    0.73, 0.0007 (significant figures below the last place), >0.99."""
    if not np.isfinite(value):
        return "n/a"
    if value in (0.0, 1.0):
        return f"{value:g}"
    text = f"{value:.{decimals}f}"
    if float(text) == 0.0:
        return sig(value, 1)
    if float(text) == 1.0:
        return f">{1 - 10.0**-decimals:.{decimals}f}"
    return text


def stated(name: str, text: str) -> str:
    """``name = text``, or ``name > text`` where ``text`` is already a bound (``share``'s >0.999)."""
    return f"{name} {text[0]} {text[1:]}" if text[:1] in "<>" else f"{name} = {text}"


def plus_minus(mean: float, spread: float) -> str:
    """``mean ± spread``, the spread to 2 significant figures and the mean to the same decimal
    place (0.7783 ± 0.0080); without a spread (not finite), the mean to 3 significant figures."""
    if not np.isfinite(spread) or spread <= 0:
        return sig(mean, 3)
    places = max(0, 1 - math.floor(math.log10(spread)))
    return f"{mean:.{places}f} ± {spread:.{places}f}".replace("-", "−")


ROUNDING = 1e-12  # below this a lift (or a change of it) is float64 rounding


def symlog_threshold(values: Sequence[float]) -> float:
    """The power of ten at or below the smallest non-zero |value| (1e-3 when all are 0): values
    that differ by orders of magnitude all sit in the logarithmic part of a symlog axis. Values
    below ``ROUNDING`` count as 0: a lift is a difference of float64 means of numbers in [0, 1], so
    one of 1e-17 (uniform weights on a regular graph, e.g. GCN's on dictionary_lookup) is rounding,
    and a band that thin spans more decades than matplotlib's symlog can invert."""
    small = [abs(v) for v in values if v is not None and np.isfinite(v) and abs(v) >= ROUNDING]
    return 10.0 ** math.floor(math.log10(min(small))) if small else 1e-3


def pad_limits(ax: Axes, values: Sequence[float], pad: float = 0.12) -> None:
    """y limits around ``values`` with ``pad`` of the range free above and below, measured in the
    axis's own scale (log, symlog), so the values written beyond the marks fit."""
    values = [float(v) for v in values if v is not None and np.isfinite(v)]
    if not values:
        return
    forward = ax.yaxis.get_transform()
    ends = forward.transform(np.array([[min(values)], [max(values)]], dtype=float)).ravel()
    span = max(ends[1] - ends[0], 1e-9)
    lo, hi = forward.inverted().transform(np.array([[ends[0] - pad * span], [ends[1] + pad * span]])).ravel()
    ax.set_ylim(lo, hi)


def lift_axis(ax: Axes, marks: Sequence[float], *, limits: Sequence[float] = (), band_label: bool = True) -> float:
    """The one y axis for lift (attention on same-label neighbours minus averaging), in every
    figure of visualize and compare: symmetric-log, linear within +- a power of ten below the
    smallest non-zero mark (shaded grey, in the legend when ``band_label``), logarithmic beyond,
    so that a lift of 1e-5 and GCN's 5e-3 are both readable and negative lifts keep their sign.

    marks: the values drawn (they set the linear band); limits: further values that must fit
    (whisker ends). Returns the threshold.
    """
    threshold = symlog_threshold(marks)
    ax.set_yscale("symlog", linthresh=threshold, linscale=0.5)
    ax.axhspan(
        -threshold,
        threshold,
        color="0.9",
        lw=0,
        zorder=0,
        label=f"linear scale within ±{power_label(threshold)}" if band_label else None,
    )
    ax.axhline(0.0, color="black", lw=0.8)
    pad_limits(ax, [0.0, *marks, *limits])
    ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    power_ticks(ax.yaxis)
    return threshold


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


def _count_text(value: float, _pos: int | None = None) -> str:
    """Axis counts that stay narrow on million-node graphs: 800, 40k, 1.2M."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def _wrap_to(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width) for line in text.splitlines())
