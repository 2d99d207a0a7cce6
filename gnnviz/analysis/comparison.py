"""Runs side by side: pure functions of several ``RunArrays`` of one graph (no files, no drawing).

``compare_runs(arrays, nodes)`` groups the runs, aggregates each group over its seeds and
measures how the runs' predictions agree. Everything per run comes from the analyses that
``visualize`` uses (``analysis.entropies``, ``analysis.insight``, ``insight.prediction_change``);
this module only groups, aggregates and compares. Definitions (also in ``compare.json``):

* Group: runs whose resolved configs are equal except for ``IGNORED`` keys (the seed, and
  settings that do not change what is learned: the device, attention snapshots), drawn in the
  same state (``--state``: two states of one run are two groups, labelled ``@state``). A group's
  number is the mean and the sample standard deviation (n - 1, as ``gnnviz train --seeds``)
  over its runs; the standard deviation of one run is undefined (None).
* Prediction: the argmax class (multi-label: the set of labels with logit > 0). Agreement of two
  runs = the fraction of nodes (of the test split, and of all nodes) with equal predictions.
* Flipping nodes: nodes on which the runs do not all predict the same.
* Per layer: lift and KL from uniform of the attention averaged over heads (``visualize``'s
  "mean over heads"); the baseline is GCN's fixed coefficients D^-1/2 (A+I) D^-1/2 on the same
  graph: its lift (``insight``) and the KL from uniform of the coefficients renormalised per node.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnnviz.analysis import attention as att
from gnnviz.analysis import insight as ins
from gnnviz.analysis import run as analysis
from gnnviz.analysis.arrays import RunArrays
from gnnviz.analysis.run import top_degree

# Config keys that do not make two runs different experiments: the seed varies within a group;
# the device and attention snapshots do not change what the model learns.
IGNORED = ("run.seed", "run.device", "training.snapshots")
CURVE_COLUMNS = ("train_loss", "val_loss", "train_metric", "val_metric")


def flat_config(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"model.hidden": 64, ...}: nested sections flattened to dotted keys."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_config(value, f"{name}."))
        else:
            out[name] = value
    return out


def seed_of(a: RunArrays) -> int | None:
    seed = a.summary.get("seed", flat_config(a.config).get("run.seed"))
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def aggregate(values: Sequence[float | None]) -> dict[str, Any]:
    """{"mean", "std" (sample, n - 1; None for n < 2), "n", "values"} over the defined values."""
    vals = [float(v) for v in values if v is not None and np.isfinite(v)]
    return {
        "mean": statistics.fmean(vals) if vals else None,
        "std": statistics.stdev(vals) if len(vals) > 1 else None,
        "n": len(vals),
        "values": [None if v is None or not np.isfinite(v) else float(v) for v in values],
    }


@dataclass(frozen=True)
class Group:
    """Runs that differ only in their seed. runs: indices into the compared runs, by seed."""

    label: str
    model: str
    runs: list[int]
    differences: dict[str, Any]  # config keys that set this group apart from another of its model


def group_runs(arrays: Sequence[RunArrays]) -> list[Group]:
    """Groups in order of first appearance; runs inside a group ordered by seed, then as given."""
    keys: list[tuple] = []
    members: list[list[int]] = []
    flats = [{k: v for k, v in flat_config(a.config).items() if k not in IGNORED} for a in arrays]
    states = [a.checkpoint.state for a in arrays]
    for i, flat in enumerate(flats):
        key = (states[i], *sorted((k, repr(v)) for k, v in flat.items()))
        if key in keys:
            members[keys.index(key)].append(i)
        else:
            keys.append(key)
            members.append([i])
    groups = []
    for idx in members:
        first = flats[idx[0]]
        model = arrays[idx[0]].model
        # Keys that differ from another group of the same model name this group apart.
        others = [flats[m[0]] for m in members if m is not idx and arrays[m[0]].model == model]
        diff = {k: first.get(k) for k in sorted(set(first).union(*others)) if any(o.get(k) != first.get(k) for o in others)}
        label = model.upper() + (f" ({', '.join(f'{k}={v}' for k, v in diff.items())})" if diff else "")
        # The state, where it is not the selected one or the comparison holds more than one.
        state = states[idx[0]]
        if state != "selected" or len(set(states)) > 1:
            label += f" @{state}"
        order = sorted(idx, key=lambda i: (seed_of(arrays[i]) is None, seed_of(arrays[i]) or 0, i))
        groups.append(Group(label, model, order, diff))
    return groups


def run_label(a: RunArrays, group: Group) -> str:
    seed = seed_of(a)
    return f"{group.label} seed {seed}" if seed is not None else f"{group.label} ({a.run_dir.name})"


@dataclass(frozen=True)
class CurveBand:
    """A group's training curves over its seeds: epochs [T]; per column mean [T], std [T] (NaN
    where fewer than two seeds reached the epoch) and n [T] seeds that reached it."""

    epochs: np.ndarray
    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]
    n: np.ndarray


def curve_band(runs: Sequence[RunArrays]) -> CurveBand | None:
    """Mean and std per epoch over the runs that trained that long (early stopping ends seeds at
    different epochs); None when no run has metrics."""
    curves = [a.curves for a in runs if a.curves and "epoch" in a.curves]
    if not curves:
        return None
    epochs = np.unique(np.concatenate([c["epoch"] for c in curves])).astype(int)
    mean, std = {}, {}
    n = np.zeros(epochs.size, dtype=int)
    for col in CURVE_COLUMNS:
        table = np.full((len(curves), epochs.size), np.nan)
        for r, c in enumerate(curves):
            if col in c:
                table[r, np.searchsorted(epochs, c["epoch"].astype(int))] = c[col]
        have = np.isfinite(table)
        count = have.sum(0)
        n = np.maximum(n, count)
        with np.errstate(invalid="ignore", divide="ignore"):
            total = np.where(have, table, 0.0).sum(0)
            m = np.where(count > 0, total / np.maximum(count, 1), np.nan)
            var = np.where(have, (table - m) ** 2, 0.0).sum(0) / np.maximum(count - 1, 1)
        mean[col] = m
        std[col] = np.where(count > 1, np.sqrt(var), np.nan)
    return CurveBand(epochs, mean, std, n)


def gcn_baseline(a: RunArrays) -> dict[str, Any] | None:
    """GCN's fixed coefficients on ``a``'s graph: lift against labels (as ``insight`` reports it)
    and the mean KL from uniform of the coefficients renormalised per node (self-loop included)."""
    if a.attention:
        loops = a.attention[0].edge_index
    elif a.coefficients is not None:
        loops = a.coefficients.edge_index
    else:
        loops = att.with_self_loops(a.edge_index, a.num_nodes)
    n = a.num_nodes
    w = att.gcn_coefficients(loops, n)
    labels = ins.attention_vs_labels(loops, w, a.y)["overall"]
    sums = att.node_sums(loops, w, n)
    normalised = w / sums[loops[1]]
    kl = att.uniform_entropy(loops, n) - att.entropy(loops, normalised, n)
    return {
        "lift": labels["lift"][0] if labels["lift"] else None,
        "kl_from_uniform": float(np.mean(np.maximum(kl, 0.0))),
        "homophily": labels["homophily"],
        "max_lift": labels["max_lift"],
        "nodes": labels["nodes"],
    }


def _layer_numbers(a: RunArrays) -> list[dict[str, Any]]:
    """Per attention layer of one run: lift and KL from uniform of the head-averaged attention,
    ranking agreement averaged over heads; [] for models without attention."""
    if not a.attention:
        return []
    layers = list(range(len(a.attention)))
    entropies = analysis.entropies(a, layers)
    found = analysis.insight(a, layers)
    out = []
    for layer, le in zip(layers, entropies, strict=True):
        k = found.layers.index(layer)
        lab = found.labels[k]["overall"]
        agree = [v for v in found.ranking[k]["agreement"] if v is not None]
        out.append(
            {
                "layer": layer,
                "heads": le.heads,
                "lift": lab["lift"][-1],  # the head mean is the last entry
                "label_mass": lab["mass"][-1],
                "kl_from_uniform": le.mean_stats["mean_kl_from_uniform"],
                "normalised_entropy": le.mean_stats["mean_normalised_entropy"],
                "ranking_agreement": float(np.mean(agree)) if agree else None,
            }
        )
    return out


def _node_split_ids(ids: Sequence[int], split: np.ndarray) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for s in analysis.SPLITS:
        chosen = [int(v) for v in ids if split[v] == s]
        if (split == s).any():
            out[s] = chosen
    return out


@dataclass(frozen=True)
class Comparison:
    """Everything ``gnnviz compare`` shows. ``numbers`` is ``compare.json`` (less the file list);
    the other fields are the arrays the figures need."""

    arrays: list[RunArrays]
    groups: list[Group]
    labels: list[str]  # per run
    bands: list[CurveBand | None]  # per group
    layers: list[list[dict[str, Any]]]  # per run: ``_layer_numbers``
    nodes: list[int]  # neighbourhoods drawn
    numbers: dict[str, Any]


def compare_runs(arrays: Sequence[RunArrays], *, nodes: Sequence[int] = (), top_k: int = 2) -> Comparison:
    """Compare runs of one graph (the caller checks that they are). ``nodes``: extra
    neighbourhoods to draw after the ``top_k`` highest-degree nodes (ties: lower id first)."""
    arrays = list(arrays)
    first = arrays[0]
    y = first.y
    groups = group_runs(arrays)
    order = [i for g in groups for i in g.runs]  # runs listed group by group
    group_of = {i: gi for gi, g in enumerate(groups) for i in g.runs}
    labels = [run_label(arrays[i], groups[group_of[i]]) for i in range(len(arrays))]
    per_run_layers = [_layer_numbers(a) for a in arrays]
    baseline = gcn_baseline(first)

    test = first.split == "test"
    scope, scope_mask = ("test", test) if test.any() else ("all", None)
    preds = [ins.predict(a.logits, y) for a in arrays]

    def agreement_matrix(mask: np.ndarray | None) -> list[list[float | None]]:
        m = []
        for i in order:
            row = []
            for j in order:
                ch = ins.prediction_change(arrays[i].logits, arrays[j].logits, y, mask=mask)
                row.append(1.0 - ch["changed"] / ch["nodes"] if ch["nodes"] else None)
            m.append(row)
        return m

    # A node flips when some run predicts differently from the first: then not all runs agree.
    flipped = sorted(
        set().union(*(ins.prediction_change(arrays[order[0]].logits, arrays[i].logits, y)["changed_nodes"] for i in order))
    )
    flip_ids = _node_split_ids(flipped, first.split)
    details = []
    for v in flip_ids.get(scope, flipped):
        row_preds = [preds[i][v] for i in order]
        truth = y[v]
        details.append(
            {
                "node": v,
                "label": _json_label(truth),
                "predictions": [_json_label(p) for p in row_preds],
                "right": [bool(np.array_equal(p, truth != 0) if y.ndim == 2 else p == truth) for p in row_preds],
            }
        )

    hubs, hubs_note = top_degree(first.degree, top_k)
    drawn = list(dict.fromkeys(hubs + [int(v) for v in nodes]))
    metric = first.checkpoint.metric
    group_numbers = []
    for g in groups:
        runs_g = [arrays[i] for i in g.runs]
        seed_flips = None
        if len(g.runs) > 1:
            ref = arrays[g.runs[0]].logits
            changed = set().union(
                *(ins.prediction_change(ref, arrays[i].logits, y, mask=scope_mask)["changed_nodes"] for i in g.runs)
            )
            seed_flips = len(changed)
        layer_rows = []
        for layer in range(max((len(per_run_layers[i]) for i in g.runs), default=0)):
            rows = [per_run_layers[i][layer] if layer < len(per_run_layers[i]) else None for i in g.runs]
            layer_rows.append(
                {
                    "layer": layer,
                    **{
                        k: aggregate([r[k] if r else None for r in rows])
                        for k in ("lift", "label_mass", "kl_from_uniform", "normalised_entropy", "ranking_agreement")
                    },
                }
            )
        group_numbers.append(
            {
                "label": g.label,
                "model": g.model,
                "state": arrays[g.runs[0]].checkpoint.state,
                "config_differences": g.differences,
                "runs": [str(arrays[i].run_dir) for i in g.runs],
                "seeds": [seed_of(arrays[i]) for i in g.runs],
                "n": len(g.runs),
                "attention": bool(runs_g[0].attention),
                "test_metric": aggregate([_test_metric(a) for a in runs_g]),
                "val_metric": aggregate([a.checkpoint.val_metric for a in runs_g]),
                "checkpoint_epoch": aggregate([a.checkpoint.epoch for a in runs_g]),
                "epochs_run": aggregate([a.checkpoint.epochs_run for a in runs_g]),
                "layers": layer_rows,
                "seed_disagreement": {"nodes": scope, "count": seed_flips},
            }
        )

    numbers = {
        "dataset": first.dataset,
        "graph": first.graph_label,
        "nodes": first.num_nodes,
        "metric": metric,
        "class_names": first.class_names,
        "definitions": {
            "group": f"runs whose resolved configs are equal except for {', '.join(IGNORED)}",
            "mean_std": "mean and sample standard deviation (n - 1) over a group's runs; std null for one run",
            "prediction": "argmax class (multi-label: the labels with logit > 0)",
            "agreement": "fraction of nodes on which two runs predict the same",
            "flipping_nodes": "nodes on which the runs do not all predict the same",
            "seed_disagreement": "nodes on which a group's seeds do not all predict the same",
            "layers": "attention averaged over heads: lift = same-label mass - local homophily; KL from uniform = log(in-degree) - H; ranking agreement averaged over heads",
            "baseline": "GCN's fixed coefficients D^-1/2 (A+I) D^-1/2 on the same graph (renormalised per node for the KL)",
        },
        "runs": [
            {
                "path": str(arrays[i].run_dir),
                "label": labels[i],
                "group": group_of[i],
                "model": arrays[i].model,
                "seed": seed_of(arrays[i]),
                "status": arrays[i].summary.get("status"),
                "state": arrays[i].checkpoint.state,
                "checkpoint_epoch": arrays[i].checkpoint.epoch,
                "test_metric": _test_metric(arrays[i]),
                "layers": per_run_layers[i],
            }
            for i in order
        ],
        "groups": group_numbers,
        "baseline_fixed_coefficients": baseline,
        "agreement": {
            "runs": [labels[i] for i in order],
            "nodes": scope,
            "node_count": int(test.sum()) if scope == "test" else first.num_nodes,
            "matrix": agreement_matrix(scope_mask),
            "all_nodes_matrix": agreement_matrix(None),
        },
        "flipping_nodes": {
            "count": len(flipped),
            "by_split": {s: len(v) for s, v in flip_ids.items()},
            "nodes": flip_ids,
            f"{scope}_details": details,
        },
        "neighbourhoods": {
            "nodes": drawn,
            "chosen": f"the {top_k} highest-degree nodes (ties: lower id first)"
            + (f", then {', '.join(map(str, nodes))}" if nodes else ""),
            "ties": hubs_note,
        },
    }
    arrays_in_order = [arrays[i] for i in order]
    return Comparison(
        arrays_in_order,
        [Group(g.label, g.model, [order.index(i) for i in g.runs], g.differences) for g in groups],
        [labels[i] for i in order],
        [curve_band([arrays[i] for i in g.runs]) for g in groups],
        [per_run_layers[i] for i in order],
        drawn,
        numbers,
    )


def _test_metric(a: RunArrays) -> float | None:
    """The test metric training recorded at the state drawn (the selected one: as ``gnnviz runs`` shows it)."""
    v = a.checkpoint.test_metric
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) else None


def _json_label(v: Any) -> Any:
    """A class id, or the list of label ids of a multi-label prediction."""
    arr = np.asarray(v)
    return int(arr) if arr.ndim == 0 else [int(k) for k in np.flatnonzero(arr)]
