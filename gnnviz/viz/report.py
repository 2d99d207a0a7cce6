"""``gnnviz visualize``: read a run directory, draw every figure, write ``index.html``.

The only module that writes files for the figures. Everything that can fail on bad input (run
directory, checkpoint, graph index, node ids, layers, heads) is checked before the first file is
written; every figure is rendered (in this process) before the first is
written; and each file is written to a temporary name and renamed into place. So a failure never
leaves a half-written figure or destroys one from an earlier call.

Stages, timed into ``timings.json``: load (run directory, checkpoint, one eval forward pass on
CPU), layout (igraph, cached), tsne (cached), attention (numpy statistics), drawing, html.
"""

from __future__ import annotations

import html
import io
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display, no Cairo, no window

import numpy as np  # noqa: E402

from gnnviz.errors import ConfigError, RunError  # noqa: E402
from gnnviz.runs import check_out_dir  # noqa: E402
from gnnviz.viz import attention as att  # noqa: E402
from gnnviz.viz import (
    cache,  # noqa: E402
    plots,  # noqa: E402
)
from gnnviz.viz.embeddings import tsne_many  # noqa: E402
from gnnviz.viz.layout import graph_layout  # noqa: E402

FORMATS = ("png", "svg")
DPI = 110
# Layouts and t-SNE depend only on the graph/embeddings and this seed, never on the run's seed, so
# two runs on the same graph (GAT vs GCN on Cora) get the same picture of the graph.
VIZ_SEED = 0
# A multi-label node counts as misclassified when its own F1 over the labels is below this.
MULTILABEL_WRONG_F1 = 0.5
STAGES = ("load", "layout", "tsne", "attention", "drawing", "html")

Head = int | str  # a head index, or "mean" for the average over a layer's heads


@dataclass
class _Inputs:
    """Everything read and computed from the run before any file is written."""

    run: Any  # gnnviz.runs.Run
    dataset: str  # display name, e.g. "Cora"
    model_name: str
    is_attention: bool
    task: str
    graph_label: str  # "Cora" or "PPI test graph 1"
    num_nodes: int
    edge_index: np.ndarray  # [2, E] as stored, no self-loops added
    y: np.ndarray  # [N] or [N, C]
    logits: np.ndarray  # [N, C]
    embeddings: list[np.ndarray]  # [N, d_l] per layer
    attention: list[tuple[np.ndarray, np.ndarray]]  # (edge_index [2, E_l], alpha [E_l, H_l]) per layer
    split: np.ndarray  # [N] "train" | "val" | "test" | "other"
    layers: list[int]
    heads: dict[int, list[Head]]  # per selected layer, what neighbourhood figures show
    nodes: list[int]  # neighbourhoods to draw: top-k by degree, then --nodes
    notes: list[str] = field(default_factory=list)


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {s: 0.0 for s in STAGES}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - start


def visualize(
    run_dir: Path,
    out_dir: Path | None = None,
    *,
    nodes: Sequence[int] = (),
    top_k: int = 4,
    layers: list[int] | None = None,
    heads: list[int] | None = None,
    fmt: str = "png",
    graph_index: int = 0,
    quiet: bool = False,
    log: Callable[[str], Any] = print,
) -> Path:
    """Draw every figure for a run into ``out_dir`` (default ``run_dir/viz``) and return that folder.

    ``layers``/``heads`` are 0-based (None: all layers; head 0 plus the mean over heads).
    ``graph_index`` picks the test graph of a multi-graph dataset (PPI). Per-stage seconds are
    written to ``timings.json`` and, unless ``quiet``, passed to ``log``.
    Raises ``GnnvizError`` (before writing anything) for any bad input.
    """
    say: Callable[[str], Any] = (lambda _m: None) if quiet else log
    timer = _Timer()
    started = time.perf_counter()
    run_dir = Path(run_dir)
    if fmt not in FORMATS:
        raise ConfigError(f"--format '{fmt}' is not supported; choose png or svg")
    if top_k < 0:
        raise ConfigError(f"--top-k {top_k} must be 0 or more")
    with timer("load"):
        inputs = _load(run_dir, list(nodes), top_k, layers, heads, graph_index)
        out = Path(out_dir) if out_dir is not None else run_dir / "viz"
        check_out_dir(out)  # the same rule as for run directories
    for note in inputs.notes:
        say(f"note: {note}")
    with timer("layout"):
        lay = graph_layout(inputs.edge_index, inputs.num_nodes, seed=VIZ_SEED)
    say(f"layout: {lay.method}{' (cached)' if lay.cached else ''}")
    with timer("tsne"):
        projections = _projections(inputs)
    with timer("attention"):
        analysis = _analyse_attention(inputs)
    writer = _Writer(out)
    with timer("drawing"):
        figures = _draw_all(inputs, lay, projections, analysis, writer, fmt)
    if analysis.stats is not None:
        writer.text("attention_stats.json", _json(analysis.stats))
    with timer("html"):
        writer.text("index.html", _index_html(inputs, lay, figures, analysis, timer.seconds))
    timings = {s: round(v, 3) for s, v in timer.seconds.items()}
    timings["total"] = round(time.perf_counter() - started, 3)
    writer.text("timings.json", _json({"seconds": timings, "layout_method": lay.method, "layout_cached": lay.cached}))
    say("timings: " + ", ".join(f"{s} {v:.2f}s" for s, v in timings.items()))
    say(f"wrote {len(writer.written)} files to {out}")
    return out


# ----------------------------------------------------------------------------- loading and checks


def _load(
    run_dir: Path, nodes: list[int], top_k: int, layers: list[int] | None, heads: list[int] | None, graph_index: int
) -> _Inputs:
    from gnnviz.runs import load_run

    run = load_run(run_dir)
    dataset = _dataset_name(run)
    forward = _forward(run_dir, graph_index, dataset)
    n = forward.num_nodes
    label = f"{dataset} test graph {graph_index}" if forward.num_graphs > 1 else dataset
    for v in nodes:
        if not 0 <= v < n:
            raise ConfigError(f"node {v} out of range; {label} has {n} nodes (0..{n - 1}); pass --nodes ids in that range")
    embeddings, attention = forward.embeddings, forward.attention
    model, task = forward, forward.task
    num_layers = len(embeddings)
    chosen_layers = _check_layers(layers, num_layers, model.name)
    notes: list[str] = []
    chosen_heads = _check_heads(heads, chosen_layers, attention, model.name, notes)
    edge_index = forward.edge_index
    degree = np.bincount(edge_index[1][edge_index[0] != edge_index[1]], minlength=n)
    # Highest degree first; ties by lower id so the choice is stable.
    hubs = np.lexsort((np.arange(n), -degree))[: min(top_k, n)].tolist()
    chosen_nodes = list(dict.fromkeys(hubs + list(nodes)))
    return _Inputs(
        run=run, dataset=dataset, model_name=model.name, is_attention=bool(model.is_attention), task=task,
        graph_label=label, num_nodes=n, edge_index=edge_index, y=forward.y, logits=forward.logits,
        embeddings=embeddings, attention=attention, split=forward.split, layers=chosen_layers, heads=chosen_heads,
        nodes=chosen_nodes, notes=notes,
    )  # fmt: skip


@dataclass
class _Forward:
    """What one eval-mode forward of the stored model on one stored graph gives (numpy)."""

    name: str
    is_attention: bool
    task: str  # "multiclass" or "multilabel"
    num_graphs: int
    num_nodes: int
    edge_index: np.ndarray  # [2, E] as stored (no self-loops added)
    y: np.ndarray
    split: np.ndarray  # [N] "train" / "val" / "test" / "other"
    logits: np.ndarray  # [N, C]
    embeddings: list[np.ndarray]  # per layer [N, d_l]
    attention: list[tuple[np.ndarray, np.ndarray]]  # per layer (edge_index [2, E_l], alpha [E_l, H_l])


FORWARD_VERSION = 1  # bump when _Forward's stored arrays change


def _forward(run_dir: Path, graph_index: int, dataset: str) -> _Forward:
    """Rebuild the model on CPU and run it once, or reuse the result cached for these exact files.

    The cache key is the bytes of checkpoint.pt and graph.pt, so a hit means the same model on the
    same graph: a warm visualize then needs neither PyG nor the model (importing PyG alone takes
    over a second).
    """
    import hashlib

    digest = hashlib.sha256(f"v{FORWARD_VERSION}:{graph_index}:".encode())
    try:
        for name in ("checkpoint.pt", "graph.pt"):
            with open(run_dir / name, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    except OSError:
        digest = None  # the loaders below name the problem
    path = cache.entry("forward", digest.hexdigest()) if digest is not None else None
    hit = cache.read(path) if path is not None else None
    if hit is not None:
        try:
            return _forward_from_arrays(hit)
        except (KeyError, ValueError, IndexError, TypeError):
            pass  # a damaged or foreign entry: compute again (and overwrite it)
    result = _compute_forward(run_dir, graph_index, dataset)
    if path is not None:
        cache.write(path, **_forward_to_arrays(result))
    return result


def _compute_forward(run_dir: Path, graph_index: int, dataset: str) -> _Forward:
    import torch

    from gnnviz.models import rebuild
    from gnnviz.runs import load_checkpoint, load_graphs

    model = rebuild(load_checkpoint(run_dir))
    graphs, task = load_graphs(run_dir)
    if not 0 <= graph_index < len(graphs):
        count = f"{len(graphs)} graph" + ("s" if len(graphs) > 1 else "")
        raise ConfigError(f"--graph-index {graph_index} out of range; the {dataset} run stores {count} (0..{len(graphs) - 1})")
    g = graphs[graph_index]
    n = int(g.num_nodes)
    try:
        with torch.no_grad():
            logits, details = model(g.x, g.edge_index, return_details=True)
    except (RuntimeError, ValueError, IndexError) as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise RunError(f"the checkpoint does not fit {run_dir / 'graph.pt'} ({first}); train the run again") from None
    return _Forward(
        name=model.name, is_attention=bool(model.is_attention), task=task, num_graphs=len(graphs), num_nodes=n,
        edge_index=g.edge_index.numpy().astype(np.int64), y=g.y.numpy(), split=_split(g, n),
        logits=logits.detach().float().numpy(),
        embeddings=[e.detach().float().numpy() for e in details["embeddings"]],
        attention=[
            (ei.detach().numpy().astype(np.int64), a.detach().float().numpy().reshape(a.shape[0], -1))
            for ei, a in details["attention"]
        ],
    )  # fmt: skip


def _forward_to_arrays(f: _Forward) -> dict[str, np.ndarray]:
    arrays = {
        "meta": np.array([f.num_graphs, f.num_nodes, int(f.is_attention), len(f.embeddings), len(f.attention)]),
        "name": np.array(f.name), "task": np.array(f.task), "edge_index": f.edge_index, "y": f.y, "split": f.split.astype("U5"), "logits": f.logits,
    }  # fmt: skip
    for i, e in enumerate(f.embeddings):
        arrays[f"emb{i}"] = e
    for i, (ei, a) in enumerate(f.attention):
        arrays[f"att_ei{i}"], arrays[f"att_alpha{i}"] = ei, a
    return arrays


def _forward_from_arrays(z: dict[str, np.ndarray]) -> _Forward:
    """The cached forward, or ValueError/KeyError when the entry is not one we wrote for a graph."""
    num_graphs, n, is_att, n_emb, n_att = (int(v) for v in z["meta"])
    f = _Forward(
        name=str(z["name"]), is_attention=bool(is_att), task=str(z["task"]), num_graphs=num_graphs, num_nodes=n, edge_index=z["edge_index"],
        y=z["y"], split=z["split"].astype(str), logits=z["logits"], embeddings=[z[f"emb{i}"] for i in range(n_emb)],
        attention=[(z[f"att_ei{i}"], z[f"att_alpha{i}"]) for i in range(n_att)],
    )  # fmt: skip
    _check_forward(f)
    return f


def _check_forward(f: _Forward) -> None:
    """Raise ValueError unless every array has the shape and type the rest of visualize relies on."""
    n = f.num_nodes

    def edges(ei: np.ndarray) -> None:
        if ei.dtype.kind != "i" or ei.ndim != 2 or ei.shape[0] != 2 or (ei.size and not (0 <= ei.min() and ei.max() < n)):
            raise ValueError("edge index")

    def floats(a: np.ndarray, rows: int) -> None:
        if a.dtype.kind != "f" or a.ndim != 2 or a.shape[0] != rows or not np.isfinite(a).all():
            raise ValueError("float array")

    if n < 1 or f.num_graphs < 1 or f.task not in ("multiclass", "multilabel") or not f.embeddings:
        raise ValueError("meta")
    edges(f.edge_index)
    if (
        f.y.shape[:1] != (n,)
        or f.split.shape != (n,)
        or f.y.dtype.kind not in "iuf"
        or f.y.ndim != (2 if f.task == "multilabel" else 1)
    ):
        raise ValueError("labels")
    floats(f.logits, n)
    for e in f.embeddings:
        floats(e, n)
    for ei, alpha in f.attention:
        edges(ei)
        floats(alpha, ei.shape[1])


def _dataset_name(run) -> str:
    name = str(run.summary.get("dataset") or (run.config.get("dataset") or {}).get("name") or "dataset")
    try:
        from gnnviz.data import DATASETS

        return DATASETS[name].folder if name in DATASETS else name
    except ImportError:
        return name


def _check_layers(layers: list[int] | None, num_layers: int, model: str) -> list[int]:
    if layers is None:
        return list(range(num_layers))
    for layer in layers:
        if not 0 <= layer < num_layers:
            have = f"the {model} model has {num_layers} layers (0..{num_layers - 1})"
            raise ConfigError(f"layer {layer} does not exist; {have}; pass --layers in that range")
    return list(dict.fromkeys(layers))


def _check_heads(
    heads: list[int] | None, layers: list[int], attention: list, model: str, notes: list[str]
) -> dict[int, list[Head]]:
    if not attention:
        if heads is not None:
            raise ConfigError(f"the {model} model has no attention heads; drop --heads")
        return {}
    counts = {layer: attention[layer][1].shape[1] for layer in layers}
    if heads is None:
        return {layer: [0, "mean"] if h > 1 else [0] for layer, h in counts.items()}
    chosen: dict[int, list[Head]] = {}
    for head in heads:
        if not any(0 <= head < h for h in counts.values()):
            have = ", ".join(f"layer {layer} has {_heads_text(h)}" for layer, h in counts.items())
            raise ConfigError(f"head {head} does not exist; {have}; pass --heads in that range")
    for layer, h in counts.items():
        chosen[layer] = [head for head in dict.fromkeys(heads) if head < h]
        skipped = [head for head in dict.fromkeys(heads) if head >= h]
        if skipped:
            notes.append(f"layer {layer} has {_heads_text(h)}: heads {', '.join(map(str, skipped))} skipped there")
    return chosen


def _heads_text(h: int) -> str:
    return "1 head (0)" if h == 1 else f"{h} heads (0..{h - 1})"


def _split(g, n: int) -> np.ndarray:
    split = np.full(n, "other", dtype=object)
    # Later masks win only where earlier ones are empty: a node is in at most one split anyway.
    for name in ("test", "val", "train"):
        mask = getattr(g, f"{name}_mask", None)
        if mask is not None:
            split[mask.numpy().astype(bool)] = name
    return split.astype(str)


# ----------------------------------------------------------------------------- computing


def _predictions(inputs: _Inputs) -> tuple[np.ndarray, np.ndarray, plots.NodeColours, str]:
    """wrong [N] bool, colour values [N], colours, and what 'wrong' means (for legends)."""
    if inputs.task == "multilabel":
        pred = inputs.logits > 0
        truth = inputs.y > 0.5
        tp = (pred & truth).sum(1)
        denom = pred.sum(1) + truth.sum(1)
        # Node-level F1; a node with no true and no predicted labels is right.
        f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 1.0)
        wrong = f1 < MULTILABEL_WRONG_F1
        counts = truth.sum(1)
        colours = plots.node_colours(counts, categorical=False, label="positive labels (true)")
        return wrong, counts, colours, f"node F1 < {MULTILABEL_WRONG_F1}"
    pred = inputs.logits.argmax(1)
    y = inputs.y.astype(int)
    colours = plots.node_colours(y, categorical=True, label="class", num_classes=max(int(y.max()) + 1, inputs.logits.shape[1]))
    return pred != y, y, colours, "misclassified"


def _projections(inputs: _Inputs) -> list[tuple[str, Any]]:
    """(title, Projection) for the last hidden layer (if any) and the output."""
    emb = inputs.embeddings
    chosen = [(f"hidden layer {len(emb) - 2} ({emb[-2].shape[1]} dims)", emb[-2])] if len(emb) > 1 else []
    chosen.append((f"output layer {len(emb) - 1} ({emb[-1].shape[1]} logits)", emb[-1]))
    return list(zip([t for t, _ in chosen], tsne_many([x for _, x in chosen], seed=VIZ_SEED), strict=True))


@dataclass
class _Attention:
    """Neighbourhood panels per node and layer, entropy panels, stats (None for non-attention)."""

    hoods: dict[int, list[plots.NeighbourhoodPanel]]  # node -> its panels (layers x heads, or GCN's one)
    entropy_files: dict[str, tuple[plots.EntropyPanel, dict[str, Any]]]  # file stem -> (panel, its stats)
    entropy_grid: list[list[plots.EntropyPanel]]
    bins: np.ndarray | None
    stats: dict[str, Any] | None


def _analyse_attention(inputs: _Inputs) -> _Attention:
    n = inputs.num_nodes
    if not inputs.is_attention:
        hoods: dict[int, list[plots.NeighbourhoodPanel]] = {}
        if inputs.model_name == "gcn":
            ei = att.with_self_loops(inputs.edge_index, n)
            coef = att.gcn_coefficients(ei, n)
            for node in inputs.nodes:
                panel = plots.NeighbourhoodPanel(
                    att.neighbourhood(ei, coef, node),
                    "GCN normalisation, fixed, not learned (same in every layer)",
                    normalised=False,
                )
                hoods[node] = [panel]
        return _Attention(hoods, {}, [], None, None)
    hoods = {node: [] for node in inputs.nodes}
    grid: list[list[plots.EntropyPanel]] = []
    files: dict[str, tuple[plots.EntropyPanel, dict[str, Any]]] = {}
    layer_stats = []
    uniform_all: list[np.ndarray] = []
    learned_all: list[np.ndarray] = []
    for layer in inputs.layers:
        ei, alpha = inputs.attention[layer]
        num_heads = alpha.shape[1]
        uniform = att.uniform_entropy(ei, n)
        h = att.entropy(ei, alpha, n)  # [N, H]
        mean_alpha = alpha.mean(1)
        h_mean = att.entropy(ei, mean_alpha, n)
        sums = att.node_sums(ei, alpha, n)
        has_edges = att.in_degree(ei, n) > 0
        uniform_all.append(uniform)
        learned_all += [h.ravel(), h_mean]
        per_head = [{"head": k, **att.entropy_stats(h[:, k], uniform).as_dict()} for k in range(num_heads)]
        mean_stats = att.entropy_stats(h_mean, uniform).as_dict()
        ratio = lambda st: f"H/log(deg) {_num(st['mean_normalised_entropy'])}"  # noqa: E731
        row = [plots.EntropyPanel(h[:, k], uniform, f"layer {layer}, head {k}: {ratio(per_head[k])}") for k in range(num_heads)]
        if num_heads > 1:
            row.append(plots.EntropyPanel(h_mean, uniform, f"layer {layer}, mean of {num_heads} heads: {ratio(mean_stats)}"))
        grid.append(row)
        for head in inputs.heads[layer]:
            if head == "mean":
                files[f"layer{layer}_mean"] = (row[-1], mean_stats)
            else:
                files[f"layer{layer}_head{head}"] = (row[int(head)], per_head[int(head)])
        layer_stats.append({
            "layer": layer,
            "heads": num_heads,
            "edges": int(ei.shape[1]),
            # How far any node's weights are from summing to 1: a check that the weights belong to this edge index.
            "max_abs_sum_error": float(np.abs(sums[has_edges] - 1).max()) if has_edges.any() else 0.0,
            "per_head": per_head,
            "mean_over_heads": mean_stats,
        })  # fmt: skip
        for head in inputs.heads[layer]:
            w = mean_alpha if head == "mean" else alpha[:, int(head)]
            title = (
                f"layer {layer}, mean over {num_heads} heads" if head == "mean" else f"layer {layer}, head {head} of {num_heads}"
            )
            for node in inputs.nodes:
                hoods[node].append(plots.NeighbourhoodPanel(att.neighbourhood(ei, w, node), title))
    bins = att.entropy_bins(np.concatenate(uniform_all), *learned_all)
    stats = {
        "dataset": inputs.dataset,
        "model": inputs.model_name,
        "graph": inputs.graph_label,
        "units": "nats (natural log)",
        "definitions": {
            "entropy": "H = -sum(a log a) over a node's incoming edges (self-loop included)",
            "uniform_entropy": "log(in-degree incl. self-loop): the entropy of equal weights",
            "normalised_entropy": "H / log(in-degree), nodes with in-degree 1 excluded",
            "kl_from_uniform": "KL(a || uniform) = log(in-degree) - H",
        },
        "layers": layer_stats,
    }
    return _Attention(hoods, files, grid, bins, stats)


# ----------------------------------------------------------------------------- drawing


class _Writer:
    """Writes files under ``out`` atomically (temp file in the same folder, then rename)."""

    def __init__(self, out: Path):
        self.out = out
        self.written: list[str] = []

    def text(self, name: str, text: str) -> str:
        return self.bytes(name, text.encode("utf-8"))

    def bytes(self, name: str, data: bytes) -> str:
        from gnnviz.runs import atomic_write_bytes

        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
        self.written.append(name)
        return name


@dataclass
class _Job:
    """One figure to draw: ``plot(*args, **kwargs)`` saved as ``stem.<fmt>`` under a page section."""

    stem: str
    section: str
    caption: str
    plot: Callable[..., Any]
    args: tuple
    kwargs: dict[str, Any]


@dataclass
class _Figure:
    path: str  # relative to the output folder, forward slashes
    caption: str


def _render(job: _Job, fmt: str) -> bytes:
    fig = job.plot(*job.args, **job.kwargs)
    buf = io.BytesIO()
    # PNG: zlib level 1, a third of the encoding time of the default 6, files ~30% larger.
    # SVG: text stays text (searchable, selectable), not one path per glyph.
    extra = {"pil_kwargs": {"compress_level": 1}} if fmt == "png" else {}
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format=fmt, dpi=DPI, **extra)
    return buf.getvalue()


def _render_all(jobs: list[_Job], fmt: str) -> list[bytes]:
    """Every figure's bytes, in order, drawn in this process.

    A forked pool of two drawers was tried and measured (bench/viz_pool.py): on a loaded 2-core
    machine it was never faster (karate 8.9 s vs 4.0 s drawing, Cora 10.2 s vs 8.9 s, cold cache)
    and its shutdown deadlocked once with a worker stuck on the pool's queue lock. Drawing here
    cannot hang on another process and stops at once on Ctrl-C or SIGTERM.
    """
    return [_render(job, fmt) for job in jobs]


def _draw_all(inputs: _Inputs, lay, projections, analysis: _Attention, w: _Writer, fmt: str) -> dict[str, list[_Figure]]:
    """Render every figure, then write them all: a drawing error leaves every earlier file as it was."""
    jobs = _jobs(inputs, lay, projections, analysis)
    images = _render_all(jobs, fmt)
    figures: dict[str, list[_Figure]] = {}
    for job, data in zip(jobs, images, strict=True):
        path = w.bytes(f"{job.stem}.{fmt}", data)
        figures.setdefault(job.section, []).append(_Figure(path, job.caption))
    return figures


def _jobs(inputs: _Inputs, lay, projections, analysis: _Attention) -> list[_Job]:
    """Every figure to draw, in page order."""
    wrong, _values, colours, wrong_label = _predictions(inputs)
    model = inputs.model_name.upper()
    # Names from the run's files go into matplotlib text: escape '$' so they never parse as math.
    graph, dataset = _literal(inputs.graph_label), _literal(inputs.dataset)
    on = f"{model} on {graph}"
    jobs: list[_Job] = []

    def add(stem: str, section: str, caption: str, plot: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        jobs.append(_Job(stem, section, caption, plot, args, kwargs))

    ei = inputs.edge_index
    degree = np.bincount(ei[1][ei[0] != ei[1]], minlength=inputs.num_nodes)
    title = f"{graph}: {inputs.num_nodes} nodes, {_undirected_edges(ei)} edges; layout: {lay.method}"
    by = f"{wrong_label} by {model}"
    add("layout", "graph", f"Whole graph, {lay.method}; colour = class, size = degree, black ring = {by}.",
        plots.plot_graph_layout, lay.coords, ei, colours, degree, wrong, title=title, wrong_label=by)  # fmt: skip
    add("degree", "graph", "Degree histogram and distribution (log scales).", plots.plot_degree, degree, title=graph)

    if inputs.run.metrics:
        rows, s = inputs.run.metrics, inputs.run.summary
        col = {k: np.array([r[k] for r in rows], dtype=float) for k in rows[0]}
        metric = _literal(str(s.get("metric", "metric")))
        best = s.get("best_epoch")
        scores = ", ".join(f"{k[:-7]} {s[k]:.3f}" for k in ("val_metric", "test_metric") if isinstance(s.get(k), (int, float)))
        heading = f"{model} on {dataset}: training curves"
        if scores:
            heading += f" (best checkpoint: {scores} {metric.replace('_', ' ')})"
        add("curves", "training", "Loss and metric per epoch; dashed line = best epoch (the checkpoint).", plots.plot_curves,
            col["epoch"], col["train_loss"], col["val_loss"], col["train_metric"], col["val_metric"],
            best_epoch=int(best) if best is not None else None, metric=metric, title=heading)  # fmt: skip

    panels = [plots.ProjectionPanel(p.coords, p.index, f"{t}\nt-SNE, {p.note}") for t, p in projections]
    sampled = next((f" ({p.note.split(', ', 1)[1]})" for _, p in projections if ", " in p.note), "")
    add("tsne", "embeddings", f"t-SNE of the embeddings{sampled}; colour = class, marker = split, black ring = {wrong_label}.",
        plots.plot_projections, panels, colours, wrong, inputs.split,
        title=f"{on}: node embeddings (t-SNE)", wrong_label=wrong_label)  # fmt: skip

    if inputs.is_attention:
        stem, what = "attention/node{}", "incoming attention per layer and head"
    else:
        stem, what = (
            "gcn_norm/node{}",
            "GCN normalisation D^-1/2 (A+I) D^-1/2 per incoming edge (fixed, not learned; does not sum to 1)",
        )
    for node, node_panels in analysis.hoods.items():
        k = node_panels[0].hood.sources.size
        heading = f"{model}, node {node} ({k} neighbours{_class_text(inputs, node)}): {what}"
        add(stem.format(node), "neighbourhoods", f"Node {node} ({k} neighbours), {what}.",
            plots.plot_neighbourhoods, node_panels, colours, title=heading)  # fmt: skip

    if analysis.entropy_grid:
        add("entropy", "attention entropy", "All layers x heads: entropy of learned attention vs uniform, same bins.",
            plots.plot_entropy_grid, analysis.entropy_grid, analysis.bins,
            title=f"{on}: entropy of each node's attention vs uniform")  # fmt: skip
        for name, (panel, st) in analysis.entropy_files.items():
            ratio, kl = st["mean_normalised_entropy"], st["mean_kl_from_uniform"]
            subtitle = f"{panel.title.split(':')[0]}: mean H/log(deg) = {_num(ratio)}, mean KL from uniform = {_num(kl)} nats"
            add(f"entropy/{name}", "attention entropy", subtitle + ".",
                plots.plot_entropy_histogram, panel, analysis.bins, title=f"{on}\n{subtitle}")  # fmt: skip
    return jobs


def _class_text(inputs: _Inputs, node: int) -> str:
    if inputs.task == "multilabel":
        return f", {int((inputs.y[node] > 0.5).sum())} positive labels"
    return f", class {int(inputs.y[node])}"


def _undirected_edges(edge_index: np.ndarray) -> int:
    src, dst = edge_index
    keep = src != dst
    pairs = np.stack([np.minimum(src[keep], dst[keep]), np.maximum(src[keep], dst[keep])], 1)
    return int(np.unique(pairs, axis=0).shape[0]) if pairs.size else 0


# ----------------------------------------------------------------------------- index.html


def _index_html(inputs: _Inputs, lay, figures: dict[str, list[_Figure]], analysis: _Attention, seconds: dict[str, float]) -> str:
    e = html.escape
    s = inputs.run.summary
    rows = [("run", str(inputs.run.path)), ("graph", inputs.graph_label), ("layout", lay.method)]
    rows += [(k, _fmt(v)) for k, v in s.items()]
    summary = "\n".join(f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
    import yaml

    config = yaml.safe_dump(inputs.run.config, sort_keys=False)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(inputs.model_name.upper())} on {e(inputs.dataset)}: gnnviz</title>",
        "<style>body{font-family:sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
        "th{background:#f4f4f4}img{max-width:100%;border:1px solid #ddd}figure{margin:1.5em 0}"
        "pre{background:#f7f7f7;padding:1em;overflow:auto}nav a{margin-right:1em}</style>",
        "</head><body>",
        f"<h1>{e(inputs.model_name.upper())} on {e(inputs.graph_label)}</h1>",
        "<nav>" + "".join(f'<a href="#{e(_anchor(k))}">{e(k)}</a>' for k in ["summary", *figures]) + "</nav>",
        '<h2 id="summary">Run summary</h2>',
        f"<table>{summary}</table>",
    ]
    if analysis.stats is not None:
        parts.append("<h3>Attention entropy (nats)</h3>")
        parts.append(_stats_table(analysis.stats))
    parts.append(f"<details><summary>Resolved config</summary><pre>{e(config)}</pre></details>")
    timing = ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items() if k != "html")
    parts.append(f"<p>Drawn in: {e(timing)}.</p>")
    for section, items in figures.items():
        parts.append(f'<h2 id="{e(_anchor(section))}">{e(section.capitalize())}</h2>')
        for fig in items:
            src = e(fig.path, quote=True)
            parts.append(f'<figure><a href="{src}"><img src="{src}" alt="{e(fig.caption, quote=True)}" loading="lazy"></a>')
            parts.append(f"<figcaption>{e(fig.caption)}</figcaption></figure>")
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
            keys = ("mean_entropy", "mean_uniform_entropy", "mean_normalised_entropy", "mean_kl_from_uniform")
            cells = [str(layer["layer"]), name] + [_num(st[k]) for k in keys]
            rows.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _literal(text: str) -> str:
    """Text that matplotlib shows as is: an unescaped '$' would start mathtext (and can raise)."""
    return text.replace("$", r"\$")


def _num(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _json(obj: Any) -> str:
    """Strict JSON (no NaN/Infinity, which browsers and jq refuse): non-finite numbers become null."""

    def clean(x: Any) -> Any:
        if isinstance(x, float) and not np.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj), indent=2, allow_nan=False) + "\n"


def _anchor(text: str) -> str:
    return text.replace(" ", "-")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
