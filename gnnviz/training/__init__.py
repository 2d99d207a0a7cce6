"""``fit``: the epoch loop. Loss and metric follow the task; reports each epoch to a callback.

Full-batch for single-graph (transductive) datasets, mini-batches of graphs for multi-graph ones.
Single-graph datasets can also train on mini-batches of seed (training) nodes (``node_batch``):
each batch on the exact receptive field of its seeds (all neighbours, the fast path's plans), or
on neighbours sampled by PyG's ``NeighborLoader`` (``num_neighbors``) when pyg-lib or torch-sparse
is installed; evaluation then runs the model layer by layer over the whole graph
(``GNN.inference``). Under torchrun (``world``) every batch is split across the ranks and DDP
all-reduces the gradients, scaled so that they equal one process's; losses, metrics and so the
early-stopping decisions are the same numbers on every rank.
Early stopping (``EarlyStopping``) by the GAT paper's rule ("metric_or_loss", the default) or on
the validation metric alone ("metric": ties broken by lower validation loss); the best state is
restored and the test metric taken with it. Never touches files.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gnnviz.datasets.base import MULTICLASS, GraphDataset
from gnnviz.distributed import World
from gnnviz.errors import ConfigError, Terminated
from gnnviz.models import INFERENCE_EDGES

# Inputs sparser than this go to the layers as a sparse CSR tensor on the fast path.
SPARSE_DENSITY = 0.25
# The fast path runs graphs with fewer edges than this on one intra-op thread: their kernels are
# too short to gain from splitting (measured on 2 cores: 1 thread is 10-20% faster on Cora, equal
# at 80k edges, slower from about 1M), and with more threads than idle cores each parallel
# region waits for a descheduled thread (2 threads on 2 busy cores: Cora epochs 30x slower).
SINGLE_THREAD_EDGES = 200_000


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(spec: str) -> torch.device:
    """``auto`` -> CUDA if present else CPU; an explicit CUDA device that is absent is an error."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(
            f"--device {spec} asked for CUDA, but CUDA is not available here (torch {torch.__version__}); use --device cpu or auto"
        )
    index = int(spec.split(":")[1]) if ":" in spec else 0
    count = torch.cuda.device_count()
    if index >= count:
        raise ConfigError(f"--device {spec} does not exist; this machine has {count} CUDA device(s): cuda:0..cuda:{count - 1}")
    return torch.device(spec)


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

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / max(self.epochs_run, 1)


# ----------------------------------------------------------------------------- loss and metric


def loss_fn(task: str, out: Tensor, y: Tensor) -> Tensor:
    if task == MULTICLASS:
        return F.cross_entropy(out, y)
    return F.binary_cross_entropy_with_logits(out, y)


def loss_sum(task: str, out: Tensor, y: Tensor) -> Tensor:
    """``loss_fn`` summed instead of averaged: over nodes (and labels), so batches and ranks add up."""
    if task == MULTICLASS:
        return F.cross_entropy(out, y, reduction="sum")
    return F.binary_cross_entropy_with_logits(out, y, reduction="sum")


def metric_counts(task: str, out: Tensor, y: Tensor) -> Tensor:
    """Sufficient statistics so that metrics add up over batches: [correct, total] or [tp, fp, fn]."""
    if task == MULTICLASS:
        return torch.stack([(out.argmax(-1) == y).sum(), torch.tensor(y.numel(), device=y.device)]).double()
    pred = out > 0
    truth = y > 0.5
    tp = (pred & truth).sum()
    fp = (pred & ~truth).sum()
    fn = (~pred & truth).sum()
    return torch.stack([tp, fp, fn]).double()


def metric_value(task: str, counts: Tensor) -> float:
    c = counts.tolist()
    if task == MULTICLASS:
        return c[0] / max(c[1], 1)
    tp, fp, fn = c
    return 2 * tp / max(2 * tp + fp + fn, 1)


# ----------------------------------------------------------------------------- inputs


def prepare_x(x: Tensor, fast: bool, device: torch.device) -> Tensor:
    """Move features once; on the fast path keep sparse inputs sparse (CSR)."""
    x = x.to(device)
    if fast and _sparse_enough(x):
        return x.to_sparse_csr()
    return x


def _sparse_enough(x: Tensor) -> bool:
    return bool(x.numel()) and (x != 0).float().mean().item() < SPARSE_DENSITY


class _Graph:
    """A graph moved to the device once, with its mask indices precomputed."""

    def __init__(self, g, fast: bool, device: torch.device):
        self.x = prepare_x(g.x, fast, device)
        self.edge_index = g.edge_index.to(device)
        self.y = g.y.to(device)
        self.num_nodes = g.num_nodes
        self.idx = {s: getattr(g, f"{s}_mask").nonzero().view(-1).to(device) for s in ("train", "val", "test")}


# ----------------------------------------------------------------------------- fit


@dataclass
class EarlyStopping:
    """The stopping rule, fed one epoch's validation metric (higher is better) and loss at a time.

    ``metric_or_loss`` (the GAT paper's rule, the default): the wait resets whenever the metric
    reaches its best so far or the loss reaches its lowest so far (ties count), and the kept state
    is the last one where both hold at once. ``metric``: the wait resets when the metric beats the
    kept state's, or equals it with a lower loss; that state is kept. Training stops once the wait
    reaches ``patience`` epochs (0 = never).
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
        if self.rule == "metric":
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
    state so far is restored and returned, with the exception in ``interrupt``.

    ``node_batch``, ``num_neighbors``, ``world``: see ``make_steps``. The test metric at the end is
    computed by each rank alone, so that it is there even when another rank is gone.
    """
    train_step, evaluate = make_steps(
        model, dataset, lr=lr, weight_decay=weight_decay, device=device, seed=seed, fast=fast, batch_size=batch_size,
        node_batch=node_batch, num_neighbors=num_neighbors, world=world,
    )  # fmt: skip

    best: dict[str, Any] = {"metric": -math.inf, "loss": math.inf, "epoch": 0, "state": _snapshot(model)}
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
                "epoch": epoch, "train_loss": train_loss, "train_metric": train_metric,
                "val_loss": val_loss, "val_metric": val_metric, "seconds": time.perf_counter() - t0,
            }  # fmt: skip
            history.append(row)
            keep, stop = stopper.update(val_metric, val_loss)
            if keep:
                best.update(metric=val_metric, loss=val_loss, epoch=epoch, state=_snapshot(model))
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
    model.load_state_dict(best["state"])
    if best["epoch"] == 0:
        val_metric = test_metric = float("nan")
    else:
        val_metric = best["metric"]
        _, test_metric = getattr(evaluate, "local", evaluate)("test")
    return FitResult(
        status=status, best_epoch=best["epoch"], epochs_run=len(history), val_metric=val_metric,
        test_metric=test_metric, best_state=best["state"], train_seconds=train_seconds, history=history,
        message=message, interrupt=interrupt,
    )  # fmt: skip


def make_steps(
    model: torch.nn.Module,
    dataset: GraphDataset,
    *,
    lr: float,
    weight_decay: float,
    device: torch.device,
    seed: int,
    fast: bool = True,
    batch_size: int = 1,
    node_batch: int = 0,
    num_neighbors: list[int] | None = None,
    world: World | None = None,
) -> tuple[Callable[[], tuple[float, float]], Callable[[str], tuple[float, float]]]:
    """What ``fit`` runs each epoch: ``train_step() -> (loss, metric)`` (one optimiser step, or
    one per mini-batch) and ``evaluate(split) -> (loss, metric)``. Public so that benchmarks time
    exactly these.

    ``node_batch``: seed nodes per mini-batch on a single-graph dataset (0 = full batch);
    ``num_neighbors``: neighbours sampled per layer (PyG's ``NeighborLoader``), None = all, exact;
    ``world``: the ranks training together (None = this process alone).
    """
    world = world or World()
    task = dataset.task
    model.to(device)
    # The fused Adam kernel: the same update in one pass over each parameter.
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, fused=fast or None)
    fast = fast and getattr(model, "accepts_sparse", True)
    if node_batch or world.size > 1:
        check_batching(dataset, node_batch, world.size)
        return _seed_steps(model, opt, dataset, device, seed, fast, node_batch, num_neighbors, world)
    plans = _plans(model, dataset.train[0], device) if fast and dataset.transductive else None
    if plans is not None:
        y = dataset.train[0].y.to(device)
        train_step = _plan_step(model, opt, task, plans, y)
        evaluate = _plan_eval(model, task, plans, y)
        if device.type == "cpu" and dataset.train[0].edge_index.size(1) < SINGLE_THREAD_EDGES:
            train_step, evaluate = _one_thread(train_step), _one_thread(evaluate)
    elif dataset.transductive:
        g = _Graph(dataset.train[0], fast, device)
        train_step = _full_batch_step(model, opt, task, g)
        evaluate = _full_batch_eval(model, task, g)
    else:
        train_graphs = [_Graph(d, fast, device) for d in dataset.train]
        val_graphs = [_Graph(d, fast, device) for d in dataset.val]
        test_graphs = [_Graph(d, fast, device) for d in dataset.test]
        train_step = _graph_batch_step(model, opt, task, train_graphs, batch_size, seed)
        evaluate = _graph_list_eval(model, task, val_graphs, test_graphs)
    return train_step, evaluate


def _snapshot(model: torch.nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _plans(model, g, device: torch.device) -> Callable[[str], Any] | None:
    """Split name -> the model's fast-path plan for that split's nodes (``GNN.plan``), built on
    first use; None for models without fast kernels."""
    if not hasattr(model, "plan"):
        return None
    x, edge_index = g.x.to(device), g.edge_index.to(device)
    sparse = _sparse_enough(x)
    built: dict[str, Any] = {}

    def plan(split: str) -> Any:
        if split not in built:
            targets = getattr(g, f"{split}_mask").nonzero().view(-1).to(device)
            built[split] = model.plan(x, edge_index, targets, sparse)
        return built[split]

    return plan if plan("train") is not None else None


def _one_thread(fn: Callable) -> Callable:
    """``fn`` run with one intra-op thread (see ``SINGLE_THREAD_EDGES``), the setting restored after."""

    def run(*args):
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(*args)
        finally:
            torch.set_num_threads(threads)

    return run


def _plan_step(model, opt, task: str, plans, y_all: Tensor) -> Callable[[], tuple[float, float]]:
    plan = plans("train")
    return _step(model, opt, task, lambda: model.forward_plan(plan), y_all[plan.targets])


def _plan_eval(model, task: str, plans, y_all: Tensor) -> Callable[[str], tuple[float, float]]:
    def outputs(split: str) -> tuple[Tensor, Tensor]:
        plan = plans(split)
        return model.forward_plan(plan), y_all[plan.targets]

    return _eval(model, task, outputs)


def _full_batch_step(model, opt, task: str, g: _Graph) -> Callable[[], tuple[float, float]]:
    idx = g.idx["train"]
    return _step(model, opt, task, lambda: model(g.x, g.edge_index)[idx], g.y[idx])


def _full_batch_eval(model, task: str, g: _Graph) -> Callable[[str], tuple[float, float]]:
    return _eval(model, task, lambda split: (model(g.x, g.edge_index)[g.idx[split]], g.y[g.idx[split]]))


def _step(model, opt, task: str, forward: Callable[[], Tensor], y: Tensor) -> Callable[[], tuple[float, float]]:
    """One optimiser step on the logits ``forward()`` gives for the labels ``y``: (loss, metric)."""

    def step() -> tuple[float, float]:
        model.train()
        opt.zero_grad(set_to_none=True)
        out = forward()
        loss = loss_fn(task, out, y)
        loss.backward()
        opt.step()
        with torch.no_grad():
            counts = metric_counts(task, out, y)
        return loss.item(), metric_value(task, counts)

    return step


def _eval(model, task: str, outputs: Callable[[str], tuple[Tensor, Tensor]]) -> Callable[[str], tuple[float, float]]:
    """(loss, metric) of a split, from ``outputs(split) -> (logits, labels)`` in eval mode."""

    def evaluate(split: str) -> tuple[float, float]:
        model.eval()
        with torch.no_grad():
            out, y = outputs(split)
            loss = loss_fn(task, out, y)
            counts = metric_counts(task, out, y)
        return loss.item(), metric_value(task, counts)

    return evaluate


def _batch(graphs: list[_Graph]) -> _Graph:
    """Concatenate graphs into one disconnected graph (PyG's batching, done on prepared tensors)."""
    if len(graphs) == 1:
        return graphs[0]
    b = _Graph.__new__(_Graph)
    offsets = np.cumsum([0] + [gr.num_nodes for gr in graphs])
    xs = [gr.x.to_dense() if gr.x.layout != torch.strided else gr.x for gr in graphs]
    x = torch.cat(xs)
    b.x = x.to_sparse_csr() if any(gr.x.layout != torch.strided for gr in graphs) else x
    b.edge_index = torch.cat([gr.edge_index + int(o) for gr, o in zip(graphs, offsets, strict=False)], dim=1)
    b.y = torch.cat([gr.y for gr in graphs])
    b.num_nodes = int(offsets[-1])
    b.idx = {s: torch.cat([gr.idx[s] + int(o) for gr, o in zip(graphs, offsets, strict=False)]) for s in ("train", "val", "test")}
    return b


def _graph_batch_step(model, opt, task, graphs, batch_size, seed):
    gen = torch.Generator().manual_seed(seed)

    def step() -> tuple[float, float]:
        model.train()
        order = torch.randperm(len(graphs), generator=gen).tolist()
        total_loss, total_nodes = 0.0, 0
        counts = None
        for i in range(0, len(order), batch_size):
            b = _batch([graphs[j] for j in order[i : i + batch_size]])
            opt.zero_grad(set_to_none=True)
            out = model(b.x, b.edge_index)
            loss = loss_fn(task, out, b.y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                c = metric_counts(task, out, b.y)
            counts = c if counts is None else counts + c
            total_loss += loss.item() * b.num_nodes
            total_nodes += b.num_nodes
        return total_loss / max(total_nodes, 1), metric_value(task, counts)

    return step


def _graph_list_eval(model, task, val_graphs, test_graphs):
    splits = {"val": val_graphs, "test": test_graphs}

    def evaluate(split: str) -> tuple[float, float]:
        model.eval()
        total_loss, total_nodes, counts = 0.0, 0, None
        with torch.no_grad():
            for g in splits[split]:
                out = model(g.x, g.edge_index)
                loss = loss_fn(task, out, g.y)
                c = metric_counts(task, out, g.y)
                counts = c if counts is None else counts + c
                total_loss += loss.item() * g.num_nodes
                total_nodes += g.num_nodes
        return total_loss / max(total_nodes, 1), metric_value(task, counts)

    return evaluate


# ----------------------------------------------------------------------------- seed-node batches


def sampler_available() -> bool:
    """Whether PyG's ``NeighborLoader`` can sample here: it needs pyg-lib or torch-sparse."""
    import torch_geometric.typing as pyg_typing

    return bool(pyg_typing.WITH_PYG_LIB or pyg_typing.WITH_TORCH_SPARSE)


def batching_note(node_batch: int, num_neighbors: list[int] | None, world: World | None = None) -> str | None:
    """One log line saying how training batches its seed nodes, or None for plain full batch."""
    world = world or World()
    ranks = f"; {world.size} ranks share each batch" if world.size > 1 else ""
    if not node_batch:
        return f"full batch{ranks}" if world.size > 1 else None
    what = f"mini-batches of {node_batch} seed nodes"
    if num_neighbors is None:
        return f"{what}, exact receptive fields (all neighbours){ranks}"
    counts = ",".join(map(str, num_neighbors))
    if sampler_available():
        return f"{what}, {counts} neighbours sampled per layer by PyG's NeighborLoader{ranks}"
    return (
        f"{what}, exact receptive fields (all neighbours): training.num_neighbors={counts} needs pyg-lib or "
        f"torch-sparse, neither is installed (README: Scale){ranks}"
    )


def check_batching(dataset: GraphDataset, node_batch: int, world_size: int) -> None:
    """Seed-node batches and ranks need one graph with at least one training node per rank."""
    if not dataset.transductive:
        what = "training.batch_size (seed nodes)" if node_batch else "distributed training"
        raise ConfigError(
            f"{what} is for single-graph datasets; {dataset.name} has several graphs: batch whole graphs with dataset.batch_size"
        )
    seeds = int(dataset.train[0].train_mask.sum())
    if seeds < world_size:
        raise ConfigError(f"{dataset.name} has {seeds} training node(s), fewer than the {world_size} ranks; use fewer ranks")


class _Through(torch.nn.Module):
    """Lets DDP run any of the model's forwards: ``ddp(fn)`` calls ``fn()`` inside DDP's forward,
    so that the gradients of what ``fn`` computes are all-reduced during backward."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, fn: Callable[[], Tensor]) -> Tensor:
        return fn()


def _seed_steps(model, opt, dataset: GraphDataset, device, seed: int, fast: bool, node_batch: int, num_neighbors, world: World):
    """``make_steps`` for seed-node batches (mini-batch, or full batch split across ranks)."""
    g = dataset.train[0]
    task, n = dataset.task, g.num_nodes
    x = g.x.to(device)
    edge_index = g.edge_index.to(device)
    y_all = g.y.to(device)
    seeds = g.train_mask.nonzero().view(-1).to(device)
    labels = y_all.size(1) if y_all.dim() > 1 else 1
    gen = torch.Generator().manual_seed(seed)  # the same on every rank: all ranks cut the same batches
    if world.size > 1:
        from torch.nn.parallel import DistributedDataParallel

        through: Callable[[Callable[[], Tensor]], Tensor] = DistributedDataParallel(_Through(model))
    else:
        through = lambda fn: fn()  # noqa: E731
    loader = None
    if num_neighbors is not None and sampler_available():
        from torch_geometric.data import Data
        from torch_geometric.loader import NeighborLoader

        loader = NeighborLoader(Data(x=g.x, edge_index=g.edge_index, y=g.y, num_nodes=n), num_neighbors=num_neighbors)
    sparse = fast and _sparse_enough(x)
    planned = fast and loader is None and model.plan(x, edge_index, seeds[:1], sparse) is not None
    fixed: dict[int, Any] = {}  # full batch: each rank's part never changes, nor does its plan

    def forward(part: Tensor) -> tuple[Tensor, Tensor]:
        """Logits and labels of the seed nodes ``part`` [T]."""
        if loader is not None:
            b = loader(part.cpu()).to(device)  # the first T nodes of a sampled batch are its seeds
            return through(lambda: model(b.x, b.edge_index))[: part.numel()], b.y[: part.numel()]
        if planned:
            plan = fixed.get(0) if not node_batch else None
            if plan is None:
                plan = model.plan(x, edge_index, part, sparse)
                if not node_batch:
                    fixed[0] = plan
            return through(lambda: model.forward_plan(plan)), y_all[part]
        nodes, sub, weight = model.subgraph(edge_index, part, n)
        return through(lambda: model.layer_stack(x[nodes], sub, weight))[: part.numel()], y_all[part]

    def batches() -> list[Tensor]:
        if not node_batch:
            return [seeds]
        order = seeds[torch.randperm(seeds.numel(), generator=gen).to(device)]
        out = list(order.split(node_batch))
        if len(out) > 1 and out[-1].numel() < world.size:  # every rank needs a seed of every batch
            out[-2:] = [torch.cat(out[-2:])]
        return out

    def step() -> tuple[float, float]:
        model.train()
        totals = None
        for batch in batches():
            part = batch.tensor_split(world.size)[world.rank]
            opt.zero_grad(set_to_none=True)
            out, y = forward(part)
            summed = loss_sum(task, out, y)
            # Each rank's share of the batch's mean loss, times the ranks DDP averages over: the
            # all-reduced gradient is the gradient of the whole batch's mean loss.
            (summed * (world.size / (batch.numel() * labels))).backward()
            opt.step()
            with torch.no_grad():
                row = torch.cat(
                    [summed.detach().double().view(1), metric_counts(task, out, y), out.new_tensor([part.numel()]).double()]
                )
            totals = row if totals is None else totals + row
        assert totals is not None
        totals = world.all_sum(totals)
        return totals[0].item() / max(totals[-1].item() * labels, 1), metric_value(task, totals[1:-1])

    if not world.leader:  # rank 0 evaluates for everyone; another rank's own test metric is never read

        def local(split: str) -> tuple[float, float]:
            return math.nan, math.nan

    elif node_batch:
        dense = x.to_dense() if x.layout != torch.strided else x

        def outputs(split: str) -> tuple[Tensor, Tensor]:
            idx = getattr(g, f"{split}_mask").nonzero().view(-1).to(device)
            return model.inference(dense, edge_index, block_edges=INFERENCE_EDGES)[idx], y_all[idx]

        local = _eval(model, task, outputs)
    elif planned:
        built: dict[str, Any] = {}

        def plan_of(split: str) -> Any:  # built on first use: full batch needs no plan of the train split here
            if split not in built:
                built[split] = model.plan(x, edge_index, getattr(g, f"{split}_mask").nonzero().view(-1).to(device), sparse)
            return built[split]

        local = _plan_eval(model, task, plan_of, y_all)
    else:
        local = _full_batch_eval(model, task, _Graph(g, fast, device))

    def evaluate(split: str) -> tuple[float, float]:
        """Rank 0 evaluates, the others take its numbers: every rank makes the same decisions."""
        numbers = torch.tensor(local(split) if world.rank == 0 else (0.0, 0.0), dtype=torch.float64, device=device)
        loss, metric = world.from_leader(numbers).tolist()
        return loss, metric

    step = world.guard(step)  # DDP's all-reduce runs inside backward
    evaluate.local = local  # type: ignore[attr-defined]  # fit's final test metric: no collective
    if device.type == "cpu" and g.edge_index.size(1) < SINGLE_THREAD_EDGES:
        step, evaluate_one = _one_thread(step), _one_thread(evaluate)
        evaluate_one.local = _one_thread(local)  # type: ignore[attr-defined]
        return step, evaluate_one
    return step, evaluate
