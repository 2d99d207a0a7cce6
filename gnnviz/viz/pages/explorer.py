"""The explorer page: one run's graph, predictions, attention and t-SNE, interactive and offline.

Pure: numpy arrays in, ``{relative file name: bytes}`` out; the renderer writes the files. The
page is ``explorer.html`` beside ``index.html`` plus an ``explorer/`` folder:

- ``explorer/data.js``: every number the page shows, in one file. It assigns
  ``window.GNNVIZ_EXPLORER_DATA = {meta, arrays}``: ``meta`` is JSON (names, summary, config,
  figure list, per-layer head counts), ``arrays`` holds typed arrays as base64 of zlib-deflated
  bytes, byte-shuffled (all first bytes, then all second bytes, ...) so runs of similar numbers
  compress. A file:// page cannot ``fetch()`` a JSON file in Chromium, but it can load a script.
- ``explorer/explorer.js``, ``explorer/explorer.css``: the page's code (``explorer_assets/``).
- ``explorer/vendor/``: sigma.js 3 (WebGL graph renderer) and graphology, with licences and
  pinned versions (``explorer_assets/vendor/VERSIONS.md``). explorer.js loads sigma itself, and
  only where the browser gives a WebGL context: sigma throws as it loads without one.

Neighbourhoods are stored as CSR by target node: ``indptr [N+1]``, ``src [E]``, edges sorted by
(target, source). An attention layer whose edges are the graph's plus one self-loop per node (GAT
and GCN in PyG) stores no index of its own: row ``v`` is ``[v]`` then the graph's row ``v``.
Attention weights are stored as float16: the page prints three significant figures, and a weight
of 0.0059 (uniform over 168 neighbours) needs 5e-6 absolute precision, more than uint16 fixed
point (7.6e-6) holds; float16's relative error (at most 2^-11 = 4.9e-4) is below the 5e-4 to
5e-3 of three significant figures, in the same 2 bytes (a 100k-node page stays under its 30 MB;
float32 would add 8 MB). Multi-label probabilities, only compared with 0.5, are uint16 fixed
point (``round(p * 65535)``).
"""

from __future__ import annotations

import base64
import html
import json
import math
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gnnviz.runs.schema import shareable

ASSET_DIR = Path(__file__).with_name("explorer_assets")  # package data (pyproject.toml)
PAGE = "explorer.html"
FOLDER = "explorer"
DATA = f"{FOLDER}/data.js"
# What ``gnnviz explain`` found for this run, a script of its own: visualize writes it with the page,
# and explain rewrites it (and nothing else) when it explains the checkpoint the page draws.
EXPLAIN = f"{FOLDER}/explain.js"
EXPLAIN_PREFIX = "window.GNNVIZ_EXPLORER_EXPLAIN = "
FIXED = 65535  # uint16 fixed point for multi-label probabilities in [0, 1]
# Above this many nodes visualize writes no explorer page: at 100k nodes its data is ~30 MB and
# ready in ~10 s (issue 10's budgets), so 1M nodes would be ~300 MB that a browser tab loads for
# minutes, and a sample of nodes would show neighbourhoods that are not the model's. The static
# figures (raster layout, class-to-class flow, exact neighbourhoods) cover such graphs.
MAX_NODES = 250_000
SPLITS = ("train", "val", "test", "other")
# Page code and vendored files copied as they are: (package file, output file).
ASSETS = (
    ("explorer.js", f"{FOLDER}/explorer.js"),
    ("explorer.css", f"{FOLDER}/explorer.css"),
    ("vendor/sigma.min.js", f"{FOLDER}/vendor/sigma.min.js"),
    ("vendor/graphology.umd.min.js", f"{FOLDER}/vendor/graphology.umd.min.js"),
    ("vendor/LICENSE-sigma.txt", f"{FOLDER}/vendor/LICENSE-sigma.txt"),
    ("vendor/LICENSE-graphology.txt", f"{FOLDER}/vendor/LICENSE-graphology.txt"),
    ("vendor/VERSIONS.md", f"{FOLDER}/vendor/VERSIONS.md"),
)


def explorer_files(
    *,
    title: str,
    num_nodes: int,
    edge_index: np.ndarray,
    coords: np.ndarray,
    y: np.ndarray,
    probabilities: np.ndarray,
    split: np.ndarray,
    degree: np.ndarray,
    class_names: Sequence[str] | None = None,
    attention: Sequence[tuple[np.ndarray, np.ndarray]] = (),
    entropy: Sequence[np.ndarray] = (),
    entropy_mean: Sequence[np.ndarray | None] = (),
    lift: Sequence[np.ndarray | None] | None = None,
    lift_mean: Sequence[np.ndarray | None] | None = None,
    gcn: tuple[np.ndarray, np.ndarray] | None = None,
    tsne: Sequence[tuple[str, np.ndarray, np.ndarray]] = (),
    summary: Mapping[str, Any] | None = None,
    config_text: str = "",
    figures: Sequence[tuple[str, str]] = (),
    explained: Mapping[str, Any] | None = None,
    compress_level: int = 6,
) -> dict[str, bytes]:
    """The explorer page's files, ``{path relative to the viz folder: bytes}``.

    title: the page heading, e.g. "GAT on Cora (epoch 49)".
    edge_index: [2, E] the graph as stored, no self-loops. coords: [N, 2] the layout.
    y: [N] class ids, or [N, C] 0/1 for multi-label. probabilities: [N, C] softmax (multi-class)
    or sigmoid (multi-label); the prediction is the argmax, or every label above 0.5.
    split: [N] "train" / "val" / "test" / "other". degree: [N] what the figures call degree.
    attention: per layer (edge_index_l [2, E_l] with self-loops, alpha_l [E_l, H_l]).
    entropy: per attention layer [N, H_l] (nats); entropy_mean: per layer [N], the entropy of
    the mean over heads (as in attention_stats.json's mean_over_heads), or None.
    lift, lift_mean: the same shapes for the attention-against-labels lift, or None.
    gcn: (edge_index [2, E + N] with self-loops, coefficients [E + N]) for GCN runs.
    tsne: (title, coords [M, 2], node ids [M]) per projection shown.
    figures: (path relative to the viz folder, caption) of the static figures.
    explained: ``explain_data``'s result, written to ``explorer/explain.js`` (None: an empty one).
    Raises ValueError when shapes disagree (a bug in the caller, not bad user input).
    """
    n = int(num_nodes)
    edge_index = np.asarray(edge_index, dtype=np.int64).reshape(2, -1)
    _check(edge_index.size == 0 or (edge_index.min() >= 0 and edge_index.max() < n), "edge_index has ids outside 0..N-1")
    _check(not np.any(edge_index[0] == edge_index[1]), "edge_index must not hold self-loops")
    coords = np.asarray(coords, dtype=np.float64)
    _check(coords.shape == (n, 2), f"coords must be [N, 2] = [{n}, 2], got {list(coords.shape)}")
    y = np.asarray(y)
    probabilities = np.asarray(probabilities, dtype=np.float32)
    multilabel = y.ndim == 2
    _check(y.shape[0] == n and probabilities.ndim == 2 and probabilities.shape[0] == n, "y and probabilities need N rows")
    num_classes = int(probabilities.shape[1])
    if multilabel:
        _check(y.shape[1] == num_classes, "multi-label y and probabilities need the same columns")
    split = np.asarray(split).astype(str)
    _check(split.shape == (n,) and set(np.unique(split)) <= set(SPLITS), f"split must be [N] of {', '.join(SPLITS)}")
    degree = np.asarray(degree)
    _check(degree.shape == (n,), "degree must be [N]")

    arrays: dict[str, np.ndarray] = {}
    indptr, src = _csr(edge_index, n)
    arrays["indptr"], arrays["src"] = indptr.astype(np.int32), src.astype(np.int32)
    arrays["coords"] = coords.astype(np.float32)
    arrays["degree"] = degree.astype(np.int32)
    arrays["split"] = np.array([SPLITS.index(s) for s in split], dtype=np.uint8)
    if multilabel:
        arrays["y"] = (y > 0.5).astype(np.uint8)
        arrays["prob"] = _fixed(probabilities)
    else:
        arrays["y"] = y.astype(np.int32)
        arrays["pred"] = probabilities.argmax(1).astype(np.int32)
        arrays["prob"] = probabilities.max(1).astype(np.float32)

    layers = []
    for i, (ei, alpha) in enumerate(attention):
        alpha = np.asarray(alpha, dtype=np.float32)
        alpha = alpha.reshape(alpha.shape[0], -1)
        heads = alpha.shape[1]
        order, shared = _layer_order(np.asarray(ei, dtype=np.int64), n, indptr, src, f"layer {i}", arrays, f"l{i}_")
        arrays[f"att{i}"] = alpha[order].astype(np.float16)
        layer: dict[str, Any] = {"heads": heads, "shared": shared}
        if i < len(entropy) and entropy[i] is not None:
            arrays[f"ent{i}"] = _per_node(entropy[i], n, heads, f"entropy[{i}]")
        if i < len(entropy_mean) and entropy_mean[i] is not None:
            arrays[f"entm{i}"] = _per_node(entropy_mean[i], n, 1, f"entropy_mean[{i}]").reshape(n)
        if lift is not None and i < len(lift) and lift[i] is not None:
            arrays[f"lift{i}"] = _per_node(lift[i], n, heads, f"lift[{i}]")
        if lift_mean is not None and i < len(lift_mean) and lift_mean[i] is not None:
            arrays[f"liftm{i}"] = _per_node(lift_mean[i], n, 1, f"lift_mean[{i}]").reshape(n)
        layer.update(entropy=f"ent{i}" in arrays, entropy_mean=f"entm{i}" in arrays)
        layer.update(lift=f"lift{i}" in arrays, lift_mean=f"liftm{i}" in arrays)
        layers.append(layer)
    gcn_meta = None
    if gcn is not None:
        ei, coef = gcn
        order, shared = _layer_order(np.asarray(ei, dtype=np.int64), n, indptr, src, "gcn", arrays, "gcn_")
        # float32 like attention: coefficients are 1/sqrt(d_i d_j), shown to the same significant figures.
        arrays["gcn"] = np.asarray(coef, dtype=np.float32).reshape(-1)[order]
        gcn_meta = {"shared": shared}
    projections = []
    for k, (name, xy, index) in enumerate(tsne):
        xy, index = np.asarray(xy, dtype=np.float32), np.asarray(index, dtype=np.int64)
        _check(xy.ndim == 2 and xy.shape[1] == 2 and index.shape == (xy.shape[0],), f"tsne[{k}] needs coords [M, 2] and ids [M]")
        arrays[f"tsne{k}"], arrays[f"tsne_ids{k}"] = xy, index.astype(np.int32)
        projections.append({"title": str(name)})

    names = [str(c) for c in class_names] if class_names is not None else None
    _check(names is None or len(names) == num_classes, f"class_names needs {num_classes} names")
    meta = {
        "title": title,
        "num_nodes": n,
        "num_edges": int(edge_index.shape[1]),
        "multilabel": multilabel,
        "num_classes": num_classes,
        "class_names": names,
        "splits": list(SPLITS),
        "fixed_point": FIXED,
        "layers": layers,
        "gcn": gcn_meta,
        "tsne": projections,
        "summary": _plain(shareable(dict(summary or {}))),
        "config": config_text,
        "figures": [{"path": str(p), "caption": str(c)} for p, c in figures],
    }
    files = {PAGE: _page(title).encode("utf-8"), DATA: _data_js(meta, arrays, compress_level)}
    files[EXPLAIN] = explain_js(explained if explained is not None else explain_data(None, ""))
    for name, out in ASSETS:
        files[out] = (ASSET_DIR / name).read_bytes()
    return files


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(f"explorer: {message}")


def _csr(edge_index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges sorted by (target, source): indptr [N+1], sources [E]."""
    order = np.lexsort((edge_index[0], edge_index[1]))
    counts = np.bincount(edge_index[1], minlength=n)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return indptr, edge_index[0][order]


def _layer_order(
    ei: np.ndarray, n: int, indptr: np.ndarray, src: np.ndarray, what: str, arrays: dict[str, np.ndarray], prefix: str
) -> tuple[np.ndarray, bool]:
    """The permutation that puts a layer's edges in page order, and whether the layer shares the
    graph's structure (then row v is [v] + the graph's row v); else its own CSR is stored."""
    ei = ei.reshape(2, -1)
    _check(ei.size == 0 or (ei.min() >= 0 and ei.max() < n), f"{what}: edge index has ids outside 0..N-1")
    is_self = ei[0] == ei[1]
    # Within a target: the self-loop first, then sources ascending.
    order = np.lexsort((ei[0], ~is_self, ei[1]))
    sorted_src, sorted_self = ei[0][order], is_self[order]
    self_count = np.bincount(ei[1][is_self], minlength=n)
    counts = np.bincount(ei[1], minlength=n)
    shared = bool(
        np.all(self_count == 1) and np.array_equal(counts - 1, np.diff(indptr)) and np.array_equal(sorted_src[~sorted_self], src)
    )
    if not shared:
        arrays[f"{prefix}indptr"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        arrays[f"{prefix}src"] = sorted_src.astype(np.int32)
    return order, shared


def _fixed(values: np.ndarray) -> np.ndarray:
    return np.round(np.clip(values, 0.0, 1.0) * FIXED).astype(np.uint16)


def _per_node(values: np.ndarray, n: int, columns: int, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float32).reshape(n, -1)
    _check(values.shape == (n, columns), f"{what} must be [N, {columns}] or [N] for one column, got {list(values.shape)}")
    return values


def _plain(obj: Any) -> Any:
    """JSON-safe: numpy scalars to Python, non-finite floats to None."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)


def encode_array(values: np.ndarray, level: int = 6) -> dict[str, Any]:
    """One typed array for the page: dtype (numpy's short code), shape, base64 of deflated,
    byte-shuffled bytes. ``decode_array`` is its inverse (the page's decoder does the same)."""
    values = np.ascontiguousarray(values)
    code = {"f4": "f4", "f2": "f2", "i4": "i4", "u2": "u2", "u1": "u1"}[values.dtype.str[1:]]
    raw = values.reshape(-1).view(np.uint8).reshape(-1, values.dtype.itemsize)
    shuffled = np.ascontiguousarray(raw.T).tobytes()
    return {"dtype": code, "shape": list(values.shape), "data": base64.b64encode(zlib.compress(shuffled, level)).decode("ascii")}


def decode_array(entry: Mapping[str, Any]) -> np.ndarray:
    dtype = np.dtype("<" + entry["dtype"])
    raw = np.frombuffer(zlib.decompress(base64.b64decode(entry["data"])), dtype=np.uint8)
    unshuffled = np.ascontiguousarray(raw.reshape(dtype.itemsize, -1).T)
    return unshuffled.view(dtype).reshape(entry["shape"])


def _data_js(meta: dict[str, Any], arrays: dict[str, np.ndarray], level: int) -> bytes:
    for name, values in arrays.items():
        if values.dtype == np.int64:
            raise AssertionError(f"{name}: int64 reached the page")  # JS has no int64 typed array to decode into
    payload = {"meta": meta, "arrays": {k: encode_array(v, level) for k, v in arrays.items()}}
    text = json.dumps(payload, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return f"window.GNNVIZ_EXPLORER_DATA = {text};\n".encode("ascii")


def read_data_js(data: bytes) -> dict[str, Any]:
    """``explorer/data.js`` back to ``{"meta": ..., "arrays": {name: ndarray}}`` (for tests, tools)."""
    text = data.decode("ascii").strip()
    prefix = "window.GNNVIZ_EXPLORER_DATA = "
    if not text.startswith(prefix) or not text.endswith(";"):
        raise ValueError("not an explorer data file")
    payload = json.loads(text[len(prefix) : -1])
    return {"meta": payload["meta"], "arrays": {k: decode_array(v) for k, v in payload["arrays"].items()}}


def explain_data(
    doc: Mapping[str, Any] | None, digest: str, *, href: str = "../explain", run: str = "RUN", note: str | None = None
) -> dict[str, Any]:
    """What the explorer shows of an ``explain.json`` (``doc``; None: nothing explained, or ``note``
    says why what was explained is not shown).

    digest: ``runs.load.state_digest`` of the state the page draws (``explain`` refreshes the page's
    explanations only where it matches its own). href: the explain folder relative to the page's
    folder, for the figure links. run: the run directory as the user names it, for the hint that
    says how to explain a node that has no explanation.
    The result: {"inputs_sha256", "note", "explained": None or {"methods", "descriptions",
    "ground_truth", "keep", "href", "index", "hint", "state", "checkpoint_epoch", "nodes": {id:
    {"edges": [s0, t0, s1, t1, ...] (computation edges, stored ids), "figure", "computation_edges",
    "truth_edges", "truth" ([m] in the known explanation, or None), "methods": {name: {"scores" [m], "auc", "fid_plus", "fid_minus"}}}}}}.
    ``viz.explained`` may add "elsewhere" (``explained.elsewhere``): where ``explain --out`` wrote
    explanations the page does not show, named when one of their nodes is clicked.
    """
    if doc is None:
        return {"inputs_sha256": digest, "note": note, "explained": None}
    methods = [str(m) for m in doc["settings"]["methods"]]
    files = set(doc.get("files") or ())
    nodes = {}
    for row in doc["nodes"]:
        v = int(row["node"])
        figure = f"node-{v}.png"
        nodes[str(v)] = {
            "edges": [int(i) for pair in row["edges"] for i in pair],
            "computation_edges": int(row["computation_edges"]),
            "truth_edges": row.get("truth_edges"),
            "truth": [bool(t) for t in row["truth_edge_mask"]] if row.get("truth_edge_mask") is not None else None,
            "figure": figure if figure in files else None,
            "methods": {m: {k: row["methods"][m][k] for k in ("scores", "auc", "fid_plus", "fid_minus")} for m in methods},
        }
    state = str(doc.get("state") or "selected")
    explained_now = ",".join(str(int(r["node"])) for r in doc["nodes"])
    hint = f"gnnviz explain {_shell(run)} --nodes {explained_now},{{node}} --methods {','.join(methods)}"
    settings = doc["settings"]
    # The settings the explained nodes were explained with, where not explain's defaults: the
    # command must not explain them again differently.
    for option, key, default in (
        ("--seed", "seed", 0),
        ("--epochs", "gnnexplainer_epochs", 100),
        ("--keep", "keep", 0.2),
        ("--repeats", "repeats", 1),
    ):
        if key in settings and settings[key] != default:
            hint += f" {option} {settings[key]}"
    if state != "selected":
        hint += f" --state {state}"
    return {
        "inputs_sha256": digest,
        "note": note,
        "explained": {
            "methods": methods,
            "descriptions": {m: str((doc["methods"].get(m) or {}).get("description", "")) for m in methods},
            "ground_truth": bool(doc.get("ground_truth")),
            "keep": float(doc["settings"]["keep"]),
            "href": href,
            "index": f"{href}/index.html" if "index.html" in files else None,
            "hint": hint,
            "state": state,
            "checkpoint_epoch": doc.get("checkpoint_epoch"),
            "nodes": nodes,
        },
    }


def _shell(word: str) -> str:
    import shlex

    return shlex.quote(str(word))


def explain_js(data: Mapping[str, Any]) -> bytes:
    """``explorer/explain.js``: assigns ``window.GNNVIZ_EXPLORER_EXPLAIN`` (a script, not JSON, for
    file:// pages, as data.js)."""
    text = json.dumps(_plain(data), ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return f"{EXPLAIN_PREFIX}{text};\n".encode("ascii")


def read_explain_js(data: bytes) -> dict[str, Any]:
    """``explorer/explain.js`` back to ``explain_data``'s dict; ValueError for anything else."""
    text = data.decode("ascii").strip()
    if not text.startswith(EXPLAIN_PREFIX) or not text.endswith(";"):
        raise ValueError("not an explorer explain file")
    payload = json.loads(text[len(EXPLAIN_PREFIX) : -1])
    if not isinstance(payload, dict) or "inputs_sha256" not in payload:
        raise ValueError("not an explorer explain file")
    return payload


def _page(title: str) -> str:
    t = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t}: gnnviz explorer</title>
<link rel="stylesheet" href="{FOLDER}/explorer.css">
</head><body>
<header>
  <h1>{t}</h1>
  <nav>
    <button type="button" data-view="graph" class="active">Graph</button>
    <button type="button" data-view="summary">Run summary</button>
    <button type="button" data-view="config">Config</button>
    <button type="button" data-view="figures">Figures</button>
    <a href="index.html">Static page</a>
  </nav>
</header>
<div id="controls">
  <label>Colour <select id="colour"></select></label>
  <label>Layer <select id="layer"></select></label>
  <label>Head <select id="head"></select></label>
  <label>t-SNE <select id="projection"></select></label>
  <form id="search"><label>Node <input id="search-id" type="search" inputmode="numeric" placeholder="id" size="8"></label>
  <button type="submit">Find</button></form>
  <button type="button" id="show-all" hidden title="Escape does the same">Show whole graph (Esc)</button>
  <span id="status" role="status">loading...</span>
</div>
<main>
  <section id="view-graph" class="view active">
    <div id="graph" class="canvas"><div id="legend"></div></div>
    <aside>
      <div id="tsne" class="canvas"><div class="caption" id="tsne-title"></div></div>
      <div id="details"><p class="hint">Hover a node to see it; click it to see whom it listens to.</p></div>
    </aside>
  </section>
  <section id="view-summary" class="view"></section>
  <section id="view-config" class="view"><pre id="config-text"></pre></section>
  <section id="view-figures" class="view"></section>
</main>
<div id="tooltip" hidden></div>
<script src="{FOLDER}/vendor/graphology.umd.min.js"></script>
<script src="{DATA}"></script>
<script src="{EXPLAIN}"></script>
<script src="{FOLDER}/explorer.js"></script>
</body></html>
"""


def skip_reason(num_nodes: int) -> str | None:
    """Why no explorer page is written for a graph of ``num_nodes`` nodes, or None when one is."""
    if num_nodes <= MAX_NODES:
        return None
    return (
        f"the graph has {num_nodes} nodes, more than the explorer's limit of {MAX_NODES} (its data would be about "
        f"{round(num_nodes * 300 / 1e6)} MB for the browser to load); the figures below are drawn for graphs this size"
    )


def run_inputs(
    arrays: Any,
    coords: np.ndarray,
    projections: Sequence[tuple[str, Any]],
    insight: Any = None,
    figures: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """``explorer_files``' keyword arguments from visualize's ``RunArrays``, layout coordinates [N, 2],
    t-SNE projections ``(title, Projection)`` and ``analysis.Insight`` (per-node lift), if any."""
    import yaml

    from gnnviz.analysis import attention as att

    a, n = arrays, arrays.num_nodes
    if a.task == "multilabel":
        probs = 1.0 / (1.0 + np.exp(-a.logits.astype(np.float64)))
    else:
        z = a.logits.astype(np.float64)
        z = np.exp(z - z.max(1, keepdims=True))
        probs = z / z.sum(1, keepdims=True)
    entropy = [att.entropy(la.edge_index, la.alpha, n) for la in a.attention]
    entropy_mean = [att.entropy(la.edge_index, la.alpha.mean(1), n) if la.heads > 1 else None for la in a.attention]
    lift = lift_mean = None
    if insight is not None and insight.node_lift:
        by_layer = dict(zip(insight.layers, insight.node_lift, strict=True))
        lift = [by_layer[i][:, :-1] if i in by_layer else None for i in range(len(a.attention))]
        lift_mean = [by_layer[i][:, -1] if i in by_layer and a.attention[i].heads > 1 else None for i in range(len(a.attention))]
    gcn = (a.coefficients.edge_index, a.coefficients.weight) if a.coefficients is not None and not a.attention else None
    return dict(
        title=f"{a.model.upper()} on {a.graph_label} ({a.checkpoint.stamp})",
        num_nodes=n,
        edge_index=a.edge_index,
        coords=coords,
        y=a.y,
        probabilities=probs,
        split=a.split,
        degree=a.degree,
        class_names=a.class_names,
        attention=[(la.edge_index, la.alpha) for la in a.attention],
        entropy=entropy,
        entropy_mean=entropy_mean,
        lift=lift,
        lift_mean=lift_mean,
        gcn=gcn,
        tsne=[(f"{title}, {p.label}", p.coords, p.index) for title, p in projections],
        summary=a.summary,
        config_text=yaml.safe_dump(a.config, sort_keys=False),
        figures=list(figures),
    )
