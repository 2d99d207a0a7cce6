"""The Typer app: each command parses, validates at the edge, calls one library function and
prints the path it made; ``gnnviz.cli.main`` runs it as the process (``exits.run``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from gnnviz import __version__
from gnnviz.cli import exits
from gnnviz.cli.launch import launch
from gnnviz.cli.tables import table
from gnnviz.errors import ConfigError
from gnnviz.paths import check_path
from gnnviz.progress import to_stderr

app = typer.Typer(
    name="gnnviz",
    help="Train graph neural networks with PyTorch Geometric and see what they learned.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gnnviz {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for unexpected errors (also GNNVIZ_DEBUG=1).")] = False,
) -> None:
    """Train graph neural networks with PyTorch Geometric and see what they learned.

    Examples:

      gnnviz train --config configs/gat_cora.yaml

      gnnviz visualize outputs/cora-gat-20261121-101500
    """
    if debug:
        exits.show_tracebacks()


def _ints(text: str | None, option: str) -> list[int] | None:
    if text is None or text.strip() == "":
        return None
    try:
        return [int(p) for p in text.replace(" ", "").split(",") if p != ""]
    except ValueError:
        raise ConfigError(f"{option} '{text}' must be comma-separated whole numbers, e.g. {option} 0,1") from None


RUN_HELP = "Run directory written by 'gnnviz train' (or --run RUN)."


def _the_run(positional: Path | None, option: Path | None, command: str) -> Path:
    """The run named as RUN or as --run (both accepted, as compare takes its runs positionally)."""
    if positional is not None and option is not None and positional != option:
        raise ConfigError(f"two runs given, {positional} and --run {option}; pass one: gnnviz {command} RUN")
    if positional is None and option is None:
        raise ConfigError(
            f"missing the run directory: gnnviz {command} RUN (or --run RUN); 'gnnviz runs' lists the runs in outputs/; "
            f"see 'gnnviz {command} --help'"
        )
    return check_path(positional, "RUN", "folder") if positional is not None else check_path(option, "--run", "folder")


@app.command()
def train(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config; omitted keys take defaults.")] = None,
    set_: Annotated[
        Optional[list[str]],
        typer.Option("--set", "-s", metavar="<key=value>", help="Override a key: --set model.hidden=32 (repeatable)."),
    ] = None,
    print_config: Annotated[bool, typer.Option("--print-config", help="Print the resolved config as YAML and exit.")] = False,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Random seed (overrides run.seed).")] = None,
    seeds: Annotated[int, typer.Option("--seeds", help="Repeat over N seeds (seed, seed+1, ...) and aggregate.")] = 1,
    device: Annotated[Optional[str], typer.Option("--device", help="auto, cpu, cuda or cuda:N (overrides run.device).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder that receives run directories.")] = Path("outputs"),
    name: Annotated[
        Optional[str], typer.Option("--name", help="Run directory name.", show_default="<dataset>-<model>-<time>")
    ] = None,
    data_root: Annotated[
        Optional[Path],
        typer.Option("--data-root", help="Dataset folder.", show_default="$GNNVIZ_DATA_ROOT or ~/.cache/gnnviz/datasets"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the run directory.")] = False,
    nproc: Annotated[
        int,
        typer.Option(
            "--nproc", help="Train with N processes (ranks) on this machine under torchrun, each on 1/N of the seed nodes."
        ),
    ] = 1,
    tensorboard: Annotated[
        bool, typer.Option("--tensorboard", help="Also write TensorBoard event files (run.tensorboard).")
    ] = False,
) -> None:
    """Train the model a config names; print the run directory as the last line.

    Examples:

      gnnviz train --config configs/gat_cora.yaml

      gnnviz train --config configs/gcn_cora.yaml --seeds 10 --name gcn-cora-10

      gnnviz train --config configs/gat_cora.yaml --set training.lr=0.01 --print-config

      gnnviz train --config configs/gat_cora.yaml --nproc 2 --set training.batch_size=64

      torchrun --nproc-per-node 2 -m gnnviz train --config configs/gat_cora.yaml
    """
    from gnnviz.config import load_config

    overrides = list(set_ or [])
    if seed is not None:
        overrides.append(f"run.seed={seed}")
    if device is not None:
        overrides.append(f"run.device={device}")
    if tensorboard:
        overrides.append("run.tensorboard=true")
    if seeds < 1:
        raise ConfigError(f"--seeds {seeds} must be at least 1")
    if nproc < 1:
        raise ConfigError(f"--nproc {nproc} must be at least 1")
    config = check_path(config, "--config", "file") if config is not None else None
    out = check_path(out, "--out", "new-folder")
    data_root = check_path(data_root, "--data-root", "new-folder") if data_root is not None else None
    cfg = load_config(config, overrides)
    if print_config:
        typer.echo(cfg.to_yaml(comments=True), nl=False)
        return
    if cfg.run.tensorboard:
        from gnnviz.tensorboard import check_available

        check_available()
    if nproc > 1:
        launch(
            cfg,
            nproc,
            config=config,
            overrides=overrides,
            seeds=seeds,
            out=out.expanduser(),
            name=name,
            data_root=data_root,
            quiet=quiet,
        )
        return
    from gnnviz.experiment import train as run_train
    from gnnviz.progress import to_stderr

    log = None
    if config is None and not quiet:
        # Said with the first log line (once the dataset loaded), so that an error stays one line.
        said = []

        def log(msg: str) -> None:
            if not said:
                said.append(True)
                to_stderr(
                    f"config: none given, training the defaults ({cfg.model.name} on {cfg.dataset.name}); "
                    "'gnnviz train --print-config' shows them, --config FILE picks your own"
                )
            to_stderr(msg)

    path = run_train(cfg, out=out.expanduser(), name=name, data_root=data_root, seeds=seeds, quiet=quiet, log=log)
    if path is not None:  # None: a rank other than 0, which writes nothing
        exits.print_path(path)


STATE_OPTION = typer.Option(
    "--state",
    help="Which state of the run: selected (the stopping rule's), min-loss (lowest validation loss) or last.",
)


@app.command()
def visualize(
    run_arg: Annotated[Optional[Path], typer.Argument(metavar="RUN", help=RUN_HELP, show_default=False)] = None,
    run: Annotated[Optional[Path], typer.Option("--run", "-r", help="The run directory, as RUN.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Where figures go.", show_default="RUN/viz")] = None,
    nodes: Annotated[
        Optional[str], typer.Option("--nodes", help="Extra node ids whose neighbourhoods to draw, e.g. 12,345.")
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", help="Draw the N highest-degree nodes.")] = 4,
    layers: Annotated[
        Optional[str], typer.Option("--layers", help="Layers to draw (0-based), e.g. 0,1.", show_default="all")
    ] = None,
    heads: Annotated[
        Optional[str],
        typer.Option("--heads", help="Heads to draw (0-based), e.g. 0,3.", show_default="head 0 and the mean; entropy.png: all"),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="png or svg.")] = "png",
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution of PNG figures (dots per inch, 30 to 1200).")] = 200,
    graph_index: Annotated[int, typer.Option("--graph-index", help="Which test graph of a multi-graph dataset (PPI).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the output folder.")] = False,
    tensorboard: Annotated[
        bool, typer.Option("--tensorboard", help="Also write the embedding projector into RUN/tb/projector.")
    ] = False,
    embedding: Annotated[
        Optional[str],
        typer.Option(
            "--embedding", help="2-D map of the embeddings: tsne, umap or pca.", show_default="the run's run.embedding: tsne"
        ),
    ] = None,
    state: Annotated[str, STATE_OPTION] = "selected",
) -> None:
    """Draw everything a run learned into RUN/viz and print the folder.

    --state picks which of the run's states is drawn: selected (the stopping rule's), min-loss
    (lowest validation loss) or last; another than selected goes to RUN/viz-<state>.

    Examples:

      gnnviz visualize outputs/cora-gat-20261121-101500

      gnnviz visualize outputs/my-run --nodes 12,345 --top-k 2 --format svg --dpi 300

      gnnviz visualize --run outputs/my-run --embedding umap

      gnnviz visualize --run outputs/my-run --state min-loss
    """
    from gnnviz.runs.load import check_state_name
    from gnnviz.viz.coords.embeddings import check_method
    from gnnviz.viz.options import Options

    node_ids = _ints(nodes, "--nodes") or []
    Options(node_ids, top_k, None, None, fmt, dpi, graph_index).check()  # the run's own checks follow in draw()
    check_state_name(state)
    if embedding is not None:
        check_method(embedding)
    if tensorboard:
        from gnnviz.tensorboard import check_available

        check_available()
    run = _the_run(run_arg, run, "visualize")
    out = check_path(out, "--out", "new-folder") if out is not None else None
    from gnnviz.viz.visualize import visualize as draw

    path = draw(
        run.expanduser(),
        out.expanduser() if out else None,
        nodes=node_ids,
        top_k=top_k,
        layers=_ints(layers, "--layers"),
        heads=_ints(heads, "--heads"),
        fmt=fmt,
        dpi=dpi,
        graph_index=graph_index,
        embedding=embedding,
        state=state,
        quiet=quiet,
        log=to_stderr,
    )
    if tensorboard:
        from gnnviz.tensorboard import write_projector
        from gnnviz.viz.load import load_arrays

        projector = write_projector(run.expanduser(), load_arrays(run.expanduser(), graph_index, state))
        if not quiet:
            to_stderr(f"embedding projector: {projector} (tensorboard --logdir {run.expanduser() / 'tb'})")
    exits.print_path(path)


@app.command()
def compare(
    runs: Annotated[
        list[Path],
        typer.Argument(
            metavar="RUN",
            help="Two or more run directories of one dataset; a --seeds folder counts as its seeds; "
            "RUN@min-loss (or @last, @selected) draws that state of the run.",
        ),
    ],
    out: Annotated[
        Optional[Path],
        typer.Option(
            "--out", help="A new or empty folder, or an earlier compare folder to replace.", show_default="outputs/compare-<time>"
        ),
    ] = None,
    nodes: Annotated[
        Optional[str], typer.Option("--nodes", help="Extra node ids whose neighbourhoods to draw, e.g. 12,345.")
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", help="Draw the neighbourhoods of the N highest-degree nodes.")] = 2,
    fmt: Annotated[str, typer.Option("--format", help="png or svg.")] = "png",
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution of PNG figures (dots per inch, 30 to 1200).")] = 200,
    graph_index: Annotated[int, typer.Option("--graph-index", help="Which test graph of a multi-graph dataset (PPI).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the output folder.")] = False,
    state: Annotated[str, STATE_OPTION] = "selected",
) -> None:
    """Compare runs of one dataset side by side; print the folder of figures and index.html.

    Runs that differ only in their seed form a group, shown as mean +- std over its seeds:
    training curves, test metric, attention lift and entropy per layer (GCN's coefficients as the
    baseline), the same nodes' neighbourhoods, prediction agreement and the nodes that flip.
    Numbers go to compare.json. Without --out, a new outputs/compare-<YYYYmmdd-HHMMSS> is
    created, so an earlier compare is never overwritten. Every run is drawn in the state --state
    names (default selected), or in the one its RUN@STATE suffix names: two states of one run side
    by side are two groups.

    Examples:

      gnnviz compare outputs/gat-cora-3seeds outputs/cora-gcn-20261121-101500

      gnnviz compare outputs/a outputs/b outputs/c --out outputs/gat-vs-gcn --nodes 12,345

      gnnviz compare outputs/gat-cora outputs/gat-cora@min-loss
    """
    from gnnviz.runs.load import check_state_name
    from gnnviz.viz.compare import split_state
    from gnnviz.viz.options import Options

    node_ids = _ints(nodes, "--nodes") or []
    Options(node_ids, top_k, None, None, fmt, dpi, graph_index).check()
    check_state_name(state)
    for r in runs:
        check_path(split_state(r, state)[0], "RUN", "folder")
    out = check_path(out, "--out", "new-folder") if out is not None else None
    from gnnviz.viz.compare import compare as run_compare

    path = run_compare(
        [r for r in runs],
        out.expanduser() if out else None,
        nodes=node_ids,
        top_k=top_k,
        fmt=fmt,
        dpi=dpi,
        graph_index=graph_index,
        state=state,
        quiet=quiet,
        log=to_stderr,
    )
    exits.print_path(path)


@app.command()
def explain(
    run_arg: Annotated[Optional[Path], typer.Argument(metavar="RUN", help=RUN_HELP, show_default=False)] = None,
    run: Annotated[Optional[Path], typer.Option("--run", "-r", help="The run directory, as RUN.")] = None,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="A new or empty folder, or an earlier explain folder.", show_default="RUN/explain"),
    ] = None,
    nodes: Annotated[
        Optional[str],
        typer.Option("--nodes", help="Node ids to explain, e.g. 12,345.", show_default="a seeded sample per class and split"),
    ] = None,
    methods: Annotated[
        Optional[str],
        typer.Option(
            "--methods",
            help="Comma-separated: gnnexplainer, integrated_gradients, saliency, attention_last, attention_mean, "
            "attention_tree (attention = all three; attention models only), pgexplainer (trained on up to 300 "
            "training nodes first; only when named).",
            show_default="all the model allows but pgexplainer",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the node sample, GNNExplainer and PGExplainer.")] = 0,
    epochs: Annotated[int, typer.Option("--epochs", help="GNNExplainer's optimisation steps per node.")] = 100,
    keep: Annotated[float, typer.Option("--keep", help="Share of a node's computation edges that fidelity keeps.")] = 0.2,
    per_class: Annotated[int, typer.Option("--per-class", help="Sampled nodes per class and split (without --nodes).")] = 1,
    repeats: Annotated[
        int,
        typer.Option(
            "--repeats",
            help="Seeds per node for stochastic methods (GNNExplainer; PGExplainer: one training per seed): their mean and spread.",
        ),
    ] = 1,
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution of the PNG figures (30 to 1200).")] = 150,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the output folder.")] = False,
    state: Annotated[str, STATE_OPTION] = "selected",
) -> None:
    """Explain why nodes got their predictions; write RUN/explain (explain.json, pictures) and print it.

    --state picks the run's state explained (selected, min-loss or last); another than selected
    goes to RUN/explain-<state>.

    Each node is explained on its computation subgraph by each method; where the graph carries a
    known explanation (generated datasets), each method's edge scores get a ROC AUC against it;
    fidelity+ and fidelity- everywhere. Definitions of every number are in explain.json. A
    '--seeds N' folder: each seed run is explained into its own RUN/explain (OUT/seed-N with --out)
    for the same nodes, and OUT/explain.json says how much the explanations differ across the
    training seeds.

    The explorer (gnnviz visualize's explorer.html) shows the explanations of RUN/explain (or
    RUN/explain-<state>) only, so that the run folder needs nothing outside it. With --out
    elsewhere it shows none of them: it says where they are when one of their nodes is clicked,
    and explain prints where.

    Examples:

      gnnviz explain outputs/ba_shapes-gcn-20261204-101500

      gnnviz explain --run outputs/my-gat-run --nodes 12,345 --methods saliency,attention

      gnnviz explain --run outputs/my-gat-run --state min-loss

      gnnviz explain --run outputs/my-run --methods gnnexplainer --repeats 5

      gnnviz explain --run outputs/ba_shapes-gcn-20261204-101500 --methods pgexplainer,gnnexplainer
    """
    from gnnviz.runs.load import check_state_name

    if not 30 <= dpi <= 1200:
        raise ConfigError(f"--dpi {dpi} must be between 30 and 1200")
    check_state_name(state)
    run = _the_run(run_arg, run, "explain")
    out = check_path(out, "--out", "new-folder") if out is not None else None
    from gnnviz.explain.run import explain as run_explain

    path = run_explain(
        run,
        out,
        nodes=_ints(nodes, "--nodes"),
        methods=methods,
        seed=seed,
        epochs=epochs,
        keep=keep,
        per_class=per_class,
        repeats=repeats,
        dpi=dpi,
        state=state,
        log=None if quiet else to_stderr,
    )
    exits.print_path(path)


@app.command()
def datasets(
    data_root: Annotated[
        Optional[Path],
        typer.Option("--data-root", help="Dataset folder.", show_default="$GNNVIZ_DATA_ROOT or ~/.cache/gnnviz/datasets"),
    ] = None,
) -> None:
    """List the datasets with their statistics (loading those available offline).

    Example:

      GNNVIZ_DATA_MIRROR=../shared/datasets gnnviz datasets
    """
    from gnnviz.datasets.inventory import describe_datasets

    data_root = check_path(data_root, "--data-root", "new-folder") if data_root is not None else None
    data_root_opt = data_root
    infos = describe_datasets(data_root)
    rows = [("name", "task", "graphs", "nodes", "edges", "features", "classes", "status")]
    for d in infos:
        num = lambda v: "-" if v is None else f"{v:,}"  # noqa: E731
        rows.append((d.name, d.task, num(d.graphs), num(d.nodes), num(d.edges), num(d.features), num(d.classes), d.status))
    for line in table(rows):
        typer.echo(line)
    missing = [d for d in infos if d.status == "not available"]
    if missing:
        from gnnviz.datasets import DATASETS
        from gnnviz.datasets.store import data_mirror, data_root

        root = data_root(data_root_opt)
        tops = {d.name: dict.fromkeys(f.split("/")[0] for f in DATASETS[d.name].files) for d in missing}
        folders = ", ".join(f"{DATASETS[name].folder}/{top}/" for name, parts in tops.items() for top in parts)
        mirror = data_mirror()
        if mirror is None:
            why = "no raw files here and no mirror (GNNVIZ_DATA_MIRROR is not set)"
            fix = f"set GNNVIZ_DATA_MIRROR to a folder holding {folders} (e.g. GNNVIZ_DATA_MIRROR=../shared/datasets)"
        else:
            why = f"no raw files here, and the mirror GNNVIZ_DATA_MIRROR={mirror} lacks them"
            fix = f"put {folders} into the mirror (or point GNNVIZ_DATA_MIRROR at a folder holding them)"
        to_stderr(
            f"not available: {why}. To use them offline, {fix}, or copy the raw files into {root}/ in the same layout "
            "(or --data-root DIR); online, 'gnnviz train' downloads them"
        )


@app.command("runs")
def runs_(
    folder: Annotated[Path, typer.Argument(help="Folder of run directories (or one run directory).")] = Path("outputs"),
) -> None:
    """List the runs in a folder: dataset, model, status, best epoch, test metric, date.

    Runs whose process died mid-training, and damaged run folders, are listed with what is wrong.

    Examples:

      gnnviz runs

      gnnviz runs outputs/gcn-cora-10
    """
    from gnnviz.runs.listing import list_runs

    infos = list_runs(folder)
    if not infos:
        to_stderr(f"no runs in {folder}; create one with 'gnnviz train --config configs/gat_karate.yaml --out {folder}'")
        return
    rows = [("name", "dataset", "model", "status", "best", "test", "date")]
    rows += [(i.name, i.dataset, i.model, i.status, i.best_epoch, i.test_metric, i.date) for i in infos]
    for line, info in zip(table(rows), [None, *infos], strict=True):
        line = line.rstrip()  # an empty last cell (no date) leaves the others' padding
        if info is not None and info.problem:
            line += f"  ({info.problem})"
        typer.echo(line)
