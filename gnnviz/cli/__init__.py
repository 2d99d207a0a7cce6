"""The ``gnnviz`` command: parse, validate at the edge, call one library function, print paths.

Exit codes: 0 success, 1 runtime failure, 2 usage or config error (nothing created),
130 after Ctrl-C, 143 after SIGTERM. Errors are one line on stderr; tracebacks only with
``--debug`` or ``GNNVIZ_DEBUG=1``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from gnnviz import __version__, distributed
from gnnviz.errors import ConfigError, GnnvizError, PeerLost, Terminated, is_out_of_memory, memory_message, os_error_message
from gnnviz.progress import to_stderr

app = typer.Typer(
    name="gnnviz",
    help="Train graph neural networks with PyTorch Geometric and see what they learned.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": bool(os.environ.get("GNNVIZ_DEBUG"))}


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

      gnnviz visualize --run outputs/cora-gat-20261121-101500
    """
    if debug:
        _state["debug"] = True


def _ints(text: str | None, option: str) -> list[int] | None:
    if text is None or text.strip() == "":
        return None
    try:
        return [int(p) for p in text.replace(" ", "").split(",") if p != ""]
    except ValueError:
        raise ConfigError(f"{option} '{text}' must be comma-separated whole numbers, e.g. {option} 0,1") from None


@app.command()
def train(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config; omitted keys take defaults.")] = None,
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", "-s", help="Override a key: --set model.hidden=32 (repeatable).")
    ] = None,
    print_config: Annotated[bool, typer.Option("--print-config", help="Print the resolved config as YAML and exit.")] = False,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Random seed (overrides run.seed).")] = None,
    seeds: Annotated[int, typer.Option("--seeds", help="Repeat over N seeds (seed, seed+1, ...) and aggregate.")] = 1,
    device: Annotated[Optional[str], typer.Option("--device", help="auto, cpu, cuda or cuda:N (overrides run.device).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder that receives run directories.")] = Path("outputs"),
    name: Annotated[Optional[str], typer.Option("--name", help="Run directory name [default: <dataset>-<model>-<time>].")] = None,
    data_root: Annotated[
        Optional[Path],
        typer.Option("--data-root", help="Dataset folder [default: $GNNVIZ_DATA_ROOT or ~/.cache/gnnviz/datasets]."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the run directory.")] = False,
    nproc: Annotated[
        int,
        typer.Option(
            "--nproc", help="Train with N processes (ranks) on this machine under torchrun, each on 1/N of the seed nodes."
        ),
    ] = 1,
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
    if seeds < 1:
        raise ConfigError(f"--seeds {seeds} must be at least 1")
    if nproc < 1:
        raise ConfigError(f"--nproc {nproc} must be at least 1")
    cfg = load_config(config, overrides)
    if print_config:
        typer.echo(cfg.to_yaml(), nl=False)
        return
    if nproc > 1:
        _launch(
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

    path = run_train(cfg, out=out.expanduser(), name=name, data_root=data_root, seeds=seeds, quiet=quiet)
    if path is not None:  # None: a rank other than 0, which writes nothing
        _print_path(path)


def _launch(cfg, nproc: int, *, config, overrides, seeds: int, out: Path, name, data_root, quiet: bool) -> None:
    """``train --nproc N``: the same command as N ranks under torchrun, into a run directory named now."""
    from gnnviz.runs.layout import check_new_run, default_name

    if os.environ.get("WORLD_SIZE", "1") != "1":
        raise ConfigError("--nproc inside torchrun: the ranks are already started; drop --nproc")
    if seeds != 1:
        raise ConfigError(f"--seeds {seeds} with --nproc: train one seed at a time (--seed N)")
    distributed.check_device(cfg.run.device)
    check_new_run(out, name)
    if name is None:
        default = default_name(cfg.dataset.name, cfg.model.name)
        name = next(n for n in (default if i == 1 else f"{default}-{i}" for i in range(1, 10_000)) if not (out / n).exists())
    args = [*(["--config", str(config)] if config is not None else []), *[a for o in overrides for a in ("--set", o)]]
    args += ["--out", str(out), "--name", name, *(["--data-root", str(data_root)] if data_root is not None else [])]
    args += ["--quiet"] if quiet else []
    if _state["debug"]:
        os.environ["GNNVIZ_DEBUG"] = "1"
    try:
        distributed.launch(args, nproc, out / name)
    except distributed.RankFailed as exc:
        error = GnnvizError(f"{exc.line} (run {out / name})" if (out / name).exists() else exc.line)
        error.exit_code = exc.code
        raise error from None


@app.command()
def visualize(
    run: Annotated[Path, typer.Option("--run", "-r", help="Run directory written by 'gnnviz train'.")],
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
) -> None:
    """Draw everything a run learned into RUN/viz and print the folder.

    Examples:

      gnnviz visualize --run outputs/cora-gat-20261121-101500

      gnnviz visualize --run outputs/my-run --nodes 12,345 --top-k 2 --format svg --dpi 300
    """
    from gnnviz.viz.options import Options

    node_ids = _ints(nodes, "--nodes") or []
    Options(node_ids, top_k, None, None, fmt, dpi, graph_index).check()  # the run's own checks follow in draw()
    from gnnviz.viz.visualize import visualize as draw

    path = draw(
        run.expanduser(), out.expanduser() if out else None, nodes=node_ids, top_k=top_k, layers=_ints(layers, "--layers"),
        heads=_ints(heads, "--heads"), fmt=fmt, dpi=dpi, graph_index=graph_index, quiet=quiet, log=to_stderr,
    )  # fmt: skip
    _print_path(path)


@app.command()
def compare(
    runs: Annotated[
        list[Path],
        typer.Argument(metavar="RUN", help="Two or more run directories of one dataset; a --seeds folder counts as its seeds."),
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
) -> None:
    """Compare runs of one dataset side by side; print the folder of figures and index.html.

    Runs that differ only in their seed form a group, shown as mean +- std over its seeds:
    training curves, test metric, attention lift and entropy per layer (GCN's coefficients as the
    baseline), the same nodes' neighbourhoods, prediction agreement and the nodes that flip.
    Numbers go to compare.json. Without --out, a new outputs/compare-<YYYYmmdd-HHMMSS> is
    created, so an earlier compare is never overwritten.

    Examples:

      gnnviz compare outputs/gat-cora-3seeds outputs/cora-gcn-20261121-101500

      gnnviz compare outputs/a outputs/b outputs/c --out outputs/gat-vs-gcn --nodes 12,345
    """
    from gnnviz.viz.options import Options

    node_ids = _ints(nodes, "--nodes") or []
    Options(node_ids, top_k, None, None, fmt, dpi, graph_index).check()
    from gnnviz.viz.compare import compare as run_compare

    path = run_compare(
        [r for r in runs], out.expanduser() if out else None, nodes=node_ids, top_k=top_k, fmt=fmt, dpi=dpi,
        graph_index=graph_index, quiet=quiet, log=to_stderr,
    )  # fmt: skip
    _print_path(path)


@app.command()
def datasets(
    data_root: Annotated[
        Optional[Path],
        typer.Option("--data-root", help="Dataset folder [default: $GNNVIZ_DATA_ROOT or ~/.cache/gnnviz/datasets]."),
    ] = None,
) -> None:
    """List the datasets with their statistics (loading those available offline).

    Example:

      GNNVIZ_DATA_MIRROR=../shared/datasets gnnviz datasets
    """
    from gnnviz.datasets import describe_datasets

    data_root_opt = data_root
    infos = describe_datasets(data_root)
    rows = [("name", "task", "graphs", "nodes", "edges", "features", "classes", "status")]
    for d in infos:
        num = lambda v: "-" if v is None else f"{v:,}"  # noqa: E731
        rows.append((d.name, d.task, num(d.graphs), num(d.nodes), num(d.edges), num(d.features), num(d.classes), d.status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
    missing = [d for d in infos if d.status == "not available"]
    if missing:
        from gnnviz.datasets import DATASETS, data_root

        root = data_root(data_root_opt)
        tops = {d.name: dict.fromkeys(f.split("/")[0] for f in DATASETS[d.name].files) for d in missing}
        folders = ", ".join(f"{DATASETS[name].folder}/{top}/" for name, parts in tops.items() for top in parts)
        to_stderr(
            f"not available: no raw files here and no mirror. To use them offline, set GNNVIZ_DATA_MIRROR to a folder "
            f"holding {folders} (e.g. GNNVIZ_DATA_MIRROR=../shared/datasets), or copy the raw files into "
            f"{root}/ in the same layout (or --data-root DIR); online, 'gnnviz train' downloads them"
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
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for r, info in zip(rows, [None, *infos], strict=True):
        line = "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        if info is not None and info.problem:
            line += f"  ({info.problem})"
        typer.echo(line)


def _on_sigint(signum, frame):  # noqa: ARG001
    if os.getpid() != _state.get("pid"):
        # A forked child inherits this handler. gnnviz forks none since the drawing pool went,
        # but a library may (a data-loader worker): the child leaves Ctrl-C to its parent.
        return
    raise KeyboardInterrupt


def _on_sigterm(signum, frame):  # noqa: ARG001
    if os.getpid() != _state.get("pid"):
        # A forked child (see _on_sigint) being stopped: it dies quietly, as by default.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    _state["terminated"] = True
    raise Terminated()


def _on_late_signal(signum, frame):  # noqa: ARG001
    # After the command returned its result is final: a Ctrl-C or SIGTERM now is noted, never raised
    # into the few lines that print the error and flush stdout (a traceback there, with exit 0, was
    # what a signal in that window gave).
    _state["late_signal"] = signum


def _hold_signals() -> None:
    """From the command's return (or failure) until exit, our signal handlers note signals instead."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) in (_on_sigint, _on_sigterm):
            signal.signal(sig, _on_late_signal)


def _error(msg: str, kind: str = "error") -> None:
    """One error line on stderr. A rank under torchrun hands it to ``gnnviz train --nproc`` instead
    (which prints the one that caused the others); under plain torchrun rank 0 prints, and another
    rank only an error of its own (``kind`` "error"), named."""
    rank = os.environ.get("RANK", "0")
    if os.environ.get("WORLD_SIZE", "1") not in ("", "1"):
        if os.environ.get(distributed.LAUNCHED_ENV) and distributed.report_to_launcher(kind, msg):
            return
        if kind != "error":
            return
        if rank != "0":
            msg = f"rank {rank}: {msg}"
    to_stderr(f"error: {msg}")


def _stopped(kind: str) -> None:
    """A rank stopped by Ctrl-C or SIGTERM tells ``gnnviz train --nproc`` so (nothing is printed)."""
    if os.environ.get("WORLD_SIZE", "1") not in ("", "1") and os.environ.get(distributed.LAUNCHED_ENV):
        distributed.report_to_launcher(kind, kind)


def _traceback() -> None:
    if _state["debug"]:
        import traceback

        traceback.print_exc()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the Typer app, turning every failure into one line and an exit code."""
    _state["pid"] = os.getpid()
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Not when started with Ctrl-C ignored; _on_late_signal is this function's own, from an earlier call.
    if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _on_late_signal):
        signal.signal(signal.SIGINT, _on_sigint)
    command = typer.main.get_command(app)
    code = 0
    try:
        try:
            # Not standalone: Typer returns exit codes (130 for Ctrl-C) and raises usage errors to us.
            rv = command.main(args=argv, prog_name="gnnviz", standalone_mode=False)
        finally:
            _hold_signals()  # a signal before this line is caught below; after it, it is only noted
        code = rv if isinstance(rv, int) else 0
    except GnnvizError as exc:
        _traceback()
        _error(str(exc), "peer-lost" if isinstance(exc, PeerLost) else "error")
        code = exc.exit_code
    except Terminated:
        _stopped("terminated")
        code = 143
    except KeyboardInterrupt:
        _stopped("interrupted")
        code = 130
    except BrokenPipeError:
        code = 0
    except OSError as exc:
        _traceback()
        _error(os_error_message(exc))
        code = 1
    except MemoryError as exc:
        _traceback()
        _error(memory_message(exc))
        code = 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line unless --debug
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            # Typer/Click usage errors (bad option, missing value): keep them on one line too.
            ctx = getattr(exc, "ctx", None)
            sub = f" {ctx.info_name}" if ctx is not None and ctx.parent is not None else ""
            _error(f"{exc.format_message().rstrip('.')}; see 'gnnviz{sub} --help'")
            code = exc.exit_code
        elif is_out_of_memory(exc):
            _traceback()
            _error(memory_message(exc))
            code = 1
        else:
            _traceback()
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            _error(
                f"unexpected {type(exc).__name__}: {first}; rerun with --debug (or GNNVIZ_DEBUG=1) for the traceback and report it"
            )
            code = 1
    if _state.get("terminated"):
        code = 143
    failed = _close_stdout()
    if failed is not None and code == 0:
        _error(failed)
        code = 1
    sys.exit(code)


def _print_path(path: Path) -> None:
    """The result path as the last stdout line, byte for byte as on disk (any locale, any bytes)."""
    data = os.fsencode(str(path)) + b"\n"
    out = sys.stdout
    if out is None:
        return  # started with stdout closed: nothing can take it
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write(os.fsdecode(data))
        return
    try:
        out.flush()
        buffer.write(data)
    except BrokenPipeError:
        raise
    except OSError as exc:
        exc.filename = exc.filename or "standard output"
        raise GnnvizError(os_error_message(exc, "cannot write") + f" (the result is {path})") from None


def _close_stdout() -> str | None:
    """Flush stdout; return an error line if it could not take the output (a full disk, /dev/full).

    Output piped into `head` closes early: that is not an error, and the interpreter's own
    complaint at exit is silenced by pointing stdout at /dev/null.
    """
    if sys.stdout is None:
        return None
    problem = None
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as exc:
        exc.filename = exc.filename or "standard output"
        problem = os_error_message(exc, "cannot write")
    except ValueError:  # closed by the caller
        return None
    if problem is not None or _stdout_broken():
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    return problem


def _stdout_broken() -> bool:
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        return True
    return False
