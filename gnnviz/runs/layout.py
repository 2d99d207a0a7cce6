"""The run-directory format, and the names and creation of run folders.

A run directory holds:

- ``config.yaml``: the resolved config, every section (``CONFIG_SECTIONS``) in full;
- ``metrics.csv``: a row per epoch, columns ``METRIC_COLUMNS``, flushed as it goes;
- ``checkpoint.pt``: the weights of the state the stopping rule selected and the model's
  constructor arguments (``CHECKPOINT_FORMAT``, ``CHECKPOINT_VERSION``; only tensors, strings,
  numbers and dicts);
- ``checkpoint-min-loss.pt``, ``checkpoint-last.pt``: the state of lowest validation loss and the
  last state, in the same format, each only where it is another epoch than the states before it in
  ``STATES`` (``summary.json``'s ``states`` names the file holding each state, with its epoch and
  scores; runs from before these files have only ``checkpoint.pt``);
- ``graph.pt``: the graph(s) the figures are drawn on, so ``visualize`` needs nothing else;
- ``summary.json``: status, the process writing it, results (padded, see ``store.save_summary``);
- optionally ``snapshots.json`` (training snapshots) and ``tb/`` (TensorBoard events, ``gnnviz.tensorboard``).

A run is complete when it has every file of ``REQUIRED``. A multi-seed aggregate holds a
``summary.json`` with ``runs`` and one run directory per seed, ``seed-<N>/``.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from gnnviz.errors import ConfigError, RunError

CHECKPOINT_FORMAT = "gnnviz-checkpoint"


CHECKPOINT_VERSION = 1


METRIC_COLUMNS = ("epoch", "train_loss", "train_metric", "val_loss", "val_metric", "seconds")


# The states a run keeps, by the names ``--state`` takes: the one the stopping rule selected
# (training.early_stopping), the one of lowest validation loss (the first epoch reaching it), and the
# last one trained. A state that is the same epoch as an earlier one here is that one's file.
STATES = ("selected", "min-loss", "last")
STATE_FILES = {"selected": "checkpoint.pt", "min-loss": "checkpoint-min-loss.pt", "last": "checkpoint-last.pt"}
DEFAULT_STATE = "selected"


REQUIRED = ("config.yaml", "summary.json", "checkpoint.pt", "graph.pt")


CONFIG_SECTIONS = ("dataset", "model", "training", "run")


_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")


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
