"""The ``minesweeper`` dataset: a heterophilous graph regenerated after Platonov et al. 2023 ("A
critical look at the evaluation of GNNs under heterophily: are we really making progress?").

Graph: a ``grid_size`` x ``grid_size`` grid (100 x 100 in the paper), each cell joined to its up to
8 neighbours (PyG's ``torch_geometric.utils.grid``, its self-loops removed): 10,000 nodes and
39,402 undirected edges at the default size. Node id ``row * grid_size + column``, kept in grid order.

Target (binary, ``datasets.BINARY``): whether a cell is a mine; a share ``mine_fraction`` (20%)
of the cells, drawn uniformly without replacement. Mines are placed independently of the graph,
so edge homophily is about ``m^2 + (1 - m)^2`` (0.68 at 20%): neighbours say little of a node's
own class, and a node is never told its own state.

Features [N, 10]: the one-hot number of neighbouring mines (0..8), and a last column set for the
share ``hidden_fraction`` (50%) of cells whose number is hidden (their one-hot part is all zero),
as in the paper. A model must read a cell's state from its neighbours' numbers.

Splits: random shares of all cells (the paper's 50% / 25% / 25%).

The same settings give the same board: mines, hidden cells and split are drawn from
``numpy.random.default_rng(seed)``; the grid itself has no randomness.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gnnviz.datasets.base import BINARY, GENERATED, DatasetSpec, GraphDataset
from gnnviz.datasets.splits import check_shares, split_masks
from gnnviz.errors import ConfigError

MAX_GRID = 3000  # 9 million cells and 36 million undirected edges: past this, building takes minutes
COUNTS = 9  # a cell has 0..8 mines around it


@dataclass(frozen=True)
class MinesweeperParams:
    """What a minesweeper board is made from; ``dataset.<field>`` in a config (defaults here: the paper's)."""

    grid_size: int = 100
    mine_fraction: float = 0.2
    hidden_fraction: float = 0.5
    train_fraction: float = 0.5
    val_fraction: float = 0.25
    test_fraction: float = 0.25
    seed: int = 0


def check(d: Any) -> None:
    """Ranges of the board's settings (called by config validation)."""
    if not 2 <= d.grid_size <= MAX_GRID:
        raise ConfigError(f"dataset.grid_size={d.grid_size} must be in [2, {MAX_GRID}] (cells along a side)")
    cells = d.grid_size**2
    if not 0 < d.mine_fraction < 1:
        raise ConfigError(f"dataset.mine_fraction={d.mine_fraction} must be greater than 0 and below 1 (both classes must occur)")
    mines = round(d.mine_fraction * cells)
    if mines in (0, cells):
        raise ConfigError(
            f"dataset.mine_fraction={d.mine_fraction} of {cells} cells makes {mines} mines, so one class is empty; "
            f"raise dataset.grid_size or move dataset.mine_fraction towards 0.5"
        )
    if not 0 <= d.hidden_fraction <= 1:
        raise ConfigError(f"dataset.hidden_fraction={d.hidden_fraction} must be in [0, 1]")
    check_shares(d, cells, f"dataset.grid_size={d.grid_size} ({cells} cells)", "node")
    if not 0 <= d.seed < 2**32:
        raise ConfigError(f"dataset.seed={d.seed} must be in [0, 2**32)")


def generate(p: MinesweeperParams) -> GraphDataset:
    """The board, features, target and split that ``p`` describes (one transductive graph).

    Shapes: ``x`` [n^2, 10] float32, ``y`` [n^2] int64 (1 = mine), ``edge_index`` [2, 2E] both
    directions, sorted by (source, target), no self-loops; a hidden number is ``x[:, 9] == 1``.
    """
    import numpy as np
    import torch
    from torch_geometric.data import Data
    from torch_geometric.utils import grid, remove_self_loops

    side = p.grid_size
    n = side * side
    rng = np.random.default_rng(p.seed)
    edge_index, _ = remove_self_loops(grid(side, side)[0])
    key = np.sort(edge_index[0].numpy() * n + edge_index[1].numpy())
    src, dst = key // n, key % n

    mine = np.zeros(n, dtype=bool)
    mine[rng.permutation(n)[: round(p.mine_fraction * n)]] = True
    around = np.bincount(dst, weights=mine[src], minlength=n).astype(np.int64)  # mines among each cell's neighbours
    hidden = np.zeros(n, dtype=bool)
    hidden[rng.permutation(n)[: round(p.hidden_fraction * n)]] = True
    x = np.zeros((n, COUNTS + 1), dtype=np.float32)
    shown = np.flatnonzero(~hidden)
    x[shown, around[shown]] = 1.0
    x[hidden, COUNTS] = 1.0

    masks = {f"{split}_mask": torch.from_numpy(m) for split, m in split_masks(rng.permutation(n), p).items()}
    g = Data(
        x=torch.from_numpy(x),
        edge_index=torch.from_numpy(np.stack([src, dst])),
        y=torch.from_numpy(mine.astype(np.int64)),
        num_nodes=n,
        **masks,
    )
    return GraphDataset("minesweeper", BINARY, COUNTS + 1, 2, [g], [g], [g])


DATASETS: dict[str, DatasetSpec] = {
    "minesweeper": DatasetSpec(
        "Minesweeper",
        BINARY,
        (),
        generate,
        "Platonov et al.'s heterophilous grid: is a cell a mine, from its neighbours' mine counts (ROC AUC)",
        origin=GENERATED,
        params=MinesweeperParams,
        check=check,
    ),
}
