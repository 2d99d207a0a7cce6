"""``visualize --embedding tsne|umap|pca`` and ``run.embedding``: the file, titles, explorer and errors."""

import json
from pathlib import Path

import numpy as np
import pytest

from gnnviz.config import load_config
from gnnviz.errors import ConfigError
from gnnviz.experiment import train
from gnnviz.viz.coords import embeddings
from gnnviz.viz.figures import run as figures
from gnnviz.viz.pages.explorer import read_data_js
from gnnviz.viz.visualize import visualize
from tests.support.cli import run_cli

REPO = Path(__file__).resolve().parents[3]
FEW = dict(top_k=0, layers=[1], quiet=True)


@pytest.fixture(scope="module")
def pca_run(tmp_path_factory):
    """A karate GAT run whose config asks for PCA (run.embedding=pca)."""
    sets = ["training.epochs=8", "training.patience=8", "run.embedding=pca"]
    cfg = load_config(REPO / "configs" / "gat_karate.yaml", sets)
    return train(cfg, out=tmp_path_factory.mktemp("runs"), name="gat", quiet=True)


def drawn(monkeypatch):
    """The FigureSpecs visualize builds, recorded."""
    specs = []
    real = figures.build
    monkeypatch.setattr(figures, "build", lambda c: specs.extend(real(c)) or specs)
    return specs


@pytest.mark.parametrize(("asked", "label", "setting"), [(None, "PCA", "first 2 components"), ("umap", "UMAP", "15 neighbours")])
def test_the_method_names_the_file_the_titles_and_the_explorer(pca_run, tmp_path, monkeypatch, asked, label, setting):
    specs = drawn(monkeypatch)
    out = visualize(pca_run, tmp_path / "viz", embedding=asked, **FEW)
    method = asked or "pca"  # no --embedding: the run's run.embedding
    assert (out / f"{method}.png").is_file() and not (out / "tsne.png").exists()
    spec = next(s for s in specs if s.stem == method)
    assert spec.kwargs["title"].endswith(f"node embeddings ({label})")
    assert [p.title.split("\n")[1].startswith(f"{label}, {setting}") for p in spec.args[0]] == [True, True]
    assert spec.caption.startswith(f"{label} of the embeddings;")
    assert json.loads((out / "timings.json").read_text())["embedding_method"] == method
    meta = read_data_js((out / "explorer" / "data.js").read_bytes())["meta"]
    assert [t["title"] for t in meta["tsne"]] == [f"hidden layer 0 (64 dims), {label}", f"output layer 1 (4 logits), {label}"]
    page = (out / "index.html").read_text()
    assert f"{method}.png" in page and "tsne.png" not in page


def test_explorer_coordinates_are_the_projection_drawn(pca_run, tmp_path):
    from gnnviz.viz.load import load_arrays

    out = visualize(pca_run, tmp_path / "viz", embedding="pca", **FEW)
    arrays = read_data_js((out / "explorer" / "data.js").read_bytes())["arrays"]
    hidden = load_arrays(pca_run).embeddings[-2]
    want = embeddings.project(hidden, "pca", use_cache=False).coords
    np.testing.assert_allclose(arrays["tsne0"].reshape(-1, 2), want, rtol=1e-5, atol=1e-5)


def test_bad_method_and_missing_umap_fail_before_any_write(pca_run, tmp_path, capsys, monkeypatch):
    code, _, err = run_cli(capsys, "visualize", "--run", str(pca_run), "--out", str(tmp_path / "a"), "--embedding", "tnse")
    assert code == 2 and err.strip() == "error: --embedding 'tnse' is not supported; choose one of tsne, umap, pca"
    assert not (tmp_path / "a").exists()
    real = embeddings.importlib.util.find_spec
    monkeypatch.setattr(embeddings.importlib.util, "find_spec", lambda name, *a: None if name == "umap" else real(name, *a))
    code, _, err = run_cli(capsys, "visualize", "--run", str(pca_run), "--out", str(tmp_path / "b"), "--embedding", "umap")
    assert code == 2 and err.strip() == f"error: {embeddings.UMAP_MISSING}"
    assert not (tmp_path / "b").exists()
    with pytest.raises(ConfigError, match="run.embedding"):
        load_config(REPO / "configs" / "gat_karate.yaml", ["run.embedding=umpa"])


def test_a_damaged_run_embedding_names_the_file(pca_run, tmp_path):
    import shutil

    from gnnviz.errors import RunError

    run = shutil.copytree(pca_run, tmp_path / "run")
    config = run / "config.yaml"
    config.write_text(config.read_text().replace("embedding: pca", "embedding: pcaa"))
    with pytest.raises(RunError, match=r"config\.yaml is damaged: unknown run\.embedding 'pcaa'; choose one of tsne, umap, pca"):
        visualize(run, tmp_path / "viz", **FEW)
    assert not (tmp_path / "viz").exists()
    with pytest.raises(RunError, match=r"config\.yaml is damaged"):  # a damaged run stays refused whatever is asked
        visualize(run, tmp_path / "viz", embedding="tsne", **FEW)
    config.write_text(config.read_text().replace("embedding: pcaa", "embedding: pca"))
    assert (visualize(run, tmp_path / "viz", embedding="tsne", **FEW) / "tsne.png").is_file()  # the option overrides it
