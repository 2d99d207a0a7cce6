"""What ``fit`` runs each epoch: ``make_steps`` builds ``train_step`` and ``evaluate`` for a dataset.

Full-batch for single-graph (transductive) datasets, mini-batches of graphs for multi-graph ones.
Single-graph datasets can also train on mini-batches of seed (training) nodes (``node_batch``):
each batch on the exact receptive field of its seeds (all neighbours, the fast path's plans), or
on neighbours sampled by PyG's ``NeighborLoader`` (``num_neighbors``) when pyg-lib or torch-sparse
is installed; evaluation then runs the model layer by layer over the whole graph
(``GNN.inference``). Under torchrun (``world``) every batch is split across the ranks and DDP
all-reduces the gradients, scaled so that they equal one process's; losses, metrics and so the
early-stopping decisions are the same numbers on every rank.
On the fast path (``training.fast``) models with fast kernels run through their plans
(``models.fast``); small graphs on CPU run on one intra-op thread (``SINGLE_THREAD_EDGES``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gnnviz.datasets.base import GraphDataset
from gnnviz.distributed import World
from gnnviz.errors import ConfigError
from gnnviz.models.fast import sparse_enough, split_plans
from gnnviz.models.gnn import INFERENCE_EDGES
from gnnviz.training.tasks import loss_fn, loss_sum, metric_counts, metric_value

# The fast path runs graphs with fewer edges than this on one intra-op thread: their kernels are
# too short to gain from splitting (measured on 2 cores: 1 thread is 10-20% faster on Cora, equal
# at 80k edges, slower from about 1M), and with more threads than idle cores each parallel
# region waits for a descheduled thread (2 threads on 2 busy cores: Cora epochs 30x slower).
SINGLE_THREAD_EDGES = 200_000


# ----------------------------------------------------------------------------- inputs


def prepare_x(x: Tensor, fast: bool, device: torch.device) -> Tensor:
    """Move features once; on the fast path keep sparse inputs sparse (CSR)."""
    x = x.to(device)
    if fast and sparse_enough(x):
        return x.to_sparse_csr()
    return x


class _Graph:
    """A graph moved to the device once, with its mask indices precomputed."""

    def __init__(self, g, fast: bool, device: torch.device):
        self.x = prepare_x(g.x, fast, device)
        self.edge_index = g.edge_index.to(device)
        self.y = g.y.to(device)
        self.num_nodes = g.num_nodes
        self.idx = {s: getattr(g, f"{s}_mask").nonzero().view(-1).to(device) for s in ("train", "val", "test")}


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
    plans = split_plans(model, dataset.train[0], device) if fast and dataset.transductive else None
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
    sparse = fast and sparse_enough(x)
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
