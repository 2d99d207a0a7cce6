"""``gnnviz visualize``: the order of the steps, nothing else (see the package docstring).

Everything that can fail on bad input (options, run directory, checkpoint, graph index, node ids,
layers, heads, output folder) is checked before the first file is written, and every figure is
drawn before the first is written (``write.py``), so a failure never leaves a half-written
figure or destroys one from an earlier call.

Stages, timed into ``timings.json``: load (run directory, and the forward pass on CPU unless
cached), layout (igraph, cached; on a cold call of a graph of ``PARALLEL_LAYOUT_MIN_NODES`` or more
it runs in a helper process from the moment the edges are read, beside the forward passes and the
projections, and this stage is the wait for it), tsne (the 2-D projection of the embeddings by ``embedding``:
t-SNE, UMAP or PCA, cached; the method is ``embedding_method`` in ``timings.json``), attention (entropy and KL statistics), insight
(the analyses of "What attention learned": attention against labels, ranking agreement, switched-off
predictions compared, class flow), drawing, html. Also in ``timings.json``: ``switch_off`` (the
switched-off forward passes, part of load; 0 when cached), ``figures`` (seconds per figure) and
``layout_helper_cpu`` (the helper's CPU seconds, None when the layout ran in this process);
``cpu_seconds``: this process's CPU seconds per stage (its threads included, the helper's not).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display, no Cairo, no window; chosen here, at the entry point

from gnnviz.analysis import run as analysis  # noqa: E402
from gnnviz.analysis.arrays import RunArrays  # noqa: E402
from gnnviz.errors import RunError  # noqa: E402
from gnnviz.progress import Stages  # noqa: E402
from gnnviz.runs.layout import DEFAULT_STATE, check_out_dir  # noqa: E402
from gnnviz.runs.load import check_state_name  # noqa: E402
from gnnviz.viz import load as run_arrays  # noqa: E402
from gnnviz.viz import write as render  # noqa: E402
from gnnviz.viz.coords import layout  # noqa: E402
from gnnviz.viz.coords.embeddings import METHODS, check_method, project_many  # noqa: E402
from gnnviz.viz.coords.layout import graph_layout  # noqa: E402
from gnnviz.viz.figures import run as figures  # noqa: E402
from gnnviz.viz.helper import Helper  # noqa: E402
from gnnviz.viz.load import load_arrays  # noqa: E402
from gnnviz.viz.options import DEFAULT_DPI, Options, select  # noqa: E402
from gnnviz.viz.pages import explorer  # noqa: E402
from gnnviz.viz.pages import index as page  # noqa: E402

# Layouts and t-SNE depend only on the graph/embeddings and this seed, never on the run's seed, so
# two runs on the same graph (GAT vs GCN on Cora) get the same picture of the graph.
VIZ_SEED = 0
# From this many nodes a cold layout runs in a helper process beside the forward passes and t-SNE
# (``_EarlyLayout``): Kamada-Kawai takes seconds on Cora (2708 nodes), milliseconds on karate.
PARALLEL_LAYOUT_MIN_NODES = 1000
SHOWN_METHOD = {"tsne": "t-SNE", "umap": "UMAP", "pca": "PCA"}
STAGES = ("load", "layout", "tsne", "attention", "insight", "drawing", "html")


class _Timer:
    """Wall seconds per stage, and this process's CPU seconds (all its threads; not the helper's)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {s: 0.0 for s in STAGES}
        self.cpu: dict[str, float] = {s: 0.0 for s in STAGES}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - start
            self.cpu[stage] += time.process_time() - cpu


def visualize(
    run_dir: Path,
    out_dir: Path | None = None,
    *,
    nodes: Sequence[int] = (),
    top_k: int = 4,
    layers: list[int] | None = None,
    heads: list[int] | None = None,
    fmt: str = "png",
    dpi: int = DEFAULT_DPI,
    graph_index: int = 0,
    embedding: str | None = None,
    state: str = DEFAULT_STATE,
    quiet: bool = False,
    log: Callable[[str], Any] = print,
) -> Path:
    """Draw every figure for a run into ``out_dir`` (default ``run_dir/viz``; ``run_dir/viz-<state>``
    for a state other than the selected one) and return that folder.

    ``layers``/``heads`` are 0-based (None: all layers; head 0 plus the mean over heads).
    ``graph_index`` picks the test graph of a multi-graph dataset (PPI). ``embedding`` projects
    the embeddings with tsne, umap or pca (None: the run's ``run.embedding``, else tsne) into
    ``<method>.png`` and the explorer. ``state``: which of the states the run keeps is drawn
    (``runs.layout.STATES``: selected, min-loss, last); every title names it. Per-stage seconds are
    written to ``timings.json`` and, unless ``quiet``, passed to ``log``.
    Raises ``GnnvizError`` (before writing anything) for any bad input.
    """
    say: Callable[[str], Any] = (lambda _m: None) if quiet else log
    stages = Stages("visualize", enabled=False if quiet else None)
    early = _EarlyLayout()
    try:
        return _visualize(
            run_dir, out_dir, nodes, top_k, layers, heads, fmt, dpi, graph_index, embedding, state, say, stages, early
        )
    finally:
        early.close()  # the helper process never outlives the call, whatever ended it
        stages.close()


def _visualize(
    run_dir, out_dir, nodes, top_k, layers, heads, fmt, dpi, graph_index, embedding, state, say, stages, early
) -> Path:
    timer = _Timer()
    started = time.perf_counter()
    options = Options(tuple(nodes), top_k, layers, heads, fmt, dpi, graph_index)
    options.check()
    if embedding is not None:
        check_method(embedding)
    check_state_name(state)
    stages.start(f"loading {run_dir}")
    with timer("load"):
        arrays = load_arrays(Path(run_dir), graph_index, state, on_graph=early.start)
        method = embedding or run_embedding(arrays)
        selection = select(arrays, options)
        out = Path(out_dir) if out_dir is not None else default_out(Path(run_dir), state)
        check_out_dir(out)  # the same rule as for run directories
    notes = list(selection.notes) + ([selection.hubs_note] if selection.hubs_note else [])
    if arrays.attention and not arrays.switched_off and arrays.edge_index.shape[1] > run_arrays.SWITCH_OFF_MAX_EDGES:
        notes.append(
            f"attention was not switched off (insight/switched_off): the graph has {arrays.edge_index.shape[1]} edges, "
            f"more than {run_arrays.SWITCH_OFF_MAX_EDGES}, and that takes six more forward passes"
        )
    if not _passes_messages(arrays.model):
        notes.append(
            f"{arrays.model} passes no messages (each node's output reads only its own features): the figures about "
            "edges and attention (neighbourhoods, entropy, insight, class flow) are left out"
        )
    if arrays.checkpoint.warning:
        say(f"note: {arrays.checkpoint.warning}")
    for note in notes:
        say(f"note: {note}")
    stages.start(
        f"{SHOWN_METHOD.get(method, method)} of the embeddings ({arrays.num_nodes:,} nodes; cached after the first time)"
    )
    with timer("tsne"):
        projections = _projections(arrays, method)
    stages.start("layout of the graph")
    with timer("layout"):
        lay = _layout(arrays, projections, early)
    say(f"layout: {lay.method}{' (cached)' if lay.cached else ''}")
    stages.start("attention, insight and class flow")
    with timer("attention"):
        pred = analysis.predictions(arrays)
        entropies = analysis.entropies(arrays, selection.layers)
        stats = analysis.attention_stats(arrays, entropies)
    with timer("insight"):
        found = analysis.insight(arrays, selection.layers)
        if found is not None:
            stats = stats or analysis.run_header(arrays)
            stats["insight"] = found.as_dict()
        flows = analysis.class_flows(arrays, selection.layers)
        if flows:
            stats = stats or analysis.run_header(arrays)
            stats["class_flow"] = analysis.flow_stats(flows)
    context = figures.Context(arrays, selection, pred, entropies, lay, projections, found, flows)
    writer = render.Writer(out)
    with timer("drawing"):
        specs = figures.build(context)
        stages.start(f"drawing {len(specs)} figures")
        figure_seconds: dict[str, float] = {}
        images, figures_cached = render.render_cached(specs, fmt, dpi, figure_seconds, stages.step, early.helper)
        stages.end_bar()
        drawn: dict[str, list[page.PageFigure]] = {}
        for spec, data in zip(specs, images, strict=True):
            path = writer.bytes(f"{spec.stem}.{fmt}", data)
            drawn.setdefault(spec.section, []).append(page.PageFigure(path, spec.caption))
    if stats is not None:
        writer.json("attention_stats.json", stats)
    with timer("html"):
        page_figures = [(f.path, f.caption) for items in drawn.values() for f in items]
        skipped = explorer.skip_reason(arrays.num_nodes)
        if skipped:
            say(f"note: no explorer page: {skipped}")
        else:
            from gnnviz.runs.load import state_digest
            from gnnviz.viz.explained import for_page

            shown_explained, stale = for_page(Path(run_dir), state, out, state_digest(run_dir, state))
            if stale:
                say(f"note: {stale}")
            for name, data in explorer.explorer_files(
                **explorer.run_inputs(arrays, lay.coords, projections, found, page_figures), explained=shown_explained
            ).items():
                writer.bytes(name, data)
        writer.text("index.html", page.index_html(arrays, lay.method, drawn, stats, notes, timer.seconds, pred.summary, skipped))
    timings = {s: round(v, 3) for s, v in timer.seconds.items()}
    timings["total"] = round(time.perf_counter() - started, 3)
    writer.json(
        "timings.json",
        {
            "seconds": timings,
            "cpu_seconds": {s: round(v, 3) for s, v in timer.cpu.items()},
            "switch_off": round(arrays.switch_off_seconds, 3),
            "figures": {stem: round(v, 3) for stem, v in figure_seconds.items()},
            "layout_method": lay.method,
            "embedding_method": method,
            "layout_cached": lay.cached,
            # CPU seconds of the layout in the helper process (``viz/helper.py``), None if it ran here
            "layout_helper_cpu": round(early.helper.cpu_seconds, 3) if early.helper is not None else None,
            "figures_cached": figures_cached,
        },
    )
    say("timings: " + ", ".join(f"{s} {v:.2f}s" for s, v in timings.items()))
    say(f"wrote {len(writer.written)} files to {out}")
    return out


def default_out(run_dir: Path, state: str = DEFAULT_STATE) -> Path:
    """``RUN/viz`` for the selected state, ``RUN/viz-<state>`` for another: drawing a second state
    never replaces the figures of the first."""
    from gnnviz.viz.explained import viz_dir

    return viz_dir(run_dir, state)


def _projected(a: RunArrays) -> list[tuple[str, Any]]:
    """(title, embeddings [N, d]) of the last hidden layer (if any) and the output."""
    emb = a.embeddings
    chosen = [(f"hidden layer {len(emb) - 2} ({emb[-2].shape[1]} dims)", emb[-2])] if len(emb) > 1 else []
    chosen.append((f"output layer {len(emb) - 1} ({emb[-1].shape[1]} logits)", emb[-1]))
    return chosen


def run_embedding(a: RunArrays) -> str:
    """The run's ``run.embedding`` (its config.yaml), checked; tsne for runs made before it existed."""
    method = (a.config.get("run") or {}).get("embedding") or "tsne"
    if method not in METHODS:
        raise RunError(
            f"{a.run_dir / 'config.yaml'} has run.embedding={method!r}, not one of {', '.join(METHODS)}; "
            "pass --embedding tsne (or umap, pca), or put back the run's own config.yaml"
        )
    check_method(method)  # umap-learn installed
    return method


def _projections(a: RunArrays, method: str) -> list[tuple[str, Any]]:
    """(title, Projection) for the last hidden layer (if any) and the output."""
    chosen = _projected(a)
    return list(zip([t for t, _ in chosen], project_many([x for _, x in chosen], method, seed=VIZ_SEED), strict=True))


def _layout(a: RunArrays, projections: list[tuple[str, Any]], early: _EarlyLayout) -> Any:
    """The graph's own layout (igraph) up to ``FORCE_LAYOUT_MAX_NODES`` nodes, else one from the
    first projection's embeddings (``layout.embedding_layout``)."""
    if a.num_nodes <= layout.FORCE_LAYOUT_MAX_NODES:
        if early.hit is not None:
            return early.hit
        return graph_layout(a.edge_index, a.num_nodes, seed=VIZ_SEED, computed=early.result)
    (title, x), (_, proj) = _projected(a)[0], projections[0]
    return layout.embedding_layout(x, proj.index, proj.coords, what=title.split(" (")[0], seed=VIZ_SEED, projection=proj.label)


class _EarlyLayout:
    """The graph's layout, started in a helper process (``viz/helper.py``) as soon as a cold load
    has read the edges, so that igraph runs on a second core while this process imports nothing
    more, runs the forward passes and the projections. Only for graphs of at least
    ``PARALLEL_LAYOUT_MIN_NODES`` nodes (below that the layout takes less than forking costs) and
    only on a cache miss. ``hit``: the cached layout found then; ``result``: None if nothing started."""

    def __init__(self) -> None:
        self.hit: Any = None
        self.helper: Helper | None = None
        self.result: Callable[[], Any] | None = None

    def start(self, edge_index: Any, num_nodes: int) -> None:
        if not PARALLEL_LAYOUT_MIN_NODES <= num_nodes <= layout.FORCE_LAYOUT_MAX_NODES or self.helper is not None:
            return
        self.hit = layout.cached_layout(edge_index, num_nodes, seed=VIZ_SEED)
        if self.hit is None:
            try:
                self.helper = Helper()
            except (OSError, ValueError):
                # No process to be had (a limit on processes, memory), or no fork (Windows): lay out here.
                return
            ticket = self.helper.submit(functools.partial(layout.compute_layout, seed=VIZ_SEED), edge_index, num_nodes)
            self.result = functools.partial(self.helper.result, ticket)

    def close(self) -> None:
        if self.helper is not None:
            self.helper.close()


def _passes_messages(model: str) -> bool:
    """Whether the model table says ``model`` reads edges (an unknown name: assume it does)."""
    from gnnviz.architectures import MODELS

    spec = MODELS.get(model)
    return spec is None or spec.message_passing
