"""A damaged cache entry of any kind is computed again, silently, and overwritten with a good one."""

import os
from pathlib import Path

import numpy as np
import pytest

from gnnviz.viz import cache
from gnnviz.viz.visualize import visualize
from tests.unit.viz.test_visualize import make_run

KINDS = ("forward", "layouts", "tsne")


@pytest.fixture(scope="module")
def gat(tmp_path_factory):
    fast = ("training.epochs=5", "training.patience=5")
    return make_run(tmp_path_factory.mktemp("runs"), "gat_karate.yaml", *fast, name="gat")


def _npz(path: Path, **arrays: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _arrays(data: bytes) -> dict[str, np.ndarray]:
    import io

    with np.load(io.BytesIO(data)) as z:
        return {k: z[k] for k in z.files}


def _bare_npy() -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, np.arange(6.0))
    return buf.getvalue()


# Each damage turns a good entry's bytes into a bad one; together they cover what a disk, a
# killed writer or another program can leave behind.
DAMAGE = {
    "truncated": lambda p, b: b[: len(b) // 2],
    "empty": lambda p, b: b"",
    "random bytes": lambda p, b: os.urandom(max(len(b), 64)),
    "zip header only": lambda p, b: b[:30],  # BadZipFile
    "bare npy": lambda p, b: _bare_npy(),
    "foreign arrays": lambda p, b: _npz(p, other=np.arange(3)),
    "one row short": lambda p, b: _npz(p, **{k: (v[:-1] if v.ndim else v) for k, v in _arrays(b).items()}),
    "transposed": lambda p, b: _npz(p, **{k: (v.T if v.ndim == 2 else v) for k, v in _arrays(b).items()}),
    "strings": lambda p, b: _npz(p, **{k: v.astype(str) for k, v in _arrays(b).items()}),
    "not finite": lambda p, b: _npz(p, **{k: (np.full_like(v, np.nan) if v.dtype.kind == "f" else v) for k, v in _arrays(b).items()}),
    "node ids out of range": lambda p, b: _npz(p, **{k: (v + 1000 if k.endswith("ei") or "ei" in k else v) for k, v in _arrays(b).items()}),
}  # fmt: skip


def _entries(root: Path) -> dict[str, list[Path]]:
    return {kind: sorted((root / kind).glob("*.npz")) for kind in KINDS}


def _compute(run: Path) -> dict[str, object]:
    """What each cache owner returns for the run: the forward's arrays, the layout, a t-SNE."""
    from gnnviz.viz.coords.embeddings import tsne
    from gnnviz.viz.coords.layout import graph_layout
    from gnnviz.viz.load import load_arrays

    f = load_arrays(run)
    lay = graph_layout(f.edge_index, f.num_nodes, seed=0)
    proj = tsne(f.embeddings[-1], seed=0)
    return {"forward": f, "layouts": lay, "tsne": proj}


def _same(a: dict[str, object], b: dict[str, object]) -> None:
    fa, fb = a["forward"], b["forward"]
    assert np.array_equal(fa.logits, fb.logits) and np.array_equal(fa.edge_index, fb.edge_index)
    assert all(np.array_equal(x.alpha, y.alpha) for x, y in zip(fa.attention, fb.attention, strict=True))
    assert fa.checkpoint == fb.checkpoint
    assert np.array_equal(a["layouts"].coords, b["layouts"].coords)
    assert np.array_equal(a["tsne"].coords, b["tsne"].coords)


@pytest.fixture(scope="module")
def baseline(gat, tmp_path_factory):
    """A clean cache for the run: the entries' bytes and what was computed."""
    root = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("GNNVIZ_CACHE_DIR", str(root))
    try:
        computed = _compute(gat)
        assert _compute(gat)["layouts"].cached  # the second call reads the cache
    finally:
        mp.undo()
    entries = _entries(root)
    assert all(len(entries[k]) == 1 for k in KINDS), entries  # every kind was written once
    return root, {kind: entries[kind][0] for kind in KINDS}, {p: p.read_bytes() for ps in entries.values() for p in ps}, computed


@pytest.mark.parametrize("damage", DAMAGE)
def test_every_kind_of_damaged_cache_entry_is_recomputed(gat, baseline, monkeypatch, damage):
    root, by_kind, good, clean = baseline
    for path, data in good.items():
        path.write_bytes(DAMAGE[damage](path, data))
    changed = {kind for kind, path in by_kind.items() if path.read_bytes() != good[path]}
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(root))
    got = _compute(gat)  # no exception: a damaged entry is a miss
    _same(got, clean)
    if "layouts" in changed:
        assert got["layouts"].cached is False
    if "tsne" in changed:
        assert got["tsne"].cached is False
    # Every entry is whole again (the next call is warm), with no temp files left.
    for path in good:
        assert cache.read(path) is not None, path
    again = _compute(gat)
    assert again["layouts"].cached and again["tsne"].cached
    _same(again, clean)
    assert not [p for p in root.rglob("*") if p.name.startswith(".")]


def test_visualize_with_every_entry_damaged_draws_the_same_files(gat, baseline, tmp_path, monkeypatch):
    root, _by_kind, good, _clean = baseline
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(root))
    first = visualize(gat, tmp_path / "a", quiet=True, top_k=0, layers=[1])
    for path, data in good.items():
        path.write_bytes(data[: len(data) // 3])
    lines: list[str] = []
    second = visualize(gat, tmp_path / "b", log=lines.append, top_k=0, layers=[1])
    assert not any("error" in line or "warning" in line for line in lines)
    for f in ("attention_stats.json", "layout.png", "tsne.png"):
        assert (first / f).read_bytes() == (second / f).read_bytes(), f


def test_entries_swapped_between_two_runs_are_foreign_and_recomputed(gat, tmp_path_factory, tmp_path, monkeypatch):
    """Run B's entries renamed to run A's keys (and A's to B's): visualize of A draws A's own numbers,
    because an entry carries the key it was written under."""
    other = make_run(tmp_path_factory.mktemp("runs"), "gat_karate.yaml", "training.epochs=5", "run.seed=7", name="other")
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    args = {"quiet": True, "top_k": 0, "layers": [1]}
    own = {run.name: visualize(run, tmp_path / f"own-{run.name}", **args) for run in (gat, other)}
    names = ("attention_stats.json", "layout.png", "tsne.png", "entropy.png")
    mine = {run: {f: (own[run] / f).read_bytes() for f in names} for run in own}
    assert mine["gat"]["tsne.png"] != mine["other"]["tsne.png"]  # the two runs differ, so a swap would show
    swapped = 0
    for kind in ("forward", "tsne", "figures"):
        files = sorted((tmp_path / "cache" / kind).glob("*.npz"))
        by_run = [p for p in files]
        if len(by_run) >= 2:
            a, b = by_run[0], by_run[1]
            da, db = a.read_bytes(), b.read_bytes()
            a.write_bytes(db)
            b.write_bytes(da)
            swapped += 1
    assert swapped >= 2
    again = visualize(gat, tmp_path / "again", **args)
    for f in names:
        assert (again / f).read_bytes() == mine["gat"][f], f
    assert cache.read(tmp_path / "missing.npz") is None
    p = tmp_path / "k1.npz"
    cache.write(p, a=np.arange(3))
    (tmp_path / "k2.npz").write_bytes(p.read_bytes())
    assert cache.read(p) is not None and cache.read(tmp_path / "k2.npz") is None
