"""A run directory as plain numpy arrays: the one module on the visualize path that touches torch.

``load_arrays(run_dir, graph_index, state)`` rebuilds the stored model (in the state ``state``
names: ``runs.layout.STATES``) on CPU, runs it once in eval mode on one stored graph and returns a ``RunArrays`` (``gnnviz.analysis.arrays``): the graph, labels, split, logits, embeddings,
attention per layer and head, the fixed edge coefficients of models that use them, class names,
and which checkpoint was drawn. torch is imported lazily, only on a cache miss: the forward's
arrays are cached under ``$GNNVIZ_CACHE_DIR/forward`` keyed by the state's name and the bytes of
its checkpoint file and ``graph.pt`` (two states never share an entry), so a warm visualize needs neither torch's model code nor PyG (importing PyG alone
takes over a second). A cache entry that cannot be read or does not hold arrays of the right
shapes is computed again and overwritten.

What a figure shows is decided from what is here (``attention`` empty or not, ``coefficients``
None or not), never from the model's name, which is kept for titles only.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gnnviz.analysis.arrays import Checkpoint, EdgeCoefficients, LayerAttention, RunArrays
from gnnviz.datasets.base import METRICS, SINGLE_LABEL
from gnnviz.errors import ConfigError, RunError
from gnnviz.viz import cache
from gnnviz.viz.labels import class_names

FORWARD_VERSION = 5  # bump when the cached arrays change
# Above this many stored edges the model is not re-run with its attention switched off: that is
# six more forward passes (uniform and GCN weights, per layer and all), a minute at 1M nodes.
SWITCH_OFF_MAX_EDGES = 2_000_000


def load_arrays(
    run_dir: Path,
    graph_index: int = 0,
    state: str = "selected",
    on_graph: Callable[[np.ndarray, int], Any] | None = None,
    *,
    forward: bool = True,
    details: bool = True,
    stored=None,
    run=None,
) -> RunArrays:
    """Read ``run_dir`` (see ``gnnviz.runs.layout``) and one forward pass on graph ``graph_index``
    with the weights of ``state`` (selected, min-loss or last).

    ``on_graph(edge_index [2, E] int64, num_nodes)``, if given, is called when the forward is not
    cached, as soon as ``graph.pt`` is read, before PyG is imported and the model runs:
    visualize starts the layout there (``viz/helper.py``).

    ``forward=False``: the run, graph and labels without the forward pass (nor its cache):
    ``logits`` None, no embeddings, attention or coefficients; for a caller that runs the model on
    parts of the graph itself (``gnnviz explain --nodes`` on a big graph), which may pass the run's
    ``runs.store.read_graphs`` as ``stored`` (read once: 235 MB at 1M nodes). ``run``: the run's
    ``runs.load.load_run``, where the caller has it (read once: a long run's metrics.csv).

    ``details=False`` (with ``forward``): the forward's logits alone, the same numbers (the same
    no-grad ``GNN.inference`` on the same input), without embeddings, attention, coefficients or
    switched-off passes, and neither read from nor written to the cache (whose entry holds them):
    at 1M nodes, 10M edges a third of the time and two thirds of the memory (``gnnviz explain``'s
    default nodes of a big graph). ``stored`` is used here too.

    Raises ``GnnvizError`` naming the file or option for a missing or damaged run, a state the
    run does not keep, or an index out of range.
    """
    from gnnviz.runs.load import check_state_name, kept_states, load_run, state_file

    run_dir = Path(run_dir)
    check_state_name(state)
    run = load_run(run_dir) if run is None else run
    path = state_file(run_dir, state)
    dataset = _dataset_name(run)
    f = (
        _forward(run_dir, graph_index, dataset, state, path, on_graph)
        if forward and details
        else _stored(run_dir, graph_index, dataset, state, stored, logits=forward)
    )
    label = f"{dataset} test graph {graph_index}" if f["num_graphs"] > 1 else dataset
    curves = _curves(run.metrics)
    num_classes = f["logits"].shape[1] if f["logits"] is not None else f["num_classes"]
    return RunArrays(
        run_dir=run_dir,
        dataset=dataset,
        # Named as Platonov et al. name it where the node's own features are kept apart: gat-sep
        model=f["model"] + ("-sep" if f["facts"]["kwargs"].get("separate_self", "none") not in (None, "none") else ""),
        task=f["task"],
        graph_label=label,
        num_graphs=f["num_graphs"],
        num_nodes=f["num_nodes"],
        edge_index=f["edge_index"],
        y=f["y"],
        logits=f["logits"],
        embeddings=f["embeddings"],
        attention=f["attention"],
        coefficients=f["coefficients"],
        split=f["split"],
        class_names=class_names(dataset, num_classes) if f["task"] in SINGLE_LABEL else None,
        checkpoint=_checkpoint(f["epoch"], run.summary, curves, state, tuple(kept_states(run.summary)), _chance(f)),
        curves=curves,
        switched_off=f["switched_off"],
        switch_off_seconds=float(f.get("switch_off_seconds", 0.0)),
        snapshots=_snapshots(run_dir / "snapshots.json"),
        summary=run.summary,
        config=run.config,
    )


def _snapshots(path: Path) -> list[dict[str, Any]]:
    """The run's attention snapshots (``schema.SNAPSHOTS``); none when the run kept none (no file).

    A file that is there but damaged (not JSON, a value of the wrong kind: an epoch that is not a
    whole number, a KL or lift that is not a finite number or null) is a RunError naming it."""
    from gnnviz.runs.schema import check_snapshots
    from gnnviz.runs.store import read_json

    if not path.is_file():
        return []
    return check_snapshots(path, read_json(path))


def _dataset_name(run) -> str:
    name = str(run.summary.get("dataset") or (run.config.get("dataset") or {}).get("name") or "dataset")
    try:
        from gnnviz.datasets import DATASETS

        return DATASETS[name].folder if name in DATASETS else name
    except ImportError:
        return name


def _curves(rows: list[dict[str, float]]) -> dict[str, np.ndarray]:
    if not rows:
        return {}
    return {k: np.array([r[k] for r in rows], dtype=float) for k in rows[0]}


def _chance(f: dict[str, Any]) -> float | None:
    """The share of the most common class among the validation nodes (single-label tasks): the
    accuracy of always predicting it. None for multi-label tasks or without validation nodes."""
    y = f["y"][f["split"] == "val"]
    if f["task"] != "multiclass" or y.size == 0 or y.ndim != 1:
        return None
    return float(np.bincount(y.astype(np.int64)).max()) / y.size


def _checkpoint(
    epoch: int | None,
    summary: dict[str, Any],
    curves: dict[str, np.ndarray],
    state: str = "selected",
    states: tuple[str, ...] = ("selected",),
    chance: float | None = None,
) -> Checkpoint:
    """Scores of the drawn epoch from metrics.csv (the summary's where the row is missing)."""
    from gnnviz.runs.load import kept_states

    def num(v: Any) -> float | None:
        return float(v) if isinstance(v, (int, float)) and np.isfinite(v) else None

    recorded = kept_states(summary).get(state, {})
    if epoch is None and isinstance(recorded.get("epoch"), int):
        epoch = recorded["epoch"]
    val_metric, val_loss = num(recorded.get("val_metric", summary.get("val_metric"))), num(recorded.get("val_loss"))
    min_epoch = epochs_run = None
    if curves and "val_loss" in curves and "epoch" in curves:
        epochs, loss = curves["epoch"].astype(int), curves["val_loss"]
        epochs_run = int(epochs.max())
        finite = np.isfinite(loss)
        if finite.any():
            # First epoch of the lowest loss: the earliest state as good as any later one.
            min_epoch = int(epochs[finite][np.argmin(loss[finite])])
        at = np.flatnonzero(epochs == epoch)
        if at.size:
            val_loss = num(float(loss[at[0]]))
            val_metric = num(float(curves["val_metric"][at[0]])) if "val_metric" in curves else val_metric
    metric = str(summary.get("metric") or "metric")
    test = num(recorded.get("test_metric", summary.get("test_metric")))
    return Checkpoint(
        epoch, metric, val_metric, val_loss, epochs_run or num(summary.get("epochs_run")), min_epoch, state, chance, states, test
    )


# ----------------------------------------------------------------------------- the forward pass and its cache


def _forward(
    run_dir: Path, graph_index: int, dataset: str, state: str, checkpoint: Path, on_graph: Callable[..., Any] | None = None
) -> dict[str, Any]:
    """The model's forward on one stored graph, from the cache when these exact files were seen
    for this state (``checkpoint``: the file holding it)."""
    # The state's name is in the key (so that an entry of one state is never drawn for another, even
    # where two states share a file), except the selected state's: its entries stay those of runs
    # from before other states were kept.
    named = "" if state == "selected" else f"{state}:"
    digest = hashlib.sha256(f"v{FORWARD_VERSION}:{graph_index}:{named}".encode())
    try:
        for path_read in (checkpoint, run_dir / "graph.pt"):
            with open(path_read, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        path: Path | None = cache.entry("forward", digest.hexdigest())
    except OSError:
        path = None  # the loaders below name the problem
    hit = cache.read(path) if path is not None else None
    if hit is not None:
        try:
            f = _from_cache(hit)
        except (KeyError, ValueError, IndexError, TypeError):
            pass  # a damaged or foreign entry: compute again (and overwrite it)
        else:
            # The key covers checkpoint.pt and graph.pt only: config.yaml and summary.json may have
            # changed since, so what the checkpoint says about its model is checked again.
            from gnnviz.runs.checks import check_agrees
            from gnnviz.runs.load import check_state_epoch

            check_agrees(checkpoint, f["facts"])
            check_state_epoch(checkpoint, state, f["epoch"])
            return f
    result = _compute(run_dir, graph_index, dataset, state, on_graph)
    if path is not None:
        cache.write(path, **_to_cache(result))
    return result


def _opened(run_dir: Path, graph_index: int, dataset: str, state: str, stored=None, on_graph: Callable[..., Any] | None = None):
    """(checkpoint, rebuilt model, stored graphs, the graph at ``graph_index``), checked to fit;
    ``stored``: graph.pt when the caller has read it already; ``on_graph``: see ``load_arrays``."""
    from gnnviz.models.gnn import rebuild
    from gnnviz.runs.checks import check_fits
    from gnnviz.runs.load import load_checkpoint, state_file
    from gnnviz.runs.store import read_graphs

    def early(graphs: list[dict[str, Any]]) -> None:
        # Before the checks: a damaged graph fails them below, before the layout is ever waited for.
        if on_graph is not None and 0 <= graph_index < len(graphs):
            item = graphs[graph_index]
            on_graph(item["edge_index"].long().numpy(), int(item["num_nodes"]))

    checkpoint = load_checkpoint(run_dir, state)
    stored = read_graphs(run_dir, on_read=early) if stored is None else stored
    check_fits(run_dir, checkpoint, stored, state_file(run_dir, state).name)
    model = rebuild(checkpoint)
    graphs = stored.graphs
    if not 0 <= graph_index < len(graphs):
        count = f"{len(graphs)} graph" + ("s" if len(graphs) > 1 else "")
        raise ConfigError(f"--graph-index {graph_index} out of range; the {dataset} run stores {count} (0..{len(graphs) - 1})")
    return checkpoint, model, stored, graphs[graph_index]


def _stored(run_dir: Path, graph_index: int, dataset: str, state: str, stored=None, logits: bool = False) -> dict[str, Any]:
    """``_compute``'s dict without the forward pass: logits None, no embeddings or attention;
    with ``logits``, the forward's logits [N, C] float32 (``_logits``), nothing else of it."""
    from gnnviz.runs.checks import checkpoint_facts

    checkpoint, model, stored, g = _opened(run_dir, graph_index, dataset, state, stored)
    n = int(g.num_nodes)
    found = _logits(run_dir, model, g) if logits else None
    name, classes = str(model.name), int(model.args.out_channels)
    del model  # and the whole graph's prepared edges it caches (GNN.graph, GNN.incoming)
    epoch = checkpoint.get("epoch") if isinstance(checkpoint, dict) else None
    return {
        "model": name,
        "task": stored.task,
        "num_graphs": len(stored.graphs),
        "num_nodes": n,
        "facts": checkpoint_facts(checkpoint),
        "epoch": int(epoch) if isinstance(epoch, int) else None,
        "edge_index": g.edge_index.numpy().astype(np.int64, copy=False),
        "y": g.y.numpy(),
        "split": _split(g, n),
        "logits": found,
        "num_classes": classes,
        "switched_off": {},
        "embeddings": [],
        "attention": [],
        "coefficients": None,
    }


def _features(g, big: bool):
    """The features ``GNN.inference`` gets for stored graph ``g``: ``g.x``, or on a graph above
    ``SWITCH_OFF_MAX_EDGES`` (``big``) a mostly-zero one (bag-of-words) as sparse CSR, a tenth of
    the size (1M x 256: 0.1 GB, not 1 GB)."""
    import torch

    x = g.x
    if big and x.layout == torch.strided and int(torch.count_nonzero(x)) * 3 < x.numel():
        return x.to_sparse_csr()
    return x


def _logits(run_dir: Path, model, g) -> np.ndarray:
    """The logits [N, C] float32 of ``_compute``'s forward of ``model`` on ``g`` (the same call on
    the same input: the same numbers), without its details; ``g`` is left as it is."""
    import torch

    from gnnviz.models.gnn import INFERENCE_EDGES

    try:
        with torch.no_grad():
            x = _features(g, g.edge_index.size(1) > SWITCH_OFF_MAX_EDGES)
            return model.inference(x, g.edge_index, block_edges=INFERENCE_EDGES).float().numpy()
    except (RuntimeError, ValueError, IndexError) as exc:
        raise _unfit(run_dir, exc) from None


def _unfit(run_dir: Path, exc: Exception) -> RunError:
    first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
    return RunError(f"the checkpoint does not fit {run_dir / 'graph.pt'} ({first}); train the run again")


def _compute(
    run_dir: Path, graph_index: int, dataset: str, state: str = "selected", on_graph: Callable[..., Any] | None = None
) -> dict[str, Any]:
    import torch

    from gnnviz.runs.checks import checkpoint_facts

    checkpoint, model, stored, g = _opened(run_dir, graph_index, dataset, state, on_graph=on_graph)
    graphs, task = stored.graphs, stored.task
    n = int(g.num_nodes)
    try:
        with torch.no_grad():
            # Layer-wise full-neighbour inference (bounded memory at any size): attention normalised
            # over every neighbour, however training batched or sampled them.
            from gnnviz.models.gnn import INFERENCE_EDGES

            big = g.edge_index.size(1) > SWITCH_OFF_MAX_EDGES
            x = _features(g, big)
            if x is not g.x:  # the dense copy can go now; only the switched-off passes, skipped when big, read g.x
                g.x = None
            logits, details = model.inference(x, g.edge_index, block_edges=INFERENCE_EDGES, return_details=True)
            del x
            # The edges and fixed weights the layers use; weights are None for attention and SAGE.
            layer_edges, weight = model.graph(g.edge_index, n)
            # The same model with attention replaced (uniform, GCN's coefficients): cached with the
            # forward, so that "does attention matter?" costs nothing on a warm visualize.
            switched, switch_off_seconds = {}, 0.0
            if details["attention"] and not big:
                tick = time.perf_counter()
                switched = _switch_off(model, g)
                switch_off_seconds = time.perf_counter() - tick
    except (RuntimeError, ValueError, IndexError) as exc:
        raise _unfit(run_dir, exc) from None
    epoch = checkpoint.get("epoch") if isinstance(checkpoint, dict) else None
    return {
        "model": str(model.name),
        "task": task,
        "num_graphs": len(graphs),
        "num_nodes": n,
        "facts": checkpoint_facts(checkpoint),
        "epoch": int(epoch) if isinstance(epoch, int) else None,
        "edge_index": g.edge_index.numpy().astype(np.int64, copy=False),
        "y": g.y.numpy(),
        "split": _split(g, n),
        "logits": logits.detach().float().numpy(),
        "switched_off": {k: v.astype(np.float32) for k, v in switched.items() if k != "original"},
        "switch_off_seconds": switch_off_seconds,
        "embeddings": [e.detach().float().numpy() for e in details["embeddings"]],
        "attention": [
            LayerAttention(ei.detach().numpy().astype(np.int64, copy=False), a.detach().float().numpy().reshape(a.shape[0], -1))
            for ei, a in details["attention"]
        ],
        "coefficients": None
        if weight is None
        else EdgeCoefficients(layer_edges.detach().numpy().astype(np.int64), weight.detach().double().numpy().reshape(-1)),
    }


def _switch_off(model, g) -> dict[str, np.ndarray]:
    from gnnviz.ablation import switch_off

    return switch_off(model, g.x, g.edge_index)


def _split(g, n: int) -> np.ndarray:
    split = np.full(n, "other", dtype=object)
    for name in ("test", "val", "train"):  # a node is in at most one split anyway
        mask = getattr(g, f"{name}_mask", None)
        if mask is not None:
            split[mask.numpy().astype(bool)] = name
    return split.astype(str)


def _to_cache(f: dict[str, Any]) -> dict[str, np.ndarray]:
    c = f["coefficients"]
    arrays = {
        "meta": np.array(
            [
                f["num_graphs"],
                f["num_nodes"],
                len(f["embeddings"]),
                len(f["attention"]),
                int(c is not None),
                -1 if f["epoch"] is None else f["epoch"],
            ]
        ),
        "model": np.array(f["model"]),
        "task": np.array(f["task"]),
        "edge_index": f["edge_index"],
        "y": f["y"],
        "facts": np.array(json.dumps(f["facts"])),
        "split": f["split"].astype("U5"),
        "logits": f["logits"],
    }
    for i, e in enumerate(f["embeddings"]):
        arrays[f"emb{i}"] = e
    for i, a in enumerate(f["attention"]):
        arrays[f"att_ei{i}"], arrays[f"att_alpha{i}"] = a.edge_index, a.alpha
    if c is not None:
        arrays["coef_ei"], arrays["coef_w"] = c.edge_index, c.weight
    names = list(f["switched_off"])
    arrays["off_names"] = np.array(names, dtype="U32")
    for i, name in enumerate(names):
        arrays[f"off{i}"] = f["switched_off"][name]
    return arrays


def _from_cache(z: dict[str, np.ndarray]) -> dict[str, Any]:
    """The cached forward, or ValueError/KeyError when the entry is not one we wrote for a graph."""
    num_graphs, n, n_emb, n_att, has_coef, epoch = (int(v) for v in z["meta"])
    f = {
        "model": str(z["model"]),
        "task": str(z["task"]),
        "num_graphs": num_graphs,
        "num_nodes": n,
        "facts": json.loads(str(z["facts"])),
        "epoch": None if epoch < 0 else epoch,
        "edge_index": z["edge_index"],
        "y": z["y"],
        "split": z["split"].astype(str),
        "logits": z["logits"],
        "embeddings": [z[f"emb{i}"] for i in range(n_emb)],
        "attention": [LayerAttention(z[f"att_ei{i}"], z[f"att_alpha{i}"]) for i in range(n_att)],
        "coefficients": EdgeCoefficients(z["coef_ei"], z["coef_w"]) if has_coef else None,
        "switched_off": {str(name): z[f"off{i}"] for i, name in enumerate(z["off_names"].tolist())},
    }
    _check(f)
    return f


def _check(f: dict[str, Any]) -> None:
    """Raise ValueError unless every array has the shape and type the analyses rely on."""
    n = f["num_nodes"]

    def edges(ei: np.ndarray) -> None:
        if ei.dtype.kind != "i" or ei.ndim != 2 or ei.shape[0] != 2 or (ei.size and not (0 <= ei.min() and ei.max() < n)):
            raise ValueError("edge index")

    def floats(a: np.ndarray, shape: tuple[int, ...]) -> None:
        if a.dtype.kind != "f" or a.shape[: len(shape)] != shape or a.ndim != max(len(shape), 2) or not np.isfinite(a).all():
            raise ValueError("float array")

    if n < 1 or f["num_graphs"] < 1 or f["task"] not in METRICS or not f["embeddings"]:
        raise ValueError("meta")
    if not isinstance(f["facts"], dict) or not isinstance(f["facts"].get("kwargs"), dict):
        raise ValueError("checkpoint facts")
    edges(f["edge_index"])
    y = f["y"]
    if (
        y.shape[:1] != (n,)
        or f["split"].shape != (n,)
        or y.dtype.kind not in "iuf"
        or y.ndim != (2 if f["task"] == "multilabel" else 1)
    ):
        raise ValueError("labels")
    floats(f["logits"], (n,))
    for logits in f["switched_off"].values():
        if logits.shape != f["logits"].shape:
            raise ValueError("switched-off logits")
        floats(logits, (n,))
    for e in f["embeddings"]:
        floats(e, (n,))
    for a in f["attention"]:
        edges(a.edge_index)
        floats(a.alpha, (a.edge_index.shape[1],))
    c = f["coefficients"]
    if c is not None:
        edges(c.edge_index)
        if c.weight.dtype.kind != "f" or c.weight.shape != (c.edge_index.shape[1],) or not np.isfinite(c.weight).all():
            raise ValueError("coefficients")
