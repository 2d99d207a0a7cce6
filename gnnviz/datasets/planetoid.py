"""Cora and CiteSeer: the Planetoid citation graphs with their public split, through PyG.

PyG unpickles the raw files and processes whatever they hold: a file of another dataset or
version can make a graph of the wrong shape, or fail deep inside PyG, and a graph processed from
it would be cached. So before PyG sees them, the files are read with an unpickler that builds
arrays only, and checked against each other: a file that disagrees is named.
"""

from __future__ import annotations

import io
from pathlib import Path

from gnnviz.datasets.base import MULTICLASS, DatasetSpec, GraphDataset
from gnnviz.datasets.store import quiet, read_failure
from gnnviz.errors import DataError

PLANETOID_TEST_NODES = 1000  # the public split of Cora and CiteSeer tests on 1000 nodes


def _planetoid_files(name: str) -> tuple[str, ...]:
    return tuple(f"raw/ind.{name}.{ext}" for ext in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index"))


# The published sizes (nodes, features, classes, labelled x rows, allx rows, test nodes): a file
# that agrees with its neighbours but not with these belongs to another dataset or version.
_PLANETOID_SIZES: dict[str, tuple[int, int, int, int, int, int]] = {
    "Cora": (2708, 1433, 7, 140, 1708, 1000),
    "CiteSeer": (3327, 3703, 6, 120, 2312, 1000),
}
_PICKLED_TYPES = {  # what the Planetoid pickles are made of; anything else is refused unrun
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("scipy.sparse.csr", "csr_matrix"),
    ("scipy.sparse._csr", "csr_matrix"),
    ("collections", "defaultdict"),
    ("__builtin__", "list"),
    ("builtins", "list"),
    ("_codecs", "encode"),  # how Python 3 pickles an array's bytes at protocol 2
}


class _BadRaw(Exception):
    def __init__(self, path: Path | str, what: str):
        super().__init__(what)
        self.path, self.what = path, what  # a str names two files: "<a> and <b>"


def _unpickle_arrays(path: Path, data: bytes):
    import pickle
    import warnings

    class Restricted(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            if (module, name) not in _PICKLED_TYPES:
                raise _BadRaw(path, f"holds Python objects beyond arrays ({module}.{name}) and was refused unrun")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scipy's old module names are deprecated aliases
                return super().find_class(module, name)

    try:
        return Restricted(io.BytesIO(data), encoding="latin1").load()
    except _BadRaw:
        raise
    except Exception as exc:  # noqa: BLE001 - a cut or garbled pickle raises many kinds
        raise _BadRaw(path, f"is truncated or corrupt ({type(exc).__name__})") from None


def _check_planetoid_raw(spec: DatasetSpec, folder: Path) -> None:
    """Raise ``DataError`` naming the first raw file that is damaged or disagrees with the others.

    Invariants: x, tx, allx have one column per feature and y, ty, ally one per class; x and y,
    tx, ty and test.index, allx and ally have as many rows as each other; the graph's keys are the
    nodes 0..N-1 and its neighbours are nodes; the test nodes are distinct and lie after allx's.
    """
    try:
        _planetoid_invariants(spec, folder)
    except _BadRaw as bad:
        files = "raw files" if isinstance(bad.path, str) else "raw file"
        it = "the wrong one" if isinstance(bad.path, str) else "it"
        raise DataError(
            f"{files} {bad.path} {bad.what}; delete {it} and run again to copy it from GNNVIZ_DATA_MIRROR (or download it)"
        ) from None


def _planetoid_invariants(spec: DatasetSpec, folder: Path) -> None:
    from collections import Counter

    paths = {Path(f).name.split(".", 2)[2]: folder / f for f in spec.files}  # "x", ..., "test.index"
    shapes: dict[str, tuple[int, int]] = {}
    for key in ("x", "tx", "allx", "y", "ty", "ally"):
        obj = _unpickle_arrays(paths[key], paths[key].read_bytes())
        shape = getattr(obj, "shape", None)
        if not isinstance(shape, tuple) or len(shape) != 2 or not isinstance(obj.dtype.kind, str) or obj.dtype.kind not in "biuf":
            raise _BadRaw(paths[key], "does not hold a matrix of numbers")
        shapes[key] = (int(shape[0]), int(shape[1]))
    graph = _unpickle_arrays(paths["graph"], paths["graph"].read_bytes())
    if not isinstance(graph, dict) or not all(isinstance(v, list) for v in graph.values()):
        raise _BadRaw(paths["graph"], "does not hold an adjacency dict")
    try:
        test = [int(v) for v in paths["test.index"].read_bytes().split()]
    except ValueError:
        raise _BadRaw(paths["test.index"], "is not a list of node ids") from None
    known = _PLANETOID_SIZES.get(spec.folder)
    groups = {  # quantity -> (files that carry it, their values, the published value or None)
        "feature count": (("x", "tx", "allx"), [shapes[k][1] for k in ("x", "tx", "allx")], known and known[1]),
        "class count": (("y", "ty", "ally"), [shapes[k][1] for k in ("y", "ty", "ally")], known and known[2]),
        "labelled-node count": (("x", "y"), [shapes["x"][0], shapes["y"][0]], known and known[3]),
        "allx row count": (("allx", "ally"), [shapes["allx"][0], shapes["ally"][0]], known and known[4]),
        "test-node count": (("tx", "ty", "test.index"), [shapes["tx"][0], shapes["ty"][0], len(test)], known and known[5]),
        "node count": (("graph",), [len(graph)], known and known[0]),
    }
    for quantity, (keys, values, published) in groups.items():
        ranked = Counter(values).most_common()
        if not published and len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            shown = " and ".join(str(paths[k]) for k in keys)
            raise _BadRaw(
                shown,
                f"disagree on the {quantity} ({' vs '.join(map(str, values))}): one is truncated or corrupt, or of another dataset or version",
            )
        want = published or ranked[0][0]
        odd = [(k, v) for k, v in zip(keys, values, strict=True) if v != want]
        if odd:
            key, have = odd[0]
            source = f"{spec.folder} has {want}" if published else f"the other {spec.folder} files say {want}"
            raise _BadRaw(
                paths[key],
                f"gives a {quantity} of {have} but {source}: it is truncated or corrupt, or of another dataset or version",
            )
    n, first_test = len(graph), shapes["allx"][0]
    if set(graph) != set(range(n)) or any(not isinstance(u, int) or not 0 <= u < n for vs in graph.values() for u in vs):
        raise _BadRaw(paths["graph"], f"does not describe nodes 0..{n - 1} (keys or neighbours out of range)")
    if len(set(test)) != len(test) or any(not first_test <= t < n for t in test):
        raise _BadRaw(paths["test.index"], f"lists test nodes that repeat or lie outside {first_test}..{n - 1}")
    if shapes["x"][0] > first_test or first_test + shapes["tx"][0] > n:
        raise _BadRaw(paths["allx"], f"has {first_test} rows, which does not fit {n} nodes and the labelled ones")


def load(name: str, spec: DatasetSpec, folder: Path) -> GraphDataset:
    from torch_geometric.datasets import Planetoid

    if not (folder / "processed").exists():
        _check_planetoid_raw(spec, folder)  # PyG processes only what passed
    try:
        with quiet():
            ds = Planetoid(str(folder.parent), spec.folder, split="public")
        g = ds[0]
    except Exception as exc:  # noqa: BLE001 - pickle/numpy/scipy raise many kinds on corrupt files
        raise read_failure(spec, folder, exc) from None
    tested = int(g.test_mask.sum())
    if tested != PLANETOID_TEST_NODES:
        # PyG reads a cut-off test.index without complaint and scrambles the split; refuse it.
        raise DataError(
            f"raw file {folder / spec.files[-1]} lists {tested} test nodes, not {PLANETOID_TEST_NODES}: "
            f"it is truncated or corrupt; delete it and run again to copy it from GNNVIZ_DATA_MIRROR (or download it)"
        )
    return GraphDataset(name, MULTICLASS, ds.num_features, ds.num_classes, [g], [g], [g])


def download(spec: DatasetSpec, folder: Path) -> None:
    from torch_geometric.datasets import Planetoid

    Planetoid.download(_Stub(folder, spec))


class _Stub:
    """Just enough of a PyG dataset for its ``download`` method: ``raw_dir`` and ``name``."""

    def __init__(self, folder: Path, spec: DatasetSpec):
        from torch_geometric.datasets import Planetoid

        self.raw_dir = str(folder / "raw")
        self.name = spec.folder
        self.raw_file_names = [f.removeprefix("raw/") for f in spec.files]
        self.url = Planetoid.url
        self.split = "public"


DATASETS: dict[str, DatasetSpec] = {
    "cora": DatasetSpec(
        "Cora",
        MULTICLASS,
        _planetoid_files("cora"),
        load,
        "citation network, Planetoid public split",
        download=download,
        normalize=True,
    ),
    "citeseer": DatasetSpec(
        "CiteSeer",
        MULTICLASS,
        _planetoid_files("citeseer"),
        load,
        "citation network, Planetoid public split",
        download=download,
        normalize=True,
    ),
}
