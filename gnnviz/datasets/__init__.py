"""Datasets by name: Cora, CiteSeer and PPI through PyG, OGB's node datasets from their raw files
(gnnviz/ogb.py), the embedded KarateClub and generated block-model graphs (gnnviz/synthetic.py).

Owns the data root, the offline mirror (raw files copied from a read-only folder instead of
downloaded), the task type and the train/val/test split. Never builds models.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gnnviz.errors import ConfigError, DataError, lookup

if TYPE_CHECKING:
    from torch_geometric.data import Data

    from gnnviz.datasets.synthetic import SyntheticParams

MULTICLASS, MULTILABEL = "multiclass", "multilabel"
PLANETOID_TEST_NODES = 1000  # the public split of Cora and CiteSeer tests on 1000 nodes
# Written after a processed cache loaded once, holding the raw files' sizes and times; its absence
# or other raw files mean "rebuild".
_DONE = ".gnnviz-complete"


FILES, EMBEDDED, GENERATED = "files", "embedded", "generated"  # where a dataset comes from


@dataclass(frozen=True)
class DatasetSpec:
    folder: str  # name of the folder under the data root, as PyG (or OGB) spells it; also its display name
    task: str
    files: tuple[str, ...]  # what must be in <root>/<folder> before loading, e.g. raw/ind.cora.x
    loader: str  # key into _LOADERS
    description: str
    origin: str = FILES  # FILES: read from the data root; EMBEDDED/GENERATED: built in memory, no files
    params: type | None = None  # dataclass of the settings a GENERATED dataset is made from (dataset.<field>)
    normalize: bool = False  # row-normalise features unless the config says otherwise
    signed_features: bool = False  # rows may sum to about 0, so row normalisation is refused


def _planetoid_files(name: str) -> tuple[str, ...]:
    return tuple(f"raw/ind.{name}.{ext}" for ext in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index"))


_PPI_FILES = tuple(
    f"raw/{split}_{kind}"
    for split in ("train", "valid", "test")
    for kind in ("feats.npy", "graph_id.npy", "graph.json", "labels.npy")
)


def _ogb(name: str) -> DatasetSpec:
    from gnnviz.datasets import ogb

    info = ogb.OGB[name]
    return DatasetSpec(ogb.folder(name), MULTICLASS, ogb.files(name), "ogb", info.description, signed_features=True)


def _synthetic() -> DatasetSpec:
    from gnnviz.datasets.synthetic import SyntheticParams

    return DatasetSpec(
        "Synthetic", MULTICLASS, (), "synthetic", "stochastic block model, settings in the config (dataset.nodes, ...)",
        origin=GENERATED, params=SyntheticParams, signed_features=True,
    )  # fmt: skip


DATASETS: dict[str, DatasetSpec] = {
    "cora": DatasetSpec(
        "Cora", MULTICLASS, _planetoid_files("cora"), "planetoid", "citation network, Planetoid public split", normalize=True
    ),
    "citeseer": DatasetSpec(
        "CiteSeer",
        MULTICLASS,
        _planetoid_files("citeseer"),
        "planetoid",
        "citation network, Planetoid public split",
        normalize=True,
    ),
    "ppi": DatasetSpec("PPI", MULTILABEL, _PPI_FILES, "ppi", "protein interactions, 20/2/2 graphs, 121 labels"),
    "karate": DatasetSpec("KarateClub", MULTICLASS, (), "karate", "Zachary's karate club, embedded in PyG", origin=EMBEDDED),
    "synthetic": _synthetic(),
    "ogbn-arxiv": _ogb("ogbn-arxiv"),
    "ogbn-products": _ogb("ogbn-products"),
}

# Names of real datasets that gnnviz does not load, with why and what to use instead.
REFUSED: dict[str, str] = {
    "ogbn-proteins": "it has no node features (8 features per edge instead) and 112 binary tasks scored by ROC-AUC, "
    "which gnnviz's models and metrics do not cover; use ogbn-arxiv or ogbn-products",
    "ogbn-mag": "it is heterogeneous (papers, authors, institutions, fields of study) and gnnviz trains on one node type; "
    "its paper-cites-paper part is out of scope here; use ogbn-arxiv, a citation graph of the same kind",
    "ogbn-papers100M": "OGB ships it in its binary layout (raw/data.npz), which gnnviz does not read, and its 111M x 128 "
    "features alone take 57 GB; use ogbn-arxiv or ogbn-products",
}


def dataset_spec(name: str) -> DatasetSpec:
    """``DATASETS[name]``, or an error that says why a known but unsupported dataset is refused."""
    if name in REFUSED:
        raise ConfigError(f"dataset '{name}' is not supported: {REFUSED[name]}")
    return lookup(DATASETS, name, "dataset")


@dataclass
class GraphDataset:
    """A loaded dataset. Transductive datasets hold one graph with masks in all three lists."""

    name: str
    task: str  # MULTICLASS or MULTILABEL: picks loss and metric
    num_features: int
    num_classes: int
    train: list[Data]
    val: list[Data]
    test: list[Data]

    @property
    def transductive(self) -> bool:
        return len(self.train) == 1 and self.train[0] is self.val[0] is self.test[0]

    @property
    def metric(self) -> str:
        return "accuracy" if self.task == MULTICLASS else "micro_f1"


# ----------------------------------------------------------------------------- locations


def default_data_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gnnviz" / "datasets"


def data_root(explicit: str | Path | None = None) -> Path:
    """``--data-root``, else ``$GNNVIZ_DATA_ROOT``, else ``~/.cache/gnnviz/datasets``."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("GNNVIZ_DATA_ROOT")
    return Path(env).expanduser() if env else default_data_root()


def data_mirror() -> Path | None:
    """``$GNNVIZ_DATA_MIRROR``: a read-only folder laid out as ``<Folder>/raw/<files>``."""
    env = os.environ.get("GNNVIZ_DATA_MIRROR")
    return Path(env).expanduser() if env else None


# ----------------------------------------------------------------------------- loading


def load_dataset(
    name: str,
    root: str | Path | None = None,
    *,
    normalize_features: bool | None = None,
    params: SyntheticParams | None = None,
) -> GraphDataset:
    """Load ``name`` from the data root, copying raw files from the mirror or downloading them first.

    A generated dataset is built from ``params``, which it requires: ``config.synthetic_params(cfg.dataset)``
    (a caller that forgot them would otherwise train on the defaults, not on what the config says).
    """
    spec = dataset_spec(name)
    if normalize_features is None:
        normalize_features = spec.normalize
    if spec.origin == GENERATED:
        if not isinstance(params, spec.params):
            raise TypeError(
                f"load_dataset({name!r}) needs params={spec.params.__name__}(...), e.g. config.synthetic_params(cfg.dataset)"
            )
        ds = _BUILDERS[spec.loader](params)
    elif spec.origin == EMBEDDED:
        ds = _BUILDERS[spec.loader](None)
    else:
        base = data_root(root)
        with _prepared(spec, base) as folder:
            ds = _LOADERS[spec.loader](name, spec, folder)
    if normalize_features:
        for group in (ds.train, ds.val, ds.test):
            for g in group:
                if not getattr(g, "_gnnviz_normalized", False):
                    g.x = _row_normalize(g.x)
                    g._gnnviz_normalized = True
    return ds


def _row_normalize(x):
    # Rows that sum to zero stay zero instead of becoming NaN.
    s = x.sum(dim=1, keepdim=True)
    return x / s.clamp(min=1e-12) * (s != 0)


@contextlib.contextmanager
def _prepared(spec: DatasetSpec, base: Path) -> Iterator[Path]:
    """Lock the dataset folder, make its raw files present, and clean up on failure."""
    if base.exists() and not base.is_dir():
        raise DataError(f"data root {base} is a file, not a folder; pass --data-root DIR or set GNNVIZ_DATA_ROOT")
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create data root {base}: {exc.strerror}; pass a writable --data-root DIR") from None
    if not os.access(base, os.W_OK | os.X_OK):
        raise DataError(f"data root {base} is not writable; pass a writable --data-root DIR or set GNNVIZ_DATA_ROOT")
    folder = base / spec.folder
    lock_path = base / f".{spec.folder}.lock"
    with open(lock_path, "a") as lock:
        # Two runs preparing the same dataset: the second waits for the first, then reuses its work.
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            existed = folder.exists()
            before = set(_listing(folder))
            try:
                _fill_raw(spec, folder)
                processed = folder / "processed"
                stamp = _raw_stamp(spec, folder)
                if processed.exists() and _done_stamp(processed) != stamp:
                    # From an interrupted run, or built from other raw files than those here now.
                    shutil.rmtree(processed)
                yield folder
                processed.mkdir(parents=True, exist_ok=True)
                (processed / _DONE).write_text(stamp, encoding="utf-8")
            except BaseException:
                # Never leave a half-made dataset behind: drop what this attempt created.
                shutil.rmtree(folder / "processed", ignore_errors=True)
                if not existed:
                    shutil.rmtree(folder, ignore_errors=True)
                else:
                    for path in set(_listing(folder)) - before:
                        with contextlib.suppress(OSError):
                            path.unlink()
                raise
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _raw_stamp(spec: DatasetSpec, folder: Path) -> str:
    """Size and modification time of every raw file: a processed cache is valid for these only."""
    lines = []
    for f in spec.files:
        st = (folder / f).stat()
        lines.append(f"{f} {st.st_size} {st.st_mtime_ns}")
    return "\n".join(lines) + "\n"


def _done_stamp(processed: Path) -> str | None:
    try:
        return (processed / _DONE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _listing(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _fill_raw(spec: DatasetSpec, folder: Path) -> None:
    missing = [f for f in spec.files if not (folder / f).is_file()]
    mirror = data_mirror()
    if missing and mirror is not None:
        source = mirror / spec.folder
        found = [f for f in missing if (source / f).is_file()]
        for f in found:
            target = folder / f
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.partial")
            shutil.copyfile(source / f, tmp)
            os.replace(tmp, target)
        missing = [f for f in missing if f not in found]
    if missing:
        _download(spec, folder, missing)


def _download(spec: DatasetSpec, folder: Path, missing: list[str]) -> None:
    # Files all under raw/ (Planetoid, PPI) are named within it; OGB's also live in split/.
    under = "raw" if all(f.startswith("raw/") for f in spec.files) else ""
    inside = (
        f"{spec.folder}/{under}/"
        if under
        else f"{spec.folder}/ ({', '.join(sorted({f.split('/')[0] + '/' for f in spec.files}))})"
    )
    hint = f"put them in {folder / under if under else folder} or set GNNVIZ_DATA_MIRROR to a folder holding {inside} (e.g. ../shared/datasets)"
    names = [f.removeprefix(f"{under}/") if under else f for f in missing]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    if os.environ.get("GNNVIZ_OFFLINE"):
        raise DataError(f"{spec.folder} raw files missing ({shown}) and GNNVIZ_OFFLINE is set; {hint}")
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)
    try:
        with _quiet():
            _LOADERS[spec.loader + "_download"](spec, folder)
    except Exception as exc:  # noqa: BLE001 - any download failure means the same thing to the user
        reason = type(exc).__name__
        raise DataError(f"{spec.folder} raw files missing ({shown}) and the download failed ({reason}); {hint}") from None
    finally:
        socket.setdefaulttimeout(old)
    still = [f for f in spec.files if not (folder / f).is_file()]
    if still:
        raise DataError(f"{spec.folder} download did not provide {', '.join(still[:3])}; {hint}")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # PyG prints "Processing..." and download progress; the CLI owns the terminal.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def damaged(path: Path, why: str) -> DataError:
    """A raw file that cannot be read as what it should be: named, with how to get a good copy."""
    return DataError(
        f"raw file {path} is truncated or corrupt ({why}); delete it and run again to copy it "
        f"from GNNVIZ_DATA_MIRROR (or download it)"
    )


def exception_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:120]}"


def _read_failure(spec: DatasetSpec, folder: Path, exc: Exception) -> DataError:
    why = exception_text(exc)
    bad = _bad_raw_file(spec, folder)
    if bad is not None:
        return damaged(bad, why)
    return DataError(
        f"cannot prepare {spec.folder} from {folder / 'raw'} ({why}); its processed cache was removed: run again, "
        f"and if this repeats delete {folder} so the raw files are fetched again"
    )


def _bad_raw_file(spec: DatasetSpec, folder: Path) -> Path | None:
    """The first raw file that does not parse, found without unpickling (nothing in it runs)."""
    import json
    import pickletools

    import numpy as np

    for name in spec.files:
        path = folder / name
        try:
            data = path.read_bytes()
            if name.endswith(".npy"):
                np.load(io.BytesIO(data), allow_pickle=False)
            elif name.endswith(".json"):
                json.loads(data)
            elif name.endswith(".index"):
                [int(v) for v in data.split()]
            else:
                for _ in pickletools.genops(data):  # walks the opcodes to STOP; fails on a cut file
                    pass
        except Exception:  # noqa: BLE001 - any parse failure means this file is the bad one
            return path
    return None


# ----------------------------------------------------------------------------- Planetoid raw files
# PyG unpickles the raw files and processes whatever they hold: a file of another dataset or
# version can make a graph of the wrong shape, or fail deep inside PyG, and a graph processed from
# it would be cached. So before PyG sees them, the files are read with an unpickler that builds
# arrays only, and checked against each other: a file that disagrees is named.

# The published sizes (nodes, features, classes, labelled x rows, allx rows, test nodes): a file
# that agrees with its neighbours but not with these belongs to another dataset or version.
_PLANETOID_SIZES: dict[str, tuple[int, int, int, int, int, int]] = {
    "Cora": (2708, 1433, 7, 140, 1708, 1000),
    "CiteSeer": (3327, 3703, 6, 120, 2312, 1000),
}
_PICKLED_TYPES = {  # what the Planetoid pickles are made of; anything else is refused unrun
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"), ("scipy.sparse.csr", "csr_matrix"),
    ("scipy.sparse._csr", "csr_matrix"), ("collections", "defaultdict"), ("__builtin__", "list"), ("builtins", "list"),
    ("_codecs", "encode"),  # how Python 3 pickles an array's bytes at protocol 2
}  # fmt: skip


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


def _load_planetoid(name: str, spec: DatasetSpec, folder: Path) -> GraphDataset:
    from torch_geometric.datasets import Planetoid

    if not (folder / "processed").exists():
        _check_planetoid_raw(spec, folder)  # PyG processes only what passed
    try:
        with _quiet():
            ds = Planetoid(str(folder.parent), spec.folder, split="public")
        g = ds[0]
    except Exception as exc:  # noqa: BLE001 - pickle/numpy/scipy raise many kinds on corrupt files
        raise _read_failure(spec, folder, exc) from None
    tested = int(g.test_mask.sum())
    if tested != PLANETOID_TEST_NODES:
        # PyG reads a cut-off test.index without complaint and scrambles the split; refuse it.
        raise DataError(
            f"raw file {folder / spec.files[-1]} lists {tested} test nodes, not {PLANETOID_TEST_NODES}: "
            f"it is truncated or corrupt; delete it and run again to copy it from GNNVIZ_DATA_MIRROR (or download it)"
        )
    return GraphDataset(name, MULTICLASS, ds.num_features, ds.num_classes, [g], [g], [g])


def _download_planetoid(spec: DatasetSpec, folder: Path) -> None:
    from torch_geometric.datasets import Planetoid

    Planetoid.download(_Stub(folder, spec))


def _load_ppi(name: str, spec: DatasetSpec, folder: Path) -> GraphDataset:
    from torch_geometric.datasets import PPI

    try:
        with _quiet():
            splits = {s: PPI(str(folder), split=s) for s in ("train", "val", "test")}
        graphs = {s: [d[i] for i in range(len(d))] for s, d in splits.items()}
    except Exception as exc:  # noqa: BLE001
        raise _read_failure(spec, folder, exc) from None
    for s, gs in graphs.items():
        if not gs:
            raise DataError(f"{spec.folder} {s} split has no graphs in {folder / 'raw'}; the raw files look incomplete")
    first = splits["train"]
    num_classes = int(graphs["train"][0].y.size(1))
    import torch

    for s, gs in graphs.items():
        for g in gs:
            n = g.num_nodes
            g.train_mask = torch.full((n,), s == "train")
            g.val_mask = torch.full((n,), s == "val")
            g.test_mask = torch.full((n,), s == "test")
    return GraphDataset(name, MULTILABEL, first.num_features, num_classes, graphs["train"], graphs["val"], graphs["test"])


def _download_ppi(spec: DatasetSpec, folder: Path) -> None:
    from torch_geometric.data import download_url, extract_zip
    from torch_geometric.datasets import PPI

    path = download_url(PPI.url, str(folder))
    extract_zip(path, str(folder / "raw"))
    os.unlink(path)


class _Stub:
    """Just enough of a PyG dataset for its ``download`` method: ``raw_dir`` and ``name``."""

    def __init__(self, folder: Path, spec: DatasetSpec):
        from torch_geometric.datasets import Planetoid

        self.raw_dir = str(folder / "raw")
        self.name = spec.folder
        self.raw_file_names = [f.removeprefix("raw/") for f in spec.files]
        self.url = Planetoid.url
        self.split = "public"


def _load_karate() -> GraphDataset:
    import torch
    from torch_geometric.datasets import KarateClub

    g = KarateClub()[0]
    # KarateClub ships only 4 labelled nodes; a fixed stratified split (independent of the run
    # seed, so all runs compare on the same nodes): about half train, a quarter val, a quarter test.
    gen = torch.Generator().manual_seed(0)
    n = g.num_nodes
    train, val, test = (torch.zeros(n, dtype=torch.bool) for _ in range(3))
    for c in range(int(g.y.max()) + 1):
        idx = (g.y == c).nonzero().view(-1)
        idx = idx[torch.randperm(idx.numel(), generator=gen)]
        k_train = max(1, idx.numel() // 2)
        k_val = max(1, (idx.numel() - k_train) // 2)
        train[idx[:k_train]] = True
        val[idx[k_train : k_train + k_val]] = True
        test[idx[k_train + k_val :]] = True
    g.train_mask, g.val_mask, g.test_mask = train, val, test
    g.x = g.x.float()
    return GraphDataset("karate", MULTICLASS, g.num_features, int(g.y.max()) + 1, [g], [g], [g])


def _load_ogb(name: str, spec: DatasetSpec, folder: Path) -> GraphDataset:
    from gnnviz.datasets import ogb

    return ogb.load(name, spec, folder)


def _download_ogb(spec: DatasetSpec, folder: Path) -> None:
    from gnnviz.datasets import ogb

    ogb.download(spec, folder)


def _build_synthetic(params: SyntheticParams) -> GraphDataset:
    from gnnviz.datasets.synthetic import generate

    return generate(params)


# Datasets read from files: (name, spec, folder) -> GraphDataset; "<loader>_download" fetches the files.
_LOADERS: dict[str, Callable] = {
    "planetoid": _load_planetoid,
    "planetoid_download": _download_planetoid,
    "ppi": _load_ppi,
    "ppi_download": _download_ppi,
    "ogb": _load_ogb,
    "ogb_download": _download_ogb,
}
# Datasets built in memory: (params or None) -> GraphDataset.
_BUILDERS: dict[str, Callable] = {
    "karate": lambda _params: _load_karate(),
    "synthetic": _build_synthetic,
}


# ----------------------------------------------------------------------------- inventory


@dataclass
class DatasetInfo:
    name: str
    task: str
    description: str
    status: str  # "ready", "in mirror", "not available"
    graphs: int | None = None
    nodes: int | None = None
    edges: int | None = None  # undirected edges (each pair once)
    features: int | None = None
    classes: int | None = None


def describe_datasets(root: str | Path | None = None) -> list[DatasetInfo]:
    """Statistics for every dataset that can be loaded here without a download."""
    infos = []
    base = data_root(root)
    mirror = data_mirror()
    for name, spec in DATASETS.items():
        info = DatasetInfo(name, spec.task, spec.description, "not available")
        on_disk = spec.origin != FILES or all((base / spec.folder / f).is_file() for f in spec.files)
        in_mirror = mirror is not None and all((mirror / spec.folder / f).is_file() for f in spec.files)
        if on_disk or in_mirror:
            try:
                params = spec.params() if spec.params is not None else None  # a generated one: its defaults
                ds = load_dataset(name, root, normalize_features=False, params=params)
            except DataError as exc:
                info.status = f"broken: {exc}"
            else:
                graphs = _unique(ds.train + ds.val + ds.test)
                info.status = {FILES: "ready", EMBEDDED: "embedded", GENERATED: "generated (defaults shown)"}[spec.origin]
                info.graphs = len(graphs)
                info.nodes = sum(g.num_nodes for g in graphs)
                info.edges = sum(_undirected_edges(g) for g in graphs)
                info.features, info.classes = ds.num_features, ds.num_classes
        infos.append(info)
    return infos


def _unique(graphs: list) -> list:
    seen, out = set(), []
    for g in graphs:
        if id(g) not in seen:
            seen.add(id(g))
            out.append(g)
    return out


def _undirected_edges(g) -> int:
    import torch

    ei = g.edge_index
    ei = ei[:, ei[0] != ei[1]]
    pairs = torch.stack([torch.minimum(ei[0], ei[1]), torch.maximum(ei[0], ei[1])])
    return int(torch.unique(pairs, dim=1).size(1))
