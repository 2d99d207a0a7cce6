"""``index.html``: one offline page of every figure, the run summary and the statistics. Pure:
arrays, analyses and figure list in, HTML text out (``write.py`` writes it)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from gnnviz.analysis.arrays import RunArrays
from gnnviz.datasets.base import metric_label
from gnnviz.runs.schema import shareable
from gnnviz.viz.figures.run import num, sci

# One look for every gnnviz page (visualize's index.html, compare's index.html).
STYLE = (
    "<style>body{font-family:sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
    "th{background:#f4f4f4}img{max-width:100%;border:1px solid #ddd}figure{margin:1.5em 0}"
    "pre{background:#f7f7f7;padding:1em;overflow:auto}nav a{margin-right:1em}"
    ".warning{background:#fff3cd;border:1px solid #e0c36c;padding:.6em 1em}</style>"
)


@dataclass(frozen=True)
class PageFigure:
    path: str  # relative to the output folder, forward slashes
    caption: str


def index_html(
    a: RunArrays,
    layout_method: str,
    figures: dict[str, list[PageFigure]],
    stats: dict[str, Any] | None,
    notes: list[str],
    seconds: dict[str, float],
    misclassified: str,
    explorer_skipped: str | None = None,
) -> str:
    """The page. explorer_skipped: why there is no explorer page (None: link to it)."""
    e = html.escape
    ck = a.checkpoint
    rows = [
        ("run", str(a.run_dir)),
        ("graph", a.graph_label),
        ("layout", layout_method),
        ("state drawn", state_line(a)),
        ("checkpoint drawn", ck.label),
    ]
    rows.append(("misclassified", misclassified))
    rows += [(k, _fmt(v)) for k, v in shareable(a.summary).items() if k != "states"]  # the states: in "state drawn"
    summary = "\n".join(f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
    import yaml

    config = yaml.safe_dump(a.config, sort_keys=False)
    name = f"{a.model.upper()} on {a.graph_label}, {ck.stamp}"
    parts = _head(f"{a.model.upper()} on {a.dataset} ({ck.label if ck.state == 'selected' else ck.stamp}): gnnviz", name)
    if ck.warning:
        parts.append(f'<p class="warning"><strong>Warning:</strong> {e(ck.warning)}.</p>')
    parts += [f"<p>Note: {e(n)}.</p>" for n in notes]
    parts += [
        "<nav>" + "".join(f'<a href="#{e(_anchor(k))}">{e(k)}</a>' for k in ["summary", *figures]) + "</nav>",
        '<h2 id="summary">Run summary</h2>',
        f"<table>{summary}</table>",
    ]
    if stats is not None and stats.get("layers"):
        parts.append("<h3>Attention entropy (nats)</h3>")
        parts.append(_stats_table(stats))
    if stats is not None and stats.get("insight"):
        parts.append(_insight_html(stats["insight"]))
    if explorer_skipped:
        parts.append(f"<p>No interactive explorer for this run: {e(explorer_skipped)}.</p>")
    else:
        parts.append(
            '<p><a href="explorer.html">Open the interactive explorer</a> (graph, attention and embeddings, offline).</p>'
        )
    parts.append(f"<details><summary>Resolved config</summary><pre>{e(config)}</pre></details>")
    timing = ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items() if k != "html")
    parts.append(f"<p>Drawn in: {e(timing)}.</p>")
    parts += _figure_sections(figures)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _stats_table(stats: dict[str, Any]) -> str:
    e = html.escape
    names = ("layer", "head", "mean H", "mean log(deg)", "mean H/log(deg)", "mean KL from uniform")
    head = "<tr>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"
    rows = []
    for layer in stats["layers"]:
        entries = [(str(h["head"]), h) for h in layer["per_head"]]
        if layer["heads"] > 1:
            entries.append(("mean", layer["mean_over_heads"]))
        for name, st in entries:
            cells = [str(layer["layer"]), name] + [
                num(st[k]) for k in ("mean_entropy", "mean_uniform_entropy", "mean_normalised_entropy")
            ]
            cells.append(sci(st["mean_kl_from_uniform"]))
            rows.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _insight_html(ins: dict[str, Any]) -> str:
    """What attention learned: lift and ranking per layer and head, attention switched off."""
    e = html.escape
    base = ins["baseline_fixed_coefficients"]["overall"]
    parts = [
        "<h3>What attention learned</h3>",
        f"<p>Local homophily (uniform attention's label mass) {num(base['homophily'])} over {base['nodes']} nodes; "
        f"largest possible lift {num(base['max_lift'])}; GCN's fixed coefficients lift "
        f"{sci(base['lift'][0] if base['lift'] else None)}. Lift 0 means attention puts no more weight on same-label "
        "neighbours than averaging does.</p>",
    ]
    if ins["layers"]:
        names = ("layer", "head", "label mass", "lift", "ranking agreement", "pairs")
        rows = ["<tr>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"]
        for entry in ins["layers"]:
            lab, rank = entry["labels"]["overall"], entry["ranking"]
            heads = len(lab["lift"]) - 1
            for h in range(heads + 1):
                agree = rank["agreement"][h] if h < heads else None
                cells = [
                    str(entry["layer"]),
                    str(h) if h < heads else "mean",
                    num(lab["mass"][h]),
                    sci(lab["lift"][h]),
                    num(agree) if h < heads else "",
                    str(rank["pairs"]) if h == 0 else "",
                ]
                rows.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        parts.append(f"<table>{''.join(rows)}</table>")
    if ins["switched_off"]:
        rows = [
            "<tr><th>attention replaced by</th><th>metric before</th><th>after</th><th>change</th><th>predictions changed</th></tr>"
        ]
        for name, ch in ins["switched_off"].items():
            cells = [name, num(ch["before"]), num(ch["after"]), sci(ch["change"]), f"{ch['changed']} of {ch['nodes']}"]
            rows.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        parts.append(f"<p>Attention switched off, on the {e(ins['switched_off_nodes'])} nodes:</p><table>{''.join(rows)}</table>")
    return "\n".join(parts)


STATE_MEANS = {
    "selected": "the state the stopping rule selected",
    "min-loss": "the state of lowest validation loss",
    "last": "the last state trained",
}


def state_line(a: RunArrays) -> str:
    """Which state is drawn and which others the run keeps (``--state`` draws them)."""
    ck = a.checkpoint
    means = STATE_MEANS.get(ck.state, ck.state)
    if ck.state == "selected":
        rule = (a.config.get("training") or {}).get("early_stopping")
        means += f" (training.early_stopping={rule})" if rule else ""
    states = a.summary.get("states")
    if not isinstance(states, dict):
        return f"{ck.state}: {means}; the run keeps no other (it was trained before gnnviz kept other states)"
    others = [f"{n} (epoch {row.get('epoch')})" for n, row in states.items() if n != ck.state and isinstance(row, dict)]
    return f"{ck.state}: {means}" + (f"; the run also keeps {', '.join(others)}: draw one with --state" if others else "")


def _head(title: str, heading: str) -> list[str]:
    """The opening of every page: doctype, ``title``, the shared style and the ``heading`` (both escaped)."""
    e = html.escape
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        STYLE,
        "</head><body>",
        f"<h1>{e(heading)}</h1>",
    ]


def _anchor(text: str) -> str:
    return text.replace(" ", "-")


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


# ----------------------------------------------------------------------------- gnnviz compare

# Disagreeing nodes listed one by one on the compare page (compare.json lists them all).
FLIPS_LISTED = 40


def compare_html(
    numbers: dict[str, Any], figures: dict[str, list[PageFigure]], notes: list[str], seconds: dict[str, float]
) -> str:
    """``gnnviz compare``'s index.html: the runs, their groups' aggregates, agreement, flipping
    nodes and every figure. ``numbers`` is the content of compare.json."""
    e = html.escape
    groups, runs = numbers["groups"], numbers["runs"]
    metric = metric_label(numbers["metric"])
    name = f"{numbers['graph']}: {len(runs)} runs in {len(groups)} groups compared"
    parts = _head(f"{name}: gnnviz compare", name)
    parts += [f'<p class="warning"><strong>Note:</strong> {e(n)}.</p>' for n in notes]
    sections = ["runs", "groups", "agreement", *figures]
    parts.append("<nav>" + "".join(f'<a href="#{e(_anchor(k))}">{e(k)}</a>' for k in sections) + "</nav>")
    parts.append('<h2 id="runs">Runs</h2>')
    parts.append(
        _table(
            ("run", "group", "status", "checkpoint epoch", f"test {metric}", "folder"),
            [
                (r["label"], groups[r["group"]]["label"], r["status"], r["checkpoint_epoch"], num(r["test_metric"]), r["path"])
                for r in runs
            ],
        )
    )
    parts.append('<h2 id="groups">Groups (mean +- standard deviation over seeds)</h2>')
    parts.append(f"<p>{e(numbers['definitions']['group'])}; {e(numbers['definitions']['mean_std'])}.</p>")
    scope = numbers["agreement"]["nodes"]
    parts.append(
        _table(
            ("group", "n", "seeds", f"test {metric}", f"val {metric}", "checkpoint epoch", f"seeds disagree on ({scope} nodes)"),
            [
                (
                    g["label"],
                    g["n"],
                    ", ".join(map(str, g["seeds"])),
                    _agg(g["test_metric"]),
                    _agg(g["val_metric"]),
                    _agg(g["checkpoint_epoch"], digits=0),
                    "-" if g["seed_disagreement"]["count"] is None else g["seed_disagreement"]["count"],
                )
                for g in groups
            ],
        )
    )
    if any(g["layers"] for g in groups):
        base = numbers["baseline_fixed_coefficients"]
        parts.append("<h3>Attention per layer (averaged over heads)</h3>")
        parts.append(
            f"<p>{e(numbers['definitions']['layers'])}. Local homophily {num(base['homophily'])}, largest possible lift {num(base['max_lift'])}.</p>"
        )
        rows = [
            (
                g["label"],
                row["layer"],
                _agg(row["lift"], sci_=True),
                _agg(row["kl_from_uniform"], sci_=True),
                _agg(row["normalised_entropy"]),
                _agg(row["ranking_agreement"]),
            )
            for g in groups
            for row in g["layers"]
        ]
        rows.append(("GCN's fixed coefficients (baseline)", "every", sci(base["lift"]), sci(base["kl_from_uniform"]), "", ""))
        parts.append(_table(("group", "layer", "lift", "KL from uniform (nats)", "H/log(deg)", "ranking agreement"), rows))
    agreement = numbers["agreement"]
    parts.append('<h2 id="agreement">Prediction agreement</h2>')
    parts.append(f"<p>{e(numbers['definitions']['agreement'])}, over the {agreement['node_count']} {e(scope)} nodes.</p>")
    labels = agreement["runs"]
    parts.append(_table(("", *labels), [(labels[i], *(num(v) for v in row)) for i, row in enumerate(agreement["matrix"])]))
    flips = numbers["flipping_nodes"]
    by_split = ", ".join(f"{s} {k}" for s, k in flips["by_split"].items())
    parts.append(f"<p>Nodes on which the runs do not all predict the same: {flips['count']} ({e(by_split)}).</p>")
    details = flips.get(f"{scope}_details", [])
    if details:
        shown = details[:FLIPS_LISTED]
        more = f" (the first {len(shown)} of {len(details)}; all in compare.json)" if len(shown) < len(details) else ""
        parts.append(f"<p>The {e(scope)} nodes among them{e(more)}: predicted class per run, * = wrong.</p>")
        parts.append(
            _table(
                ("node", "true", *labels),
                [
                    (
                        d["node"],
                        _label(d["label"]),
                        *(f"{_label(p)}{'' if ok else ' *'}" for p, ok in zip(d["predictions"], d["right"], strict=True)),
                    )
                    for d in shown
                ],
            )
        )
        names = numbers.get("class_names")
        if names:
            parts.append("<p>Classes: " + e(", ".join(f"{k} {n}" for k, n in enumerate(names))) + ".</p>")
    hoods = numbers["neighbourhoods"]
    if hoods["ties"]:
        parts.append(f"<p>Neighbourhoods: {e(hoods['chosen'])}; {e(hoods['ties'])}.</p>")
    timing = ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items())
    parts.append(f'<p>Compared in: {e(timing)}. Every number is in <a href="compare.json">compare.json</a>.</p>')
    parts += _figure_sections(figures)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _figure_sections(figures: dict[str, list]) -> list[str]:
    """A heading per section, then each figure linked to itself with its caption."""
    e = html.escape
    parts = []
    for section, items in figures.items():
        parts.append(f'<h2 id="{e(_anchor(section))}">{e(section.capitalize())}</h2>')
        for fig in items:
            src = e(fig.path, quote=True)
            parts.append(f'<figure><a href="{src}"><img src="{src}" alt="{e(fig.caption, quote=True)}" loading="lazy"></a>')
            parts.append(f"<figcaption>{e(fig.caption)}</figcaption></figure>")
    return parts


def _table(names: tuple, rows: list[tuple]) -> str:
    e = html.escape
    head = "<tr>" + "".join(f"<th>{e(str(n))}</th>" for n in names) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{e('' if c is None else str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _label(v: Any) -> str:
    """A class id as is; a multi-label prediction (a list of label ids) by its size: 121 ids do not fit a cell."""
    return f"{len(v)} labels" if isinstance(v, list) else str(v)


def _agg(a: dict[str, Any], *, sci_: bool = False, digits: int = 3) -> str:
    """'0.812 +- 0.004 (n=2)' from ``comparison.aggregate``'s dict."""
    if a["mean"] is None:
        return "n/a"
    show = sci if sci_ else (lambda v: f"{v:.{digits}f}")
    std = f" +- {show(a['std'])}" if a["std"] is not None else ""
    return f"{show(a['mean'])}{std} (n={a['n']})"


# ----------------------------------------------------------------------------- gnnviz explain


def explain_html(doc: dict[str, Any], figures: dict[str, list[PageFigure]]) -> str:
    """``gnnviz explain``'s index.html: the settings, every method's numbers, the fidelity curves,
    the agreement between methods, the explained nodes, the definitions and every figure.
    ``doc`` is the content of explain.json."""
    e = html.escape
    methods, chosen = doc["methods"], doc["settings"]["methods"]
    names = doc.get("class_names")

    def label(c: int) -> str:
        return f"{c} {names[c]}" if names else str(c)

    def stability(m: dict[str, Any]) -> str:
        st = m.get("stability")
        if st is None:
            return ""
        return f"edge std {num(st['edge_std_mean'])} (max {num(st['edge_std_max'])}), top overlap {num(st['top_overlap'])}"

    name = f"{doc['model'].upper()} on {doc['dataset']}, checkpoint epoch {doc['checkpoint_epoch']}: {len(doc['nodes'])} nodes explained"
    parts = _head(f"{name}: gnnviz explain", name)
    parts += [f'<p class="warning"><strong>Note:</strong> {e(n)}.</p>' for n in doc["notes"]]
    sections = ["methods", "fidelity curve", "agreement", "nodes", "definitions", *figures]
    parts.append("<nav>" + "".join(f'<a href="#{e(_anchor(k))}">{e(k)}</a>' for k in sections) + "</nav>")
    settings = doc["settings"]
    rows = [("run", doc["run"]), ("layers", doc["layers"]), ("graph nodes", doc["num_nodes"])]
    rows += [("known explanation", "yes (truth_edge_mask)" if doc["ground_truth"] else "no")]
    rows += [(k, ", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in settings.items()]
    parts.append(_table(("setting", "value"), rows))
    parts.append('<h2 id="methods">Methods</h2>')
    auc = ("AUC mean +- std (nodes)", "AUC pooled", "AUC, motif nodes only (nodes)") if doc["ground_truth"] else ()

    def inside(d: dict[str, Any]) -> str:  # explain.json from before auc_inside_*: not shown
        if d.get("auc_inside_mean") is None:
            return "n/a"
        return f"{num(d['auc_inside_mean'])} +- {num(d['auc_inside_std'])} ({d['auc_inside_nodes']}), pooled {num(d['auc_inside_pooled'])}"

    parts.append(
        _table(
            ("method", *auc, "fid+", "fid-", "characterization", "stability over repeats", "seconds", "what"),
            [
                (
                    m,
                    *(
                        (
                            "n/a"
                            if methods[m]["auc_mean"] is None
                            else f"{num(methods[m]['auc_mean'])} +- {num(methods[m]['auc_std'])} ({methods[m]['auc_nodes']})",
                            num(methods[m]["auc_pooled"]),
                            inside(methods[m]),
                        )
                        if doc["ground_truth"]
                        else ()
                    ),
                    num(methods[m]["fid_plus"]),
                    num(methods[m]["fid_minus"]),
                    num(methods[m]["characterization"]),
                    stability(methods[m]),
                    f"{methods[m]['seconds']:.2f}",
                    methods[m]["description"],
                )
                for m in chosen
            ],
        )
    )
    parts.append('<h2 id="fidelity-curve">Fidelity curve</h2>')
    parts.append(f"<p>{e(doc['definitions']['fidelity_curve'])}. Each cell: fid+ / fid-.</p>")
    keep = settings["curve_keep"]
    parts.append(
        _table(
            ("method", *(f"top {k:g}" for k in keep)),
            [
                (m, *(f"{num(p)} / {num(q)}" for p, q in zip(c["fid_plus"], c["fid_minus"], strict=True)))
                for m in chosen
                for c in [methods[m]["fidelity_curve"]]
            ],
        )
    )
    agreement = doc["agreement"]
    parts.append('<h2 id="agreement">Agreement between methods</h2>')
    for key, what in (("spearman", "agreement.spearman"), ("top_overlap", "agreement.top_overlap")):
        parts.append(f"<p>{e(key)}: {e(doc['definitions'][what])}.</p>")
        parts.append(
            _table(
                ("", *agreement["methods"]),
                [(a, *(num(v) for v in row)) for a, row in zip(agreement["methods"], agreement[key], strict=True)],
            )
        )
    parts.append('<h2 id="nodes">Explained nodes</h2>')
    truth = ("motif edges",) if doc["ground_truth"] else ()
    parts.append(
        _table(
            (
                "node",
                "split",
                "true",
                "predicted",
                "computation edges",
                *truth,
                *(f"{m} AUC" for m in chosen if doc["ground_truth"]),
            ),
            [
                (
                    r["node"],
                    r["split"],
                    label(r["true"]),
                    label(r["predicted"]) + ("" if r["correct"] else " (wrong)"),
                    r["computation_edges"],
                    *((r["truth_edges"],) if doc["ground_truth"] else ()),
                    *(num(r["methods"][m]["auc"]) for m in chosen if doc["ground_truth"]),
                )
                for r in doc["nodes"]
            ],
        )
    )
    parts.append('<h2 id="definitions">Definitions</h2>')
    parts.append(_table(("number", "definition"), list(doc["definitions"].items())))
    parts.append('<p>Every number is in <a href="explain.json">explain.json</a>.</p>')
    parts += _figure_sections(figures)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def seeds_html(doc: dict[str, Any]) -> str:
    """``gnnviz explain`` of a ``--seeds`` folder: how much each method's explanations of the same
    nodes differ across training seeds, with links to each seed's own page."""
    e = html.escape
    methods = doc["methods"]
    name = f"Explanations across {len(doc['seeds'])} training seeds: {len(doc['nodes'])} nodes"
    parts = _head(f"{name}: gnnviz explain", name) + [
        "<p>Each seed's explanations: "
        + ", ".join(
            f'<a href="{e(f, quote=True)}/index.html">{e(s)}</a>'
            for s, f in zip(doc["seeds"], doc.get("seed_folders") or doc["seeds"], strict=True)
        )
        + f". Every seed predicts the same class for {num(doc['predicted_same'])} of the nodes.</p>",
        _table(
            ("method", "spearman across seeds", "top overlap across seeds"),
            [(m, num(v["spearman"]), num(v["top_overlap"])) for m, v in methods.items()],
        ),
        "<h2>Nodes</h2>",
        _table(
            ("node", "predicted per seed", *(f"{m} spearman / overlap" for m in methods)),
            [
                (
                    r["node"],
                    ", ".join(map(str, r["predicted"])),
                    *(f"{num(r['methods'][m]['spearman'])} / {num(r['methods'][m]['top_overlap'])}" for m in methods),
                )
                for r in doc["nodes"]
            ],
        ),
        "<h2>Definitions</h2>",
        _table(("number", "definition"), list(doc["definitions"].items())),
        '<p>Every number is in <a href="explain.json">explain.json</a>.</p>',
        "</body></html>\n",
    ]
    return "\n".join(parts)
