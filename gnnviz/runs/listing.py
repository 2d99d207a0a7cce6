"""``gnnviz runs``: one row per run directory in a folder, never failing on a damaged run."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from gnnviz.errors import ConfigError, RunError
from gnnviz.io import named
from gnnviz.runs.status import process_alive
from gnnviz.runs.store import read_summary


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
    """Holds a run's file; a folder that cannot be looked into counts, so that its row says why."""
    try:
        return any((p / f).exists() for f in ("summary.json", "config.yaml", "checkpoint.pt", "metrics.csv"))
    except OSError:
        return True


def describe_run(path: Path, label: str) -> RunInfo:
    info = RunInfo(label)
    try:
        info.date = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        summary_path = path / "summary.json"
        os.listdir(path)  # a folder that cannot be read is named as such, not taken for one without a summary
        if not summary_path.is_file():
            info.status, info.problem = "damaged", "no summary.json"
            return info
        summary = read_summary(summary_path)
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
