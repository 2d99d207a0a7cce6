import pytest
import torch

from gnnviz.datasets import load_dataset
from gnnviz.datasets.base import MULTICLASS, MULTILABEL
from gnnviz.datasets.inventory import describe_datasets
from gnnviz.errors import ConfigError, DataError
from tests.support.ppi_fixture import write_ppi_raw


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
    generated = {"synthetic", "ba_shapes", "tree_cycles", "tree_grid", "infection", "dictionary_lookup", "minesweeper"}
    assert set(infos) == {"cora", "citeseer", "ppi", "karate", "ogbn-arxiv", "ogbn-products"} | generated
    assert all(infos[n].status.startswith("generated") for n in generated)
    assert infos["cora"].nodes == 2708 and infos["cora"].edges == 5278
    assert infos["citeseer"].nodes == 3327
    assert infos["karate"].status == "embedded" and infos["karate"].nodes == 34
    assert infos["ppi"].status == "not available"
    assert infos["ogbn-arxiv"].status == "not available" and infos["ogbn-products"].status == "not available"
    assert infos["synthetic"].status.startswith("generated") and infos["synthetic"].nodes == 10_000
    assert infos["synthetic"].classes == 5 and infos["synthetic"].features == 32


# ----------------------------------------------------------------------------- raw files that disagree

CORA_FILES = [f"ind.cora.{k}" for k in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")]


def _cora_copy(mirror, root):
    import shutil

    shutil.copytree(mirror / "Cora" / "raw", root / "Cora" / "raw")
    return root / "Cora" / "raw"


def _refused(root, bad) -> str:
    with pytest.raises(DataError) as exc:
        load_dataset("cora", root)
    msg = str(exc.value)
    assert msg.startswith(f"raw file {bad} ") and msg.endswith("(or download it)"), msg
    assert not (root / "Cora" / "processed").exists(), "nothing processed from a bad file"
    return msg


@pytest.mark.parametrize("source", ["citeseer", "cora"])
def test_a_raw_file_of_another_dataset_or_kind_is_named_before_pyg_reads_it(tmp_path, mirror, no_mirror, source):
    # Every Cora file in turn replaced by CiteSeer's file of the same kind, or by another Cora file.
    raw = _cora_copy(mirror, tmp_path)
    for i, name in enumerate(CORA_FILES):
        good = (raw / name).read_bytes()
        if source == "citeseer":
            (raw / name).write_bytes((mirror / "CiteSeer" / "raw" / name.replace("cora", "citeseer")).read_bytes())
        else:
            (raw / name).write_bytes((raw / CORA_FILES[(i + 1) % len(CORA_FILES)]).read_bytes())
        _refused(tmp_path, raw / name)
        (raw / name).write_bytes(good)


def test_known_sizes_are_not_needed_to_name_the_odd_file(tmp_path, mirror, no_mirror, monkeypatch):
    from gnnviz.datasets import planetoid

    monkeypatch.setattr(planetoid, "_PLANETOID_SIZES", {})  # a Planetoid dataset whose sizes gnnviz does not know
    raw = _cora_copy(mirror, tmp_path)
    (raw / "ind.cora.tx").write_bytes((mirror / "CiteSeer" / "raw" / "ind.citeseer.tx").read_bytes())
    assert "gives a feature count of 3703 but the other Cora files say 1433" in _refused(tmp_path, raw / "ind.cora.tx")
    (raw / "ind.cora.tx").write_bytes((mirror / "Cora" / "raw" / "ind.cora.tx").read_bytes())
    import pickle

    y = pickle.loads((raw / "ind.cora.y").read_bytes(), encoding="latin1")
    (raw / "ind.cora.y").write_bytes(pickle.dumps(y[:120], protocol=2))  # another version: 120 labelled nodes
    with pytest.raises(DataError, match=r"^raw files .*ind.cora.x and .*ind.cora.y disagree on the labelled-node count"):
        load_dataset("cora", tmp_path)


def test_a_raw_pickle_that_would_run_code_is_refused_unrun(tmp_path, mirror, no_mirror):
    import pickle

    raw = _cora_copy(mirror, tmp_path)
    marker = tmp_path / "ran"
    (raw / "ind.cora.graph").write_bytes(pickle.dumps(_Runs(str(marker)), protocol=2))
    assert "holds Python objects beyond arrays (posix.system) and was refused unrun" in _refused(tmp_path, raw / "ind.cora.graph")
    assert not marker.exists()


class _Runs:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.path}",))


def test_a_processed_cache_is_valid_only_for_the_raw_files_it_was_built_from(tmp_path, mirror, no_mirror):
    raw = _cora_copy(mirror, tmp_path)
    assert load_dataset("cora", tmp_path).train[0].num_nodes == 2708
    good = (raw / "ind.cora.x").read_bytes()
    (raw / "ind.cora.x").write_bytes((mirror / "CiteSeer" / "raw" / "ind.citeseer.x").read_bytes())
    _refused(tmp_path, raw / "ind.cora.x")  # not hidden by the cache built from the good file
    (raw / "ind.cora.x").write_bytes(good)
    ds = load_dataset("cora", tmp_path)  # good files back: a correct graph, nothing poisoned
    assert (ds.train[0].num_nodes, ds.num_features, ds.num_classes) == (2708, 1433, 7)
