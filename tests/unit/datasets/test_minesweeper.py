"""``minesweeper``: the generator reproduces Platonov et al.'s published statistics (10,000 nodes,
39,402 undirected edges, edge homophily 0.68) at the default settings, every shown number is the
count of mines around its cell, a seed gives one board, and the settings are checked before
anything starts."""

import numpy as np
import pytest
from torch_geometric.utils import homophily, is_undirected

from gnnviz.config import load_config
from gnnviz.datasets import generated_params, load_dataset
from gnnviz.datasets.base import BINARY
from gnnviz.datasets.minesweeper import MinesweeperParams, generate
from gnnviz.errors import ConfigError


def test_the_default_board_has_the_published_statistics():
    cfg = load_config(None, ["dataset.name=minesweeper"])
    ds = load_dataset("minesweeper", params=generated_params(cfg.dataset))
    g = ds.train[0]
    assert ds.task == BINARY and ds.metric == "roc_auc" and ds.num_classes == 2 and ds.num_features == 10
    assert g.num_nodes == 10_000 and g.edge_index.size(1) == 2 * 39_402 and is_undirected(g.edge_index)
    assert not bool((g.edge_index[0] == g.edge_index[1]).any())
    assert int(g.y.sum()) == 2_000 and int(g.x[:, 9].sum()) == 5_000  # 20% mines, 50% hidden
    # Mines ignore the graph, so the expected edge homophily is 0.8^2 + 0.2^2 = 0.68; over 39,402
    # edges of fixed 2,000 mines its sampling s.d. is about 0.003 (edges share nodes), 0.015 is 5 s.d.
    h = homophily(g.edge_index, g.y, method="edge")
    assert h == pytest.approx(0.68, abs=0.015)
    assert [int(g[f"{s}_mask"].sum()) for s in ("train", "val", "test")] == [5_000, 2_500, 2_500]


def test_every_shown_number_counts_the_mines_around_its_cell():
    side = 7
    g = generate(MinesweeperParams(grid_size=side, seed=4)).train[0]
    mine = g.y.numpy().reshape(side, side)
    padded = np.pad(mine, 1)
    # An independent count: the 3x3 window around each cell minus the cell itself.
    around = sum(padded[1 + dr : 1 + dr + side, 1 + dc : 1 + dc + side] for dr in (-1, 0, 1) for dc in (-1, 0, 1)) - mine
    x = g.x.numpy()
    hidden = x[:, 9] == 1
    assert np.all(x.sum(1) == 1)  # one-hot count or the hidden indicator, never both
    assert np.array_equal(x[~hidden, :9].argmax(1), around.ravel()[~hidden])
    src, dst = g.edge_index.numpy()
    degree = np.bincount(dst, minlength=side * side).reshape(side, side)
    assert degree[0, 0] == 3 and degree[0, 3] == 5 and degree[3, 3] == 8  # corner, edge, inside


def test_the_same_seed_gives_the_same_board():
    p = MinesweeperParams(grid_size=20, seed=5)
    a, b = generate(p).train[0], generate(p).train[0]
    for f in ("x", "y", "edge_index", "train_mask", "val_mask", "test_mask"):
        assert np.array_equal(getattr(a, f).numpy(), getattr(b, f).numpy()), f
    other = generate(MinesweeperParams(grid_size=20, seed=6)).train[0]
    assert not np.array_equal(a.y.numpy(), other.y.numpy()) and not np.array_equal(a.x.numpy(), other.x.numpy())


@pytest.mark.parametrize(
    "setting, message",
    [
        ("dataset.grid_size=1", "dataset.grid_size=1 must be in [2, 3000] (cells along a side)"),
        ("dataset.mine_fraction=0", "dataset.mine_fraction=0.0 must be greater than 0 and below 1 (both classes must occur)"),
        ("dataset.hidden_fraction=1.5", "dataset.hidden_fraction=1.5 must be in [0, 1]"),
        ("dataset.test_fraction=0.00001", "dataset.test_fraction=1e-05 of dataset.grid_size=100 (10000 cells) is no node"),
        ("dataset.homophily=0.5", "dataset.homophily is only for synthetic; remove it for dataset.name=minesweeper"),
    ],
)
def test_settings_are_checked_before_anything_starts(setting, message):
    with pytest.raises(ConfigError) as exc:
        load_config(None, ["dataset.name=minesweeper", setting])
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_a_setting_of_another_dataset_is_refused():
    with pytest.raises(ConfigError, match=r"dataset.grid_size is only for minesweeper; remove it for dataset.name=synthetic"):
        load_config(None, ["dataset.name=synthetic", "dataset.grid_size=10"])
