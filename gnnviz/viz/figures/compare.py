"""``gnnviz compare``'s figure descriptions: a ``Comparison`` in, ``figures.FigureSpec`` list out. Pure.

Which figures exist depends on what the runs contain: curves when runs recorded metrics, the
per-layer figure when some run has attention, neighbourhoods when some run has attention or
fixed edge coefficients. The nodes that flip are listed on the page and in compare.json.
"""

from __future__ import annotations

from gnnviz.analysis import attention as att
from gnnviz.analysis.comparison import Comparison
from gnnviz.datasets.base import SINGLE_LABEL, metric_label
from gnnviz.viz.draw import compare as cp
from gnnviz.viz.draw import neighbourhoods as hood_plots
from gnnviz.viz.draw import style
from gnnviz.viz.figures.run import FigureSpec, literal, run_colours, sci


def build(c: Comparison) -> list[FigureSpec]:
    """Every compare figure, in page order."""
    colours = run_colours(c.arrays[0])
    numbers = c.numbers
    graph = literal(c.arrays[0].graph_label)
    metric = metric_label(numbers["metric"])
    runs = f"{len(c.arrays)} runs in {len(c.groups)} groups"
    specs: list[FigureSpec] = []
    groups = numbers["groups"]

    bands = [(k, g, b) for k, (g, b) in enumerate(zip(groups, c.bands, strict=True)) if b is not None]
    if bands:
        panels = []
        for col, name in (("train_loss", "train loss"), ("val_loss", "val loss"), ("val_metric", f"val {metric}")):
            panels.append(
                (
                    name,
                    [
                        cp.Band(
                            literal(g["label"]),
                            b.epochs,
                            b.mean[col],
                            b.std[col],
                            b.n,
                            k,
                            tuple(int(e) for e in g["checkpoint_epoch"]["values"] if e is not None),
                        )
                        for k, g, b in bands
                    ],
                )
            )
        specs.append(
            FigureSpec(
                "curves",
                "training",
                "Training curves per group: mean over the group's seeds, band = +- one standard deviation (where two or more "
                "seeds trained that long); a triangle on the top edge marks each seed's checkpoint (the state compared); a circle "
                "marks where a seed stopped early, after which the mean is over the seeds still training.",
                cp.plot_curve_bands,
                (panels,),
                {"title": f"{graph}: training curves, {runs}"},
            )
        )

    values = [g["test_metric"]["values"] for g in groups]
    if any(v is not None for vals in values for v in vals):
        summary = "; ".join(f"{g['label']}: {_mean_std(g['test_metric'])}" for g in groups)
        specs.append(
            FigureSpec(
                "test_metric",
                "test metric",
                f"Test {metric} per group (recorded by training at the checkpoint): each seed a point, the line its mean, "
                "whiskers +- one standard deviation over its seeds; a group of one run has no spread over seeds, and "
                "for accuracy gets a grey 95% binomial interval from the size of the test set alone. "
                f"{summary}.",
                cp.plot_test_metric,
                ([literal(g["label"]) for g in groups], values),
                {
                    "metric": metric,
                    "seeds": [g["seeds"] for g in groups],
                    "title": f"{graph}: test {metric} per group",
                    "test_nodes": _test_nodes(c) if numbers["metric"] == "accuracy" else None,
                },
            )
        )

    attention_groups = [(k, g) for k, g in enumerate(groups) if g["layers"]]
    base = numbers["baseline_fixed_coefficients"]
    if attention_groups:

        def series(key: str) -> list[cp.LayerSeries]:
            return [
                cp.LayerSeries(literal(g["label"]), k, [row[key]["values"] for row in g["layers"]]) for k, g in attention_groups
            ]

        specs.append(
            FigureSpec(
                "layers",
                "attention per layer",
                "Per layer, attention averaged over heads: lift against labels (attention mass on same-label neighbours minus "
                "local homophily; 0 = no better than averaging) and mean KL divergence from uniform attention over the same "
                "neighbours. Thick tick = group mean (its value written right of it), points = seeds, whiskers +- one standard "
                "deviation over the seeds on both panels (on the logarithmic KL axis a whisker that runs off the bottom "
                "reaches 0); dashed = GCN's fixed coefficients on this graph "
                f"(lift {sci(base['lift'])}, KL {sci(base['kl_from_uniform'])} renormalised per node). The lift axis is linear "
                "within the grey band around 0 and logarithmic beyond, so lifts orders of magnitude apart can all be read.",
                cp.plot_layer_stats,
                (series("lift"), series("kl_from_uniform")),
                {
                    "baseline_lift": base["lift"],
                    "baseline_kl": base["kl_from_uniform"],
                    "max_lift": base["max_lift"],
                    "title": f"{graph}: what attention learned, per layer and group",
                },
            )
        )

    agreement, flips = numbers["agreement"], numbers["flipping_nodes"]
    by_split = ", ".join(f"{s} {k}" for s, k in flips["by_split"].items())
    specs.append(
        FigureSpec(
            "agreement",
            "predictions",
            f"Prediction agreement between runs: the fraction of the {agreement['node_count']} {agreement['nodes']} nodes on "
            f"which two runs predict the same. The runs do not all agree on {flips['count']} nodes ({by_split}); the page "
            "lists them.",
            cp.plot_agreement,
            (agreement["matrix"], [literal(t) for t in agreement["runs"]]),
            {"nodes": f"{agreement['nodes']} nodes", "title": f"{graph}: prediction agreement ({agreement['nodes']} nodes)"},
        )
    )
    specs += _neighbourhoods(c, colours)
    return specs


def _neighbourhoods(c: Comparison, colours: style.NodeColours) -> list[FigureSpec]:
    """One figure per node: a column per group (its first seed), a row per layer; attention
    averaged over heads, or GCN's coefficients where a run has those. Groups with neither (SAGE)
    are left out and named in the caption."""
    groups = c.numbers["groups"]
    shown = [(g, c.arrays[g.runs[0]], numbers) for g, numbers in zip(c.groups, groups, strict=True)]
    missing = [g.label for g, a, _ in shown if not a.attention and a.coefficients is None]
    shown = [(g, a, numbers) for g, a, numbers in shown if a.attention or a.coefficients is not None]
    if not shown:
        return []
    layers = max(len(a.attention) if a.attention else 1 for _, a, _ in shown)
    left_out = f" Not drawn: {', '.join(missing)} (no attention and no fixed edge weights)." if missing else ""
    specs = []
    for node in c.nodes:
        panels: list[hood_plots.NeighbourhoodPanel | str] = []
        for layer in range(layers):
            for g, a, numbers in shown:
                name = literal(g.label) + (f", seed {numbers['seeds'][0]}" if numbers["seeds"][0] is not None else "")
                if a.attention and layer < len(a.attention):
                    la = a.attention[layer]
                    heads = f"mean of {la.heads} heads" if la.heads > 1 else "1 head"
                    hood = att.neighbourhood(la.edge_index, la.alpha.mean(1), node)
                    panels.append(hood_plots.NeighbourhoodPanel(hood, f"{name}\nlayer {layer}, attention ({heads})"))
                elif a.attention:
                    panels.append(f"{name}: no layer {layer}")
                else:
                    co = a.coefficients
                    hood = att.neighbourhood(co.edge_index, co.weight, node)
                    title = f"{name}\nlayer {layer}, GCN coefficients (fixed), as shares"
                    panels.append(hood_plots.NeighbourhoodPanel(hood, title, normalised=False))
        a0 = shown[0][1]
        k = int(a0.degree[node])
        cls = f", {a0.class_name(int(a0.y[node]))}" if a0.task in SINGLE_LABEL else ""
        title = (
            f"{literal(a0.graph_label)}, node {node} ({k} neighbours{literal(cls)}): incoming weights side by side, "
            "one column per group (its first seed), one row per layer"
        )
        specs.append(
            FigureSpec(
                f"neighbourhoods/node{node}",
                "neighbourhoods",
                f"Node {node} ({k} neighbours{cls}): each group's first seed, attention averaged over heads next to GCN's "
                f"fixed coefficients, on one width scale; GCN's coefficients do not sum to 1 (5.7 at a hub), so they are drawn as "
                f"shares of their sum, as attention's are, and their raw sum is written under the panel.{left_out}",
                hood_plots.plot_neighbourhoods,
                (panels, colours),
                {"title": title, "columns": len(shown)},
            )
        )
    return specs


def _test_nodes(c: Comparison) -> int | None:
    """The test set's size (the runs of one dataset share it), or None without test nodes."""
    n = int((c.arrays[0].split == "test").sum())
    return n or None


def _mean_std(agg: dict) -> str:
    if agg["mean"] is None:
        return "n/a"
    spread = agg["std"] if agg["std"] is not None else float("nan")
    return f"{style.plus_minus(agg['mean'], spread)} (n={agg['n']})"
