"""Figure descriptions: arrays, analyses and the selection in, a list of ``FigureSpec`` out. Pure.

A ``FigureSpec`` names a plot function of ``viz/draw/`` and its arguments, the file stem, the page
section and the caption; ``write.py`` draws and writes them. Which figures exist depends only on
what the arrays contain: attention layers give attention neighbourhoods and entropy figures,
fixed edge coefficients give coefficient neighbourhoods, neither gives neither. Every title names
the model, the graph and the checkpoint drawn (epoch, validation metric and loss).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gnnviz.analysis import attention as att
from gnnviz.analysis.arrays import RunArrays
from gnnviz.analysis.run import LayerEntropy, Predictions
from gnnviz.datasets.base import metric_label
from gnnviz.viz.draw import curves as curve_plots
from gnnviz.viz.draw import embeddings as embedding_plots
from gnnviz.viz.draw import entropy as entropy_plots
from gnnviz.viz.draw import graph as graph_plots
from gnnviz.viz.draw import neighbourhoods as hood_plots
from gnnviz.viz.draw import style
from gnnviz.viz.options import Selection

# Up to this many nodes the whole-graph figure writes every node's id next to it.
NODE_IDS_UP_TO = 60


@dataclass(frozen=True)
class FigureSpec:
    """One figure: ``plot(*args, **kwargs)`` saved as ``stem.<fmt>``, shown under ``section``."""

    stem: str
    section: str
    caption: str
    plot: Callable[..., Any]
    args: tuple
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class Context:
    """Everything figure building reads: the arrays, their analyses, and what was asked for."""

    arrays: RunArrays
    selection: Selection
    predictions: Predictions
    entropies: list[LayerEntropy]
    layout: Any  # layout.GraphLayout
    projections: list[tuple[str, Any]]  # (title, embeddings.Projection)
    insight: Any = None  # analysis.Insight, or None
    flows: list[Any] = field(default_factory=list)  # analysis.Flow per layer (or one for coefficients)


def literal(text: str) -> str:
    """Text that matplotlib shows as is: an unescaped '$' would start mathtext (and can raise)."""
    return text.replace("$", r"\$")


def sci(value: float | None) -> str:
    """KL values and lifts span decades: 3 significant figures (``style.sig``: 6.6e-6, 0.00021)."""
    return "n/a" if value is None else style.sig(float(value))


def share(value: float | None) -> str:
    """A share in [0, 1] (H/log(deg), agreement) to 3 places, never rounded to 1 (``style.share``)."""
    return "n/a" if value is None else style.share(float(value), 3)


def num(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"


def build(c: Context) -> list[FigureSpec]:
    """Every figure to draw, in page order."""
    a, pred = c.arrays, c.predictions
    model = a.model.upper()
    graph = literal(a.graph_label)
    stamp = literal(a.checkpoint.stamp)
    on = f"{model} on {graph} ({stamp})"
    colours = run_colours(a)
    specs: list[FigureSpec] = []

    def add(stem: str, section: str, caption: str, plot: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        specs.append(FigureSpec(stem, section, caption, plot, args, kwargs))

    ei, degree = a.edge_index, a.degree
    wrong_label = f"{pred.what} by {model}: {pred.summary}"
    lay = c.layout
    title = f"{graph}: {a.num_nodes:,} nodes, {_undirected_edges(ei):,} edges; layout: {lay.method}\n{on}"
    ids = a.num_nodes <= NODE_IDS_UP_TO
    add(
        "layout",
        "graph",
        f"Whole graph, {lay.method}; colour = class, size = degree, black ring = {pred.what}, {pred.summary}; "
        "black square = the busiest node" + ("; numbers are node ids." if ids else "."),
        graph_plots.plot_graph_layout,
        lay.coords,
        ei,
        colours,
        degree,
        pred.wrong,
        title=title,
        wrong_label=wrong_label,
        node_ids=ids,
    )
    add(
        "degree",
        "graph",
        "Degree histogram and distribution (log scales).",
        graph_plots.plot_degree,
        degree,
        title=graph,
        drawn_for=on,
    )

    if a.curves:
        col, metric = a.curves, literal(a.checkpoint.metric)
        test = a.checkpoint.test_metric  # the drawn state's, as training recorded it
        tested = f"; test {metric_label(metric)} {test:.3f}" if test is not None else ""
        heading = f"{model} on {literal(a.dataset)}: training curves ({stamp}{tested})"
        caption = "Loss and metric per epoch; dashed line = the checkpoint drawn"
        if a.checkpoint.warning:
            caption += f"; dotted line = lowest validation loss (epoch {a.checkpoint.min_val_loss_epoch})"
        add(
            "curves",
            "training",
            caption + ".",
            curve_plots.plot_curves,
            col["epoch"],
            col["train_loss"],
            col["val_loss"],
            col["train_metric"],
            col["val_metric"],
            best_epoch=a.checkpoint.epoch,
            metric=metric,
            title=heading,
            min_loss_epoch=a.checkpoint.min_val_loss_epoch if a.checkpoint.warning else None,
            **({} if a.checkpoint.state == "selected" else {"marked": f"{a.checkpoint.state} state, epoch"}),
        )

    # One method for every panel (visualize projects them together): its name is the file's stem.
    method, label = c.projections[0][1].method, c.projections[0][1].label
    panels = [embedding_plots.ProjectionPanel(p.coords, p.index, f"{t}\n{label}, {p.note}") for t, p in c.projections]
    sampled = next((f" ({p.sample})" for _, p in c.projections if p.sample), "")
    add(
        method,
        "embeddings",
        f"{label} of the embeddings{sampled}; colour = class, marker = split, black ring = {pred.what}, {pred.summary}.",
        embedding_plots.plot_projections,
        panels,
        colours,
        pred.wrong,
        a.split,
        title=f"{on}: node embeddings ({label}{_sampled(c.projections)})",
        wrong_label=wrong_label,
    )

    specs += _neighbourhoods(c, colours, model)
    specs += _entropy(c, on)
    specs += _insight(c, on)
    specs += _flows(c, on)
    return specs


def _flows(c: Context, on: str) -> list[FigureSpec]:
    """insight/class_flow: class-to-class attention (or coefficient) shares, per layer."""
    from gnnviz.viz.draw import insight as ip

    if not c.flows:
        return []
    a = c.arrays
    k = c.flows[0].flow.share.shape[0]
    names = [literal(a.class_name(i)) for i in range(k)] if a.class_names is not None else []
    what = "attention (mean over heads)" if a.attention else "fixed GCN coefficients"
    return [
        FigureSpec(
            "insight/class_flow",
            "what attention learned",
            f"Class-to-class {what}: each row is the class of the nodes weighing their neighbours, each column the "
            "neighbours' class; a row sums to 1 (self-loops left out). The first panel is uniform weights over the same "
            "neighbours; in the others, the second number in a cell is the change from it. Totals per cell are in "
            "attention_stats.json (class_flow).",
            ip.plot_class_flow,
            ([(f.label, f.flow.share) for f in c.flows], c.flows[0].flow.uniform_share, names),
            {"title": f"{on}\nwhere each class's {what} {'goes' if a.attention else 'go'}, by neighbour class"},
        )
    ]


def _sampled(projections: list[tuple[str, Any]]) -> str:
    """' of 5000 sampled nodes' when the projections are of a sample, else ''."""
    sizes = {p.index.size for _, p in projections}
    sampled = bool(projections) and bool(projections[0][1].sample)
    return f" of {sizes.pop():,} sampled nodes" if len(sizes) == 1 and sampled else ""


def run_colours(a: RunArrays) -> style.NodeColours:
    """Node colours by true class (multi-label: by number of positive labels), the same in every figure."""
    if a.task == "multilabel":
        return style.node_colours((a.y > 0.5).sum(1), categorical=False, label="positive labels (true)")
    y = a.y.astype(int)
    k = max(int(y.max()) + 1, a.logits.shape[1])
    return style.node_colours(y, categorical=True, label="class", num_classes=k, names=a.class_names)


def _neighbourhoods(c: Context, colours: style.NodeColours, model: str) -> list[FigureSpec]:
    a, sel = c.arrays, c.selection
    stamp = literal(a.checkpoint.stamp)
    specs = []
    if a.attention:
        what = "incoming attention per layer and head"
        for node in sel.nodes:
            panels = []
            for layer in sel.layers:
                la = a.attention[layer]
                for head in sel.heads[layer]:
                    w = la.alpha.mean(1) if head == "mean" else la.alpha[:, int(head)]
                    title = (
                        f"layer {layer}, mean over {la.heads} heads"
                        if head == "mean"
                        else f"layer {layer}, head {head} of {la.heads}"
                    )
                    panels.append(hood_plots.NeighbourhoodPanel(att.neighbourhood(la.edge_index, w, node), title))
            if panels:
                specs.append(_hood_spec(a, node, panels, colours, f"attention/node{node}", what, model, stamp))
    elif a.coefficients is not None:
        what = "GCN's fixed edge coefficients D^-1/2 (A+I) D^-1/2 (not learned)"
        co = a.coefficients
        for node in sel.nodes:
            panel = hood_plots.NeighbourhoodPanel(
                att.neighbourhood(co.edge_index, co.weight, node),
                "the same in every layer; drawn as shares of their sum",
                normalised=False,
            )
            specs.append(
                _hood_spec(
                    a,
                    node,
                    [panel],
                    colours,
                    f"gcn_norm/node{node}",
                    what,
                    model,
                    stamp,
                    note="; fixed, not learned, and does not sum to 1 at a node: the lines show each coefficient's share of "
                    "the node's sum, on attention's scale (the raw sum is under the panel)",
                )
            )
    return specs


def _hood_spec(
    a: RunArrays, node: int, panels, colours, stem: str, what: str, model: str, stamp: str, note: str = ""
) -> FigureSpec:
    k = panels[0].hood.sources.size
    cls = f", {int((a.y[node] > 0.5).sum())} positive labels" if a.task == "multilabel" else f", {a.class_name(int(a.y[node]))}"
    heading = f"{model}, node {node} ({k} neighbours{literal(cls)}): {what}\n{literal(a.graph_label)}, {stamp}"
    caption = f"Node {node} ({k} neighbours{cls}), {what}{note}."
    return FigureSpec(stem, "neighbourhoods", caption, hood_plots.plot_neighbourhoods, (panels, colours), {"title": heading})


def _entropy(c: Context, on: str) -> list[FigureSpec]:
    """entropy.png: KL from uniform of every selected layer and head; entropy/: one file per head."""
    if not c.entropies:
        return []
    sel = c.selection
    grid: list[list[entropy_plots.EntropyPanel]] = []
    files: list[tuple[str, entropy_plots.EntropyPanel]] = []
    for le in c.entropies:
        # Without --heads the overview shows every head and the mean; with it, the heads asked for.
        heads: list[int | str] = (
            list(sel.heads[le.layer]) if sel.heads_given else [*range(le.heads), *(["mean"] if le.heads > 1 else [])]
        )
        row = [_entropy_panel(le, h) for h in heads]
        if row:
            grid.append(row)
        for head in sel.heads[le.layer]:
            name = f"layer{le.layer}_mean" if head == "mean" else f"layer{le.layer}_head{head}"
            files.append((name, _entropy_panel(le, head)))
    if not grid:
        return []
    uniform = np.concatenate([le.uniform for le in c.entropies])
    bins = att.entropy_bins(uniform, *[p.entropy for row in grid for p in row], *[p.entropy for _, p in files])
    kl_bins = att.kl_bins(*[p.kl for row in grid for p in row], *[p.kl for _, p in files])
    specs = [
        FigureSpec(
            "entropy",
            "attention entropy",
            "Each selected layer and head: per-node KL divergence of the attention from uniform attention over the same "
            "neighbours, log(in-degree) - H, on a log axis (further left = closer to uniform); same bins in every panel. "
            "Nodes too close to uniform for the log axis are the hatched grey bar at the far left.",
            entropy_plots.plot_entropy_grid,
            (grid, kl_bins),
            {"title": f"{on}: how far each node's attention is from uniform"},
        )
    ]
    for name, panel in files:
        st = panel.stats
        subtitle = (
            f"{panel.title.split(':')[0]}: {style.stated('mean H/log(deg)', share(st['mean_normalised_entropy']))}, "
            f"mean KL from uniform = {sci(st['mean_kl_from_uniform'])} nats"
        )
        specs.append(
            FigureSpec(
                f"entropy/{name}",
                "attention entropy",
                subtitle + ".",
                entropy_plots.plot_entropy_histogram,
                (panel, bins, kl_bins),
                {"title": f"{on}\n{subtitle}"},
            )
        )
    return specs


def _entropy_panel(le: LayerEntropy, head: int | str) -> entropy_plots.EntropyPanel:
    st = le.stats(head)
    what = f"layer {le.layer}, mean of {le.heads} heads" if head == "mean" else f"layer {le.layer}, head {head}"
    return entropy_plots.EntropyPanel(
        le.values(head), le.uniform, f"{what}: median KL {sci(float(np.median(le.kl(head))))}", kl=le.kl(head), stats=st
    )


# How ``ablation.switch_off``'s keys ("<kind>:<layer>" or "<kind>:all") read in a figure.
SWITCH_KINDS = {"uniform": "uniform weights", "gcn": "GCN's coefficients"}


def switch_name(key: str) -> str:
    """'uniform:0' -> 'uniform weights in layer 0', 'gcn:all' -> "GCN's coefficients in all layers"."""
    kind, _, layer = key.partition(":")
    where = "all layers" if layer == "all" else f"layer {layer}"
    return f"{SWITCH_KINDS.get(kind, kind)} in {where}"


def _undirected_edges(edge_index: np.ndarray) -> int:
    src, dst = edge_index
    keep = src != dst
    if not keep.any():
        return 0
    lo, hi = np.minimum(src[keep], dst[keep]), np.maximum(src[keep], dst[keep])
    # One int64 key per pair, counted by sorting: np.unique of rows (axis=0) is ~10x slower on 10M
    # edges, and numpy 2.3+'s np.unique of a flat array (a hash table) took 17 s on 10M distinct keys.
    keys = np.sort(lo * (int(hi.max()) + 1) + hi)
    return int(1 + np.count_nonzero(keys[1:] != keys[:-1]))


def _shared_block(c: Context, on: str) -> list[FigureSpec]:
    """Targets that share all their neighbours, their attention over them per layer (when some do)."""
    from gnnviz.analysis.shared import shared_block
    from gnnviz.viz.draw.shared import plot_shared_block

    a, layers = c.arrays, c.insight.layers
    blocks = [shared_block(a.attention[layer].edge_index, a.attention[layer].alpha, a.y) for layer in layers]
    # Three rows and three columns at least: two of either show no ranking worth a picture (karate's leaves).
    if not blocks or any(b is None or b.targets.size < 3 or b.sources.size < 3 for b in blocks):
        return []
    return [
        FigureSpec(
            "insight/shared_neighbours",
            "what attention learned",
            "The largest group of nodes with exactly the same neighbours, and how each splits its attention (head mean) over "
            "them, per layer, rows and columns sorted by class: static attention (GAT) ranks the columns alike in every row "
            "(the same columns darkest, rows sharper or flatter), dynamic attention can give each row its own peak (on dictionary_lookup, each query on its own key: a diagonal).",
            plot_shared_block,
            (blocks, layers, a.y),
            {"title": f"{on}\nattention of nodes that share all their neighbours"},
        )
    ]


def _insight(c: Context, on: str) -> list[FigureSpec]:
    """Attention against labels (lift, by degree), static vs dynamic ranking, attention switched off."""
    from gnnviz.viz.draw import insight as ip

    ins = c.insight
    if ins is None:
        return []
    on = on.replace(" (checkpoint", "\n(checkpoint", 1)  # these figures are narrow
    section = "what attention learned"
    base = ins.baseline["overall"]
    base_lift = base["lift"][0] if base["lift"] else None
    specs: list[FigureSpec] = []
    if ins.labels:
        lifts = [lab["overall"]["lift"][:-1] for lab in ins.labels]  # heads only; the mean is the last entry
        specs.append(
            FigureSpec(
                "insight/lift",
                section,
                "Lift per layer and head: attention mass on same-label neighbours minus what uniform attention over the same "
                f"neighbours puts there (0 = no better than averaging); dashed = GCN's fixed coefficients ({sci(base_lift)}); "
                f"largest possible {num(base['max_lift'])}.",
                ip.plot_lift,
                (lifts,),
                {
                    "baseline": base_lift,
                    "max_lift": base["max_lift"],
                    "title": f"{on}\nattention on same-label neighbours, beyond averaging",
                },
            )
        )
        bins = [(b["lo"], b["hi"]) for b in ins.baseline["by_degree"]]
        series: dict[str, list[float | None]] = {}
        for layer, lab in zip(ins.layers, ins.labels, strict=True):
            by = {(b["lo"], b["hi"]): b["lift"][-1] for b in lab["by_degree"]}
            series[f"layer {layer} (mean of heads)"] = [by.get(b) for b in bins]
        series["GCN coefficients"] = [b["lift"][0] if b["lift"] else None for b in ins.baseline["by_degree"]]
        specs.append(
            FigureSpec(
                "insight/lift_by_degree",
                section,
                "Lift by number of neighbours (head mean per layer, and GCN's coefficients); n = nodes per bin.",
                ip.plot_lift_by_degree,
                (bins, series, [b["nodes"] for b in ins.baseline["by_degree"]]),
                {"title": f"{on}\nlift by neighbour count"},
            )
        )
        pairs = [r["pairs"] for r in ins.ranking]
        specs.append(
            FigureSpec(
                "insight/ranking",
                section,
                "Static or dynamic attention (Brody et al. 2022): how often two nodes that share neighbours rank those "
                "neighbours the same way; 1.0 = static (GAT's attention always is), lower = dynamic.",
                ip.plot_ranking_agreement,
                ([r["agreement"] for r in ins.ranking],),
                {"pairs": pairs, "title": f"{on}\nneighbour-ranking agreement between target nodes"},
            )
        )
        specs.extend(_shared_block(c, on))
    snaps = c.arrays.snapshots
    if snaps and all(len(r["layers"]) == len(snaps[0]["layers"]) for r in snaps) and snaps[0]["layers"]:
        epochs = [int(r["epoch"]) for r in snaps]

        def mean(values: list) -> float | None:
            v = [x for x in values if x is not None]
            return float(np.mean(v)) if v else None

        layers = range(len(snaps[0]["layers"]))
        lift = {f"layer {i} (mean of heads)": [mean(r["layers"][i]["lift"]) for r in snaps] for i in layers}
        kl = {f"layer {i} (mean of heads)": [mean(r["layers"][i]["kl"]) for r in snaps] for i in layers}
        specs.append(
            FigureSpec(
                "insight/over_training",
                section,
                f"Attention over training (training.snapshots, {len(snaps)} snapshots): validation metric, lift against labels "
                "and mean KL from uniform attention per layer; dashed = the checkpoint drawn.",
                ip.plot_over_training,
                (epochs, [r.get("val_metric") for r in snaps], lift, kl),
                {
                    "metric": metric_label(c.arrays.checkpoint.metric),
                    "best_epoch": c.arrays.checkpoint.epoch,
                    "title": f"{on}\nattention over training",
                },
            )
        )
    if ins.switched_off:
        names = list(ins.switched_off)
        ch = [ins.switched_off[k] for k in names]
        metric = metric_label(ch[0]["metric"])
        specs.append(
            FigureSpec(
                "insight/switched_off",
                section,
                f"Attention switched off: {metric} change on the {ins.switched_on} nodes when attention in one layer or all "
                "is replaced by uniform weights or by GCN's coefficients; and how many predictions change.",
                ip.plot_ablation,
                ([switch_name(k) for k in names], [x["change"] for x in ch], [x["changed"] for x in ch]),
                {"nodes": ch[0]["nodes"], "metric": metric, "title": f"{on}\ndoes attention matter? attention switched off"},
            )
        )
    return specs
