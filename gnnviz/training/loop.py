"""``fit``: the epoch loop. Loss and metric follow the task; reports each epoch to a callback.

Each epoch runs the steps ``make_steps`` builds (``training.steps``: full batch, graph batches or
seed-node batches, on one process or several ranks) and evaluates the validation split.
Early stopping (``EarlyStopping``) by the GAT paper's rule ("metric_or_loss", the default) or on
the validation metric alone ("metric": ties broken by lower validation loss); the best state is
restored and the test metric taken with it. Beside it, ``fit`` keeps the state of lowest
validation loss and the last state (``FitResult.states``, by the names of ``runs.layout.STATES``),
each with its validation and test numbers. Never touches files.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from gnnviz import signals
from gnnviz.datasets.base import GraphDataset
from gnnviz.distributed import World
from gnnviz.errors import Terminated
from gnnviz.runs.layout import STATES
from gnnviz.training.steps import make_steps


@dataclass
class KeptState:
    """One state training kept: its epoch (0: the initial weights), weights and scores (NaN where
    not measured: epoch 0, or a test evaluation cut short by an interrupt)."""

    epoch: int
    state: dict[str, Tensor]
    val_metric: float
    val_loss: float
    test_metric: float


@dataclass
class FitResult:
    status: str  # "completed", "early_stopped", "interrupted" or "diverged"
    best_epoch: int
    epochs_run: int
    val_metric: float
    test_metric: float
    best_state: dict[str, Tensor]
    train_seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    message: str = ""
    interrupt: BaseException | None = None  # the Ctrl-C/SIGTERM that ended training, re-raised after saving
    # Every state kept, by name (runs.layout.STATES: "selected" is best_state/best_epoch); names
    # that are the same epoch share one KeptState.
    states: dict[str, KeptState] = field(default_factory=dict)

    def late(self, signals: list[BaseException]) -> None:
        """Record a Ctrl-C/SIGTERM that came after training (``signals.taken``) as the ending,
        unless one came before; a run that diverged stays diverged."""
        if signals and self.interrupt is None:
            self.interrupt = signals[0]
            if self.status != "diverged":
                self.status = "interrupted"

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / max(self.epochs_run, 1)


@dataclass
class EarlyStopping:
    """The stopping rule, fed one epoch's validation metric (higher is better) and loss at a time.

    ``metric_or_loss`` (the GAT paper's rule, the default): the wait resets whenever the metric
    reaches its best so far or the loss reaches its lowest so far (ties count), and the kept state
    is the last one where both hold at once. ``metric``: the wait resets when the metric beats the
    kept state's, or equals it with a lower loss; that state is kept. Training stops once the wait
    reaches ``patience`` epochs (0 = never). ``loss``: the wait resets when the loss falls below the
    kept state's, and the state of lowest validation loss is kept (the best-trained state by the
    measure training minimises; the other rules may keep a much earlier one).
    """

    rule: str
    patience: int
    waited: int = 0
    top_metric: float = -math.inf  # metric_or_loss: running extremes
    low_loss: float = math.inf
    kept_metric: float = -math.inf  # metric: the kept state's numbers
    kept_loss: float = math.inf

    def update(self, val_metric: float, val_loss: float) -> tuple[bool, bool]:
        """(keep this epoch's state as the best, stop after this epoch)."""
        if self.rule == "loss":
            keep = improved = val_loss < self.kept_loss
            if keep:
                self.kept_metric, self.kept_loss = val_metric, val_loss
        elif self.rule == "metric":
            improved = val_metric > self.kept_metric or (val_metric == self.kept_metric and val_loss < self.kept_loss)
            keep = improved
            if keep:
                self.kept_metric, self.kept_loss = val_metric, val_loss
        else:
            improved = val_metric >= self.top_metric or val_loss <= self.low_loss
            keep = val_metric >= self.top_metric and val_loss <= self.low_loss
            self.top_metric = max(self.top_metric, val_metric)
            self.low_loss = min(self.low_loss, val_loss)
        self.waited = 0 if improved else self.waited + 1
        return keep, bool(self.patience) and self.waited >= self.patience


def fit(
    model: torch.nn.Module,
    dataset: GraphDataset,
    *,
    epochs: int,
    patience: int,
    lr: float,
    weight_decay: float,
    device: torch.device,
    seed: int,
    fast: bool = True,
    batch_size: int = 1,
    stopping: str = "metric_or_loss",
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    snapshot_every: int = 0,
    on_snapshot: Callable[[int, torch.nn.Module], None] | None = None,
    node_batch: int = 0,
    num_neighbors: list[int] | None = None,
    world: World | None = None,
) -> FitResult:
    """Train ``model`` on ``dataset``; ``on_epoch`` gets each metrics row.

    With ``snapshot_every`` N > 0, ``on_snapshot(epoch, model)`` is called before the first epoch
    (epoch 0) and after every N-th; it must leave the model's parameters and mode as it found them
    and draw no random numbers, so that snapshots never change what is trained.

    Ctrl-C (or SIGTERM as ``Terminated``) ends training with status "interrupted": the best
    state so far is restored and returned, with the exception in ``interrupt``; the other states
    kept are those reached so far (the last whole epoch's, the lowest loss's).

    ``states`` holds the selected state, the state of lowest validation loss (the first epoch to
    reach it) and the last state whose epoch finished with finite losses, each with its test
    metric, taken with that state after training; the model is left in the selected state.

    ``node_batch``, ``num_neighbors``, ``world``: see ``make_steps``. The test metric at the end is
    computed by each rank alone, so that it is there even when another rank is gone.
    """
    train_step, evaluate = make_steps(
        model,
        dataset,
        lr=lr,
        weight_decay=weight_decay,
        device=device,
        seed=seed,
        fast=fast,
        batch_size=batch_size,
        node_batch=node_batch,
        num_neighbors=num_neighbors,
        world=world,
    )

    initial = _snapshot(model)
    best: dict[str, Any] = {"metric": -math.inf, "loss": math.inf, "epoch": 0, "state": initial}
    low: dict[str, Any] = dict(best)  # the lowest validation loss so far (strictly lower: the first epoch)
    last: dict[str, Any] = dict(best)  # the last epoch that finished
    stopper = EarlyStopping(stopping, patience)
    history: list[dict[str, float]] = []
    status, message = "completed", ""
    interrupt: BaseException | None = None
    start = time.perf_counter()
    snap = on_snapshot if snapshot_every > 0 else None
    try:
        if snap is not None:
            snap(0, model)
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            train_loss, train_metric = train_step()
            val_loss, val_metric = evaluate("val")
            if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                status = "diverged"
                message = (
                    f"training diverged at epoch {epoch} (loss {train_loss:.4g}, val loss {val_loss:.4g}); "
                    f"kept the state of epoch {best['epoch']}; lower training.lr"
                )
                break
            row = {
                "epoch": epoch,
                "train_loss": train_loss,
                "train_metric": train_metric,
                "val_loss": val_loss,
                "val_metric": val_metric,
                "seconds": time.perf_counter() - t0,
            }
            history.append(row)
            keep, stop = stopper.update(val_metric, val_loss)
            state = _snapshot(model)  # one copy per epoch, shared by every state this epoch becomes
            if keep:
                best.update(metric=val_metric, loss=val_loss, epoch=epoch, state=state)
            if val_loss < low["loss"]:
                low.update(metric=val_metric, loss=val_loss, epoch=epoch, state=state)
            last.update(metric=val_metric, loss=val_loss, epoch=epoch, state=state)
            if on_epoch is not None:
                on_epoch(row)
            if snap is not None and epoch % snapshot_every == 0:
                snap(epoch, model)
            if stop:
                status = "early_stopped"
                break
    except (KeyboardInterrupt, Terminated) as exc:  # Ctrl-C, or SIGTERM turned into Terminated
        status, interrupt = "interrupted", exc
    train_seconds = time.perf_counter() - start
    # The test metric of each state, the selected one first; a Ctrl-C/SIGTERM now leaves the
    # remaining ones unmeasured (NaN). Once that is done, a signal is held (signals.taken) until
    # the result is built, so that every state still reaches the caller, which saves them.
    late: list[BaseException] = []
    states: dict[str, KeptState] = {}
    by_epoch: dict[int, KeptState] = {}
    test = getattr(evaluate, "local", evaluate)
    try:
        with signals.taken(late):
            for name, kept in zip(STATES, (best, low, last), strict=True):
                if kept["epoch"] not in by_epoch:
                    measured = kept["epoch"] > 0
                    by_epoch[kept["epoch"]] = KeptState(
                        kept["epoch"],
                        kept["state"],
                        kept["metric"] if measured else math.nan,
                        kept["loss"] if measured else math.nan,
                        math.nan,
                    )
                states[name] = by_epoch[kept["epoch"]]
        if not late:
            for kept_state in by_epoch.values():
                if kept_state.epoch > 0:
                    model.load_state_dict(kept_state.state)
                    _, kept_state.test_metric = test("test")
    except (KeyboardInterrupt, Terminated) as exc:  # as in training: the states are still saved
        late.append(exc)
    with signals.taken(late):
        model.load_state_dict(best["state"])
        selected = states["selected"]
        result = FitResult(
            status=status,
            best_epoch=best["epoch"],
            epochs_run=len(history),
            val_metric=selected.val_metric,
            test_metric=selected.test_metric,
            best_state=best["state"],
            train_seconds=train_seconds,
            history=history,
            message=message,
            interrupt=interrupt,
            states=states,
        )
    result.late(late)
    return result


def _snapshot(model: torch.nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
