"""The config's schema: one dataclass per section, each field with its default, why it exists,
its choices and its range where it has them (``_f``), and the keys and values refused with a reason.

Imports no dataset or model code at import time: the dataset table is read when a value is checked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from gnnviz.architectures import model_names


@dataclass(frozen=True)
class Bound:
    """One side of a field's range: ``ok(value)``, else ``<key>=<value> <says>``."""

    ok: Callable[[Any], bool]
    says: str


def at_least(low: int) -> tuple[Bound, ...]:
    return (Bound(lambda v: v >= low, f"must be at least {low}"),)


UNIT = (Bound(lambda v: 0.0 <= v < 1.0, "must be in [0, 1)"),)  # a dropout rate
POSITIVE = (Bound(lambda v: v > 0, "must be greater than 0"),)
NOT_NEGATIVE = (Bound(lambda v: v >= 0, "must be 0 or more"),)
SEED = (*at_least(0), Bound(lambda v: v < 2**32, "must be below 2**32"))  # numpy's seeds are 32-bit


def _f(
    default: Any,
    why: str,
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None,
    *,
    counts: bool = False,
    span: tuple[Bound, ...] = (),
) -> Any:
    """A config field; ``choices`` may be a function, read at validation time (the model table);
    ``counts``: a text field of comma-separated numbers, where one number alone is read as text too;
    ``span``: the bounds ``resolve`` checks once defaults are filled."""
    return field(default=default, metadata={"why": why, "choices": choices, "counts": counts, "span": span})


def _dataset_names() -> tuple[str, ...]:
    from gnnviz.datasets import DATASETS  # the table, read at validation time: the schema loads no dataset code

    return tuple(DATASETS)


def _refused_datasets() -> dict[str, str]:
    from gnnviz.datasets import REFUSED

    return REFUSED


@dataclass
class DatasetConfig:
    name: str = _f("cora", "which graph(s) to learn on: a name in the dataset table (gnnviz/datasets/)", _dataset_names)
    normalize_features: bool | None = _f(None, "row-normalise features as the GAT/GCN papers do; null = the dataset's default")
    batch_size: int = _f(1, "graphs per mini-batch for multi-graph datasets (PPI); the GAT paper uses 2", span=at_least(1))
    # The synthetic dataset's settings (gnnviz/datasets/synthetic.py, whose SyntheticParams hold the defaults
    # named here): null = its default; refused for other datasets; checked there.
    nodes: int | None = _f(None, "synthetic: number of nodes; null = 10000")
    blocks: int | None = _f(None, "synthetic: number of blocks, one class each; null = 5")
    mean_degree: float | None = _f(None, "synthetic: neighbours per node on average; null = 10.0")
    homophily: float | None = _f(None, "synthetic: share of a node's neighbours in its own block, 0 to 1; null = 0.8")
    features: int | None = _f(None, "feature count (ba_shapes, tree_cycles, tree_grid: null = 10); synthetic: null = 32")
    feature_noise: float | None = _f(
        None,
        "synthetic: share of nodes whose features come from a random block, 0 to 1 (1 = features say nothing of the label); "
        "null = 0.5",
    )
    train_fraction: float | None = _f(
        None,
        "share of nodes in the training split (ba_shapes, tree_cycles, tree_grid, infection: null = 0.8; dictionary_lookup: of its copies, null = 0.8; minesweeper: null = 0.5); synthetic: null = 0.1",
    )
    val_fraction: float | None = _f(
        None, "share of nodes in the validation split (minesweeper: null = 0.25); other generated datasets: null = 0.1"
    )
    test_fraction: float | None = _f(
        None,
        "share of nodes in the test split, the rest unlabelled (ba_shapes, tree_cycles, tree_grid, infection, dictionary_lookup: null = 0.1; minesweeper: null = 0.25); synthetic: null = 0.2",
    )
    seed: int | None = _f(None, "generated datasets: seed of the graph, features and split (run.seed seeds training); null = 0")
    # The settings of the graphs with known explanations (gnnviz/datasets/groundtruth.py; features, splits and
    # seed above are theirs too, with their own defaults there): null = the dataset's default; refused for others.
    base_nodes: int | None = _f(None, "ba_shapes, infection: nodes of the base graph; null = 300 (ba_shapes), 500 (infection)")
    base_edges: int | None = _f(None, "ba_shapes: edges from each new Barabasi-Albert node to earlier ones; null = 5")
    tree_depth: int | None = _f(None, "tree_cycles, tree_grid: depth of the binary base tree; null = 8")
    motifs: int | None = _f(None, "ba_shapes, tree_cycles, tree_grid: motifs attached to the base graph; null = 80")
    node_features: str | None = _f(
        None,
        "ba_shapes, tree_cycles, tree_grid: constant (the literature's), degree (one-hot) or random; null = constant",
        ("constant", "degree", "random"),
    )
    edge_prob: float | None = _f(None, "infection: Erdos-Renyi edge probability; null = 0.004")
    infected: int | None = _f(None, "infection: infected nodes; null = 50")
    max_path_length: int | None = _f(None, "infection: the farthest distance to infection with a class of its own; null = 3")
    # dictionary_lookup's settings (gnnviz/datasets/dictionary_lookup.py, LookupParams); it also takes the three fractions (of
    # its copies: defaults 0.8, 0.1, 0.1) and the seed above.
    keys: int | None = _f(None, "dictionary_lookup: key nodes (and query nodes) per copy, k; null = 10")
    graphs: int | None = _f(None, "dictionary_lookup: copies of the k-by-k bipartite graph, each with its own values; null = 500")
    # minesweeper's settings (gnnviz/datasets/minesweeper.py, MinesweeperParams); it also takes the three fractions (null =
    # 0.5, 0.25, 0.25, the paper's) and the seed above.
    grid_size: int | None = _f(None, "minesweeper: cells along each side of the square grid; null = 100 (10,000 nodes)")
    mine_fraction: float | None = _f(None, "minesweeper: share of cells that are mines (the positive class); null = 0.2")
    hidden_fraction: float | None = _f(None, "minesweeper: share of cells whose neighbouring-mine count is hidden; null = 0.5")


@dataclass
class ModelConfig:
    name: str = _f("gat", "which architecture: a name in the model table (gnnviz/architectures.py)", model_names)
    hidden: int | None = _f(
        None,
        "hidden width per layer, all heads together: 64 with 8 heads is 8 features per head (a multiple of heads); "
        "null = model default",
        span=at_least(1),
    )
    heads: int | None = _f(
        None, "attention heads in hidden layers (attention models only); null = model default", span=at_least(1)
    )
    out_heads: int | None = _f(None, "attention heads in the output layer, averaged; null = model default", span=at_least(1))
    layers: int = _f(2, "number of message-passing layers, output layer included", span=at_least(1))
    dropout: float | None = _f(None, "dropout on each layer's input features; null = model default", span=UNIT)
    attn_dropout: float | None = _f(
        None, "dropout on attention coefficients (attention models only); null = model default", span=UNIT
    )
    residual: bool = _f(False, "skip connections around each layer (the GAT paper's PPI model)")
    aggr: str | None = _f(None, "neighbour aggregation for sage; null = mean", ("mean", "max", "sum"))
    separate_self: str | None = _f(
        None,
        "keep each node's own transformed features apart from its aggregated neighbours' in every layer (Platonov et al. 2023's GAT-sep, GCN-sep; for heterophilous graphs): concat or sum them; none = the usual self-loop; null = none",
        ("none", "concat", "sum"),
    )


@dataclass
class TrainingConfig:
    epochs: int = _f(1000, "upper bound on epochs; early stopping usually ends sooner", span=at_least(1))
    patience: int = _f(
        100,
        "epochs to wait before stopping: under metric_or_loss, epochs in which the val metric stays below its best and the val loss above its lowest; under metric, epochs without a better val metric; 0 = never stop",
        span=at_least(0),
    )
    lr: float = _f(0.005, "Adam learning rate", span=POSITIVE)
    weight_decay: float = _f(5e-4, "Adam L2 penalty", span=NOT_NEGATIVE)
    early_stopping: str = _f(
        "metric_or_loss",
        "metric_or_loss (GAT paper): the wait resets when the val metric reaches its best or the val loss its lowest (ties count), state kept where both hold; metric: val metric only, ties broken by lower loss; loss: the state of lowest val loss (the other rules may keep an early, barely trained state)",
        ("metric_or_loss", "metric", "loss"),
    )
    fast: bool = _f(True, "sparse-aware fast path (same model and maths); false = the plain dense PyG way")
    snapshots: int = _f(
        0,
        "every N epochs (and before the first) keep attention summaries in snapshots.json, drawn by visualize against the epoch; 0 = off",
        span=at_least(0),
    )
    batch_size: int = _f(
        0,
        "single-graph datasets: seed (training) nodes per mini-batch, one optimiser step each; 0 = full batch, one step per epoch (dataset.batch_size counts whole graphs, for PPI)",
        span=at_least(0),
    )
    num_neighbors: str | None = _f(
        None,
        "with training.batch_size: neighbours sampled per node and layer, first layer first, e.g. '15,10' (PyG NeighborLoader; -1 = all); null = all neighbours, exact receptive fields",
        counts=True,
    )


@dataclass
class RunConfig:
    seed: int = _f(0, "seeds torch, numpy and random so a run can be repeated exactly on CPU", span=SEED)
    device: str = _f("auto", "auto, cpu, cuda or cuda:N; auto takes CUDA when present")
    tensorboard: bool = _f(False, "write TensorBoard event files into RUN/tb (pip install gnnviz[tensorboard])")
    embedding: str = _f(
        "tsne",
        "visualize's 2-D map of the embeddings when --embedding is not given (umap: pip install gnnviz[umap])",
        ("tsne", "umap", "pca"),
    )


@dataclass
class Config:
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    def to_yaml(self, comments: bool = False) -> str:
        """The config as YAML; ``comments``: each key under its one-line why (``--print-config``)."""
        if not comments:
            return yaml.safe_dump(self.to_dict(), sort_keys=False)
        import textwrap

        lines = []
        for section, values in self.to_dict().items():
            lines.append(f"{section}:")
            whys = {f.name: f.metadata.get("why", "") for f in dataclasses.fields(SECTIONS[section])}
            for key, value in values.items():
                lines += textwrap.wrap(whys[key], 100, initial_indent="  # ", subsequent_indent="  # ")
                lines.append("  " + yaml.safe_dump({key: value}, sort_keys=False).rstrip("\n"))
        return "\n".join(lines) + "\n"


SECTIONS: dict[str, type] = {
    "dataset": DatasetConfig,
    "model": ModelConfig,
    "training": TrainingConfig,
    "run": RunConfig,
}

# Keys that no longer exist, with why: a config naming one fails with this rather than "unknown key".
REMOVED = {
    "training.loss": "the loss follows the dataset's task (cross-entropy for multi-class, binary cross-entropy for multi-label), "
    "so nothing read it",
}

# Names other libraries and papers give gnnviz's keys: a config using one is told the key to use
# (difflib finds "lrr" -> "lr", but not "learning_rate" -> "lr").
ALSO_CALLED = {
    "training.learning_rate": "lr",
    "training.lr_rate": "lr",
    "training.max_epochs": "epochs",
    "training.num_epochs": "epochs",
    "training.n_epochs": "epochs",
    "training.wd": "weight_decay",
    "training.l2": "weight_decay",
    "training.early_stopping_patience": "patience",
    "model.hidden_channels": "hidden",
    "model.hidden_dim": "hidden",
    "model.hidden_size": "hidden",
    "model.num_heads": "heads",
    "model.n_heads": "heads",
    "model.num_layers": "layers",
    "model.n_layers": "layers",
    "model.attention_dropout": "attn_dropout",
    "model.arch": "name",
    "model.architecture": "name",
    "dataset.dataset": "name",
    "run.random_seed": "seed",
}


def key_hint(section: str, key: str, fields: Any) -> str:
    """``" (did you mean 'lr'?)"`` for an unknown ``section.key``: its usual other name, else the closest field."""
    from gnnviz.errors import did_you_mean

    known = ALSO_CALLED.get(f"{section}.{key}")
    return f" (did you mean '{known}'?)" if known else did_you_mean(str(key), fields)


# Values that name something real that gnnviz cannot take, with why and what to use instead.
REFUSED_VALUES: dict[str, Callable[[], dict[str, str]]] = {"dataset.name": _refused_datasets}


def span(key: str) -> tuple[Bound, ...]:
    """The bounds of ``section.field``."""
    section, name = key.split(".")
    return next(f for f in dataclasses.fields(SECTIONS[section]) if f.name == name).metadata["span"]


def removed(key: str, fix: str) -> str:
    return f"{key} was removed: {REMOVED[key]}; {fix}"
