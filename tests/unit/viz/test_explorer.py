"""``explorer_files``: the page's files, and a data file that holds exactly the arrays it was given.

Pure tests on inline graphs; the page itself runs in tests/browser/.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import numpy as np
import pytest

from gnnviz.viz.pages import explorer
from gnnviz.viz.pages.explorer import decode_array, encode_array, explorer_files, read_data_js

HALF_STEP = 0.5 / explorer.FIXED + 1e-7


def graph(n: int = 30, m: int = 70, seed: int = 0) -> np.ndarray:
    """An undirected graph stored both ways, no self-loops, some isolated nodes: [2, E]."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(n - 3, size=(2, m))  # the last 3 nodes stay isolated
    keep = a != b
    pairs = np.unique(np.sort(np.stack([a[keep], b[keep]]), axis=0), axis=1)
    return np.concatenate([pairs, pairs[::-1]], axis=1)


def softmax_by_target(ei: np.ndarray, heads: int, n: int, rng) -> np.ndarray:
    scores = np.exp(rng.normal(size=(ei.shape[1], heads)))
    sums = np.stack([np.bincount(ei[1], weights=scores[:, h], minlength=n) for h in range(heads)], 1)
    return (scores / sums[ei[1]]).astype(np.float32)


def with_loops(ei: np.ndarray, n: int) -> np.ndarray:
    loops = np.arange(n)
    return np.concatenate([ei, np.stack([loops, loops])], axis=1)


def inputs(n: int = 30, heads: tuple[int, ...] = (4, 1), seed: int = 0, **over):
    rng = np.random.default_rng(seed)
    ei = graph(n, seed=seed)
    rng.shuffle(ei.T)  # the stored order must not matter
    layers = []
    for h in heads:
        lei = with_loops(ei, n)
        perm = rng.permutation(lei.shape[1])  # nor the layer's edge order
        lei = lei[:, perm]
        layers.append((lei, softmax_by_target(lei, h, n, rng)))
    logits = rng.normal(size=(n, 3))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    kw = dict(
        title="GAT on test <graph>", num_nodes=n, edge_index=ei, coords=rng.normal(size=(n, 2)), y=rng.integers(3, size=n),
        probabilities=probs, split=rng.choice(["train", "val", "test", "other"], size=n), degree=np.bincount(ei[1], minlength=n),
        class_names=["a", "b", "c"], attention=layers, entropy=[rng.random((n, h)) for h in heads],
        entropy_mean=[rng.random(n) if h > 1 else None for h in heads], lift=[rng.normal(size=(n, h)) for h in heads],
        tsne=[("hidden", rng.normal(size=(n - 5, 2)), np.arange(5, n))], summary={"best_epoch": np.int64(7), "val": float("nan")},
        config_text="model:\n  name: gat\n", figures=[("layout.png", "Whole graph")],
    )  # fmt: skip
    kw.update(over)
    return kw


def page_rows(meta_layer: dict, arrays: dict, prefix: str, indptr: np.ndarray, src: np.ndarray, v: int) -> tuple[list[int], int]:
    """The page's reading of a layer (explorer.js rowOf): sources of v and where its weights start."""
    if meta_layer["shared"]:
        return [v, *src[indptr[v] : indptr[v + 1]].tolist()], int(indptr[v] + v)
    ip, s = arrays[f"{prefix}indptr"], arrays[f"{prefix}src"]
    return s[ip[v] : ip[v + 1]].tolist(), int(ip[v])


@pytest.mark.parametrize(
    "values",
    [
        np.linspace(-3, 3, 17, dtype=np.float32).reshape(17, 1),
        np.arange(-5, 100, dtype=np.int32),
        np.array([0, 1, 65535], dtype=np.uint16),
        np.array([[0.0, 1.0], [0.00673, 6e-8], [0.5, 1 / 3]], dtype=np.float16),  # attention weights
        np.array([[1, 0], [0, 1], [1, 1]], dtype=np.uint8),
        np.zeros((0, 2), dtype=np.float32),
    ],
)
def test_encoding_round_trips(values):
    back = decode_array(encode_array(values))
    assert back.dtype == values.dtype and back.shape == values.shape
    assert np.array_equal(back, values)


def test_int64_is_refused_by_the_encoder():
    with pytest.raises(KeyError):
        encode_array(np.arange(3, dtype=np.int64))


def test_files_are_the_page_its_code_the_data_and_the_vendored_library():
    files = explorer_files(**inputs())
    assert set(files) == {"explorer.html", "explorer/data.js", "explorer/explain.js", *(out for _, out in explorer.ASSETS)}
    page = files["explorer.html"].decode()
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts == [
        "explorer/vendor/graphology.umd.min.js",
        "explorer/data.js",
        "explorer/explain.js",
        "explorer/explorer.js",
    ]
    assert "GAT on test &lt;graph&gt;" in page  # escaped
    assert len(files["explorer.html"]) < 4000  # data lives in data.js, never inlined
    assert "http" not in files["explorer/explorer.js"].decode()  # nothing fetched from the network
    # sigma throws as it loads where there is no WebGL: explorer.js loads it only where there is.
    assert '"vendor/sigma.min.js"' in files["explorer/explorer.js"].decode()


def test_vendored_files_match_their_pinned_hashes():
    versions = (explorer.ASSET_DIR / "vendor" / "VERSIONS.md").read_text()
    for name in ("sigma.min.js", "graphology.umd.min.js"):
        digest = hashlib.sha256((explorer.ASSET_DIR / "vendor" / name).read_bytes()).hexdigest()
        row = next(line for line in versions.splitlines() if line.startswith(f"| `{name}`"))
        assert digest in row, name
    assert "3.0.3" in versions and "0.26.0" in versions


def test_data_holds_every_attention_weight_at_its_edge():
    kw = inputs()
    data = read_data_js(explorer_files(**kw)["explorer/data.js"])
    meta, arrays = data["meta"], data["arrays"]
    n = kw["num_nodes"]
    indptr, src = arrays["indptr"], arrays["src"]
    assert [layer["heads"] for layer in meta["layers"]] == [4, 1]
    for i, (lei, alpha) in enumerate(kw["attention"]):
        layer = meta["layers"][i]
        assert layer["shared"] is True  # graph + one self-loop per node: no second index stored
        assert f"l{i}_src" not in arrays
        stored = arrays[f"att{i}"]
        assert stored.dtype == np.float16  # 3 significant figures of weights near 1/deg, in 2 bytes
        for v in range(n):
            sources, start = page_rows(layer, arrays, f"l{i}_", indptr, src, v)
            want = {int(lei[0, p]): alpha[p] for p in np.flatnonzero(lei[1] == v)}
            assert sorted(sources) == sorted(want)
            for k, u in enumerate(sources):
                assert np.array_equal(stored[start + k], want[u].astype(np.float16)), (i, v, u)


def test_a_layer_with_its_own_edges_stores_its_own_index():
    kw = inputs(heads=(2,))
    lei, alpha = kw["attention"][0]
    keep = ~((lei[0] == lei[1]) & (lei[0] == 3))  # node 3 without its self-loop
    sub_ei, sub_alpha = lei[:, keep], alpha[keep]
    kw["attention"] = [(sub_ei, sub_alpha)]
    data = read_data_js(explorer_files(**kw)["explorer/data.js"])
    meta, arrays = data["meta"], data["arrays"]
    assert meta["layers"][0]["shared"] is False
    stored = arrays["att0"]
    for v in range(kw["num_nodes"]):
        sources, start = page_rows(meta["layers"][0], arrays, "l0_", arrays["indptr"], arrays["src"], v)
        want = {int(sub_ei[0, p]): sub_alpha[p] for p in np.flatnonzero(sub_ei[1] == v)}
        assert sorted(sources) == sorted(want)
        assert (v in sources) is (v != 3)
        for k, u in enumerate(sources):
            assert np.array_equal(stored[start + k], want[u].astype(np.float16))


def test_gcn_coefficients_are_stored_exactly():
    kw = inputs(attention=(), entropy=(), entropy_mean=(), lift=None)
    n, ei = kw["num_nodes"], kw["edge_index"]
    loops = with_loops(ei, n)
    deg = np.bincount(loops[1], minlength=n)
    coef = 1 / np.sqrt(deg[loops[0]] * deg[loops[1]])
    data = read_data_js(explorer_files(**kw, gcn=(loops, coef))["explorer/data.js"])
    assert data["meta"]["layers"] == [] and data["meta"]["gcn"] == {"shared": True}
    arrays = data["arrays"]
    for v in range(n):
        sources, start = page_rows({"shared": True}, arrays, "gcn_", arrays["indptr"], arrays["src"], v)
        for k, u in enumerate(sources):
            assert arrays["gcn"][start + k] == np.float32(coef[(loops[0] == u) & (loops[1] == v)][0])


def test_node_arrays_and_meta():
    kw = inputs()
    data = read_data_js(explorer_files(**kw)["explorer/data.js"])
    meta, arrays = data["meta"], data["arrays"]
    assert np.array_equal(arrays["pred"], kw["probabilities"].argmax(1))
    assert np.allclose(arrays["prob"], kw["probabilities"].max(1))
    assert [meta["splits"][s] for s in arrays["split"]] == list(kw["split"])
    assert np.array_equal(arrays["degree"], kw["degree"])
    assert np.allclose(arrays["coords"], kw["coords"])
    assert np.allclose(arrays["ent0"], kw["entropy"][0]) and np.allclose(arrays["entm0"], kw["entropy_mean"][0])
    assert "entm1" not in arrays and meta["layers"][1]["entropy_mean"] is False
    assert np.allclose(arrays["lift0"], kw["lift"][0])
    assert np.array_equal(arrays["tsne_ids0"], np.arange(5, 30)) and meta["tsne"] == [{"title": "hidden"}]
    assert meta["summary"] == {"best_epoch": 7, "val": None}  # numpy scalars and NaN made JSON-safe
    assert meta["class_names"] == ["a", "b", "c"] and meta["figures"] == [{"path": "layout.png", "caption": "Whole graph"}]
    for name, values in arrays.items():
        assert values.dtype != np.int64, name


def test_multilabel_keeps_labels_and_probabilities():
    rng = np.random.default_rng(1)
    n = 30
    y = (rng.random((n, 5)) < 0.3).astype(np.float32)
    probs = rng.random((n, 5))
    data = read_data_js(explorer_files(**inputs(y=y, probabilities=probs, class_names=None))["explorer/data.js"])
    assert data["meta"]["multilabel"] is True and data["meta"]["num_classes"] == 5
    assert np.array_equal(data["arrays"]["y"], y.astype(np.uint8))
    assert np.abs(data["arrays"]["prob"] / explorer.FIXED - probs).max() <= HALF_STEP
    assert "pred" not in data["arrays"]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"coords": np.zeros((29, 2))}, "coords must be [N, 2] = [30, 2], got [29, 2]"),
        ({"edge_index": np.array([[0, 1], [1, 30]])}, "edge_index has ids outside 0..N-1"),
        ({"edge_index": np.array([[0, 1], [0, 2]])}, "edge_index must not hold self-loops"),
        ({"split": np.array(["train"] * 29 + ["nope"])}, "split must be [N] of train, val, test, other"),
        ({"class_names": ["a", "b"]}, "class_names needs 3 names"),
        ({"entropy": [np.zeros((30, 3)), np.zeros((30, 1))]}, "entropy[0] must be [N, 4] or [N] for one column, got [30, 3]"),
    ],
)
def test_shapes_that_disagree_are_named(over, message):
    with pytest.raises(ValueError) as err:
        explorer_files(**inputs(**over))
    assert str(err.value) == f"explorer: {message}"


def test_explorer_imports_no_torch():
    code = "import sys, gnnviz.viz.pages.explorer; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
