"""OGB node datasets read from OGB's raw layout (tests/support/ogb_fixture.py writes small ones)."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from gnnviz.config import load_config
from gnnviz.datasets import DATASETS, load_dataset, ogb
from gnnviz.errors import ConfigError, DataError
from tests.support.ogb_fixture import write_ogb_raw

FILES = DATASETS["ogbn-arxiv"].files


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """One fixture written once; each test copies it (writing it is the slow part)."""
    return write_ogb_raw(tmp_path_factory.mktemp("ogb") / "ogbn_arxiv")


@pytest.fixture()
def root(template, tmp_path, no_mirror) -> Path:
    shutil.copytree(template, tmp_path / "root" / "ogbn_arxiv")
    return tmp_path / "root"


def read_gz(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode().split()


def test_loads_graph_features_labels_and_official_split(root):
    ds = load_dataset("ogbn-arxiv", root)
    g = ds.train[0]
    folder = root / "ogbn_arxiv"
    assert ds.transductive and ds.metric == "accuracy" and ds.name == "ogbn-arxiv"
    assert (g.num_nodes, ds.num_features, ds.num_classes) == (300, 8, 4)
    labels = [int(v) for v in read_gz(folder / "raw" / "node-label.csv.gz")]
    assert g.y.tolist() == labels
    first = [float(v) for v in read_gz(folder / "raw" / "node-feat.csv.gz")[0].split(",")]
    assert g.x[0].tolist() == pytest.approx(first, abs=1e-6)
    for split, name in (("train", "train"), ("val", "valid"), ("test", "test")):
        ids = sorted(int(v) for v in read_gz(folder / "split" / "time" / f"{name}.csv.gz"))
        assert g[f"{split}_mask"].nonzero().view(-1).tolist() == ids


def test_edges_become_undirected_each_pair_once(root):
    g = load_dataset("ogbn-arxiv", root).train[0]
    raw = {tuple(int(v) for v in line.split(",")) for line in read_gz(root / "ogbn_arxiv" / "raw" / "edge.csv.gz")}
    both = raw | {(b, a) for a, b in raw}
    assert set(zip(*g.edge_index.tolist(), strict=True)) == both
    assert g.edge_index.size(1) == len(both), "no repeated pair"


def test_products_reads_its_own_split_folder(tmp_path, no_mirror):
    write_ogb_raw(tmp_path / "ogbn_products", split="sales_ranking", nodes=120, classes=3)
    ds = load_dataset("ogbn-products", tmp_path)
    assert ds.train[0].num_nodes == 120 and ds.num_classes == 3


def test_copied_from_the_mirror_with_the_split_folder(template, tmp_path, monkeypatch):
    monkeypatch.setenv("GNNVIZ_DATA_MIRROR", str(template.parent))
    ds = load_dataset("ogbn-arxiv", tmp_path)
    assert ds.train[0].num_nodes == 300
    assert all((tmp_path / "ogbn_arxiv" / f).is_file() for f in FILES)


def test_parsed_once_then_read_from_the_cache_until_a_raw_file_changes(root, monkeypatch):
    first = load_dataset("ogbn-arxiv", root).train[0]
    assert (root / "ogbn_arxiv" / ogb.CACHE).is_file()
    calls = []
    real = ogb.parse
    monkeypatch.setattr(ogb, "parse", lambda *a: calls.append(1) or real(*a))
    again = load_dataset("ogbn-arxiv", root).train[0]
    assert calls == [] and torch.equal(again.x, first.x) and torch.equal(again.edge_index, first.edge_index)
    write_ogb_raw(root / "ogbn_arxiv", seed=1)  # new raw files: the cache no longer describes them
    changed = load_dataset("ogbn-arxiv", root).train[0]
    assert calls == [1] and not torch.equal(changed.x, first.x)


def test_missing_files_offline_are_named_with_both_fixes(tmp_path, no_mirror):
    with pytest.raises(DataError) as exc:
        load_dataset("ogbn-arxiv", tmp_path)
    msg = str(exc.value)
    assert "raw/edge.csv.gz" in msg and "and 5 more" in msg and "GNNVIZ_DATA_MIRROR" in msg
    assert f"put them in {tmp_path / 'ogbn_arxiv'}" in msg and "ogbn_arxiv/ (raw/, split/)" in msg


def test_a_missing_split_file_is_named(root):
    (root / "ogbn_arxiv" / "split" / "time" / "valid.csv.gz").unlink()
    with pytest.raises(DataError, match=r"raw files missing \(split/time/valid.csv.gz\)"):
        load_dataset("ogbn-arxiv", root)


# ----------------------------------------------------------------------------- every file, every damage


def _cut(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _not_gzip(path: Path) -> None:
    path.write_bytes(b"this is not gzip\n")


def _text(path: Path) -> None:
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    lines[0] = "x" + lines[0]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def _empty(path: Path) -> None:
    path.write_bytes(gzip.compress(b""))


DAMAGES = {"cut": _cut, "not_gzip": _not_gzip, "text": _text, "empty": _empty}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("name", FILES)
def test_every_damaged_file_is_named(root, name, damage):
    path = root / "ogbn_arxiv" / name
    DAMAGES[damage](path)
    with pytest.raises(DataError) as exc:
        load_dataset("ogbn-arxiv", root)
    msg = str(exc.value)
    assert str(path) in msg and "truncated or corrupt" in msg and "GNNVIZ_DATA_MIRROR" in msg
    assert not (root / "ogbn_arxiv" / "processed").exists(), "no cache of a bad read"
    assert path.is_file(), "the user's file is left for them to inspect"


def rewrite(path: Path, edit) -> None:
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    path.write_bytes(gzip.compress(("\n".join(edit(lines)) + "\n").encode()))


CONTENT = {
    "short_labels": ("raw/node-label.csv.gz", lambda ls: ls[:-1], "node-label.csv.gz has 299 lines, num-node-list.csv.gz says 300"),
    "ragged_features": ("raw/node-feat.csv.gz", lambda ls: [ls[0] + ",1.0", *ls[1:]], "raw/node-feat.csv.gz"),
    "edge_out_of_range": ("raw/edge.csv.gz", lambda ls: ["0,300", *ls[1:]], "edge endpoint 300 is outside 0..299"),
    "edge_count": ("raw/num-edge-list.csv.gz", lambda ls: ["5"], "/raw/edge.csv.gz and "),
    "two_graphs": ("raw/num-node-list.csv.gz", lambda ls: ["150", "150"], "it lists 2 graphs, but a node-property dataset is one graph"),
    "negative_label": ("raw/node-label.csv.gz", lambda ls: ["-1", *ls[1:]], "line 1 holds a negative class id"),
    "nan_feature": ("raw/node-feat.csv.gz", lambda ls: ["nan" + ls[0][ls[0].index(",") :], *ls[1:]], "not a finite number"),
    "split_id": ("split/time/test.csv.gz", lambda ls: ["-4", *ls[1:]], "node id -4 is outside 0..299"),
    "float_id": ("split/time/train.csv.gz", lambda ls: ["1.5", *ls[1:]], "could not convert string '1.5' to int64"),
}  # fmt: skip


@pytest.mark.parametrize("case", CONTENT)
def test_wrong_content_is_named_with_what_is_wrong(root, case):
    name, edit, needle = CONTENT[case]
    rewrite(root / "ogbn_arxiv" / name, edit)
    with pytest.raises(DataError) as exc:
        load_dataset("ogbn-arxiv", root)
    assert str(root / "ogbn_arxiv" / name) in str(exc.value) and needle in str(exc.value)


def test_a_node_in_two_splits_names_both_files(root):
    folder = root / "ogbn_arxiv" / "split" / "time"
    stolen = read_gz(folder / "train.csv.gz")[0]
    rewrite(folder / "test.csv.gz", lambda ls: [stolen, *ls])
    with pytest.raises(DataError, match=rf"node {stolen} is in both .*train.csv.gz and .*test.csv.gz"):
        load_dataset("ogbn-arxiv", root)


# ----------------------------------------------------------------------------- config, CLI, download


@pytest.mark.parametrize("name", ["ogbn-proteins", "ogbn-mag", "ogbn-papers100M"])
def test_siblings_gnnviz_cannot_take_are_refused_with_why(name):
    with pytest.raises(ConfigError, match=rf"dataset.name={name} is not supported: .+; use ogbn-arxiv"):
        load_config(None, [f"dataset.name={name}"])
    with pytest.raises(ConfigError, match=rf"dataset '{name}' is not supported"):
        load_dataset(name)


def test_row_normalising_signed_features_is_refused():
    with pytest.raises(ConfigError, match=r"dataset.normalize_features=true .* ogbn-arxiv's features are signed"):
        load_config(None, ["dataset.name=ogbn-arxiv", "dataset.normalize_features=true"])


def test_cli_trains_on_it_and_reports_a_damaged_file_in_one_line(root, tmp_path, capsys):
    from tests.support.cli import run_cli

    args = ("train", "--set", "dataset.name=ogbn-arxiv", "--set", "training.epochs=2", "--data-root", root, "--quiet")
    code, out, err = run_cli(capsys, *args, "--out", tmp_path / "o")
    assert code == 0, err
    assert Path(out.strip().splitlines()[-1]).name.startswith("ogbn-arxiv-gat")
    _cut(root / "ogbn_arxiv" / "raw" / "node-feat.csv.gz")
    shutil.rmtree(root / "ogbn_arxiv" / "processed")
    code, out, err = run_cli(capsys, *args, "--out", tmp_path / "p")
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: raw file ")
    assert "node-feat.csv.gz is truncated or corrupt" in err and not (tmp_path / "p").exists()


def test_download_unpacks_only_raw_and_split(template, tmp_path, monkeypatch, no_mirror):
    import torch_geometric.data

    archive = tmp_path / "arxiv.zip"
    with zipfile.ZipFile(archive, "w") as z:  # laid out as OGB's zip: arxiv/raw, arxiv/split, arxiv/mapping
        for path in sorted(template.rglob("*")):
            if path.is_file():
                z.write(path, "arxiv/" + path.relative_to(template).as_posix())
        z.writestr("arxiv/mapping/README.md", "ids")
    fetched = []

    def fake_download(url, folder, *args, **kwargs):
        fetched.append(url)
        return shutil.copy(archive, Path(folder) / "arxiv.zip")

    monkeypatch.setattr(torch_geometric.data, "download_url", fake_download)
    monkeypatch.delenv("GNNVIZ_OFFLINE")
    ds = load_dataset("ogbn-arxiv", tmp_path / "root")
    assert fetched == ["https://snap.stanford.edu/ogb/data/nodeproppred/arxiv.zip"]
    assert ds.train[0].num_nodes == 300
    folder = tmp_path / "root" / "ogbn_arxiv"
    assert sorted(p.name for p in folder.iterdir()) == ["processed", "raw", "split"], "no zip, no scratch, no mapping"


def test_parse_reads_what_the_fixture_wrote(template):
    arrays = ogb.parse(template, FILES)
    assert arrays["x"].dtype == np.float32 and arrays["x"].shape == (300, 8)
    assert arrays["edge_index"].shape[0] == 2 and arrays["y"].shape == (300,)


def test_datasets_lists_it_ready_with_its_statistics(root):
    from gnnviz.datasets.inventory import describe_datasets

    info = {d.name: d for d in describe_datasets(root)}["ogbn-arxiv"]
    assert info.status == "ready" and (info.nodes, info.features, info.classes) == (300, 8, 4)
    g = load_dataset("ogbn-arxiv", root).train[0]
    assert info.edges == g.edge_index.size(1) // 2, "undirected pairs, each once"
