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
import tempfile
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from gnnviz.errors import ConfigError, RunError

if TYPE_CHECKING:
    import torch

CHECKPOINT_FORMAT = "gnnviz-checkpoint"
CHECKPOINT_VERSION = 1
METRIC_COLUMNS = ("epoch", "train_loss", "train_metric", "val_loss", "val_metric", "seconds")
REQUIRED = ("config.yaml", "summary.json", "checkpoint.pt", "graph.pt")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")


# ----------------------------------------------------------------------------- writing


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, flush to disk, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_torch_save(path: Path, obj: Any) -> None:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


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
        self._f = open(path, "w", newline="", encoding="utf-8")
        self._w = csv.writer(self._f)
        self._w.writerow(METRIC_COLUMNS)
        self._f.flush()

    def write(self, row: dict[str, float]) -> None:
        self._w.writerow([_fmt(row[c]) if c != "epoch" else int(row[c]) for c in METRIC_COLUMNS])
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def _fmt(v: float) -> str:
    return repr(float(v))


def save_config(run: Path, config_yaml: str) -> None:
    atomic_write_text(run / "config.yaml", config_yaml)


def save_summary(run: Path, summary: dict[str, Any]) -> None:
    atomic_write_text(run / "summary.json", json.dumps(_json_safe(summary), indent=2) + "\n")


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


def save_graphs(run: Path, graphs: list, *, dataset: str, task: str, split: str) -> None:
    """The graphs the figures are drawn on; features stored sparse when that is smaller."""

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
    atomic_torch_save(run / "graph.pt", {"dataset": dataset, "task": task, "split": split, "graphs": stored})


# ----------------------------------------------------------------------------- reading


@dataclass
class Run:
    path: Path
    config: dict[str, Any]
    summary: dict[str, Any]
    metrics: list[dict[str, float]]


def load_run(path: str | Path) -> Run:
    """Read a run directory's config, summary and metrics, naming whatever is missing."""
    path = Path(path)
    if not path.exists():
        raise RunError(f"run directory {path} does not exist; create one with 'gnnviz train --config ...'")
    if not path.is_dir():
        raise RunError(f"{path} is not a run directory; pass the folder that 'gnnviz train' printed")
    if (path / "summary.json").is_file() and not (path / "checkpoint.pt").exists() and "runs" in read_json(path / "summary.json"):
        raise RunError(f"{path} is a multi-seed aggregate; visualize one of its runs, e.g. {path / 'seed-0'}")
    missing = [f for f in REQUIRED if not (path / f).is_file()]
    if missing:
        raise RunError(
            f"{path} is incomplete (missing {', '.join(missing)}); it is not a finished run: train again with 'gnnviz train --config ...'"
        )
    try:
        config = yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        raise RunError(f"{path / 'config.yaml'} is not valid YAML; the run is damaged: train again") from None
    if not isinstance(config, dict):
        raise RunError(f"{path / 'config.yaml'} is not a gnnviz config; the run is damaged: train again")
    summary = read_json(path / "summary.json")
    metrics = read_metrics(path / "metrics.csv") if (path / "metrics.csv").is_file() else []
    return Run(path, config, summary, metrics)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RunError(f"{path} is not valid JSON; the run is damaged: train again") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} is not a gnnviz summary; the run is damaged: train again")
    return data


def read_metrics(path: Path) -> list[dict[str, float]]:
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for r in reader:
            try:
                rows.append({c: float(r[c]) for c in METRIC_COLUMNS})
            except (KeyError, TypeError, ValueError):
                break  # a row cut short by a kill: keep what came before
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


def _check_same_run(path: Path, ckpt: dict[str, Any]) -> None:
    """A checkpoint copied in from another run (other dataset or model) is named as such."""
    summary_path = path.parent / "summary.json"
    if not summary_path.is_file():
        return
    summary = read_json(summary_path)
    model = ckpt.get("model")
    have = {"dataset": ckpt.get("dataset"), "model": model.get("name") if isinstance(model, dict) else None}
    for key, value in have.items():
        want = summary.get(key)
        if want is not None and value is not None and want != value:
            raise RunError(
                f"{path} holds a {key} '{value}' checkpoint, but {path.parent} is a {key} '{want}' run: it comes from "
                f"another run; put back this run's checkpoint.pt or train again"
            )


def load_graphs(run: str | Path) -> tuple[list, str]:
    """The stored graphs as PyG ``Data`` (dense features) and the task type."""
    import torch
    from torch_geometric.data import Data

    path = Path(run) / "graph.pt"
    blob = _load_torch(path, "graph file")
    try:
        graphs = []
        for item in blob["graphs"]:
            if "x" in item:
                x = item["x"]
            else:
                # Checked: the file may come from elsewhere, and bad indices must not reach memory.
                x = torch.sparse_coo_tensor(
                    item["x_indices"], item["x_values"], item["x_shape"], check_invariants=True
                ).to_dense()
            g = Data(x=x.float(), edge_index=item["edge_index"].long(), y=item["y"], num_nodes=int(item["num_nodes"]))
            for s in ("train", "val", "test"):
                g[f"{s}_mask"] = item[f"{s}_mask"].bool()
            graphs.append(g)
        task = blob["task"]
    except (KeyError, TypeError, RuntimeError, ValueError):
        raise RunError(f"{path} is damaged or not written by gnnviz; train the run again") from None
    if not graphs:
        raise RunError(f"{path} holds no graphs; train the run again")
    return graphs, task
