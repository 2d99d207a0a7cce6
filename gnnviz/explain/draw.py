"""Pure figures of explanations: arrays in, ``matplotlib.figure.Figure`` out (no pyplot, no files)."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

TRUTH = "#d95f02"
EDGE = "#1f4e99"


def _undirected(edges: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each node pair once, with the larger of its two directions' values: ([m, 2], [m])."""
    best: dict[tuple[int, int], float] = {}
    for (u, v), s in zip(edges.T.tolist(), values.tolist(), strict=True):
        key = (min(u, v), max(u, v))
        best[key] = max(best.get(key, -np.inf), s)
    pairs = np.array(list(best), dtype=np.int64).reshape(-1, 2)
    return pairs, np.array(list(best.values()), dtype=float)


def thin_edges(
    src: np.ndarray,
    dst: np.ndarray,
    scores: dict[str, np.ndarray],
    *,
    node: int,
    truth: np.ndarray | None = None,
    limit: int = 400,
) -> tuple[np.ndarray, str]:
    """Which of a node's computation edges its figure draws, and a note saying so.

    src, dst: [m] endpoints; scores: method -> [m]; truth: [m] in the known explanation, or None.
    Up to ``limit`` edges every edge is drawn (note ""). Above it: every edge of the node itself
    (into or out of it) and of the known explanation, whatever their scores, then the strongest of
    the rest (by the largest share of its panel's maximum over the methods) up to ``limit`` in all;
    returns (sorted indices [k], a note naming k of m). The node's own and the motif's edges are
    kept even where they alone pass ``limit``: a figure without them would explain nothing.
    """
    src, dst = np.asarray(src), np.asarray(dst)
    m = int(src.size)
    if m <= limit:
        return np.arange(m), ""
    must = (src == node) | (dst == node)
    if truth is not None:
        must |= np.asarray(truth, dtype=bool)
    strength = np.max([v / v.max() if v.max() > 0 else v for v in (np.asarray(s, dtype=float) for s in scores.values())], axis=0)
    rest = np.flatnonzero(~must)
    room = max(limit - int(must.sum()), 0)
    pick = np.sort(np.concatenate([np.flatnonzero(must), rest[np.argsort(-strength[rest], kind="stable")[:room]]]))
    kept = f"node {node}'s own" + (" and the known explanation's" if truth is not None else "")
    return pick, f"{pick.size} of {m} computation edges drawn: {kept}, then the strongest of the rest"


def plot_node(
    pos: np.ndarray,
    edges: np.ndarray,
    scores: dict[str, np.ndarray],
    *,
    target: int,
    node_ids: np.ndarray,
    truth_edges: np.ndarray | None,
    truth_nodes: np.ndarray | None,
    title: str,
    notes: dict[str, str],
) -> Figure:
    """One node's computation subgraph, one panel per method.

    pos: [n, 2] node coordinates; edges: [2, m] local endpoints; scores: method -> [m];
    target: the explained node's local id; node_ids: [n] ids in the graph (the target is labelled);
    truth_edges [m] / truth_nodes [n]: the known explanation or None; notes: method -> a line under
    its panel title (its AUC). Edge width and opacity grow linearly from the panel's lowest score to
    its highest (both stated in the panel); each node pair is drawn once, with the larger of its
    two directions.

    The panels share one Axes spanning the figure, in inches from its lower left corner: each
    panel is the layout scaled into its box (equal aspect, centred, a margin of 8%), so that the
    nodes, edges and motif of every panel are one collection each (an Axes per panel, with its
    artists, cost more than the drawing).
    """
    k = len(scores)
    cols = min(k, 3) or 1
    rows = -(-k // cols) or 1
    width, height = 3.6 * cols, 3.4 * rows + 0.6
    legend = "star: explained node" + ("; orange: known explanation (motif)" if truth_edges is not None else "")
    # Wrapped to the figure's width (one panel is narrower than the title): ~0.6 em per character.
    heading = f"{textwrap.fill(title, max(40, int(width * 72 / (9 * 0.6))))}\n{legend}"
    # Margins from the text's line counts (in inches: a line is 1.25 em) rather than a layout engine.
    head = (heading.count("\n") + 1) * 9 * 1.25 / 72 + 0.12
    titled = (max((notes.get(m, "").count("\n") for m in scores), default=0) + 2) * 8 * 1.25 / 72 + 0.08
    gap = 0.04 * (width - 0.02 * width) / (cols + 0.04 * (cols - 1))  # between columns, as a subplot grid's wspace
    panel_w = (0.98 * width - (cols - 1) * gap) / cols
    panel_h = (height - head - 0.05 - titled * rows) / rows
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    pos = np.asarray(pos, dtype=float).reshape(-1, 2)
    lo_xy, hi_xy = (pos.min(axis=0), pos.max(axis=0)) if len(pos) else (np.zeros(2), np.ones(2))
    span = np.maximum(hi_xy - lo_xy, 1e-9)
    scale = min(panel_w / (span[0] * 1.16), panel_h / (span[1] * 1.16))  # the layout's larger side plus 8% each way
    face = np.full(len(pos), "#bbbbbb", dtype=object)
    if truth_nodes is not None:
        face[truth_nodes] = TRUTH
    every_seg, every_color, every_width, motif, points, stars = [], [], [], [], [], []
    if truth_edges is not None:
        tpairs, tvals = _undirected(edges, truth_edges.astype(float))
        marked = tpairs[tvals > 0]
    for p, (name, s) in enumerate(scores.items()):
        r, c = divmod(p, cols)
        box_x = 0.01 * width + c * (panel_w + gap)
        box_top = height - head - titled - r * (panel_h + titled)
        centre = np.array([box_x + panel_w / 2, box_top - panel_h / 2])
        here = centre + (pos - (lo_xy + hi_xy) / 2) * scale
        pairs, values = _undirected(edges, np.asarray(s, dtype=float))
        low, top = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        share = (values - low) / (top - low) if top > low else np.full_like(values, 0.5 if top > 0 else 0.0)
        if truth_edges is not None and marked.size:
            motif.append(here[marked])
        if pairs.size:
            every_seg.append(here[pairs])
            colors = np.zeros((len(share), 4))
            colors[:] = (0.12, 0.31, 0.6, 1.0)
            colors[:, 3] = 0.08 + 0.92 * share
            every_color.append(colors)
            every_width.append(0.3 + 4.2 * share)
        points.append(here)
        stars.append(here[target])
        ax.annotate(str(int(node_ids[target])), here[target], xytext=(5, 5), textcoords="offset points", fontsize=7, zorder=5)
        ax.text(box_x + panel_w / 2, box_top + 0.04, f"{name}\n{notes.get(name, '')}", fontsize=8, ha="center", va="bottom")
        ax.text(
            box_x + 0.01 * panel_w,
            box_top - panel_h + 0.01 * panel_h,
            f"width, opacity: score {low:.3g} (thinnest) to {top:.3g} (thickest)",
            fontsize=6,
            color="#555555",
        )
    if motif:
        ax.add_collection(LineCollection(np.concatenate(motif), colors=TRUTH, linewidths=6.0, alpha=0.25, zorder=1))
    if every_seg:
        ax.add_collection(
            LineCollection(
                np.concatenate(every_seg), colors=np.concatenate(every_color), linewidths=np.concatenate(every_width), zorder=2
            )
        )
    if points:
        xy = np.concatenate(points)
        ax.scatter(xy[:, 0], xy[:, 1], s=22, c=list(face) * len(points), edgecolors="white", linewidths=0.4, zorder=3)
        xy = np.array(stars)
        ax.scatter(xy[:, 0], xy[:, 1], s=130, c="#e7298a", marker="*", edgecolors="black", linewidths=0.6, zorder=4)
    fig.suptitle(heading, fontsize=9, y=1 - 0.06 / height, va="top")
    return fig


def plot_summary(methods: dict[str, dict], *, title: str, ground_truth: bool, spearman: list[list] | None = None) -> Figure:
    """Scores per method: ROC AUC (mean +- std over nodes, a dot per node) where a known explanation
    exists, and fidelity+ / fidelity- (mean over nodes).

    methods: name -> {"auc_per_node": [float], "fid_plus": float, "fid_minus": float};
    spearman: [M, M] mean rank correlation between methods (None cells: undefined), drawn as a
    third panel when given."""
    names = list(methods)
    y = np.arange(len(names))
    k = (2 if ground_truth else 1) + (spearman is not None)
    fig = Figure(figsize=(5.0 * k, 0.5 * len(names) + 2.4), layout="constrained")
    axes = list(fig.subplots(1, k, squeeze=False)[0])
    if spearman is not None:
        ax = axes.pop()
        m = np.array([[np.nan if v is None else v for v in row] for row in spearman], dtype=float)
        im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, "-" if np.isnan(m[i, j]) else f"{m[i, j]:.2f}", ha="center", va="center", fontsize=7)
        ax.set_xticks(y, names, fontsize=7, rotation=45, ha="right")
        ax.set_yticks(y, names, fontsize=7)
        ax.set_title("agreement: Spearman rank correlation of edge scores\n(mean over nodes)", fontsize=8)
        fig.colorbar(im, ax=ax, shrink=0.7)
    if ground_truth:
        ax = axes[0]
        for i, name in enumerate(names):
            vals = np.array([v for v in methods[name]["auc_per_node"] if v is not None], dtype=float)
            if vals.size:
                ax.barh(i, vals.mean(), xerr=vals.std(), color=EDGE, alpha=0.6, capsize=3)
                ax.scatter(vals, np.full(vals.size, i), s=8, color="black", zorder=3)
                ax.text(1.02, i, f"{vals.mean():.2f}", va="center", fontsize=7)
        ax.axvline(0.5, color="#888888", ls="--", lw=0.8)
        ax.text(0.51, len(names) - 0.6, "chance", fontsize=7, color="#666666", ha="left", va="bottom")
        ax.set_xlim(0, 1.12)
        ax.set_yticks(y, names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("ROC AUC vs known explanation, per node (bar: mean, whisker: std)", fontsize=8)
    ax = axes[-1]
    plus = [methods[n]["fid_plus"] for n in names]
    minus = [methods[n]["fid_minus"] for n in names]
    ax.barh(y - 0.2, plus, height=0.4, color="#1b9e77", label="fidelity+ (higher: removing the edges changes the prediction)")
    ax.barh(y + 0.2, minus, height=0.4, color="#7570b3", label="fidelity- (lower: the edges alone keep it)")
    ax.set_xlim(0, 1.05)
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share of explained nodes", fontsize=8)
    fig.legend(*ax.get_legend_handles_labels(), fontsize=7, loc="outside lower right")
    fig.suptitle(title, fontsize=9)
    return fig


def plot_curves(curves: dict[str, dict], *, title: str) -> Figure:
    """Fidelity curves per method: fid+ and fid- (means over nodes) against the share of a node's
    computation edges taken as its explanation.

    curves: method -> {"keep": [K] shares of top edges kept, "fid_plus": [K], "fid_minus": [K]}.
    """
    fig = Figure(figsize=(9.6, 4.0), layout="constrained")
    axes = fig.subplots(1, 2, squeeze=False)[0]
    for ax, key, what in (
        (axes[0], "fid_plus", "fidelity+: the top edges removed\n(higher: the prediction depends on them)"),
        (axes[1], "fid_minus", "fidelity-: only the top edges kept\n(lower: they suffice for the prediction)"),
    ):
        for i, (name, c) in enumerate(curves.items()):
            ax.plot(c["keep"], c[key], marker="o", ms=3, lw=1.2, color=f"C{i}", label=name)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("share of the node's computation edges taken as explanation (top by score)", fontsize=7)
        ax.set_ylabel("share of explained nodes whose prediction changes", fontsize=7)
        ax.set_title(what, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    return fig


def plot_stability(spread: dict[str, tuple[np.ndarray, np.ndarray]], *, repeats: int, title: str) -> Figure:
    """How much a stochastic method's edge scores move between seeds: one dot per computation edge
    of every explained node.

    spread: method -> (mean score over the ``repeats`` seeds [m], standard deviation over them [m]).
    """
    fig = Figure(figsize=(5.2, 4.0), layout="constrained")
    ax = fig.subplots()
    for i, (name, (mean, std)) in enumerate(spread.items()):
        ax.scatter(mean, std, s=6, alpha=0.5, color=f"C{i}", label=f"{name} (mean std {std.mean():.3g})")
    ax.set_xlabel("edge score, mean over seeds", fontsize=7)
    ax.set_ylabel("standard deviation over seeds", fontsize=7)
    ax.set_title(f"stability: {repeats} seeds per node, one dot per computation edge", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    return fig


def plot_features(nodes: list[tuple[str, dict[str, list]]], *, names: list[str] | None, title: str, shown: int = 8) -> Figure:
    """Feature attribution, one panel per explained node: the first method's ``shown`` top
    features, each method's bar as a share of its largest feature score on that node.

    nodes: [(panel title, method -> [[feature index, score], ...] best first)]; names: feature
    names by index, or None (indices are shown).

    Every panel is drawn on one Axes spanning the figure, in inches from its lower left corner:
    axes per panel, each with its tick machinery, cost twice as much as the bars and labels
    themselves. The share scale (0 to 1) is the same in every panel; its labels stand under the
    lowest panel of each column.
    """
    cols = min(len(nodes), 4) or 1
    rows = -(-len(nodes) // cols) or 1
    bars = min(shown, max((len(next(iter(per.values()))) for _, per in nodes), default=1))
    methods = list(nodes[0][1]) if nodes else []
    labels = [names[int(i)] if names is not None else f"feature {int(i)}" for _, per in nodes for i, _ in per[methods[0]][:shown]]
    fig_w, fig_h = 3.4 * cols, (0.22 * bars + 0.9) * rows + 0.8
    # Margins in inches from the text (a line is 1.25 em, a character about 0.62 em).
    line = 1.25 / 72
    label_w = max((len(t) for t in labels), default=1) * 6 * 0.62 / 72 + 0.12  # a feature label and its tick
    top = 9 * line + 0.12 + 7 * line + 0.06  # the suptitle, a panel title
    bottom = 7 * line + 0.1 + 6 * line + 0.1  # the x label, share labels
    between = 7 * line + 0.06 + 6 * line + 0.12  # share labels of a row, the next row's panel titles
    panel_w = (fig_w - label_w - 0.15 - (cols - 1) * (label_w + 0.2)) / cols
    panel_h = (fig_h - top - bottom - (rows - 1) * between) / rows
    fig = Figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, fig_w)
    ax.set_ylim(0, fig_h)
    height = 0.8 / max(len(methods), 1)
    boxes: list[list[np.ndarray]] = [[] for _ in methods]
    frames, ticks = [], []
    for p, (heading, per) in enumerate(nodes):
        r, c = divmod(p, cols)
        x0 = label_w + c * (panel_w + label_w + 0.2)
        y1 = fig_h - top - r * (panel_h + between)  # the panel's top edge
        first = [int(i) for i, _ in per[methods[0]][:shown]]
        unit = panel_h / max(len(first), 1)  # one feature's row, top feature on top
        for j, m in enumerate(methods):
            score = {int(i): float(v) for i, v in per[m]}
            most = max(score.values(), default=0.0)
            share = np.array([score.get(i, 0.0) / most if most > 0 else 0.0 for i in first])
            centre = np.arange(len(first)) + 0.5 + (j - (len(methods) - 1) / 2) * height
            lo, hi = y1 - (centre + height / 2) * unit, y1 - (centre - height / 2) * unit
            left, right = np.full(len(first), x0), x0 + share / 1.05 * panel_w
            boxes[j].append(np.stack([np.stack(v, 1) for v in ((left, lo), (left, hi), (right, hi), (right, lo))], 1))
        frames.append([(x0, y1), (x0, y1 - panel_h), (x0 + panel_w, y1 - panel_h), (x0 + panel_w, y1), (x0, y1)])
        for k, i in enumerate(first):
            y = y1 - (k + 0.5) * unit
            ticks.append([(x0 - 0.05, y), (x0, y)])
            ax.text(x0 - 0.07, y, names[i] if names is not None else f"feature {i}", fontsize=6, ha="right", va="center")
        for share in (0, 0.25, 0.5, 0.75, 1.0):
            x = x0 + share / 1.05 * panel_w
            ticks.append([(x, y1 - panel_h), (x, y1 - panel_h - 0.05)])
            if r == (len(nodes) - 1 - c) // cols and share in (0, 0.5, 1.0):  # the column's lowest panel
                ax.text(x, y1 - panel_h - 0.07, f"{share:g}", fontsize=6, ha="center", va="top")
        ax.text(x0 + panel_w / 2, y1 + 0.04, heading, fontsize=7, ha="center", va="bottom")
    for j, b in enumerate(boxes):
        if b:
            ax.add_collection(PolyCollection(np.concatenate(b), facecolors=f"C{j}", edgecolors="none"))
    ax.add_collection(LineCollection(frames + ticks, colors="black", linewidths=0.8))
    if methods and nodes:
        legend = [Patch(facecolor=f"C{j}", label=m) for j, m in enumerate(methods)]
        x0, y0 = label_w + panel_w, fig_h - top - panel_h
        ax.legend(
            handles=legend, fontsize=6, loc="lower right", bbox_to_anchor=(x0 / fig_w, y0 / fig_h), bbox_transform=fig.transFigure
        )
    fig.text(
        0.5,
        0.05 / fig_h,
        f"attribution as a share of the method's largest feature score on the node "
        f"(the node's top {bars} features by {methods[0] if methods else ''}; the same scale in every panel)",
        fontsize=7,
        ha="center",
        va="bottom",
    )
    fig.suptitle(title, fontsize=9, y=1 - 0.06 / fig_h, va="top")
    return fig
