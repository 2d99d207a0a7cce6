"""The synthetic dataset: the block model's known answers, determinism, config and a run of it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from gnnviz.config import load_config
from gnnviz.datasets import load_dataset
from gnnviz.datasets.synthetic import SyntheticParams, generate, synthetic_params
from gnnviz.errors import ConfigError


def graph(**settings):
    return generate(SyntheticParams(**settings)).train[0]


def edge_homophily(g) -> float:
    src, dst = g.edge_index
    return float((g.y[src] == g.y[dst]).float().mean())


@pytest.mark.parametrize("homophily", [0.2, 0.7, 0.95])
def test_measured_homophily_and_mean_degree_are_the_settings(homophily):
    g = graph(nodes=3000, blocks=4, mean_degree=8, homophily=homophily)
    assert edge_homophily(g) == pytest.approx(homophily, abs=0.03)
    assert g.edge_index.size(1) / g.num_nodes == pytest.approx(8, abs=0.4), "mean degree (both directions counted once per end)"


def test_homophily_one_gives_no_edge_between_blocks_and_zero_none_inside():
    assert edge_homophily(graph(nodes=1000, blocks=5, homophily=1.0)) == 1.0
    assert edge_homophily(graph(nodes=1000, blocks=5, homophily=0.0)) == 0.0


def test_edges_are_undirected_sorted_simple_and_blocks_are_not_id_ranges():
    g = graph(nodes=1000, blocks=4)
    src, dst = g.edge_index
    assert (src != dst).all(), "no self-loops"
    key = src * g.num_nodes + dst
    assert (key[1:] > key[:-1]).all(), "sorted by (source, target), no repeats"
    assert set(zip(src.tolist(), dst.tolist(), strict=True)) == set(zip(dst.tolist(), src.tolist(), strict=True))
    assert len(set(g.y[:250].tolist())) == 4, "node ids shuffled across blocks"
    assert torch.bincount(g.y).tolist() == [250, 250, 250, 250], "equal blocks"


def test_same_settings_same_graph_and_another_seed_another():
    a, b, c = graph(nodes=800), graph(nodes=800), graph(nodes=800, seed=1)
    for key in ("edge_index", "x", "y", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(a[key], b[key]), key
    assert not torch.equal(a.edge_index, c.edge_index) and not torch.equal(a.x, c.x)


def test_splits_are_disjoint_shares_of_the_nodes():
    g = graph(nodes=1000, train_fraction=0.3, val_fraction=0.2, test_fraction=0.4)
    masks = torch.stack([g.train_mask, g.val_mask, g.test_mask])
    assert masks.sum(1).tolist() == [300, 200, 400]
    assert (masks.sum(0) <= 1).all(), "a node is in one split at most"


def feature_only_accuracy(feature_noise: float, blocks: int = 4) -> float:
    from sklearn.linear_model import LogisticRegression

    g = graph(
        nodes=3000,
        blocks=blocks,
        features=16,
        feature_noise=feature_noise,
        train_fraction=0.5,
        val_fraction=0.1,
        test_fraction=0.4,
    )
    fit = LogisticRegression(max_iter=500).fit(g.x[g.train_mask].numpy(), g.y[g.train_mask].numpy())
    return float(fit.score(g.x[g.test_mask].numpy(), g.y[g.test_mask].numpy()))


@pytest.mark.parametrize("feature_noise", [0.0, 0.5, 1.0])
def test_feature_noise_sets_what_a_feature_only_model_can_reach(feature_noise):
    # Known answer: right on the nodes shown their own block's centre, chance on the others.
    ceiling = 1 - feature_noise * (4 - 1) / 4
    assert feature_only_accuracy(feature_noise) == pytest.approx(ceiling, abs=0.04)


def test_features_fewer_than_blocks_still_work():
    g = graph(nodes=500, blocks=6, features=2)
    assert g.x.shape == (500, 2) and torch.isfinite(g.x).all()


# ----------------------------------------------------------------------------- config


def test_config_fills_the_defaults_and_feeds_the_generator():
    cfg = load_config(None, ["dataset.name=synthetic", "dataset.nodes=500", "dataset.homophily=0.9"])
    params = synthetic_params(cfg.dataset)
    assert params == dataclasses.replace(SyntheticParams(), nodes=500, homophily=0.9)
    assert cfg.dataset.normalize_features is False
    assert synthetic_params(load_config(None, ["dataset.name=karate"]).dataset) is None
    ds = load_dataset("synthetic", params=params)
    assert ds.train[0].num_nodes == 500 and ds.num_classes == SyntheticParams().blocks
    with pytest.raises(TypeError, match=r"needs params=SyntheticParams"):
        load_dataset("synthetic")  # never the defaults in place of what a config says


BAD = {
    "blocks": (["dataset.blocks=1"], "dataset.blocks=1 must be at least 2"),
    "nodes": (["dataset.nodes=7"], "dataset.nodes=7 must be at least 10 (two nodes a block, dataset.blocks=5)"),
    "degree": (["dataset.mean_degree=0"], "dataset.mean_degree=0.0 must be greater than 0"),
    "homophily": (["dataset.homophily=1.5"], "dataset.homophily=1.5 must be in [0, 1]"),
    "features": (["dataset.features=0"], "dataset.features=0 must be at least 1"),
    "noise": (["dataset.feature_noise=-0.1"], "dataset.feature_noise=-0.1 must be in [0, 1]"),
    "train": (["dataset.train_fraction=0"], "dataset.train_fraction=0.0 must be greater than 0 and at most 1"),
    "tiny_val": (["dataset.nodes=100", "dataset.val_fraction=0.001"], "dataset.val_fraction=0.001 of dataset.nodes=100 is no node; raise it to at least 0.01"),
    "sum": (["dataset.train_fraction=0.5", "dataset.test_fraction=0.6"], "dataset.train_fraction + val_fraction + test_fraction = 1.2 must be at most 1"),
    "seed": (["dataset.seed=-1"], "dataset.seed=-1 must be at least 0"),
    "inside": (
        ["dataset.nodes=100", "dataset.mean_degree=30"],
        "dataset.mean_degree=30 with dataset.homophily=0.8 asks for 24 neighbours inside a block of 20 nodes",
    ),
    "across": (
        ["dataset.nodes=20", "dataset.blocks=2", "dataset.homophily=0", "dataset.mean_degree=12"],
        "asks for 12 neighbours outside a node's block, which has only 10 nodes outside it",
    ),
    "normalize": (["dataset.normalize_features=true"], "dataset.normalize_features=true divides each row by its sum"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD)
def test_each_bad_setting_is_one_clear_error(case):
    overrides, message = BAD[case]
    with pytest.raises(ConfigError) as exc:
        load_config(None, ["dataset.name=synthetic", *overrides])
    assert message in str(exc.value)


def test_synthetic_settings_are_refused_for_other_datasets():
    with pytest.raises(ConfigError, match=r"dataset.nodes is only for synthetic; remove it for dataset.name=cora"):
        load_config(None, ["dataset.name=cora", "dataset.nodes=100"])


def test_config_file_names_the_line_of_a_bad_value(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("dataset:\n  name: synthetic\n  nodes: many\n")
    with pytest.raises(ConfigError, match=rf"{path}:3: dataset.nodes=many must be a whole number"):
        load_config(path)


# ----------------------------------------------------------------------------- a run of it


def test_a_synthetic_run_stores_the_graph_its_config_rebuilds(tmp_path):
    from gnnviz.experiment import train
    from gnnviz.runs.store import load_graphs
    from gnnviz.viz.load import load_arrays

    cfg = load_config(
        "configs/gat_synthetic.yaml", ["dataset.nodes=400", "training.epochs=3", "model.hidden=16", "model.heads=2"]
    )
    run = train(cfg, out=tmp_path, quiet=True)
    stored = load_graphs(run)[0][0]
    rebuilt = generate(synthetic_params(load_config(run / "config.yaml").dataset)).train[0]
    for key in ("edge_index", "x", "y", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(stored[key], rebuilt[key]), key
    arrays = load_arrays(run)  # what visualize draws from
    assert arrays.dataset == "Synthetic" and arrays.num_nodes == 400
    assert np.array_equal(arrays.y, rebuilt.y.numpy())


def test_an_unwritable_temporary_folder_is_one_clear_error(tmp_path, monkeypatch):
    from gnnviz.errors import DataError

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "missing"))
    with pytest.raises(DataError, match=rf"temporary file in {tmp_path / 'missing'} .*set TMPDIR"):
        graph(nodes=100)


def test_the_config_schema_names_the_generator_defaults():
    # config/schema.py cannot import the generator (config loads no dataset code), so its field
    # texts spell SyntheticParams' defaults out; this keeps the two from drifting apart.
    import dataclasses

    from gnnviz.config.schema import DatasetConfig

    why = {f.name: f.metadata["why"] for f in dataclasses.fields(DatasetConfig)}
    for f in dataclasses.fields(SyntheticParams):
        assert why[f.name].endswith(f"null = {f.default}"), f.name
