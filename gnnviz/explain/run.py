"""``gnnviz explain``: a run directory in, ``explain.json`` and pictures out.

Everything is checked and computed before the first file is written, so bad input (an unknown
method, a node out of range, a run still training or damaged) writes nothing. The model and
predictions are the ones ``gnnviz visualize`` draws (``viz.load.load_arrays``: the kept
checkpoint, the stored graph); each node is explained on its own computation subgraph
(``explain.subgraph``), and the subgraph's prediction is checked against visualize's, except for
``--nodes`` on a graph above ``WHOLE_GRAPH_MAX_EDGES``, where the subgraphs are all that runs (the
same predictions for a message-passing model; ``whole_graph`` in explain.json says which); without
``--nodes`` such a graph's forward computes the logits alone (``load_arrays(details=False)``). The
nodes are scored in chunks (``_chunks``, within ``methods.BATCH_NUMBERS``), each chunk's subgraphs
explained together by every method (``methods``: batching) and their fidelity computed together
(``scores.fidelities_many``).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from gnnviz.datasets.base import SINGLE_LABEL
from gnnviz.errors import ConfigError, RunError, did_you_mean
from gnnviz.explain import methods as mt
from gnnviz.explain import scores as sc
from gnnviz.explain.methods import METHODS, PG_EPOCHS, PG_LR, PG_TRAIN_NODES, Subgraph, size, union
from gnnviz.explain.nodes import default_nodes

# "--methods attention" means its three readings.
GROUPS = {"attention": ("attention_last", "attention_mean", "attention_tree")}
# Above this many stored edges, --nodes skips the whole graph's forward (tens of seconds and GBs
# at 1M nodes, 10M edges): each node's prediction comes from its computation subgraph; without
# --nodes the forward computes the logits alone, not visualize's attention and embeddings.
WHOLE_GRAPH_MAX_EDGES = 2_000_000
DRAW_MAX_EDGES = 400  # a hub's neighbourhood is drawn with its own, the motif's and its strongest edges only
TOP_FEATURES = 10  # features listed per node and method
ZERO_NOTE = 0.5  # a method scoring more than this share of computation edges exactly 0 gets a note
CURVE_KEEP = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)  # the fidelity curve's shares of top edges kept

DEFINITIONS = {
    "computation_edges": "input edges that can carry a message to the node: edges into nodes within layers-1 hops "
    "(self-loops excluded); every per-node number is over these edges",
    "score": "a method's importance per edge (larger = more important); see methods.*.description",
    "auc": "ROC AUC (scikit-learn) of a method's scores over the node's computation edges against truth_edge_mask; "
    "ties count half; null where the computation edges are all in or all out of the known explanation",
    "auc_mean, auc_std": "mean and standard deviation of auc over the explained nodes where it is defined (auc_nodes)",
    "in_truth": "whether the node itself is in the known explanation (truth_node_mask: a motif's node); null "
    "without ground truth",
    "auc_inside_mean, auc_inside_std, auc_inside_nodes, auc_inside_pooled": "auc_mean, auc_std, auc_nodes and "
    "auc_pooled over the explained nodes inside the known explanation only (in_truth): the nodes whose label the "
    "motif determines, as GNNExplainer's paper and PyG's BA-Shapes example score; for a node outside, the motif "
    "edges in its computation graph are not its explanation",
    "auc_pooled": "one ROC AUC over the computation edges of all explained nodes together (scores not rescaled per node)",
    "fid_plus": "PyG fidelity+ (model explanations), mean over nodes: 1 if removing the explanation (the top keep share "
    "of the computation edges by score) changes the predicted class, else 0",
    "fid_minus": "PyG fidelity-, mean over nodes: 1 if the explanation's edges alone (other computation edges removed) "
    "change the predicted class, else 0",
    "characterization": "PyG characterization_score(fid_plus, fid_minus), equal weights; null where undefined",
    "agreement.spearman": "Spearman rank correlation (scipy) of two methods' scores over a node's computation edges, "
    "mean over the nodes where both vary (null where none); rows and columns in agreement.methods order",
    "agreement.top_overlap": "Jaccard overlap of two methods' explanations (top keep share of the computation edges), "
    "mean over nodes",
    "fidelity_curve": "fid_plus and fid_minus (as above, mean over nodes) with the explanation taken as the top share "
    "of the computation edges, for each share in fidelity_curve.keep (settings.curve_keep)",
    "stability": "stochastic methods only (methods.*.stochastic), run settings.repeats times per node with seeds "
    "seed + node + r * num_nodes (r = 0 .. repeats-1); the method's score is the mean over repeats. Per node: "
    "edge_std = the standard deviation (numpy, population) of each computation edge's score across repeats; "
    "edge_std_mean / edge_std_max = mean / max over computation edges of the standard deviation of an edge's score "
    "across repeats; top_overlap = Jaccard overlap of the top keep share, mean over pairs of repeats; spearman = "
    "rank correlation between repeats, mean over pairs where both vary. In methods.*.stability: means over nodes",
    "pgexplainer training": "trained methods (pgexplainer) fit once per explain call, before any node is explained, "
    "on a sample (numpy default_rng(settings.seed), without replacement) of up to settings.pgexplainer_train_nodes "
    "of the run's training-split nodes (those with a computation edge), each on its computation subgraph, for the "
    "model's predicted class; settings.pgexplainer_epochs passes in a seeded order; with --repeats, repeat r fits "
    "its own explainer with seed seed + r * num_nodes. Their seconds include the training",
    "nodes.*.edges": "the node's computation edges as [source, target] ids of the stored graph; nodes.*.methods.*.scores, "
    "nodes.*.methods.*.stability.edge_std and nodes.*.truth_edge_mask (true: in the known explanation; null without "
    "one) are in this order",
    "top_features": "methods with a feature attribution (integrated_gradients, saliency): the features with the "
    "largest attribution to the node's prediction, as [feature index, score]; score = the method's absolute attribution "
    "to that feature column summed over the nodes of the computation subgraph (PyG node_mask_type='attributes', no edge "
    "mask); names in feature_names where the dataset has them (null: indices only)",
    "inputs_sha256": "SHA-256 of the explained state's checkpoint file and graph.pt: the explorer (gnnviz visualize) "
    "shows these explanations only on a page drawn from the same bytes",
    "whole_graph": "true: the model also ran on the whole graph (visualize's forward; on a graph of more than "
    f"{WHOLE_GRAPH_MAX_EDGES:,} stored edges its logits alone, see notes), which picked the default "
    "nodes and against which each subgraph's prediction was checked; false (--nodes on a graph of more than "
    f"{WHOLE_GRAPH_MAX_EDGES:,} stored edges): predictions come from the computation subgraphs alone, the whole graph's for a model of "
    "L message-passing layers (L + 1 hops keep every degree and attention normaliser of the node's L-hop tree)",
    "seconds": "wall time of the method over all explained nodes (a shared machine: indicative only)",
}


def parse_methods(text: str | None, attention: bool) -> list[str]:
    """The methods ``--methods`` names (comma-separated; ``attention`` = its three readings), or
    every method this model allows when ``text`` is None."""
    if text is None or not text.strip():
        return [m for m, spec in METHODS.items() if spec.default and (attention or not spec.attention)]
    names: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part not in METHODS and part not in GROUPS:
            choices = [*METHODS, *GROUPS]
            raise ConfigError(f"unknown method '{part}'; choose from {', '.join(choices)}{did_you_mean(part, choices)}")
        for name in GROUPS.get(part, (part,)):
            if METHODS[name].attention and not attention:
                raise ConfigError(
                    f"--methods {part}: the model has no attention to read as an explanation; "
                    "use gnnexplainer, integrated_gradients or saliency"
                )
            if name not in names:
                names.append(name)
    return names


def check_out(out: Path) -> list[str]:
    """``out`` may be new, empty, or an earlier explain folder (whose listed files are replaced);
    returns the files an earlier explain wrote there."""
    if not out.exists():
        return []
    if not out.is_dir():
        raise ConfigError(f"--out {out} is a file; pass a folder")
    entries = [p.name for p in out.iterdir()]
    if not entries:
        return []
    try:
        return [str(f) for f in json.loads((out / "explain.json").read_text(encoding="utf-8"))["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        if all(
            re.fullmatch(
                r"node-\d+\.png|(summary|fidelity_curve|stability|features)\.png|index\.html|explain\.json|seed-\d+|\..*\.tmp", e
            )
            for e in entries
        ):
            return entries  # an explain stopped before its explain.json (written last), or its explain.json damaged
        raise ConfigError(f"{out} holds files that 'gnnviz explain' did not write; pass --out a new or empty folder") from None


def _one_thread(fn: Callable) -> Callable:
    """``fn`` run with one intra-op torch thread, the setting restored after. Explanations are many
    small forward and backward passes on computation subgraphs: on a shared machine a second
    thread waits for a core at every kernel (GNNExplainer's 100 steps on a 1M-node graph's node
    took 0.9 s on one thread and up to 20 s on two, at load average 5), as training finds below
    ``training.steps.SINGLE_THREAD_EDGES``."""
    from functools import wraps

    @wraps(fn)
    def run(*args, **kwargs):
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return run


@_one_thread
def explain(
    run_dir: Path,
    out: Path | None = None,
    *,
    nodes: list[int] | None = None,
    methods: str | None = None,
    seed: int = 0,
    epochs: int = 100,
    keep: float = 0.2,
    per_class: int = 1,
    repeats: int = 1,
    dpi: int = 150,
    state: str = "selected",
    log: Callable[[str], None] | None = None,
) -> Path:
    """Explain ``nodes`` of the run's model with ``methods``; write ``out`` (default RUN/explain;
    ``RUN/explain-<state>`` for a ``state`` other than the selected one)."""
    import torch

    from gnnviz.explain.subgraph import Hops
    from gnnviz.models.gnn import rebuild
    from gnnviz.runs.checks import check_fits
    from gnnviz.runs.load import check_state_name, load_checkpoint, load_run, state_digest, state_file
    from gnnviz.runs.store import read_graphs
    from gnnviz.viz.load import load_arrays

    say = log or (lambda _: None)
    if epochs < 1:
        raise ConfigError(f"--epochs {epochs} must be at least 1")
    if not 0 < keep <= 1:
        raise ConfigError(f"--keep {keep} must be a share in (0, 1], e.g. --keep 0.2")
    if per_class < 1:
        raise ConfigError(f"--per-class {per_class} must be at least 1")
    check_state_name(state)
    if repeats < 1:
        raise ConfigError(f"--repeats {repeats} must be at least 1 (runs of each stochastic method per node)")
    run_dir = Path(run_dir)
    given = out is not None
    out = Path(out) if given else run_dir / ("explain" if state == "selected" else f"explain-{state}")
    from gnnviz.viz.compare import seed_runs

    seeds = seed_runs(run_dir)
    if seeds is not None:
        settings = {"methods": methods, "seed": seed, "epochs": epochs, "keep": keep, "per_class": per_class}
        settings |= {"repeats": repeats, "dpi": dpi, "state": state}
        return _explain_seeds(seeds, out, nodes, settings, say, own=not given)

    earlier = check_out(out)
    opened = load_run(run_dir)  # a run still training, or damaged, is named before its graph is read
    checkpoint = load_checkpoint(run_dir, state)
    stored = read_graphs(run_dir)
    g = stored.graphs[0]
    # The whole graph's forward (visualize's, shared with its cache) picks the default nodes and
    # checks each subgraph's prediction; given --nodes of a big graph, the subgraphs suffice, and
    # its default nodes need only the forward's logits (the same numbers, a third of the time and
    # two thirds of the memory at 1M nodes: no attention, embeddings or cache entry).
    big = int(g.edge_index.size(1)) > WHOLE_GRAPH_MAX_EDGES
    whole = not nodes or not big
    arrays = load_arrays(run_dir, state=state, forward=whole, details=not big, stored=stored if big else None, run=opened)
    if arrays.task not in SINGLE_LABEL:
        raise ConfigError(f"{run_dir} is a {arrays.task} run; gnnviz explain explains single-label node classification")
    check_fits(run_dir, checkpoint, stored, state_file(run_dir, state).name)
    base = rebuild(checkpoint)
    if not base.spec.message_passing:
        raise ConfigError(
            f"{run_dir} is a {base.name} run, which passes no messages: gnnviz explain attributes predictions to "
            "edges; explain a GNN run instead"
        )
    chosen = parse_methods(methods, base.is_attention)
    n = int(g.num_nodes)
    y = np.asarray(arrays.y)
    if nodes:
        bad = [v for v in nodes if not 0 <= v < n]
        if bad:
            raise ConfigError(f"--nodes {bad[0]} out of range; the {arrays.dataset} graph has nodes 0..{n - 1}")
        targets = list(dict.fromkeys(nodes))
    else:
        targets = default_nodes(y, arrays.logits.argmax(axis=1), arrays.split, seed, per_class)
    layers = len(base.convs)
    ei = g.edge_index
    x = g.x.float() if g.x.layout == torch.strided else g.x.to_dense().float()
    truth_e = g.truth_edge_mask.numpy().astype(bool) if "truth_edge_mask" in g else None
    truth_n = g.truth_node_mask.numpy().astype(bool) if "truth_node_mask" in g else None
    # The state's name only where not the selected one: earlier explanations stay up to date.
    named = [] if state == "selected" else [state]
    if any(METHODS[m].fit for m in chosen):  # a trained method's training settings
        named.append([PG_EPOCHS, PG_LR, PG_TRAIN_NODES])
    key = _key(run_dir, [chosen, targets, seed, epochs, keep, per_class, repeats, dpi, *named], state_file(run_dir, state).name)
    if _up_to_date(out, key):
        say(f"{out} already explains these nodes of this checkpoint with these settings; nothing recomputed")
        return out

    hops = Hops(ei, n)  # the edges grouped by target once: each subgraph then costs its own size

    @cache  # a node's subgraph is taken once: for its prediction, then its explanation
    def computation(node: int):
        # L + 1 hops: every node within L hops keeps all its in-edges, so degree-normalised
        # coefficients (GCN) and attention are those of the whole graph.
        # Of those edges only the ones into nodes within L hops are kept: an edge into a node L + 1
        # hops away reaches the node's output by no path of L messages and enters no normaliser
        # of an edge that does (GCN's degrees are in-degrees of the nodes within L hops, softmax and
        # mean aggregation run over the in-edges of nodes within L - 1 hops), so the model's output
        # at the node and every gradient of it are the same without them (a test compares them).
        subset, sub_ei, index, orig = hops.k_hop(node, layers + 1)
        used = torch.isin(ei[1, orig], hops.within(node, layers))
        drawn = (int(orig.numel()), torch.nonzero(used).flatten())  # GNNExplainer's start: as on all L + 1 hops' edges
        sub_ei, orig = sub_ei[:, used], orig[used]
        inner = hops.within(node, max(layers - 1, 0))
        src, dst = ei[0, orig], ei[1, orig]
        comp = (torch.isin(dst, inner) & (src != dst)).numpy()
        return Subgraph(x[subset], sub_ei, index, lambda: rebuild(checkpoint), drawn), orig, src, dst, comp

    if whole:
        pred = arrays.logits.argmax(axis=1)
    else:  # [N], -1 where not explained: each explained node's prediction from its subgraph
        pred = np.full(n, -1, dtype=np.int64)
        for node in targets:
            sub = computation(node)[0]
            with torch.no_grad():
                pred[node] = int(base(sub.x, sub.edge_index)[sub.index].argmax())
    train = _training_subgraphs(arrays.split, seed, chosen, run_dir, computation)
    say(f"explaining {len(targets)} nodes of {run_dir} with {', '.join(chosen)}")

    seconds = dict.fromkeys(chosen, 0.0)
    # A forked helper process (viz/helper.py) scores some methods of each chunk while this one
    # scores the others (``_split``), then draws some of the figures (``_draw``); all here where
    # no process can be forked. Forked before the trained methods fit, so that it scores meanwhile.
    helper = _fork((computation, checkpoint))
    units = [(m, "edges") for m in chosen] + [(m, "features") for m in chosen if METHODS[m].features is not None]
    mine, theirs = _split(units, epochs, repeats, int(x.size(1))) if helper is not None else (units, [])
    try:
        chunks = _chunks(targets, computation)
        chunk = next(chunks, None)

        def hand(chunk):
            if not theirs or chunk is None:
                return None
            return helper.submit(_score_there, theirs, [c[0] for c in chunk], seed, n, repeats, epochs, keep)

        ticket = hand(chunk)
        # Trained methods (PGExplainer): one fit per repeat, on a seeded sample of the training nodes.
        fitted: dict[str, list[Callable]] = {}
        for name in (m for m in chosen if METHODS[m].fit):
            tick = time.perf_counter()
            say(f"training {name} on {len(train)} training nodes")
            fitted[name] = [METHODS[name].fit(train, seed + r * n) for r in range(repeats)]
            seconds[name] += time.perf_counter() - tick
        rows = []
        while chunk is not None:
            nodes_here = [c[0] for c in chunk]
            subs = [c[1] for c in chunk]
            x_u, ei_u, index_u, _ = union(subs)
            with torch.no_grad():
                found = base(x_u, ei_u)[index_u].numpy()
            for node, logits in zip(nodes_here, found, strict=True):
                want = arrays.logits[node] if whole else logits
                if not np.allclose(logits, want, atol=1e-3, rtol=1e-3) or int(logits.argmax()) != int(pred[node]):
                    raise RunError(
                        f"node {node}'s prediction on its computation subgraph differs from the whole graph's in {run_dir}; "
                        "the checkpoint or graph.pt is damaged: train again"
                    )
            got = {u: _score(u, chunk, fitted.get(u[0]), seed, n, repeats, epochs, keep, checkpoint) for u in mine}
            if ticket is not None:
                got |= helper.result(ticket)
            chunk_after = next(chunks, None)
            ticket = hand(chunk_after)  # scored there while the rows are built here
            per: list[dict[str, dict[str, Any]]] = [{} for _ in chunk]
            values: list[dict[str, np.ndarray]] = [{} for _ in chunk]
            spread: list[dict[str, np.ndarray]] = [{} for _ in chunk]
            for name in chosen:
                runs, fids, took = got[(name, "edges")]
                feats, took_features = got.get((name, "features"), (None, 0.0))
                seconds[name] += took + took_features
                for j, (_, _, orig, src, dst, comp) in enumerate(chunk):
                    s = np.mean(runs[j], axis=0)
                    (plus, minus), *curve = fids[j]
                    values[j][name] = s
                    top = np.flatnonzero(comp)[np.argsort(-s[comp], kind="stable")[:5]]
                    per[j][name] = {
                        "auc": sc.auc(s[comp], truth_e[orig.numpy()][comp]) if truth_e is not None else None,
                        "fid_plus": plus,
                        "fid_minus": minus,
                        "fidelity_curve": {"fid_plus": [c[0] for c in curve], "fid_minus": [c[1] for c in curve]},
                        "top_edges": [[int(src[i]), int(dst[i]), float(s[i])] for i in top],
                        "scores": [float(v) for v in s[comp]],
                    }
                    if feats is not None:
                        order = np.argsort(-feats[j], kind="stable")[:TOP_FEATURES]
                        per[j][name]["top_features"] = [[int(i), float(feats[j][i])] for i in order]
                    if len(runs[j]) > 1:
                        spread[j][name] = np.std(runs[j], axis=0)[comp]
                        per[j][name]["stability"] = _stability([r[comp] for r in runs[j]], spread[j][name], keep)
                        per[j][name]["stability"]["edge_std"] = [float(v) for v in spread[j][name]]
            for j, (node, _, orig, src, dst, comp) in enumerate(chunk):
                truth_here = truth_e[orig.numpy()][comp] if truth_e is not None else None
                rows.append(
                    {
                        "node": int(node),
                        "split": str(arrays.split[node]),
                        "true": int(y[node]),
                        "predicted": int(pred[node]),
                        "correct": bool(y[node] == pred[node]),
                        "computation_edges": int(comp.sum()),
                        "edges": np.stack([src.numpy()[comp], dst.numpy()[comp]], axis=1).tolist(),
                        "truth_edges": None if truth_here is None else int(truth_here.sum()),
                        "truth_edge_mask": None if truth_here is None else truth_here.tolist(),
                        "in_truth": None if truth_n is None else bool(truth_n[node]),
                        "methods": per[j],
                        "_draw": (src.numpy()[comp], dst.numpy()[comp], {m: v[comp] for m, v in values[j].items()}, truth_here),
                        "_spread": spread[j],
                    }
                )
            chunk = chunk_after
        summary = _summarise(rows, chosen, truth_e is not None)
        agreement = _agreement(rows, chosen, keep)
        for name in chosen:
            summary[name]["description"] = METHODS[name].description
            summary[name]["seconds"] = round(seconds[name], 3)
        notes = []
        if whole and big:
            notes.append(
                f"the whole graph's forward computed its logits alone (the graph has {int(ei.size(1)):,} stored edges, "
                f"more than {WHOLE_GRAPH_MAX_EDGES:,}): they picked the nodes and checked each subgraph's prediction; "
                "the attention and embeddings gnnviz visualize draws were neither computed nor cached"
            )
        if not whole:
            notes.append(
                f"predictions from each explained node's computation subgraph alone (the graph has {int(ei.size(1)):,} "
                f"stored edges, more than {WHOLE_GRAPH_MAX_EDGES:,}): the whole graph's were not computed, so whether "
                "the model tells the nodes apart was not checked"
            )
        elif np.unique(pred).size == 1:
            notes.append(
                f"the model predicts class {int(pred[0])} for every node (accuracy {float((pred == y).mean()):.3f}): "
                "it does not tell the nodes apart, so these explanations describe a constant function"
            )
        for name in chosen:  # a collapsed mask (PGExplainer's sigmoid underflows): its ranking rests on ties at 0
            every = np.concatenate([r["_draw"][2][name] for r in rows])
            if every.size and (zero := float(np.mean(every == 0))) > ZERO_NOTE:
                notes.append(
                    f"{name} scores {zero:.0%} of the computation edges exactly 0 (tied; AUC counts ties half, "
                    f"fidelity takes them in edge order): its scores rank only the rest"
                )
        for line in notes:
            say(f"note: {line}")

        from gnnviz.explain.draw import plot_curves, plot_features, plot_stability, plot_summary
        from gnnviz.viz.labels import feature_names as names_of

        feature_names = names_of(arrays.config.get("dataset") or {}, int(x.size(1)))
        names = arrays.class_names
        label = lambda c: names[c] if names else str(c)  # noqa: E731
        ep = arrays.checkpoint.epoch
        about = (
            f"{arrays.dataset}, {arrays.model}, {'checkpoint ' if state == 'selected' else ''}"
            f"{arrays.checkpoint.stamp_short}: {len(rows)} nodes explained"
        )
        # Descriptions (``Figure``): drawn below by viz/write.py's render_all, shared with the helper
        # process by their costs (seconds measured on BA-Shapes, 3 methods, on one core).
        figures: list[Figure] = [
            Figure(
                "fidelity_curve.png", plot_curves, ({m: summary[m]["fidelity_curve"] for m in chosen},), {"title": about}, 0.16
            )
        ]
        spread = {m: _pooled_spread(rows, m) for m in chosen if m in rows[0]["_spread"]}
        if spread:
            figures.append(Figure("stability.png", plot_stability, (spread,), {"repeats": repeats, "title": about}, 0.3))
        heading = (arrays.dataset, arrays.model, arrays.checkpoint.stamp_short)
        for row in rows:
            row.pop("_spread")
            s_src, s_dst, vals, truth_here = row.pop("_draw")
            here = truth_n[np.unique(np.concatenate([[row["node"]], s_src, s_dst]))] if truth_n is not None else None
            figures.append(
                Figure(
                    f"node-{row['node']}.png",
                    _node_figure,
                    (row, s_src, s_dst, vals, truth_here, here, seed, names, heading),
                    {},
                    0.03 + len(chosen) * (0.011 + 0.0001 * min(len(s_src), DRAW_MAX_EDGES)),
                )
            )
        with_features = [m for m in chosen if METHODS[m].features is not None]
        if with_features:
            panels = [
                (
                    f"node {r['node']} ({r['split']}), predicted {label(r['predicted'])}",
                    {m: r["methods"][m]["top_features"] for m in with_features},
                )
                for r in rows
            ]
            figures.append(
                Figure(
                    "features.png",
                    plot_features,
                    (panels,),
                    {"names": feature_names, "title": f"{about}: feature attribution"},
                    0.06 + 0.014 * len(panels),
                )
            )
        figures.append(
            Figure(
                "summary.png",
                plot_summary,
                ({m: dict(v) for m, v in summary.items()},),  # drawn after auc_per_node leaves explain.json's copy
                {
                    "title": about,
                    "ground_truth": truth_e is not None,
                    "spearman": agreement["spearman"] if len(chosen) > 1 else None,
                },
                0.25,
            )
        )
        for m in summary.values():
            m.pop("auc_per_node")
        files = ["explain.json", "index.html", *(f.stem for f in figures)]
        doc = {
            "run": str(run_dir),
            "dataset": arrays.dataset,
            "model": arrays.model,
            "checkpoint_epoch": ep,
            "state": state,
            "inputs_sha256": state_digest(run_dir, state),
            "layers": layers,
            "num_nodes": n,
            "ground_truth": truth_e is not None,
            "whole_graph": whole,
            "settings": {
                "methods": chosen,
                "seed": seed,
                "gnnexplainer_epochs": epochs,
                **(
                    {"pgexplainer_epochs": PG_EPOCHS, "pgexplainer_lr": PG_LR, "pgexplainer_train_nodes": PG_TRAIN_NODES}
                    if any(METHODS[m].fit for m in chosen)
                    else {}
                ),
                "keep": keep,
                "per_class": per_class,
                "repeats": repeats,
                "curve_keep": list(CURVE_KEEP),
            },
            "class_names": names,
            "feature_names": feature_names,
            "definitions": DEFINITIONS,
            "methods": summary,
            "agreement": agreement,
            "nodes": rows,
            "notes": notes,
            "files": files,
            "key": key,
        }
        blobs = dict(zip((f.stem for f in figures), _draw(figures, dpi, helper), strict=True))
        blobs["index.html"] = _page(doc, rows).encode("utf-8")
        blobs["explain.json"] = (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode("utf-8")
        _write(out, blobs, earlier)
        from gnnviz.viz.explained import refresh

        refresh(run_dir, state, out, doc, say)  # the explorer of this state, where there is one, shows them
        return out
    finally:
        if helper is not None:
            helper.close()


EXPLAIN_VERSION = 9  # bump when what explain computes changes


def _key(run_dir: Path, settings: list, checkpoint: str = "checkpoint.pt") -> str:
    """What an explanation depends on: the checkpoint's (the state's file) and graph's bytes, the
    settings, the version."""
    import hashlib

    digest = hashlib.sha256(json.dumps([EXPLAIN_VERSION, settings]).encode())
    for name in (checkpoint, "graph.pt"):
        with open(run_dir / name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _up_to_date(out: Path, key: str) -> bool:
    try:
        doc = json.loads((out / "explain.json").read_text(encoding="utf-8"))
        return doc["key"] == key and all((out / str(f)).is_file() for f in doc["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _chunks(targets: list[int], computation) -> Iterator[list[tuple]]:
    """The explained nodes' computations (``computation(node)``, with the node first) in
    consecutive groups explained together: within ``methods.BATCH_NUMBERS``, so a large graph's
    subgraphs are not all held at once."""
    chunk: list[tuple] = []
    total = 0
    for node in targets:
        c = (node, *computation(node))
        if chunk and total + size(c[1]) > mt.BATCH_NUMBERS:
            yield chunk
            chunk, total = [], 0
        chunk.append(c)
        total += size(c[1])
    if chunk:
        yield chunk


def _training_subgraphs(split, seed: int, chosen: list[str], run_dir: Path, computation) -> list[Subgraph]:
    """What trained methods (``MethodSpec.fit``) train on: the computation subgraphs of a seeded
    sample of up to ``PG_TRAIN_NODES`` training-split nodes, those with a computation edge; [] when
    no chosen method trains. A run without such nodes is refused here, before anything is written."""
    trained = [m for m in chosen if METHODS[m].fit]
    if not trained:
        return []
    nodes = np.flatnonzero(np.asarray(split) == "train")
    sample = np.sort(np.random.default_rng(seed).choice(nodes, min(PG_TRAIN_NODES, nodes.size), replace=False))
    train = [c[0] for c in map(computation, sample.tolist()) if c[4].any()]
    if not train:
        why = "has no training nodes" if not nodes.size else "has no training node with an edge within the model's reach"
        raise ConfigError(
            f"--methods {trained[0]} trains on the run's training nodes, and {run_dir} {why}; "
            "use gnnexplainer, integrated_gradients or saliency"
        )
    return train


def _summarise(rows: list[dict], chosen: list[str], truth: bool) -> dict[str, dict[str, Any]]:
    out = {}
    for name in chosen:
        aucs = [r["methods"][name]["auc"] for r in rows]
        ok = np.array([a for a in aucs if a is not None], dtype=float)
        plus = float(np.mean([r["methods"][name]["fid_plus"] for r in rows]))
        minus = float(np.mean([r["methods"][name]["fid_minus"] for r in rows]))
        pooled = None
        if truth:
            s = np.concatenate([r["_draw"][2][name] for r in rows])
            t = np.concatenate([r["_draw"][3] for r in rows])
            pooled = sc.auc(s, t)
        curve = {
            "keep": list(CURVE_KEEP),
            **{
                f: [float(v) for v in np.mean([r["methods"][name]["fidelity_curve"][f] for r in rows], axis=0)]
                for f in ("fid_plus", "fid_minus")
            },
        }
        # The literature's protocol (GNNExplainer's paper, PyG's BA-Shapes example): only the nodes
        # inside the known explanation, whose label it determines.
        inside = [r for r in rows if r.get("in_truth")]
        m_ok = np.array([a for r in inside if (a := r["methods"][name]["auc"]) is not None], dtype=float)
        m_pooled = None
        if truth and inside:
            s = np.concatenate([r["_draw"][2][name] for r in inside])
            t = np.concatenate([r["_draw"][3] for r in inside])
            m_pooled = sc.auc(s, t)
        out[name] = {
            "stochastic": METHODS[name].stochastic,
            "auc_mean": float(ok.mean()) if ok.size else None,
            "auc_std": float(ok.std()) if ok.size else None,
            "auc_nodes": int(ok.size),
            "auc_pooled": pooled,
            "auc_per_node": aucs,
            "auc_inside_mean": float(m_ok.mean()) if m_ok.size else None,
            "auc_inside_std": float(m_ok.std()) if m_ok.size else None,
            "auc_inside_nodes": int(m_ok.size),
            "auc_inside_pooled": m_pooled,
            "fid_plus": plus,
            "fid_minus": minus,
            "characterization": sc.characterization(plus, minus),
            "fidelity_curve": curve,
        }
        stab = [r["methods"][name]["stability"] for r in rows if "stability" in r["methods"][name]]
        if stab:
            out[name]["stability"] = {
                "repeats": stab[0]["repeats"],
                **{
                    k: (float(np.mean(v)) if (v := [d[k] for d in stab if d[k] is not None]) else None)
                    for k in ("edge_std_mean", "edge_std_max", "top_overlap", "spearman")
                },
            }
    return out


def _stability(runs: list[np.ndarray], std: np.ndarray, keep: float) -> dict[str, Any]:
    """How much a stochastic method's repeats differ on one node: runs [R][m] over its computation edges."""
    from itertools import combinations

    from scipy.stats import spearmanr

    every = np.ones(std.size, dtype=bool)
    hard = [sc.top_share(r, every, keep) for r in runs]
    pairs = list(combinations(range(len(runs)), 2))
    rho = [float(spearmanr(runs[i], runs[j]).statistic) for i, j in pairs if np.ptp(runs[i]) > 0 and np.ptp(runs[j]) > 0]
    return {
        "repeats": len(runs),
        "edge_std_mean": float(std.mean()) if std.size else None,
        "edge_std_max": float(std.max()) if std.size else None,
        "top_overlap": float(np.mean([sc.jaccard(hard[i], hard[j]) for i, j in pairs])) if std.size else None,
        "spearman": float(np.mean(rho)) if rho else None,
    }


def _pooled_spread(rows: list[dict], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Every explained node's computation edges together: (mean score [m], std over repeats [m])."""
    return (
        np.concatenate([r["_draw"][2][name] for r in rows]),
        np.concatenate([r["_spread"][name] for r in rows]),
    )


def _agreement(rows: list[dict], chosen: list[str], keep: float) -> dict[str, Any]:
    from scipy.stats import spearmanr

    k = len(chosen)
    rho = [[[] for _ in range(k)] for _ in range(k)]
    jac = [[[] for _ in range(k)] for _ in range(k)]
    for r in rows:
        vals = r["_draw"][2]
        if not next(iter(vals.values())).size:
            continue
        every = np.ones(next(iter(vals.values())).size, dtype=bool)
        hard = {m: sc.top_share(vals[m], every, keep) for m in chosen}
        for i, a in enumerate(chosen):
            for j, b in enumerate(chosen):
                jac[i][j].append(float((hard[a] & hard[b]).sum() / max((hard[a] | hard[b]).sum(), 1)))
                if np.ptp(vals[a]) > 0 and np.ptp(vals[b]) > 0:
                    rho[i][j].append(float(spearmanr(vals[a], vals[b]).statistic))

    def mean(cell: list[float]) -> float | None:
        return float(np.mean(cell)) if cell else None

    return {
        "methods": chosen,
        "spearman": [[mean(c) for c in row] for row in rho],
        "top_overlap": [[mean(c) for c in row] for row in jac],
    }


def _node_figure(row, s_src, s_dst, vals, truth_here, truth_every, seed, names, heading):
    """One node's figure (``draw.plot_node``), laid out here: module-level and given plain data, so
    that the helper process can draw it. ``truth_every``: the known explanation's node mask over the
    ids of the node and its computation edges' endpoints (sorted), or None; ``heading``: (dataset,
    model, checkpoint stamp)."""
    from gnnviz.explain.draw import plot_node, thin_edges
    from gnnviz.viz.coords.layout import compute_layout

    label = lambda c: names[c] if names else str(c)  # noqa: E731
    # Laid out with every computation edge, drawn with those thin_edges keeps: a hub's kept motif
    # edges stay where their houses hang, not pushed off as pieces the thinning cut loose.
    every = np.unique(np.concatenate([[row["node"]], s_src, s_dst]))
    # visualize's seeded layout (igraph: Fruchterman-Reingold, then Kamada-Kawai), without its cache
    layout = compute_layout(np.searchsorted(every, np.stack([s_src, s_dst])), every.size, seed=seed).coords
    pick, thinned = thin_edges(s_src, s_dst, vals, node=row["node"], truth=truth_here, limit=DRAW_MAX_EDGES)
    s_src, s_dst = s_src[pick], s_dst[pick]
    vals = {m: v[pick] for m, v in vals.items()}
    truth_here = truth_here[pick] if truth_here is not None else None
    shown = f" ({thinned})" if thinned else ""
    ids = np.unique(np.concatenate([[row["node"]], s_src, s_dst]))
    local = {int(v): i for i, v in enumerate(ids)}
    edges = np.array([[local[int(u)] for u in s_src], [local[int(v)] for v in s_dst]], dtype=np.int64).reshape(2, -1)
    pos = layout[np.searchsorted(every, ids)].reshape(-1, 2)
    notes = {m: "" if d["auc"] is None else f"AUC {d['auc']:.2f}" for m, d in row["methods"].items()}
    for m, d in row["methods"].items():
        notes[m] = (notes[m] + "  " if notes[m] else "") + f"fid+ {d['fid_plus']:.0f} fid- {d['fid_minus']:.0f}"
        if "stability" in d:
            st = d["stability"]
            notes[m] += f"\nmean of {st['repeats']} seeds, edge std {st['edge_std_mean']:.2g} (max {st['edge_std_max']:.2g})"
    dataset, model, stamp = heading
    title = (
        f"{dataset}, {model}, {stamp}: node {row['node']} ({row['split']}), "
        f"true {label(row['true'])}, predicted {label(row['predicted'])}{'' if row['correct'] else ' (wrong)'}{shown}"
    )
    return plot_node(
        pos,
        edges,
        vals,
        target=local[row["node"]],
        node_ids=ids,
        truth_edges=truth_here,
        truth_nodes=truth_every[np.searchsorted(every, ids)] if truth_every is not None else None,
        title=title,
        notes=notes,
    )


CAPTIONS = {
    "summary.png": "ROC AUC per method against the known explanation (a dot per node), fidelity+ and fidelity- at "
    "the --keep share, agreement between methods",
    "fidelity_curve.png": "fidelity+ and fidelity- per method as the share of each node's top computation edges "
    "taken as its explanation grows",
    "stability.png": "the stochastic methods' (GNNExplainer, PGExplainer) edge scores over --repeats seeds: mean "
    "against standard deviation, a dot per edge",
    "features.png": "feature attribution per node: the top features, each method's bar as a share of its largest",
}


def _page(doc: dict[str, Any], rows: list[dict]) -> str:
    from gnnviz.viz.pages.index import PageFigure, explain_html

    names = doc["class_names"]
    label = lambda c: names[c] if names else str(c)  # noqa: E731
    summary = [
        PageFigure(f, CAPTIONS[f])
        for f in ("summary.png", "fidelity_curve.png", "stability.png", "features.png")
        if f in doc["files"]
    ]
    nodes = [
        PageFigure(
            f"node-{r['node']}.png",
            f"node {r['node']} ({r['split']}): true {label(r['true'])}, predicted {label(r['predicted'])}"
            f"{'' if r['correct'] else ' (wrong)'}; {r['computation_edges']} computation edges, one panel per method",
        )
        for r in rows
    ]
    return explain_html(doc, {"summary figures": summary, "nodes": nodes})


SEED_DEFINITIONS = {
    "seeds": "the --seeds folder's runs (trained with different run.seed on one graph), each explained for the same "
    "nodes (those given, or the first seed's sample) into its own folder, its explain.json and index.html: the seed "
    "run's own explain folder (seed-<N>/explain, which that run's explorer shows), or OUT/seed-<N> with --out",
    "seed_folders": "each seed's explain folder, relative to this one",
    "predicted_same": "share of the explained nodes that every seed's model predicts the same class for",
    "spearman": "per node: Spearman rank correlation of two seeds' scores of the same method over the node's "
    "computation edges, mean over pairs of seeds where both vary (null: none); per method: mean over nodes",
    "top_overlap": "per node: Jaccard overlap of two seeds' explanations (top keep share of the computation edges), "
    "mean over pairs of seeds; per method: mean over nodes",
}


def _explain_seeds(runs: list[Path], out: Path, nodes: list[int] | None, settings: dict, say, own: bool) -> Path:
    """A ``--seeds`` folder: each seed run explained for the same nodes, then how much the
    explanations of a node differ across the training seeds (``out/explain.json``).

    ``own``: each seed into its own run's default folder (``seed-N/explain``), where that run's
    explorer finds it (``viz.explained``); else (``--out`` given) into ``out/seed-N``."""
    from itertools import combinations

    from scipy.stats import spearmanr

    from gnnviz.runs.load import load_run
    from gnnviz.viz.explained import explain_dir

    earlier = check_out(out)
    for r in runs:  # every seed readable and finished, and its folder writable, before anything is written
        load_run(r)
        check_out(explain_dir(r, settings["state"]) if own else out / r.name)
    kw = {k: v for k, v in settings.items() if k != "methods"}
    docs, folders = [], []
    for r in runs:
        folder = explain_dir(r, settings["state"]) if own else out / r.name
        folder = explain(r, folder, nodes=nodes, methods=settings["methods"], **kw, log=say)
        docs.append(json.loads((folder / "explain.json").read_text(encoding="utf-8")))
        folders.append(Path(os.path.relpath(folder.resolve(), out.resolve())).as_posix())
        nodes = [row["node"] for row in docs[0]["nodes"]]
    import hashlib

    key = hashlib.sha256(json.dumps([EXPLAIN_VERSION, [d["key"] for d in docs], folders]).encode()).hexdigest()
    if _up_to_date(out, key):
        say(f"{out} already compares these seeds' explanations; nothing recomputed")
        return out
    chosen = docs[0]["settings"]["methods"]
    keep = docs[0]["settings"]["keep"]
    pairs = list(combinations(range(len(docs)), 2))
    rows = []
    for i, node in enumerate(nodes):
        per_seed = [d["nodes"][i] for d in docs]
        if any(p["edges"] != per_seed[0]["edges"] for p in per_seed):
            raise RunError(f"the seeds of {out.parent} were trained on different graphs; explain each seed on its own")
        every = np.ones(len(per_seed[0]["edges"]), dtype=bool)
        per: dict[str, dict[str, Any]] = {}
        for m in chosen:
            vals = [np.asarray(p["methods"][m]["scores"], dtype=float) for p in per_seed]
            hard = [sc.top_share(v, every, keep) for v in vals]
            rho = [float(spearmanr(vals[a], vals[b]).statistic) for a, b in pairs if np.ptp(vals[a]) > 0 and np.ptp(vals[b]) > 0]
            per[m] = {
                "spearman": float(np.mean(rho)) if rho else None,
                "top_overlap": float(np.mean([sc.jaccard(hard[a], hard[b]) for a, b in pairs])) if every.size else None,
            }
        rows.append({"node": node, "predicted": [p["predicted"] for p in per_seed], "methods": per})

    def mean(v: list) -> float | None:
        v = [x for x in v if x is not None]
        return float(np.mean(v)) if v else None

    doc = {
        "seeds": [r.name for r in runs],
        "seed_folders": folders,
        "settings": docs[0]["settings"],
        "definitions": SEED_DEFINITIONS,
        "predicted_same": float(np.mean([len(set(r["predicted"])) == 1 for r in rows])),
        "methods": {m: {k: mean([r["methods"][m][k] for r in rows]) for k in ("spearman", "top_overlap")} for m in chosen},
        "nodes": rows,
        "files": ["explain.json", "index.html"],
        "key": key,
    }
    from gnnviz.viz.pages.index import seeds_html

    blobs = {"index.html": seeds_html(doc).encode("utf-8")}
    blobs["explain.json"] = (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode("utf-8")
    _write(out, blobs, [f for f in earlier if not f.startswith("seed-")])
    return out


@dataclass(frozen=True)
class Figure:
    """One picture of an explanation: ``plot(*args, **kwargs)`` written as ``stem`` (a
    ``viz.write.render_all`` description: module-level ``plot``, picklable arguments); ``cost``:
    its drawing time, roughly in seconds, for sharing the figures between two processes."""

    stem: str
    plot: Callable[..., Any]
    args: tuple
    kwargs: dict[str, Any]
    cost: float


# What the helper process forked in ``_fork`` inherits: (``computation``, the checkpoint) of the
# explain call that forked it, set only while it forks.
_FORKED: tuple | None = None


def _fork(inherited: tuple):
    """A ``viz.helper.Helper`` forked with ``inherited`` as ``_FORKED``, or None where no process can
    be forked (no fork on Windows, no process left): explain then does everything here."""
    global _FORKED
    from gnnviz.viz.helper import Helper

    _FORKED = inherited
    try:
        return Helper()
    except (OSError, ValueError):
        return None
    finally:
        _FORKED = None


def _lpt(costs: list[float], mine: float = 0.0) -> list[int]:
    """The positions of ``costs`` the helper takes when each, costliest first, goes to whichever of
    the two processes has less to do so far (this one on ties; ``mine``: this one's load already)."""
    theirs, load = [], [mine, 0.0]
    for i in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        side = int(load[1] < load[0])
        load[side] += costs[i]
        if side:
            theirs.append(i)
    return sorted(theirs)


def _split(units: list[tuple[str, str]], epochs: int, repeats: int, features: int) -> tuple[list, list]:
    """(the units scored here, those the helper scores), shared by their costs: a unit is a method's
    edge scores with their fidelities, ``(name, "edges")`` (``MethodSpec.cost``), or its feature
    attribution, ``(name, "features")`` (``MethodSpec.features_cost`` of the graph's ``features``).
    A trained method's edge scores (``fit``) stay here, where it is trained, and count toward this
    process's share."""

    def cost(unit):
        spec = METHODS[unit[0]]
        return spec.cost(epochs, repeats) if unit[1] == "edges" else spec.features_cost(features)

    fixed = [u for u in units if u[1] == "edges" and METHODS[u[0]].fit]
    free = [u for u in units if u not in fixed]
    theirs = {free[i] for i in _lpt([cost(u) for u in free], sum(cost(u) for u in fixed))}
    return [u for u in units if u not in theirs], [u for u in units if u in theirs]


def _score(
    unit: tuple[str, str],
    chunk: list[tuple],
    fitted: list[Callable] | None,
    seed: int,
    n: int,
    repeats: int,
    epochs: int,
    keep: float,
    checkpoint,
):
    """One unit (``_split``) of a method on a chunk's nodes (``_chunks``). ``(name, "edges")``:
    (each node's runs, a [E_sub] float64 score array per repeat; each node's fidelities, the keep
    share's then ``CURVE_KEEP``'s; seconds); ``fitted``: a trained method's score function per
    repeat. ``(name, "features")``: (each node's [F] feature attribution summed over its subgraph's
    nodes; seconds)."""
    from gnnviz.models.gnn import rebuild

    name, part = unit
    spec = METHODS[name]
    tick = time.perf_counter()
    nodes_here = [c[0] for c in chunk]
    subs = [c[1] for c in chunk]
    if part == "features":
        found = spec.features(subs, [seed + v for v in nodes_here])
        return [f.float().sum(dim=0).numpy().astype(np.float64) for f in found], time.perf_counter() - tick
    reps = repeats if spec.stochastic else 1
    if fitted is not None:  # one trained explainer per repeat
        got = [fitted[r](subs, [seed + v + r * n for v in nodes_here], epochs) for r in range(reps)]
    else:  # every node and repeat in one call: explained together
        flat = spec.score(subs * reps, [seed + v + r * n for r in range(reps) for v in nodes_here], epochs)
        got = [flat[r * len(subs) : (r + 1) * len(subs)] for r in range(reps)]
    runs = [[got[r][j].float().numpy().astype(np.float64) for r in range(reps)] for j in range(len(chunk))]
    hards = [
        [sc.top_share(np.mean(rr, axis=0), c[5], share) for share in (keep, *CURVE_KEEP)]
        for rr, c in zip(runs, chunk, strict=True)
    ]
    fids = sc.fidelities_many(rebuild(checkpoint), subs, hards)
    return runs, fids, time.perf_counter() - tick


def _score_there(
    units: list[tuple[str, str]], nodes: list[int], seed: int, n: int, repeats: int, epochs: int, keep: float
) -> dict:
    """What the helper process runs: ``_score`` of each of ``units`` on ``nodes``, their subgraphs
    taken there (the same ones: the same code on the same graph)."""
    import torch

    torch.set_num_threads(1)
    computation, checkpoint = _FORKED
    chunk = [(v, *computation(v)) for v in nodes]
    return {unit: _score(unit, chunk, None, seed, n, repeats, epochs, keep, checkpoint) for unit in units}


def _draw(figures: list[Figure], dpi: int, helper=None) -> list[bytes]:
    """Each figure's PNG bytes, in order: those ``_lpt`` gives it (by ``Figure.cost``) drawn by the
    helper process (``viz/helper.py``, the same code on a fork: the same bytes) while this one
    draws the others; all here without a helper."""
    from gnnviz.viz.write import render_all

    return render_all(figures, "png", dpi, helper=helper, theirs=_lpt([f.cost for f in figures]))


def _write(out: Path, blobs: dict[str, bytes], earlier: list[str]) -> None:
    """Every file of the folder replaced as one (``io.atomic_write_files``): a full disk leaves the
    earlier explanation whole; explain.json last, so the folder is complete when it is there."""
    from gnnviz.io import atomic_write_files

    out.mkdir(parents=True, exist_ok=True)
    names = [name for name in blobs if name != "explain.json"] + ["explain.json"]
    atomic_write_files([(out / name, blobs[name]) for name in names])
    for name in earlier:  # an earlier explain's pictures of nodes not explained now (explain.json lists none)
        if name not in blobs and "/" not in name and (out / name).is_file():
            (out / name).unlink()
