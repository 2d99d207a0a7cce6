"""``train``: config -> dataset -> model -> fit -> run directory, for one seed or several."""

from __future__ import annotations

import contextlib
import copy
import math
import resource
import shutil
import statistics
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from gnnviz import distributed, signals, tensorboard
from gnnviz.config.schema import Config
from gnnviz.config.validate import fanouts
from gnnviz.datasets import generated_params, load_dataset
from gnnviz.datasets.base import GraphDataset, metric_label
from gnnviz.distributed import World
from gnnviz.errors import ConfigError, DivergedError, Terminated, is_out_of_memory, memory_message, os_error_message
from gnnviz.models.gnn import build_model, num_params
from gnnviz.progress import Progress, to_stderr
from gnnviz.runs.layout import STATE_FILES, STATES, check_new_run, create_run_dir, default_name
from gnnviz.runs.status import process_fields
from gnnviz.runs.store import MetricsWriter, record_final, save_checkpoint, save_config, save_graphs, save_summary
from gnnviz.seeding import seed_everything
from gnnviz.snapshots import Snapshots
from gnnviz.training.device import resolve_device
from gnnviz.training.loop import FitResult, fit
from gnnviz.training.steps import batching_note, check_batching


def train(
    cfg: Config,
    *,
    out: Path,
    name: str | None = None,
    data_root: str | Path | None = None,
    seeds: int = 1,
    quiet: bool = False,
    log: Callable[[str], None] | None = None,
    progress: bool | None = None,
) -> Path:
    """Train as ``cfg`` says and return the run directory (the aggregate one for several seeds).

    Everything that can be checked is checked before any folder is created. A run that fails or
    is stopped before anything worth keeping exists (no epoch recorded) leaves no folder behind;
    otherwise its ``summary.json`` says how it ended and why.

    Under torchrun (``WORLD_SIZE`` > 1 in the environment) every rank trains its share and only
    rank 0 creates and writes the run directory, logs and returns it; the others return None.
    """
    world = distributed.from_env()
    if world.size > 1:
        if seeds != 1:
            raise ConfigError(f"--seeds {seeds} with several ranks: train one seed at a time (--seed N)")
        try:
            return _train_ranks(cfg, world, out=out, name=name, data_root=data_root, quiet=quiet, log=log, progress=progress)
        finally:
            distributed.leave()
    log = (lambda _msg: None) if quiet else (log or to_stderr)
    if cfg.run.seed + seeds > 2**32:  # seeds run.seed .. run.seed + seeds - 1, each below 2**32 (schema.SEED)
        raise ConfigError(
            f"--seeds {seeds} from run.seed={cfg.run.seed} reaches seed {cfg.run.seed + seeds - 1}, past the largest "
            f"seed {2**32 - 1}; use --seed {2**32 - seeds} or lower"
        )
    check_new_run(out, name)
    device = resolve_device(cfg.run.device)
    dataset = load_dataset(
        cfg.dataset.name, data_root, normalize_features=cfg.dataset.normalize_features, params=generated_params(cfg.dataset)
    )
    if cfg.training.batch_size:
        check_batching(dataset, cfg.training.batch_size, 1)
    check_fits_in_memory(cfg, dataset, device)
    # Said once the dataset loaded, so that a failure before it stays a single line on stderr.
    log(f"device: {device}" + (" (auto)" if cfg.run.device == "auto" else ""))
    note = batching_note(cfg.training.batch_size, _fanouts(cfg))
    if note:
        log(f"training: {note}")
    default = default_name(cfg.dataset.name, cfg.model.name)
    root = create_run_dir(out, name, default)
    attempt = Attempt()
    try:
        if seeds == 1:
            train_into(cfg, dataset, device, root, quiet=quiet, log=log, progress=progress, attempt=attempt)
        else:
            _train_seeds(cfg, dataset, device, root, seeds, attempt, quiet=quiet, log=log, progress=progress)
    except BaseException:
        if not attempt.useful:
            _remove(root)
        raise
    return root


def _fanouts(cfg: Config) -> list[int] | None:
    t = cfg.training
    return None if t.num_neighbors is None else fanouts(t.num_neighbors, cfg.model.layers, t.batch_size)


def _train_ranks(cfg: Config, world: World, *, out: Path, name, data_root, quiet: bool, log, progress) -> Path | None:
    """``train`` on one rank of several: rank 0 as a plain run (with ``world``), the others as
    replicas that write nothing."""
    leader = world.leader
    log = (lambda _msg: None) if quiet or not leader else (log or to_stderr)
    if leader:
        check_new_run(out, name)
    device = distributed.join(world, cfg.run.device)
    dataset = load_dataset(
        cfg.dataset.name, data_root, normalize_features=cfg.dataset.normalize_features, params=generated_params(cfg.dataset)
    )
    check_batching(dataset, cfg.training.batch_size, world.size)
    check_fits_in_memory(cfg, dataset, device)
    log(f"device: {device} on each of {world.size} ranks ({'NCCL' if device.type == 'cuda' else 'gloo'})")
    log(f"training: {batching_note(cfg.training.batch_size, _fanouts(cfg), world)}")
    if not leader:
        _replica(cfg, dataset, device, world)
        return None
    root = create_run_dir(out, name, default_name(cfg.dataset.name, cfg.model.name))
    attempt = Attempt()
    try:
        train_into(cfg, dataset, device, root, quiet=quiet, log=log, progress=progress, attempt=attempt, world=world)
    except BaseException:
        if not attempt.useful:
            _remove(root)
        raise
    return root


def _replica(cfg: Config, dataset: GraphDataset, device: torch.device, world: World) -> None:
    """A rank other than 0: the same model and steps, its own share of the seeds, no files."""
    seed_everything(cfg.run.seed)
    model = build_model(cfg.model, dataset.num_features, dataset.num_classes)  # DDP copies rank 0's weights anyway
    torch.manual_seed(cfg.run.seed + 1_000_003 * world.rank)  # its own dropout masks
    t = cfg.training
    result = fit(
        model,
        dataset,
        epochs=t.epochs,
        patience=t.patience,
        lr=t.lr,
        weight_decay=t.weight_decay,
        device=device,
        seed=cfg.run.seed,
        fast=t.fast,
        stopping=t.early_stopping,
        node_batch=t.batch_size,
        num_neighbors=_fanouts(cfg),
        world=world,
    )
    if result.status == "diverged":
        raise DivergedError(result.message)
    if result.interrupt is not None:
        raise result.interrupt


def check_fits_in_memory(cfg: Config, dataset: GraphDataset, device: torch.device, available: int | None = None) -> None:
    """Refuse, before anything is created, a model that cannot be trained in the memory left here.

    The kernel's OOM killer ends such a run with SIGKILL: no message, and a run left saying
    "running". The estimate is a floor, so a config that fits is never refused: float32 weights,
    gradients and Adam's two moments (16 bytes a parameter, counted on a model built on the meta
    device, which allocates nothing), and one [nodes, width] activation per layer for the forward
    and one for the backward, on the largest graph.
    """
    with torch.device("meta"):
        model = build_model(cfg.model, dataset.num_features, dataset.num_classes)
    params = num_params(model)
    nodes = max(g.num_nodes for g in dataset.train + dataset.val + dataset.test)
    m = cfg.model
    need = 16 * params + 8 * nodes * ((m.layers - 1) * (m.hidden or 0) + dataset.num_classes)  # hidden: all heads
    available = _available_memory(device) if available is None else available
    if available is not None and need > available:
        raise ConfigError(
            f"model.hidden={m.hidden}, model.layers={m.layers}"
            + (f", model.heads={m.heads}" if m.heads else "")
            + f" make a model of {params:,} parameters that needs at least {need / 2**30:.1f} GiB to train on "
            f"{cfg.dataset.name}, more than the {available / 2**30:.1f} GiB of memory available on {device.type}; "
            f"choose a smaller model (--set model.hidden=...)"
        )


def _available_memory(device: torch.device) -> int | None:
    """Bytes free for a new run: the GPU's free memory, or MemAvailable plus free swap on Linux."""
    try:
        if device.type == "cuda":
            return int(torch.cuda.mem_get_info(device)[0])
        fields = {}
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                key, _, rest = line.partition(b":")
                fields[key.decode()] = int(rest.split()[0]) * 1024
        return fields["MemAvailable"] + fields.get("SwapFree", 0)
    except (OSError, ValueError, KeyError, IndexError, RuntimeError):
        return None  # cannot tell: let the run try


class Attempt:
    """What a training attempt has put on disk so far: decides whether its folder is worth keeping."""

    def __init__(self) -> None:
        self.useful = False  # an epoch row or a checkpoint is on disk
        self.summary: dict[str, Any] = {}  # the last summary written (or meant to be)


def _remove(folder: Path) -> None:
    """Drop a folder this attempt created that holds nothing worth keeping."""
    with signals.held():
        shutil.rmtree(folder, ignore_errors=True)


def _train_seeds(cfg, dataset, device, root: Path, seeds: int, attempt: Attempt, **kw) -> Path:
    first = cfg.run.seed
    save_config(root, cfg.to_yaml())
    base = {"dataset": cfg.dataset.name, "model": cfg.model.name, "metric": dataset.metric, **process_fields()}
    save_summary(root, {**base, "status": "running", "runs": []})
    results: list[dict[str, Any]] = []
    stop: BaseException | None = None  # Ctrl-C, SIGTERM, divergence or a failure: ends the series after its seed
    for i in range(seeds):
        c = copy.deepcopy(cfg)
        c.run.seed = first + i
        sub = root / f"seed-{c.run.seed}"
        seed_attempt = Attempt()
        try:
            sub.mkdir()
            train_into(c, dataset, device, sub, label=f"{sub.name} ({i + 1} of {seeds})", attempt=seed_attempt, **kw)
        except BaseException as exc:  # noqa: BLE001 - recorded in the aggregate, then raised again
            stop = exc
            if not seed_attempt.useful:
                _remove(sub)
        if seed_attempt.useful:
            attempt.useful = True
            summary = seed_attempt.summary
            results.append(
                {"run": sub.name, **{k: summary.get(k) for k in ("seed", "status", "best_epoch", "val_metric", "test_metric")}}
            )
        if stop is not None:
            break
    if not attempt.useful:
        assert stop is not None  # every seed either finished (useful) or stopped the series
        raise stop
    # Only seeds that trained to the end count: a seed cut short after 5 epochs would skew the mean.
    finished = [r for r in results if r["status"] in ("completed", "early_stopped")]
    tests = [r["test_metric"] for r in finished if isinstance(r["test_metric"], (int, float))]
    summary = {
        **base,
        "seeds": [r["seed"] for r in results],
        "test_metric_mean": statistics.fmean(tests) if tests else None,
        "test_metric_std": statistics.stdev(tests) if len(tests) > 1 else 0.0 if tests else None,
        "val_metric_mean": statistics.fmean([r["val_metric"] for r in finished if r["val_metric"] is not None])
        if tests
        else None,
        "runs": results,
        **_ending(stop),
        "finished": _now(),
    }
    with signals.held():
        record_final(root, summary)
    if tests:
        seeds_text = f"{len(tests)} finished seed" + ("s" if len(tests) > 1 else "")
        kw["log"](
            f"test {metric_label(dataset.metric)} over {seeds_text}: {summary['test_metric_mean']:.4f} +- {summary['test_metric_std']:.4f}"
        )
    if stop is not None:
        raise stop
    return root


def _ending(stop: BaseException | None) -> dict[str, Any]:
    """The status (and reason) a run that ended with ``stop`` records."""
    if stop is None:
        return {"status": "completed"}
    if isinstance(stop, DivergedError):
        return {"status": "diverged", "error": _first_line(stop)}
    if isinstance(stop, KeyboardInterrupt):
        return {"status": "interrupted", "error": "interrupted (Ctrl-C / SIGINT)"}
    if isinstance(stop, Terminated):
        return {"status": "interrupted", "error": "terminated (SIGTERM)"}
    return {"status": "failed", "error": _reason(stop)}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return os_error_message(exc)
    if is_out_of_memory(exc):
        return memory_message(exc)
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def train_into(
    cfg: Config,
    dataset: GraphDataset,
    device: torch.device,
    run: Path,
    *,
    quiet: bool,
    log,
    progress,
    label: str = "train",
    attempt: Attempt | None = None,
    world: World | None = None,
) -> dict[str, Any]:
    """Train one seed of an already loaded dataset into the existing folder ``run``; return its summary.

    ``summary.json`` says ``running`` (with pid, host and start time) while it trains, and how it
    ended afterwards, whatever the ending: a failure to write the checkpoint included.
    Also used by ``bench/`` to write runs of synthetic graphs.
    """
    attempt = attempt if attempt is not None else Attempt()
    seed_everything(cfg.run.seed)
    base = {
        "dataset": cfg.dataset.name,
        "model": cfg.model.name,
        "metric": dataset.metric,
        "seed": cfg.run.seed,
        "device": str(device),
        **process_fields(),
    }
    if world is not None and world.size > 1:
        base["ranks"] = world.size
    save_config(run, cfg.to_yaml())
    attempt.summary = {**base, "status": "running"}
    save_summary(run, attempt.summary)

    def final(summary: dict[str, Any]) -> None:
        attempt.summary = summary
        if attempt.useful:  # else the caller removes the folder
            record_final(run, summary)

    try:
        model = build_model(cfg.model, dataset.num_features, dataset.num_classes)
        base["num_params"] = num_params(model)
        result = _fit_into(
            cfg, dataset, device, run, model, attempt, quiet=quiet, progress=progress, label=label, world=world or World()
        )
    except BaseException as exc:
        # If even this write fails, the first error is the one to report; the summary then still
        # says "running" with this (soon gone) pid, which readers report as a run that died.
        with signals.held(), contextlib.suppress(OSError):
            final({**base, **_ending(exc), "finished": _now()})
        raise
    with signals.held():
        # A second Ctrl-C now would leave the summary saying "running": finish writing first.
        summary = {**base, **_result_fields(result, device), "finished": _now()}
        try:
            # checkpoint.pt first: the run is worth keeping once it is there; each state's entry in
            # summary.json only once its file is written.
            for file, names, kept in _state_files(result):
                save_checkpoint(
                    run, model.kwargs, kept.state, dataset=cfg.dataset.name, task=dataset.task, epoch=kept.epoch, name=file
                )
                attempt.useful = True  # a loadable state, even of epoch 0 (a run that diverged at once)
                if names:
                    entries = {**summary.get("states", {}), **{n: _state_fields(kept, file) for n in names}}
                    summary["states"] = {n: entries[n] for n in STATES if n in entries}
        except BaseException as exc:
            with contextlib.suppress(OSError):
                final({**summary, **_ending(exc)})
            raise
        final(summary)
    if result.status == "diverged":
        raise DivergedError(f"{result.message}; the run is in {run}")
    if result.interrupt is not None:
        how = "interrupted"
        if world is not None and world.size > 1 and isinstance(result.interrupt, Terminated):
            how = "stopped by SIGTERM (torchrun stops every rank when one fails or it is stopped)"
        log(f"{how} after {result.epochs_run} epochs; best state (epoch {result.best_epoch}) saved in {run}")
        raise result.interrupt
    log(
        f"{label}: test {metric_label(dataset.metric)} {result.test_metric:.4f} at epoch {result.best_epoch} "
        f"(val {result.val_metric:.4f}; {result.epochs_run} epochs, {result.seconds_per_epoch * 1000:.1f} ms/epoch)"
    )
    warning = selected_state_warning(result, dataset.metric, majority_share(dataset))
    if warning:
        log(f"warning: {warning}")
    return summary


def _state_files(result: FitResult) -> list[tuple[str, list[str], Any]]:
    """(file, the state names it holds, the state) for each distinct epoch among the states kept,
    checkpoint.pt (the selected state) first; a state of the same epoch as an earlier one in
    ``STATES`` is that one's file."""
    if not result.states:  # a FitResult made by hand (bench/): the selected state alone
        from gnnviz.training.loop import KeptState

        nan = math.nan
        return [(STATE_FILES["selected"], [], KeptState(result.best_epoch, result.best_state, nan, nan, nan))]
    files: dict[int, tuple[str, list[str], Any]] = {}
    for name in STATES:
        kept = result.states[name]
        files.setdefault(kept.epoch, (STATE_FILES[name], [], kept))[1].append(name)
    return list(files.values())


def _state_fields(kept, file: str) -> dict[str, Any]:
    return {
        "epoch": kept.epoch,
        "file": file,
        "val_metric": kept.val_metric,
        "val_loss": kept.val_loss,
        "test_metric": kept.test_metric,
    }


def majority_share(dataset: GraphDataset) -> float | None:
    """The share of the most common class among the validation nodes (single-label tasks): the
    accuracy of always predicting it. None for multi-label tasks or without validation nodes."""
    if dataset.task != "multiclass":
        return None
    # The nodes the validation metric is taken over: the val mask of one graph, or every node of the val graphs.
    ys = [g.y[g.val_mask] if dataset.transductive else g.y for g in dataset.val]
    y = torch.cat(ys) if ys else torch.empty(0, dtype=torch.long)
    if y.numel() == 0:
        return None
    return float(torch.bincount(y.long()).max()) / y.numel()


def selected_state_warning(result: FitResult, metric: str, chance: float | None) -> str | None:
    """The warning ``visualize`` gives about the state it draws by default (``Checkpoint.warning``:
    far before the validation-loss minimum, or no better than the most common class), said at the
    end of training with the scores of the other states kept."""
    from gnnviz.analysis.arrays import Checkpoint

    losses = [(r["val_loss"], r["epoch"]) for r in result.history if math.isfinite(r["val_loss"])]
    if not losses:
        return None
    lowest = min(losses)[1]  # the first epoch of the lowest loss (epochs ascend, ties keep the earliest)
    val = result.val_metric if math.isfinite(result.val_metric) else None
    names = tuple(result.states) or ("selected",)
    kept = Checkpoint(result.best_epoch, metric, val, None, result.history[-1]["epoch"], lowest, chance=chance, states=names)
    if kept.warning is None:
        return None
    by_epoch: dict[int, list[str]] = {}  # the other states, those of one epoch together
    for name, s in result.states.items():
        if name != "selected" and s.epoch != result.best_epoch and math.isfinite(s.val_metric) and math.isfinite(s.test_metric):
            by_epoch.setdefault(s.epoch, []).append(name)
    others = [
        f"{' and '.join(names)} (epoch {epoch}: val {metric.replace('_', ' ')} {result.states[names[0]].val_metric:.4f}, "
        f"test {result.states[names[0]].test_metric:.4f})"
        for epoch, names in by_epoch.items()
    ]
    return kept.warning + (f"; the run also keeps {' and '.join(others)}" if others else "")


def _fit_into(
    cfg: Config,
    dataset: GraphDataset,
    device: torch.device,
    run: Path,
    model,
    attempt: Attempt,
    *,
    quiet: bool,
    progress,
    label: str,
    world: World,
) -> FitResult:
    """Save the graphs, then fit, appending each epoch's row to ``metrics.csv`` as it ends."""
    graphs = dataset.test if not dataset.transductive else dataset.train
    save_graphs(
        run,
        graphs,
        dataset=cfg.dataset.name,
        task=dataset.task,
        split="test" if not dataset.transductive else "all",
        num_classes=dataset.num_classes,
    )
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    board = tensorboard.Board(run, log=to_stderr) if cfg.run.tensorboard else None
    writer = MetricsWriter(run / "metrics.csv")
    bar = Progress(cfg.training.epochs, label, metric_label(dataset.metric), enabled=False if quiet else progress)

    def on_epoch(row: dict[str, float]) -> None:
        writer.write(row)
        attempt.useful = True
        bar.update(row)
        if board is not None:
            board.epoch(row, lr=cfg.training.lr, metric=dataset.metric)

    t = cfg.training
    result = None
    try:
        result = fit(
            model,
            dataset,
            epochs=t.epochs,
            patience=t.patience,
            lr=t.lr,
            weight_decay=t.weight_decay,
            device=device,
            seed=cfg.run.seed,
            fast=t.fast,
            batch_size=cfg.dataset.batch_size,
            stopping=t.early_stopping,
            on_epoch=on_epoch,
            snapshot_every=t.snapshots,
            on_snapshot=_snapshots(Snapshots(run, graphs[0], dataset.task, device) if t.snapshots else None, board),
            node_batch=t.batch_size,
            num_neighbors=_fanouts(cfg),
            world=world,
        )
    finally:
        # A signal from here to the save is held and recorded in the result (signals.taken), so
        # that it cannot cut the trained states off from the save that follows in train_into.
        late: list[BaseException] = []
        with signals.taken(late):
            try:
                if board is not None and result is not None:
                    hp = {"hparams/val_metric": result.val_metric, "hparams/test_metric": result.test_metric}
                    board.hparams(cfg.to_dict(), hp)
            finally:
                bar.close()
                writer.close()
                if board is not None:
                    board.close()
    assert result is not None  # fit returned: the finally above ran without an exception
    result.late(late)
    return result


def _snapshots(snaps, board):
    return board.following(snaps) if board is not None else snaps


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def _result_fields(result: FitResult, device: torch.device) -> dict[str, Any]:
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "val_metric": result.val_metric,
        "test_metric": result.test_metric,
        "train_seconds": round(result.train_seconds, 4),
        "seconds_per_epoch": round(result.seconds_per_epoch, 6),
        "peak_memory_mb": round(peak, 1),
        "status": result.status,
    }
