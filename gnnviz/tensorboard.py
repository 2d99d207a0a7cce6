"""TensorBoard event files of a run (``run.tensorboard: true`` or ``train --tensorboard``).

``Board`` writes ``RUN/tb/``: each epoch's train/val loss and metric, the learning rate and the
seconds the epoch took, the ``training.snapshots`` rows (lift and KL per layer), and at the end one hparams entry (the resolved config's fields and the
final val/test metrics) so TensorBoard's HParams view compares runs and the seeds of ``--seeds``.
Written with PyTorch's own ``torch.utils.tensorboard`` (the ``tensorboard`` extra:
``pip install gnnviz[tensorboard]``). Only the process that writes the run directory (rank 0
under torchrun) opens one. Event files are logs, not results: a writer that fails says so in one
line and stops, and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gnnviz.datasets.base import SINGLE_LABEL
from gnnviz.errors import ConfigError

FOLDER = "tb"
MISSING = "run.tensorboard needs the tensorboard package: pip install gnnviz[tensorboard] (or set run.tensorboard=false)"


def _summary_writer():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError(MISSING) from None
    return SummaryWriter


def check_available() -> None:
    """Raise the one-line ``ConfigError`` now, before training, when tensorboard is missing."""
    _summary_writer()


def flat_config(cfg_dict: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"training": {"lr": 0.01}}`` -> ``{"training.lr": 0.01}``; values TensorBoard cannot hold become text."""
    out: dict[str, Any] = {}
    for key, value in cfg_dict.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_config(value, f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            out[name] = value
        else:
            out[name] = str(value)
    return out


def _mean(values: Any) -> float | None:
    """The mean of a number or of a list's numbers (None skipped); None when there are none."""
    if isinstance(values, (int, float)):
        return float(values)
    known = [float(v) for v in values or [] if v is not None]
    return sum(known) / len(known) if known else None


class Board:
    """One run's event files in ``run/tb``; every method is a no-op once a write has failed."""

    def __init__(self, run: Path, *, log: Callable[[str], None]) -> None:
        self._log = log
        self._writer = None
        writer_class = _summary_writer()
        try:
            self._writer = writer_class(log_dir=str(run / FOLDER))
        except Exception as exc:  # noqa: BLE001 - a log must not end the run it logs
            log(f"tensorboard: could not open {run / FOLDER} ({type(exc).__name__}: {exc}); the run goes on without it")

    def _do(self, what: str, write: Callable[[Any], None]) -> None:
        if self._writer is None:
            return
        try:
            write(self._writer)
        except Exception as exc:  # noqa: BLE001 - a log must not end the run it logs
            self._log(f"tensorboard: stopped writing {what} ({type(exc).__name__}: {exc}); the run goes on")
            self._drop()

    def epoch(self, row: dict[str, float], *, lr: float, metric: str) -> None:
        step = int(row["epoch"])

        def write(w) -> None:
            w.add_scalar("loss/train", row["train_loss"], step)
            w.add_scalar("loss/val", row["val_loss"], step)
            w.add_scalar(f"{metric}/train", row["train_metric"], step)
            w.add_scalar(f"{metric}/val", row["val_metric"], step)
            w.add_scalar("lr", lr, step)
            w.add_scalar("seconds_per_epoch", row["seconds"], step)

        self._do(f"epoch {step}", write)

    def snapshot(self, row: dict[str, Any]) -> None:
        """A ``training.snapshots`` row: each layer's attention lift and KL from uniform, each the mean over heads."""
        step = int(row["epoch"])

        def write(w) -> None:
            for i, layer in enumerate(row.get("layers", [])):
                for key in ("lift", "kl"):
                    value = _mean(layer.get(key))
                    if value is not None:
                        w.add_scalar(f"snapshots/layer{i}/{key}", value, step)

        self._do(f"the snapshot of epoch {step}", write)

    def following(self, snapshots: Callable[[int, Any], None] | None):
        """``snapshots`` (a ``gnnviz.snapshots.Snapshots``) that also logs each row it takes; None stays None."""
        if snapshots is None:
            return None

        def take(epoch: int, model: Any) -> None:
            before = len(snapshots.rows)
            snapshots(epoch, model)
            if len(snapshots.rows) > before:
                self.snapshot(snapshots.rows[-1])

        return take

    def hparams(self, config: dict[str, Any], metrics: dict[str, float]) -> None:
        """One HParams entry in this run's own event file (not a sub-folder, as ``add_hparams`` makes)."""
        from torch.utils.tensorboard.summary import hparams

        def write(w) -> None:
            exp, ssi, sei = hparams(flat_config(config), metrics)
            fw = w._get_file_writer()
            for summary in (exp, ssi, sei):
                fw.add_summary(summary)
            for key, value in metrics.items():
                w.add_scalar(key, value)

        self._do("the hparams", write)

    def close(self) -> None:
        self._do("the last events", lambda w: w.close())
        self._writer = None

    def _drop(self) -> None:
        writer, self._writer = self._writer, None
        try:
            writer.close()
        except Exception:  # noqa: BLE001, S110 - already reported
            pass


PROJECTOR = "projector"


def write_projector(run: Path, arrays: Any) -> Path:
    """The embedding projector of the state ``visualize`` draws: every layer's output embeddings
    (hidden layers and the logits) in ``run/tb/projector``, each node labelled with class name,
    prediction, split and correct (multi-label: labels and predicted labels as counts)."""
    import os
    import shutil

    folder = run / FOLDER / PROJECTOR
    # Written whole into a fresh sibling, then swapped in: a second visualize replaces the
    # projector at once, and one stopped midway leaves the previous one as it was.
    fresh = folder.with_name(f".{PROJECTOR}-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        _fill_projector(fresh, arrays)
        old = folder.with_name(f".{PROJECTOR}-old-{os.getpid()}")
        if folder.exists():
            os.replace(folder, old)
        os.replace(fresh, folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return folder


def _fill_projector(folder: Path, arrays: Any) -> None:
    import numpy as np

    writer = _summary_writer()(log_dir=str(folder))
    try:
        names = arrays.class_names
        if arrays.task in SINGLE_LABEL:
            pred = arrays.logits.argmax(1)

            def name(c: int) -> str:
                return names[c] if names and c < len(names) else str(c)

            rows = [
                [name(int(y)), name(int(p)), str(s), str(bool(y == p)).lower()]
                for y, p, s in zip(arrays.y, pred, arrays.split, strict=True)
            ]
        else:
            pred = arrays.logits > 0
            rows = [
                [f"{int(y.sum())} labels", f"{int(p.sum())} labels", str(s), str(bool((y.astype(bool) == p).all())).lower()]
                for y, p, s in zip(arrays.y, pred, arrays.split, strict=True)
            ]
        last = len(arrays.embeddings) - 1
        for i, emb in enumerate(arrays.embeddings):
            tag = "output" if i == last else f"hidden{i}"
            writer.add_embedding(
                np.asarray(emb, dtype=np.float32),
                metadata=rows,
                metadata_header=["class", "prediction", "split", "correct"],
                tag=tag,
                global_step=i,
            )
    finally:
        writer.close()
