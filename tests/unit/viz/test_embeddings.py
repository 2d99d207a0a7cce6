"""t-SNE projections: seeded and identical on repeat, cached, safe for tiny and large graphs."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from torch_geometric.datasets import KarateClub

from gnnviz.viz.coords import embeddings


def clustered(n=120, d=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, d)) * 5
    return (centres[np.arange(n) % 3] + rng.normal(size=(n, d))).astype(np.float32)


def test_same_seed_gives_identical_coordinates():
    x = clustered()
    a = embeddings.tsne(x, seed=0, use_cache=False)
    b = embeddings.tsne(x, seed=0, use_cache=False)
    np.testing.assert_array_equal(a.coords, b.coords)
    assert a.coords.shape == (120, 2) and np.isfinite(a.coords).all()


def test_clusters_stay_apart():
    x = clustered()
    p = embeddings.tsne(x, seed=0, use_cache=False)
    labels = np.arange(120) % 3
    centres = np.stack([p.coords[labels == k].mean(0) for k in range(3)])
    spread = max(np.linalg.norm(p.coords[labels == k] - centres[k], axis=1).mean() for k in range(3))
    gaps = [np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i + 1, 3)]
    assert min(gaps) > 2 * spread


def test_cache_returns_the_same_coordinates(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path))
    x = clustered()
    first = embeddings.tsne(x, seed=0)
    second = embeddings.tsne(x, seed=0)
    assert not first.cached and second.cached
    np.testing.assert_array_equal(first.coords, second.coords)
    assert not embeddings.tsne(x, seed=1).cached  # the seed is part of the key


@pytest.mark.parametrize("n", [2, 5, 12, 34, 100, 1000])
def test_perplexity_stays_below_the_sample_count(n):
    assert embeddings.perplexity_for(n) < n or n <= 2
    assert embeddings.perplexity_for(n) <= 30


def test_karate_features_project_with_an_adapted_perplexity():
    x = KarateClub()[0].x.numpy()
    p = embeddings.tsne(x, seed=0, use_cache=False)
    assert p.coords.shape == (34, 2) and "perplexity 11" in p.note


def test_tiny_and_constant_inputs():
    assert embeddings.tsne(np.ones((3, 4)), use_cache=False).coords.shape == (3, 2)
    p = embeddings.tsne(np.zeros((20, 4)), use_cache=False)
    assert np.isfinite(p.coords).all()


def test_large_inputs_are_subsampled_with_a_note(monkeypatch):
    monkeypatch.setattr(embeddings, "MAX_POINTS", 50)
    x = clustered(200)
    p = embeddings.tsne(x, seed=0, use_cache=False)
    assert p.coords.shape == (50, 2) and len(p.index) == 50
    assert np.all(np.diff(p.index) > 0) and "random 50 of 200 nodes" in p.note
    q = embeddings.tsne(x, seed=0, max_points=50, use_cache=False)
    np.testing.assert_array_equal(p.index, q.index)


@pytest.mark.parametrize("method", ["umap", "pca"])
def test_umap_and_pca_are_seeded_cached_and_keep_clusters_apart(method, tmp_path, monkeypatch):
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path))
    x = clustered()
    first = embeddings.project(x, method, seed=0)
    again = embeddings.project(x, method, seed=0)
    assert not first.cached and again.cached and again.method == method
    np.testing.assert_array_equal(first.coords, again.coords)
    assert (tmp_path / method).is_dir() and not (tmp_path / "tsne").exists()  # one cache folder per method
    assert again.note == first.note
    np.testing.assert_array_equal(embeddings.project(x, method, seed=0, use_cache=False).coords, first.coords)
    labels = np.arange(120) % 3
    centres = np.stack([first.coords[labels == k].mean(0) for k in range(3)])
    spread = max(np.linalg.norm(first.coords[labels == k] - centres[k], axis=1).mean() for k in range(3))
    assert min(np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i + 1, 3)) > 2 * spread


def test_notes_state_each_method_and_its_settings():
    x = clustered(n=40)
    assert embeddings.project(x, "umap", use_cache=False).note == "15 neighbours, min_dist 0.1"
    pca = embeddings.project(x, "pca", use_cache=False)
    from sklearn.decomposition import PCA

    share = PCA(2).fit(x).explained_variance_ratio_.sum()
    assert pca.note == f"first 2 components, {100 * share:.0f}% of the variance" and pca.label == "PCA"
    np.testing.assert_allclose(np.abs(pca.coords), np.abs(PCA(2).fit_transform(x)), rtol=1e-4, atol=1e-4)
    sampled = embeddings.project(clustered(n=300), "pca", max_points=100, use_cache=False)
    assert sampled.sample == "random 100 of 300 nodes" and sampled.note.endswith(", random 100 of 300 nodes")
    assert embeddings.project(clustered(n=8), "umap", use_cache=False).note.startswith("7 neighbours")


@pytest.mark.parametrize("n", [2, 3, 5, 20])
@pytest.mark.parametrize("method", ["umap", "pca"])
def test_tiny_and_constant_inputs_for_every_method(method, n):
    rng = np.random.default_rng(0)
    for x in (rng.normal(size=(n, 4)), np.zeros((n, 4)), rng.normal(size=(n, 1))):
        p = embeddings.project(x, method, use_cache=False)
        assert p.coords.shape == (n, 2) and np.isfinite(p.coords).all()


def test_unknown_method_and_missing_umap_are_one_line_errors(monkeypatch):
    from gnnviz.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^--embedding 'umpa' is not supported; choose one of tsne, umap, pca$"):
        embeddings.project(clustered(), "umpa")
    real = embeddings.importlib.util.find_spec
    monkeypatch.setattr(embeddings.importlib.util, "find_spec", lambda name, *a: None if name == "umap" else real(name, *a))
    with pytest.raises(ConfigError, match=r"^--embedding umap needs the umap-learn package: pip install gnnviz\[umap\]"):
        embeddings.project(clustered(), "umap")
    assert embeddings.project(clustered(), "pca", use_cache=False).coords.shape == (120, 2)  # the others still work


def test_a_tsne_loads_neither_pynndescent_nor_numba():
    """openTSNE's own neighbour lookup imports pynndescent (and numba: 1.3 s, ~100 MB) only to see
    whether it is installed; the exact index is passed in instead, so a visualize never pays that."""
    code = (
        "import sys, numpy as np; from gnnviz.viz.coords import embeddings; "
        "p = embeddings.tsne(np.random.default_rng(0).normal(size=(60, 8)), use_cache=False); "
        "print(p.coords.shape, sorted(m for m in ('pynndescent', 'numba') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[3]
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=root)
    assert out.stdout.strip() == "(60, 2) []"
