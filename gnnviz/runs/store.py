"""Writing and reading a run's files, one file at a time, each checked to be well formed.

Writes are atomic (``gnnviz.io``); ``record_final`` saves the final summary even on a full disk.
Reads name the file and say what to do when it is missing, damaged or foreign. Whether the files
agree with each other is ``checks``; a whole run, opened and checked, is ``load``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnnviz.datasets.base import METRICS
from gnnviz.errors import RunError
from gnnviz.io import atomic_torch_save, atomic_write_text, named
from gnnviz.runs.layout import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, METRIC_COLUMNS
from gnnviz.runs.schema import check_metrics, check_summary

if TYPE_CHECKING:
    import torch


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
    run: Path,
    model_kwargs: dict[str, Any],
    state: dict[str, torch.Tensor],
    *,
    dataset: str,
    task: str,
    epoch: int,
    name: str = "checkpoint.pt",
) -> None:
    """Only tensors, strings, numbers and dicts: loads with ``weights_only=True`` as is. ``name``:
    the file (``layout.STATE_FILES``: ``checkpoint.pt`` for the selected state)."""
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
    payload["state_sha256"] = weights_digest(payload["state_dict"])  # bytes changed after training are named
    digest = graph_digest(run)
    if digest is not None:
        payload["graph_sha256"] = digest  # the graphs it was trained on: a graph.pt put in from elsewhere is named
    atomic_torch_save(run / name, payload)


def weights_digest(state: dict[str, Any]) -> str:
    """SHA-256 of a state dict: each entry's name, dtype, shape and bytes, by name. torch.load does
    not check a checkpoint's stored bytes (zeroed bytes in a tensor load as other weights), so the
    checkpoint records this and ``check_fits`` compares."""
    import torch

    h = hashlib.sha256()
    for key in sorted(state, key=str):
        value = state[key]
        if not isinstance(value, torch.Tensor):
            h.update(f"{key!r}:{type(value).__name__};".encode())
            continue
        t = value.detach().cpu().contiguous()
        h.update(f"{key!r}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(memoryview(t.reshape(-1).view(torch.uint8).numpy()))
    return h.hexdigest()


def graph_digest(run: Path) -> str | None:
    """SHA-256 of the run's ``graph.pt``; None when it cannot be read (the loaders name that)."""
    h = hashlib.sha256()
    try:
        with open(run / "graph.pt", "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


# Ground-truth explanations carried by generated graphs (PyG's ExplainerDataset/InfectionDataset
# give them as ``node_mask``/``edge_mask``; stored under these names, as bool, aligned with the
# stored nodes and the columns of the stored ``edge_index``).
TRUTH_MASKS = ("truth_node_mask", "truth_edge_mask")


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
        for name in TRUTH_MASKS:  # the known explanation of a generated graph, where it has one
            if getattr(g, name, None) is not None:
                item[name] = getattr(g, name).bool().cpu()
        stored.append(item)
    blob = {"dataset": dataset, "task": task, "split": split, "graphs": stored}
    if num_classes is not None:
        blob["num_classes"] = int(num_classes)
    atomic_torch_save(run / "graph.pt", blob)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read_text(path))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RunError(f"{path} is not valid JSON; the run is damaged: train again") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} is not a JSON object, as a gnnviz {path.name} is; the run is damaged: train again")
    return data


def read_summary(path: Path) -> dict[str, Any]:
    """``summary.json``, every field it has checked against ``schema.SUMMARY``."""
    return check_summary(path, read_json(path))


def _read_text(path: Path) -> str:
    """The file's text; an ``OSError`` names the file (a failed ``read`` does not)."""
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise named(exc, path) from None


def read_metrics(path: Path) -> list[dict[str, float]]:
    """``metrics.csv``'s rows, each checked against ``schema.METRICS_ROW`` (epochs rising).

    Only the last line may be cut short (a kill while the row was written, before its newline):
    it is left out. A bad row anywhere else, or a whole last row that is wrong, is damage."""
    try:
        text = _read_text(path)
    except UnicodeDecodeError:
        raise RunError(f"{path} is not UTF-8 text; the run is damaged: train again") from None
    try:
        rows = [r for r in csv.DictReader(io.StringIO(text, newline="")) if any(v not in (None, "") for v in r.values())]
    except csv.Error as exc:
        raise RunError(f"{path} is not a CSV table ({exc}); the run is damaged: train again") from None
    cells = [{c: _cell(r.get(c)) for c in METRIC_COLUMNS if r.get(c) is not None} for r in rows]
    if cells and not text.endswith("\n"):
        try:
            check_metrics(path, cells[-1:])
        except RunError:
            cells = cells[:-1]  # the row being written when the run was killed
    check_metrics(path, cells)
    return [{c: float(v) for c, v in r.items()} for r in cells]


def _cell(text: str | None) -> Any:
    """A CSV cell as a whole number, else a number, else the text itself (for the schema to name)."""
    for kind in (int, float):
        try:
            return kind(text)
        except (TypeError, ValueError):
            pass
    return text


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
        if _cut_short(path):  # torch's zip reader turns a missing end into EINVAL, as if the disk failed
            raise RunError(f"{path} is truncated or damaged (its end is missing); train the run again") from None
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


def _cut_short(path: Path) -> bool:
    """torch.save writes a zip archive: one without its closing directory was cut short."""
    try:
        return not zipfile.is_zipfile(path)
    except OSError:
        return False


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


def read_graphs(run: str | Path, on_read: Callable[[list[dict[str, Any]]], Any] | None = None) -> StoredGraphs:
    """graph.pt, checked: every graph's features, labels, masks and edges agree with its node count.

    ``on_read(graphs)``, if given, sees the graphs as stored (dicts of tensors, ``edge_index`` and
    ``num_nodes`` among them; not yet checked) before PyG is imported, which takes over a second:
    visualize starts its layout there. A KeyError or TypeError in it reads as a damaged file.
    """
    import torch

    path = Path(run) / "graph.pt"
    blob = _load_torch(path, "graph file")
    try:
        if on_read is not None:
            on_read(blob["graphs"])
        from torch_geometric.data import Data

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
            for name in TRUTH_MASKS:
                if name in item:
                    g[name] = item[name].bool()
            _check_graph(g, n)
            graphs.append(g)
        task, num_classes = blob["task"], blob.get("num_classes")
        if task not in METRICS or not (num_classes is None or isinstance(num_classes, int)):
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
    if "truth_node_mask" in g and g.truth_node_mask.shape != (n,):
        raise ValueError("truth node mask")
    if "truth_edge_mask" in g and g.truth_edge_mask.shape != (ei.size(1),):
        raise ValueError("truth edge mask")
