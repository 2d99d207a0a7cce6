"""The run-directory format: create without overwriting, save atomically, load and check.

A run directory holds ``config.yaml`` (resolved), ``metrics.csv`` (a row per epoch),
``checkpoint.pt`` (best weights + constructor arguments), ``graph.pt`` (the graph(s) the
figures are drawn on, so ``visualize`` needs nothing else) and ``summary.json``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import socket
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from gnnviz.errors import ConfigError, RunError
from gnnviz.io import atomic_torch_save, atomic_write_text, named

if TYPE_CHECKING:
    import torch

CHECKPOINT_FORMAT = "gnnviz-checkpoint"
CHECKPOINT_VERSION = 1
METRIC_COLUMNS = ("epoch", "train_loss", "train_metric", "val_loss", "val_metric", "seconds")
REQUIRED = ("config.yaml", "summary.json", "checkpoint.pt", "graph.pt")
CONFIG_SECTIONS = ("dataset", "model", "training", "run")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")


# ----------------------------------------------------------------------------- writing


def check_name(name: str) -> str:
    """A run name is one path component of safe characters: it cannot escape the output folder."""
    if not _NAME_RE.match(name) or name in (".", "..") or ".." in name:
        raise ConfigError(
            f"run name '{name}' is not allowed; use letters, digits, '.', '_', '+' and '-' (no '/' or '..'), e.g. --name cora-gat-1"
        )
    return name


def default_name(dataset: str, model: str) -> str:
    return f"{dataset}-{model}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def check_out_dir(out: Path) -> None:
    """Fail early (before training) if ``out`` cannot hold run directories."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output folder {out} is a file; pass --out DIR naming a folder")
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"output folder {out} cannot be created: {probe} is a file; pass --out DIR naming a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"output folder {out} is not writable; pass --out DIR somewhere you can write")


def create_run_dir(out: Path, name: str | None, default: str) -> Path:
    """Create ``out/name`` atomically. An explicit name that exists is an error; a default name
    that exists (two runs in one second) gets the next free ``-2``, ``-3``... suffix."""
    check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    if name is not None:
        path = out / check_name(name)
        try:
            path.mkdir()
        except FileExistsError:
            raise ConfigError(f"run {path} already exists; choose another --name or remove it first") from None
        return path
    for i in range(1, 10_000):
        path = out / (default if i == 1 else f"{default}-{i}")
        try:
            path.mkdir()  # mkdir is atomic: two processes can never both get the same folder
            return path
        except FileExistsError:
            continue
    raise RunError(f"could not find a free run name under {out}; pass --name NAME")


def check_new_run(out: Path, name: str | None) -> None:
    """Validate ``--name``/``--out`` before anything is loaded, so errors come first."""
    check_out_dir(out)
    if name is not None:
        path = out / check_name(name)
        if path.exists():
            raise ConfigError(f"run {path} already exists; choose another --name or remove it first")


class MetricsWriter:
    """Appends one CSV row per epoch and flushes, so an interrupted run keeps its history."""

    def __init__(self, path: Path):
        self.path = path
        self.rows = 0  # rows known to be on disk
        self._f = None
        try:
            self._f = open(path, "w", newline="", encoding="utf-8")
            self._w = csv.writer(self._f)
            self._w.writerow(METRIC_COLUMNS)
            self._f.flush()
        except OSError as exc:
            self.close()
            raise named(exc, path) from None

    def write(self, row: dict[str, float]) -> None:
        try:
            self._w.writerow([_fmt(row[c]) if c != "epoch" else int(row[c]) for c in METRIC_COLUMNS])
            self._f.flush()
        except OSError as exc:
            raise named(exc, self.path) from None
        self.rows += 1

    def close(self) -> None:
        if self._f is not None:
            f, self._f = self._f, None
            # A failed flush at close loses only a row the next run rewrites; never mask the first error.
            with contextlib.suppress(OSError):
                f.close()


def _fmt(v: float) -> str:
    return repr(float(v))


def save_config(run: Path, config_yaml: str) -> None:
    atomic_write_text(run / "config.yaml", config_yaml)


SUMMARY_RESERVE = 4096  # bytes every summary.json occupies: room for a final status on a full disk


def save_summary(run: Path, summary: dict[str, Any]) -> None:
    """Write ``summary.json`` atomically, padded with whitespace to ``SUMMARY_RESERVE`` bytes.

    The padding (valid JSON whitespace) is what lets ``record_final`` overwrite the file in place
    when no new block can be had (ENOSPC, EFBIG, quota): the status then still tells the truth.
    """
    text = json.dumps(_json_safe(summary), indent=2) + "\n"
    atomic_write_text(run / "summary.json", text + " " * max(SUMMARY_RESERVE - len(text.encode("utf-8")), 0))


def save_json(path: Path, obj: dict[str, Any]) -> None:
    """Any other JSON file of a run (``snapshots.json``), strict (non-finite numbers as null), atomic."""
    atomic_write_text(path, json.dumps(_json_safe(obj), indent=2) + "\n")


def record_final(run: Path, summary: dict[str, Any]) -> None:
    """Save the final ``summary`` (status and reason) however the disk fails.

    First atomically; if that fails, overwrite the existing file's reserved bytes in place with a
    compact copy (no new blocks needed). Raises the first error only if neither worked.
    """
    try:
        save_summary(run, summary)
        return
    except OSError as first:
        error = first
    path = run / "summary.json"
    compact = json.dumps(_json_safe(summary), separators=(",", ":")).encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            size = os.fstat(fd).st_size
            if len(compact) > size:
                raise error
            os.pwrite(fd, compact + b" " * (size - len(compact)), 0)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        raise error from None


def process_fields() -> dict[str, Any]:
    """Who is writing this run: enough for a reader to tell a live run from a dead one."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "pid_started": _process_start(os.getpid()),
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _process_start(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def process_alive(summary: dict[str, Any]) -> bool | None:
    """Whether the process that wrote a ``running`` summary still runs: None when it cannot be told
    (another host, no pid recorded)."""
    pid = summary.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    if summary.get("host") not in (None, socket.gethostname()):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass  # EPERM: it exists, owned by someone else
    started = summary.get("pid_started")
    return not (isinstance(started, int) and _process_start(pid) not in (None, started))


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    return obj


def versions() -> dict[str, str]:
    import torch
    import torch_geometric

    from gnnviz import __version__

    return {"gnnviz": __version__, "torch": str(torch.__version__), "torch_geometric": str(torch_geometric.__version__)}


def save_checkpoint(
    run: Path, model_kwargs: dict[str, Any], state: dict[str, torch.Tensor], *, dataset: str, task: str, epoch: int
) -> None:
    """Only tensors, strings, numbers and dicts: loads with ``weights_only=True`` as is."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "model": {"name": model_kwargs["name"], "kwargs": dict(model_kwargs)},
        "state_dict": {k: v.detach().cpu() for k, v in state.items()},
        "dataset": dataset,
        "task": task,
        "epoch": int(epoch),
        "versions": versions(),
    }
    atomic_torch_save(run / "checkpoint.pt", payload)


def save_graphs(run: Path, graphs: list, *, dataset: str, task: str, split: str, num_classes: int | None = None) -> None:
    """The graphs the figures are drawn on; features stored sparse when that is smaller.

    ``num_classes`` is the dataset's class count (the model's output width), which the labels of
    the stored graphs need not show: ``check_fits`` holds a checkpoint to it."""

    stored = []
    for g in graphs:
        x = g.x.detach().cpu()
        item: dict[str, Any] = {
            "edge_index": g.edge_index.cpu(),
            "y": g.y.cpu(),
            "num_nodes": int(g.num_nodes),
        }
        if (x != 0).float().mean() < 0.3:
            sp = x.to_sparse_coo().coalesce()
            item["x_indices"], item["x_values"], item["x_shape"] = sp.indices(), sp.values(), list(x.shape)
        else:
            item["x"] = x
        for s in ("train", "val", "test"):
            item[f"{s}_mask"] = getattr(g, f"{s}_mask").cpu()
        stored.append(item)
    blob = {"dataset": dataset, "task": task, "split": split, "graphs": stored}
    if num_classes is not None:
        blob["num_classes"] = int(num_classes)
    atomic_torch_save(run / "graph.pt", blob)


# ----------------------------------------------------------------------------- reading


@dataclass
class Run:
    path: Path
    config: dict[str, Any]
    summary: dict[str, Any]
    metrics: list[dict[str, float]]


def load_run(path: str | Path) -> Run:
    """Read a run directory's config, summary and metrics, naming whatever is missing."""
    path = Path(path).expanduser()
    if not path.exists():
        raise RunError(f"run directory {path} does not exist; create one with 'gnnviz train --config ...'")
    if not path.is_dir():
        raise RunError(f"{path} is not a run directory; pass the folder that 'gnnviz train' printed")
    summary = read_json(path / "summary.json") if (path / "summary.json").is_file() else None
    if summary is not None and not (path / "checkpoint.pt").exists() and "runs" in summary:
        seeds = sorted(p.name for p in path.glob("seed-*") if p.is_dir())
        example = path / (seeds[0] if seeds else "seed-0")
        raise RunError(f"{path} is a multi-seed aggregate; visualize one of its runs, e.g. {example}")
    if summary is not None:
        _check_status(path, summary)
    missing = [f for f in REQUIRED if not (path / f).is_file()]
    if missing:
        raise RunError(
            f"{path} is incomplete (missing {', '.join(missing)}); it is not a finished run: train again with 'gnnviz train --config ...'"
        )
    try:
        config = yaml.safe_load(_read_text(path / "config.yaml"))
    except (yaml.YAMLError, UnicodeDecodeError):
        raise RunError(f"{path / 'config.yaml'} is not valid YAML; the run is damaged: train again") from None
    if not isinstance(config, dict):
        raise RunError(f"{path / 'config.yaml'} is not a gnnviz config; the run is damaged: train again")
    # train writes every section in full: one missing or empty is a file cut short (or edited).
    lacking = [s for s in CONFIG_SECTIONS if not isinstance(config.get(s), dict) or not config[s]]
    if lacking:
        raise RunError(
            f"{path / 'config.yaml'} has no {', '.join(lacking)} section (train writes all of {', '.join(CONFIG_SECTIONS)}); "
            "the file is cut short or damaged: put back the run's own config.yaml or train again"
        )
    summary = read_json(path / "summary.json")
    _check_agree(path, config, summary)
    metrics = read_metrics(path / "metrics.csv") if (path / "metrics.csv").is_file() else []
    return Run(path, config, summary, metrics)


def _check_status(path: Path, summary: dict[str, Any]) -> None:
    """A run that is not finished says why: still running, died, failed or stopped early."""
    status = summary.get("status")
    if status == "running":
        alive = process_alive(summary)
        pid = summary.get("pid")
        if alive is False:
            raise RunError(
                f"the run died (process {pid} gone) before it finished: {path} has no final state; train again with 'gnnviz train --config ...'"
            )
        if alive:
            raise RunError(f"{path} is still training (process {pid}); wait for it to finish, then visualize it")
        host = summary.get("host")
        where = f" on {host}" if host else ""
        raise RunError(f"{path} says it is still training{where} (or it died there); wait for it or train again")
    if status == "failed" and not (path / "checkpoint.pt").is_file():
        reason = summary.get("error") or "no reason recorded"
        raise RunError(f"{path} failed ({reason}) and has no checkpoint; fix the cause and train again")
    if status == "interrupted" and not (path / "checkpoint.pt").is_file():
        raise RunError(f"{path} was interrupted before it saved a checkpoint; train again")


def _check_agree(path: Path, config: dict[str, Any], summary: dict[str, Any]) -> None:
    """config.yaml and summary.json must describe the same run (one copied in from elsewhere is named)."""
    for section, key in (("model", "name"),):  # the dataset: a bench run trains a synthetic graph under any config
        said = config.get(section)
        said = said.get(key) if isinstance(said, dict) else None
        recorded = summary.get(section)
        if said is not None and recorded is not None and said != recorded:
            raise RunError(
                f"{path / 'config.yaml'} says {section} {_shown(said)} but {path / 'summary.json'} says {_shown(recorded)}: the files come "
                f"from different runs; put back this run's files or train again"
            )


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read_text(path))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RunError(f"{path} is not valid JSON; the run is damaged: train again") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} is not a gnnviz summary; the run is damaged: train again")
    return data


def _read_text(path: Path) -> str:
    """The file's text; an ``OSError`` names the file (a failed ``read`` does not)."""
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise named(exc, path) from None


def read_metrics(path: Path) -> list[dict[str, float]]:
    rows = []
    try:
        text = _read_text(path)
    except UnicodeDecodeError:
        raise RunError(f"{path} is not UTF-8 text; the run is damaged: train again") from None
    try:
        for r in csv.DictReader(io.StringIO(text, newline="")):
            try:
                rows.append({c: float(r[c]) for c in METRIC_COLUMNS})
            except (KeyError, TypeError, ValueError):
                break  # a row cut short by a kill: keep what came before
    except csv.Error as exc:
        raise RunError(f"{path} is not a CSV table ({exc}); the run is damaged: train again") from None
    return rows


def _load_torch(path: Path, what: str) -> dict[str, Any]:
    import torch

    if not path.is_file():
        raise RunError(f"{path.parent} has no {path.name}; create a run with 'gnnviz train --config ...'")
    if path.stat().st_size == 0:
        raise RunError(f"{path} is empty (a crashed write?); train the run again")
    try:
        # weights_only: a checkpoint from elsewhere can never run code here. No unsafe fallback.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about foreign pickles on stderr; we name them below
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as exc:
        raise named(exc, path) from None
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for bad files
        text = str(exc)
        if "Unsupported global" in text or "Weights only load failed" in text:
            raise RunError(
                f"{path} holds Python objects beyond tensors and was refused (it could run code); only load {what}s written by gnnviz"
            ) from None
        raise RunError(f"{path} is truncated or not a {what} ({type(exc).__name__}); train the run again") from None
    if not isinstance(obj, dict):
        raise RunError(f"{path} is not a gnnviz {what}; train the run again")
    return obj


def load_checkpoint(run: str | Path) -> dict[str, Any]:
    path = Path(run) / "checkpoint.pt"
    ckpt = _load_torch(path, "checkpoint")
    if ckpt.get("format") != CHECKPOINT_FORMAT:
        raise RunError(f"{path} is a foreign checkpoint, not one written by gnnviz train; train a run with 'gnnviz train'")
    if ckpt.get("version") != CHECKPOINT_VERSION:
        raise RunError(
            f"{path} has checkpoint version {ckpt.get('version')}, this gnnviz reads {CHECKPOINT_VERSION}; retrain the run"
        )
    _check_same_run(path, ckpt)
    return ckpt


def checkpoint_facts(ckpt: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint says about its model, as plain JSON values (cached with the forward, so a
    warm visualize checks them against the run's files without reading the checkpoint again)."""
    model = ckpt.get("model")
    kwargs = model.get("kwargs") if isinstance(model, dict) else None
    state = ckpt.get("state_dict")
    count = None
    if isinstance(state, dict) and all(hasattr(v, "numel") for v in state.values()):
        count = sum(int(v.numel()) for v in state.values())
    return {
        "dataset": ckpt.get("dataset") if isinstance(ckpt.get("dataset"), str) else None,
        "model": model.get("name") if isinstance(model, dict) and isinstance(model.get("name"), str) else None,
        "kwargs": {k: v for k, v in kwargs.items() if v is None or isinstance(v, (str, int, float, bool))}
        if isinstance(kwargs, dict)
        else {},
        "num_params": count,
    }


def _check_same_run(path: Path, ckpt: dict[str, Any]) -> None:
    check_agrees(path, checkpoint_facts(ckpt))


def check_agrees(path: Path, facts: dict[str, Any]) -> None:
    """Everything checkpoint ``path`` says about its model (``checkpoint_facts``) must match the run
    it sits in: the dataset, model name and parameter count of summary.json and the model section of
    config.yaml. A checkpoint copied in from another run is named with the first field that differs."""
    summary_path, config_path = path.parent / "summary.json", path.parent / "config.yaml"
    summary = read_json(summary_path) if summary_path.is_file() else {}
    for key in ("dataset", "model"):
        value, want = facts.get(key), summary.get(key)
        if want is not None and value is not None and want != value:
            raise RunError(
                f"{path} holds a {key} {_shown(value)} checkpoint, but {path.parent} is a {key} {_shown(want)} run: it "
                f"comes from another run; put back this run's checkpoint.pt or train again"
            )
    count, want = facts.get("num_params"), summary.get("num_params")
    if isinstance(want, int) and not isinstance(want, bool) and isinstance(count, int) and count != want:
        _disagree(path, "num_params", count, summary_path, want)
    config = _yaml_or_none(config_path)
    section = config.get("model") if isinstance(config, dict) else None
    kwargs = facts.get("kwargs") or {}
    for key, want in section.items() if isinstance(section, dict) else ():
        # A null in a config means "the model's default" (or "not used by this model"): no claim.
        if key in kwargs and want is not None and not _same_value(kwargs[key], want):
            _disagree(path, f"model.{key}", kwargs[key], config_path, want)


def _disagree(path: Path, field: str, value: Any, other: Path, want: Any) -> None:
    raise RunError(
        f"{path} says {field}={_shown(value)} but {other} says {field}={_shown(want)}: the two files come from different runs; "
        f"put back this run's own files or train again"
    )


def _shown(value: Any, limit: int = 60) -> str:
    """A value read from a file, quoted for a message: a damaged file can hold a megabyte in one field."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _yaml_or_none(path: Path) -> Any:
    # load_run has already named a damaged config.yaml; a checkpoint read on its own skips the check.
    try:
        return yaml.safe_load(_read_text(path)) if path.is_file() else None
    except (yaml.YAMLError, UnicodeDecodeError):
        return None


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return type(a) is type(b) and a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)


def check_fits(run: str | Path, ckpt: dict[str, Any], stored: StoredGraphs) -> None:
    """The checkpoint's model must fit the stored graphs (``read_graphs``): its input width is
    their feature count, its output width their class count (as recorded at training; in older
    runs the labels must be in range), and its task theirs."""
    path, graph_path = Path(run) / "checkpoint.pt", Path(run) / "graph.pt"
    model = ckpt.get("model")
    kwargs = model.get("kwargs") if isinstance(model, dict) else None
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    if ckpt.get("task") not in (None, stored.task):
        _disagree(path, "task", ckpt.get("task"), graph_path, stored.task)
    width, classes = kwargs.get("in_channels"), kwargs.get("out_channels")
    for g in stored.graphs:
        if isinstance(width, int) and g.x.size(1) != width:
            _disagree(path, "in_channels (node features)", width, graph_path, int(g.x.size(1)))
    if not isinstance(classes, int):
        return
    for g in stored.graphs:
        y = g.y
        if y.dim() == 2:  # multi-label: one column per class
            have = int(y.size(1))
        elif stored.num_classes is not None:
            have = stored.num_classes
        elif y.numel() and not (0 <= int(y.min()) and int(y.max()) < classes):
            have = int(y.max()) + 1
        else:
            continue
        if have != classes:
            _disagree(path, "out_channels (classes)", classes, graph_path, have)


@dataclass
class StoredGraphs:
    """graph.pt: the graphs (PyG ``Data``, dense features), the task type, and the class count
    recorded at training (None in runs written before it was recorded)."""

    graphs: list
    task: str
    num_classes: int | None


def load_graphs(run: str | Path) -> tuple[list, str]:
    """The stored graphs as PyG ``Data`` (dense features) and the task type."""
    stored = read_graphs(run)
    return stored.graphs, stored.task


def read_graphs(run: str | Path) -> StoredGraphs:
    """graph.pt, checked: every graph's features, labels, masks and edges agree with its node count."""
    import torch
    from torch_geometric.data import Data

    path = Path(run) / "graph.pt"
    blob = _load_torch(path, "graph file")
    try:
        graphs = []
        for item in blob["graphs"]:
            n = int(item["num_nodes"])
            if "x" in item:
                x = item["x"]
            else:
                shape = [int(v) for v in item["x_shape"]]
                if len(shape) != 2 or shape[0] != n or not 0 < shape[1] <= _MAX_FEATURES:
                    raise ValueError("feature shape")
                # Checked: the file may come from elsewhere, and bad indices must not reach memory.
                x = torch.sparse_coo_tensor(item["x_indices"], item["x_values"], shape, check_invariants=True).to_dense()
            g = Data(x=x.float(), edge_index=item["edge_index"].long(), y=item["y"], num_nodes=n)
            for s in ("train", "val", "test"):
                g[f"{s}_mask"] = item[f"{s}_mask"].bool()
            _check_graph(g, n)
            graphs.append(g)
        task, num_classes = blob["task"], blob.get("num_classes")
        if task not in ("multiclass", "multilabel") or not (num_classes is None or isinstance(num_classes, int)):
            raise ValueError("task")
    except (KeyError, TypeError, RuntimeError, ValueError, AttributeError):
        raise RunError(f"{path} is damaged or not written by gnnviz; train the run again") from None
    if not graphs:
        raise RunError(f"{path} holds no graphs; train the run again")
    return StoredGraphs(graphs, task, num_classes)


_MAX_FEATURES = 1 << 24  # more features per node than any real dataset: a damaged shape, not a graph


def _check_graph(g, n: int) -> None:
    """Raise ValueError unless the arrays of one stored graph agree with its ``n`` nodes."""
    ei = g.edge_index
    if n < 1 or g.x.dim() != 2 or g.x.size(0) != n or g.y.dim() not in (1, 2) or g.y.size(0) != n:
        raise ValueError("shapes")
    if ei.dim() != 2 or ei.size(0) != 2 or (ei.numel() and not (0 <= int(ei.min()) and int(ei.max()) < n)):
        raise ValueError("edge index")
    if any(g[f"{s}_mask"].shape != (n,) for s in ("train", "val", "test")):
        raise ValueError("masks")


# ----------------------------------------------------------------------------- listing


@dataclass
class RunInfo:
    """One row of ``gnnviz runs``: what a run directory says about itself, or why it cannot say."""

    name: str  # relative to the listed folder ("agg/seed-1" for a seed of an aggregate)
    dataset: str = "-"
    model: str = "-"
    status: str = "-"
    best_epoch: str = "-"
    test_metric: str = "-"
    date: str = "-"
    problem: str | None = None  # a damaged or dead run: what is wrong


def list_runs(folder: str | Path) -> list[RunInfo]:
    """Every run directory in ``folder`` (or ``folder`` itself if it is one), seeds after their aggregate.

    Never raises for a damaged run: its row says what is wrong. Raises ``ConfigError`` when
    ``folder`` is missing or a file.
    """
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise ConfigError(f"folder {folder} does not exist; pass a folder of runs (default: outputs)")
    if not folder.is_dir():
        raise ConfigError(f"{folder} is a file, not a folder of runs; pass the folder 'gnnviz train --out' wrote to")
    if _looks_like_run(folder):
        candidates = [(folder.name or str(folder), folder)]
    else:
        try:
            children = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
        except OSError as exc:
            raise named(exc, folder) from None
        candidates = [(p.name, p) for p in children if _is_dir(p) and _looks_like_run(p)]
    rows: list[RunInfo] = []
    for label, path in candidates:
        rows.append(describe_run(path, label))
        seeds = sorted((p for p in _safe_iterdir(path) if p.name.startswith("seed-") and _is_dir(p)), key=_seed_order)
        rows.extend(describe_run(p, f"{label}/{p.name}") for p in seeds)
    return rows


def _is_dir(p: Path) -> bool:
    try:
        return p.is_dir()
    except OSError:
        return False


def _safe_iterdir(p: Path) -> list[Path]:
    try:
        return list(p.iterdir())
    except OSError:
        return []


def _seed_order(p: Path) -> tuple[int, str]:
    tail = p.name[len("seed-") :]
    return (int(tail), p.name) if tail.lstrip("-").isdigit() else (1 << 62, p.name)


def _looks_like_run(p: Path) -> bool:
    return any((p / f).exists() for f in ("summary.json", "config.yaml", "checkpoint.pt", "metrics.csv"))


def describe_run(path: Path, label: str) -> RunInfo:
    info = RunInfo(label)
    try:
        info.date = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        summary_path = path / "summary.json"
        if not summary_path.is_file():
            info.status, info.problem = "damaged", "no summary.json"
            return info
        summary = read_json(summary_path)
    except RunError as exc:
        info.status, info.problem = "damaged", _short(str(exc), path)
        return info
    except OSError as exc:
        from gnnviz.errors import os_error_message

        info.status, info.problem = "damaged", os_error_message(exc).split(";")[0]
        return info
    text = lambda v: "-" if v is None else str(v)  # noqa: E731
    info.dataset, info.model = text(summary.get("dataset")), text(summary.get("model"))
    started = summary.get("started")
    if isinstance(started, str) and len(started) >= 16:
        info.date = started[:16].replace("T", " ")
    status = summary.get("status")
    info.status = text(status)
    if status == "running":
        alive = process_alive(summary)
        if alive is False:
            info.status, info.problem = "dead", f"the run died (process {summary.get('pid')} gone)"
        elif alive:
            info.status = f"running (pid {summary.get('pid')})"
    elif status in ("failed", "diverged", "interrupted") and summary.get("error"):
        info.problem = str(summary["error"])
    if "runs" in summary:
        mean, std = summary.get("test_metric_mean"), summary.get("test_metric_std")
        n = sum(1 for r in summary.get("runs") or [] if isinstance(r, dict) and r.get("status") in ("completed", "early_stopped"))
        if _number(mean):
            info.test_metric = f"{mean:.4f} +- {std if _number(std) else 0:.4f} (n={n})"
    else:
        if _number(summary.get("test_metric")):
            info.test_metric = f"{summary['test_metric']:.4f}"
        if isinstance(summary.get("best_epoch"), int):
            info.best_epoch = str(summary["best_epoch"])
        if status in ("completed", "early_stopped") and not (path / "checkpoint.pt").is_file():
            info.status, info.problem = "damaged", "no checkpoint.pt"
    return info


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _short(message: str, path: Path) -> str:
    # "<path>/summary.json is not valid JSON; the run is damaged: train again" -> "summary.json is not valid JSON"
    first = message.split(";")[0]
    return first.replace(f"{path}/", "")
