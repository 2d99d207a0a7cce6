import pytest
import torch

from gnnviz.data import MULTICLASS, MULTILABEL, describe_datasets, load_dataset
from gnnviz.errors import ConfigError, DataError
from tests.ppi_fixture import write_ppi_raw


def test_karate_split_is_disjoint_stratified_and_fixed():
    ds = load_dataset("karate")
    g = ds.train[0]
    masks = torch.stack([g.train_mask, g.val_mask, g.test_mask])
    assert (masks.sum(0) == 1).all(), "every node in exactly one split"
    for c in range(ds.num_classes):
        for m in masks:
            assert (m & (g.y == c)).any(), "each class in each split"
    assert torch.equal(load_dataset("karate").train[0].train_mask, g.train_mask)
    assert ds.task == MULTICLASS and ds.transductive and ds.metric == "accuracy"


def test_unknown_dataset_suggests():
    with pytest.raises(ConfigError, match=r"unknown dataset 'cora2'.*did you mean 'cora'"):
        load_dataset("cora2")


def test_cora_from_the_mirror(with_mirror, tmp_path):
    ds = load_dataset("cora", tmp_path)
    g = ds.train[0]
    assert (g.num_nodes, ds.num_features, ds.num_classes) == (2708, 1433, 7)
    assert (int(g.train_mask.sum()), int(g.val_mask.sum()), int(g.test_mask.sum())) == (140, 500, 1000)
    assert g.edge_index.size(1) == 10556  # 5,278 undirected edges, both directions
    sums = g.x.sum(1)
    assert torch.allclose(sums[sums > 0], torch.ones_like(sums[sums > 0])), "row-normalised features"
    assert (tmp_path / "Cora" / "raw" / "ind.cora.x").is_file(), "raw files copied into the data root"


def test_citeseer_from_the_mirror(with_mirror, tmp_path):
    ds = load_dataset("citeseer", tmp_path)
    g = ds.train[0]
    assert (g.num_nodes, ds.num_features, ds.num_classes) == (3327, 3703, 6)
    assert int(g.train_mask.sum()) == 120


def test_missing_dataset_offline_names_files_and_both_fixes(no_mirror, tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset("cora", tmp_path)
    msg = str(exc.value)
    assert "ind.cora.x" in msg and "GNNVIZ_DATA_MIRROR" in msg and str(tmp_path / "Cora" / "raw") in msg
    assert not (tmp_path / "Cora").exists(), "no half-made dataset folder"


def test_ppi_loader_on_small_raw_graphs(tmp_path):
    write_ppi_raw(tmp_path / "PPI", graphs=(3, 1, 2), labels=5)
    ds = load_dataset("ppi", tmp_path)
    assert ds.task == MULTILABEL and ds.metric == "micro_f1" and not ds.transductive
    assert (len(ds.train), len(ds.val), len(ds.test)) == (3, 1, 2)
    assert ds.num_classes == 5 and ds.num_features == 16
    g = ds.test[0]
    assert g.y.shape == (g.num_nodes, 5) and g.test_mask.all() and not g.train_mask.any()
    assert (tmp_path / "PPI" / "processed").is_dir()


def test_describe_lists_every_dataset(with_mirror, tmp_path):
    infos = {d.name: d for d in describe_datasets(tmp_path)}
    assert set(infos) == {"cora", "citeseer", "ppi", "karate", "synthetic", "ogbn-arxiv", "ogbn-products"}
    assert infos["cora"].nodes == 2708 and infos["cora"].edges == 5278
    assert infos["citeseer"].nodes == 3327
    assert infos["karate"].status == "embedded" and infos["karate"].nodes == 34
    assert infos["ppi"].status == "not available"
    assert infos["ogbn-arxiv"].status == "not available" and infos["ogbn-products"].status == "not available"
    assert infos["synthetic"].status.startswith("generated") and infos["synthetic"].nodes == 10_000
    assert infos["synthetic"].classes == 5 and infos["synthetic"].features == 32
