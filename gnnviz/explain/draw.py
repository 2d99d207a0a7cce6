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
    """
    k = len(scores)
    cols = min(k, 3)
    rows = -(-k // cols)
    width, height = 3.6 * cols, 3.4 * rows + 0.6
    legend = "star: explained node" + ("; orange: known explanation (motif)" if truth_edges is not None else "")
    # Wrapped to the figure's width (one panel is narrower than the title): ~0.6 em per character.
    heading = f"{textwrap.fill(title, max(40, int(width * 72 / (9 * 0.6))))}\n{legend}"
    # Margins from the text's line counts (in inches: a line is 1.25 em) rather than a layout engine,
    # which measures every artist of the panels again and costs more than drawing them.
    head = (heading.count("\n") + 1) * 9 * 1.25 / 72 + 0.12
    titled = (max((notes.get(m, "").count("\n") for m in scores), default=0) + 2) * 8 * 1.25 / 72 + 0.08
    panel = (height - head - 0.05 - titled * rows) / rows
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(
        rows,
        cols,
        squeeze=False,
        gridspec_kw={
            "left": 0.01,
            "right": 0.99,
            "bottom": 0.05 / height,
            "top": 1 - (head + titled) / height,
            "wspace": 0.04,
            "hspace": titled / panel,
        },
    ).ravel()
    for ax in axes[k:]:
        ax.set_axis_off()
    for ax, (name, s) in zip(axes[:k], scores.items(), strict=True):
        pairs, values = _undirected(edges, np.asarray(s, dtype=float))
        low, top = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        share = (values - low) / (top - low) if top > low else np.full_like(values, 0.5 if top > 0 else 0.0)
        if truth_edges is not None:
            tpairs, tvals = _undirected(edges, truth_edges.astype(float))
            marked = {tuple(p) for p, t in zip(tpairs.tolist(), tvals.tolist(), strict=True) if t > 0}
            ax.add_collection(LineCollection([pos[list(p)] for p in marked], colors=TRUTH, linewidths=6.0, alpha=0.25, zorder=1))
        segs = pos[pairs] if pairs.size else np.zeros((0, 2, 2))
        colors = np.zeros((len(share), 4))
        colors[:] = (0.12, 0.31, 0.6, 1.0)
        colors[:, 3] = 0.08 + 0.92 * share
        ax.add_collection(LineCollection(segs, colors=colors, linewidths=0.3 + 4.2 * share, zorder=2))
        face = np.full(len(pos), "#bbbbbb", dtype=object)
        if truth_nodes is not None:
            face[truth_nodes] = TRUTH
        ax.scatter(pos[:, 0], pos[:, 1], s=22, c=list(face), edgecolors="white", linewidths=0.4, zorder=3)
        ax.scatter(pos[target, 0], pos[target, 1], s=130, c="#e7298a", marker="*", edgecolors="black", linewidths=0.6, zorder=4)
        ax.annotate(str(int(node_ids[target])), pos[target], xytext=(5, 5), textcoords="offset points", fontsize=7, zorder=5)
        ax.set_title(f"{name}\n{notes.get(name, '')}", fontsize=8, y=1.0)
        ax.text(
            0.01,
            0.01,
            f"width, opacity: score {low:.3g} (thinnest) to {top:.3g} (thickest)",
            transform=ax.transAxes,
            fontsize=6,
            color="#555555",
        )
        ax.set_aspect("equal", adjustable="datalim")
        ax.autoscale_view()
        ax.margins(0.08)
        ax.set_axis_off()
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
    """
    cols = min(len(nodes), 4)
    rows = -(-len(nodes) // cols)
    bars = min(shown, max((len(next(iter(per.values()))) for _, per in nodes), default=1))
    methods = list(nodes[0][1]) if nodes else []
    labels = [names[int(i)] if names is not None else f"feature {int(i)}" for _, per in nodes for i, _ in per[methods[0]][:shown]]
    fig_w, fig_h = 3.4 * cols, (0.22 * bars + 0.9) * rows + 0.8
    # Margins in inches from the text (a line is 1.25 em, a character about 0.62 em) rather than a
    # layout engine, which measures every tick label of every panel again.
    line = 1.25 / 72
    label = max((len(t) for t in labels), default=1) * 6 * 0.62 / 72 + 0.12  # a y tick label and its tick
    top = 9 * line + 0.12 + 7 * line + 0.06  # the suptitle, a panel title
    bottom = 7 * line + 0.1 + 6 * line + 0.1  # the x label, x tick labels
    between = 7 * line + 0.06 + 6 * line + 0.12  # tick labels of a row, the next row's panel titles
    panel_w = (fig_w - label - 0.15 - (cols - 1) * (label + 0.2)) / cols
    panel_h = (fig_h - top - bottom - (rows - 1) * between) / rows
    fig = Figure(figsize=(fig_w, fig_h))
    grid = {
        "left": label / fig_w,
        "right": 1 - 0.15 / fig_w,
        "top": 1 - top / fig_h,
        "bottom": bottom / fig_h,
        "wspace": (label + 0.2) / panel_w,
        "hspace": between / panel_h,
    }
    cells = fig.add_gridspec(rows, cols, **grid)
    height = 0.8 / max(len(methods), 1)
    axes = []
    for p, (label, per) in enumerate(nodes):  # axes for the panels only: each costs its ticks
        ax = fig.add_subplot(cells[p // cols, p % cols])
        axes.append(ax)
        first = [int(i) for i, _ in per[methods[0]][:shown]]
        y = np.arange(len(first), dtype=float)
        for j, m in enumerate(methods):
            score = {int(i): float(v) for i, v in per[m]}
            top = max(score.values(), default=0.0)
            share = np.array([score.get(i, 0.0) / top if top > 0 else 0.0 for i in first])
            # One collection per method rather than a patch per bar (barh): the same rectangles.
            low = y + (j - (len(methods) - 1) / 2) * height - height / 2
            zero = np.zeros_like(share)
            boxes = np.stack(
                [np.stack(c, 1) for c in ((zero, low), (zero, low + height), (share, low + height), (share, low))], 1
            )
            ax.add_collection(PolyCollection(boxes, facecolors=f"C{j}", edgecolors="none"))
        ticks = [names[i] if names is not None else f"feature {i}" for i in first]
        ax.set_yticks(y, ticks, fontsize=6)
        ax.set_ylim(len(first) - 0.5, -0.5)  # the top feature on top
        ax.set_xlim(0, 1.05)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "", "0.5", "", "1"])
        ax.tick_params(axis="x", labelsize=6)
        ax.set_title(label, fontsize=7, y=1.0)
    if methods and axes:
        legend = [Patch(facecolor=f"C{j}", label=m) for j, m in enumerate(methods)]
        axes[0].legend(handles=legend, fontsize=6, loc="lower right")
    fig.supxlabel(
        f"attribution as a share of the method's largest feature score on the node "
        f"(the node's top {bars} features by {methods[0] if methods else ''})",
        fontsize=7,
        y=0.05 / fig_h,
        va="bottom",
    )
    fig.suptitle(title, fontsize=9, y=1 - 0.06 / fig_h, va="top")
    return fig
