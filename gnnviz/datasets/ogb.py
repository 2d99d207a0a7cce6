"""OGB's node-property datasets (ogbn-arxiv, ogbn-products) read from OGB's own raw files.

No ``ogb`` package: its raw layout is plain gzip'd CSV, read here with numpy. The layout under
``<data root>/ogbn_arxiv/`` (the folder OGB's zip unpacks to, renamed as OGB does)::

    raw/edge.csv.gz            "src,dst" per edge: arxiv's are directed (citing -> cited),
                               products lists each undirected edge once
    raw/node-feat.csv.gz       comma-separated floats, one line per node
    raw/node-label.csv.gz      one class id per node
    raw/num-node-list.csv.gz   node count (one line: a node dataset is one graph)
    raw/num-edge-list.csv.gz   edge count
    split/<kind>/{train,valid,test}.csv.gz   node ids, one per line (arxiv: time, products: sales_ranking)

gnnviz's models treat every graph as undirected, as PyG's OGB examples do for arxiv
(``to_undirected``): each edge is kept in both directions, repeats once. Parsing arxiv's CSVs
takes seconds, so the result is cached in ``processed/gnnviz.pt`` and rebuilt when a raw file's
size or modification time changes.
"""

from __future__ import annotations

import os
import shutil
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gnnviz.datasets.base import MULTICLASS, DatasetSpec, GraphDataset
from gnnviz.datasets.store import damaged, exception_text
from gnnviz.errors import DataError
from gnnviz.io import atomic_write_stream

if TYPE_CHECKING:
    import numpy as np

URL = "https://snap.stanford.edu/ogb/data/nodeproppred/{}.zip"
RAW = ("edge.csv.gz", "node-feat.csv.gz", "node-label.csv.gz", "num-node-list.csv.gz", "num-edge-list.csv.gz")
SPLITS = {"train": "train", "val": "valid", "test": "test"}  # gnnviz's split -> OGB's file name
CACHE = "processed/gnnviz.pt"
CACHE_VERSION = 1


@dataclass(frozen=True)
class OgbInfo:
    download: str  # OGB's zip name, and the folder inside it
    split: str  # split/<split>/ holds the official split
    description: str


OGB: dict[str, OgbInfo] = {
    "ogbn-arxiv": OgbInfo("arxiv", "time", "OGB: arXiv CS citations (169k nodes), 40 subject areas, split by year"),
    "ogbn-products": OgbInfo("products", "sales_ranking", "OGB: Amazon co-purchases (2.4M nodes), 47 categories, split by sales"),
}


def folder(name: str) -> str:
    """``ogbn-arxiv`` -> ``ogbn_arxiv``, the folder OGB itself uses."""
    return name.replace("-", "_")


def files(name: str) -> tuple[str, ...]:
    """Paths relative to the dataset folder that must exist before loading."""
    split = OGB[name].split
    return (*(f"raw/{f}" for f in RAW), *(f"split/{split}/{f}.csv.gz" for f in SPLITS.values()))


# ----------------------------------------------------------------------------- loading


def load(name: str, spec: DatasetSpec, where: Path) -> GraphDataset:
    """One transductive graph with OGB's split as masks. Shapes: x [N, F] float32, y [N],
    edge_index [2, E] (both directions, sorted)."""
    import torch
    from torch_geometric.data import Data

    stamp = [[f, *_identity(where / f)] for f in spec.files]
    arrays = _read_cache(where / CACHE, stamp)
    if arrays is None:
        arrays = {k: torch.from_numpy(v) for k, v in parse(where, spec.files).items()}
        _write_cache(where / CACHE, {**arrays, "stamp": stamp, "version": CACHE_VERSION})
    n = int(arrays["y"].numel())
    masks = {}
    for split in SPLITS:
        mask = torch.zeros(n, dtype=torch.bool)
        mask[arrays[split]] = True
        masks[f"{split}_mask"] = mask
    g = Data(x=arrays["x"], edge_index=arrays["edge_index"], y=arrays["y"], num_nodes=n, **masks)
    return GraphDataset(name, MULTICLASS, int(g.x.size(1)), int(g.y.max()) + 1, [g], [g], [g])


def parse(where: Path, paths: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The raw CSVs as arrays, every count and id checked; a bad file raises a DataError naming it."""
    import numpy as np

    raw = where / "raw"
    n = _one_count(raw / "num-node-list.csv.gz", "nodes")
    m = _one_count(raw / "num-edge-list.csv.gz", "edges")
    edges = _table(raw / "edge.csv.gz", np.int64, rows=(m, raw / "num-edge-list.csv.gz"), width=2)
    _ids(raw / "edge.csv.gz", edges, n, "edge endpoint")
    counted = (n, raw / "num-node-list.csv.gz")
    x = _table(raw / "node-feat.csv.gz", np.float32, rows=counted)
    if not np.isfinite(x).all():
        row = int(np.flatnonzero(~np.isfinite(x).all(1))[0])
        raise damaged(raw / "node-feat.csv.gz", f"line {row + 1} holds a value that is not a finite number")
    y = _table(raw / "node-label.csv.gz", np.int64, rows=counted, width=1).reshape(-1)
    if (y < 0).any():
        raise damaged(raw / "node-label.csv.gz", f"line {int(np.argmax(y < 0)) + 1} holds a negative class id")
    out = {"x": x, "y": y}
    owner = np.full(n, -1, dtype=np.int8)
    split_files = [p for p in paths if p.startswith("split/")]
    for k, (split, path) in enumerate(zip(SPLITS, split_files, strict=True)):
        ids = _table(where / path, np.int64, width=1).reshape(-1)
        _ids(where / path, ids, n, "node id")
        if ids.size == 0:
            raise damaged(where / path, "it lists no nodes")
        clash = owner[ids] >= 0
        if clash.any():
            other = split_files[int(owner[ids[clash][0]])]
            raise DataError(
                f"node {int(ids[clash][0])} is in both {where / other} and {where / path}: the split files disagree; "
                f"delete {where / 'split'} and run again to copy it from GNNVIZ_DATA_MIRROR (or download it)"
            )
        owner[ids] = k
        out[split] = ids
    # Undirected, as gnnviz's models read every graph: both directions of each edge, each pair once.
    src, dst = edges[:, 0], edges[:, 1]
    key = np.unique(np.concatenate([src * n + dst, dst * n + src]))
    out["edge_index"] = np.stack([key // n, key % n])
    return out


def _one_count(path: Path, what: str) -> int:
    import numpy as np

    values = _table(path, np.int64, width=1).reshape(-1)
    if values.size != 1:
        raise damaged(path, f"it lists {values.size} graphs, but a node-property dataset is one graph")
    if values[0] < 1:
        raise damaged(path, f"it gives {int(values[0])} {what}")
    return int(values[0])


def _ids(path: Path, ids: np.ndarray, n: int, what: str) -> None:
    bad = (ids < 0) | (ids >= n)
    if bad.any():
        raise damaged(path, f"{what} {int(ids[bad][0])} is outside 0..{n - 1} (num-node-list.csv.gz says {n} nodes)")


def _table(path: Path, dtype: type, *, rows: tuple[int, Path] | None = None, width: int | None = None) -> np.ndarray:
    """[rows, width] numbers from a gzip'd CSV (numpy's C reader, a block of lines at a time).

    ``rows``: how many lines there must be and the file that says so (None: any); ``width``: values per line (None: any, the
    same on every line). Any other shape, a value that is not a number of ``dtype``, or a damaged
    gzip stream raises a DataError naming the file.
    """
    import numpy as np

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # loadtxt only warns about an empty file
            values = np.loadtxt(path, dtype=dtype, delimiter=",", ndmin=2)
    except UserWarning:
        raise damaged(path, "it is empty") from None
    except ValueError as exc:  # numpy names the row and column: "could not convert string 'x' to int64 at row 4, column 2"
        raise damaged(path, str(exc).strip().splitlines()[0].rstrip(".")[:160]) from None
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise damaged(path, exception_text(exc)) from None
    if width is not None and values.shape[1] != width:
        raise damaged(path, f"its lines hold {values.shape[1]} values, not {width}")
    if rows is not None and values.shape[0] != rows[0]:
        count, source = rows
        raise DataError(
            f"raw files {path} and {source} disagree ({path.name} has {values.shape[0]} lines, {source.name} says {count}): "
            f"one is truncated or corrupt; delete both and run again to copy them from GNNVIZ_DATA_MIRROR (or download them)"
        )
    return values


# ----------------------------------------------------------------------------- processed cache


def _identity(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _read_cache(path: Path, stamp: list) -> dict | None:
    """The cached arrays when they were made from these exact raw files, else None."""
    import torch

    if not path.is_file():
        return None
    try:
        blob = torch.load(path, weights_only=True)
    except Exception:  # noqa: BLE001 - a damaged cache is rebuilt, whatever the damage
        return None
    if not isinstance(blob, dict) or blob.get("version") != CACHE_VERSION or blob.get("stamp") != stamp:
        return None
    return blob


def _write_cache(path: Path, blob: dict) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_stream(path, lambda f: torch.save(blob, f))


# ----------------------------------------------------------------------------- download


def download(spec: DatasetSpec, where: Path) -> None:
    """OGB's zip for this dataset, unpacked into ``where`` (raw/ and split/ only)."""
    from torch_geometric.data import download_url, extract_zip

    name = next(n for n in OGB if folder(n) == spec.folder)
    info = OGB[name]
    scratch = where / ".download"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        archive = download_url(URL.format(info.download), str(scratch))
        extract_zip(archive, str(scratch))
        unpacked = scratch / info.download
        for f in spec.files:
            source, target = unpacked / f, where / f
            if source.is_file() and not target.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _spec(name: str) -> DatasetSpec:
    return DatasetSpec(
        folder(name), MULTICLASS, files(name), load, OGB[name].description, download=download, signed_features=True
    )


DATASETS: dict[str, DatasetSpec] = {name: _spec(name) for name in OGB}

# Names of real OGB datasets that gnnviz does not load, with why and what to use instead.
REFUSED: dict[str, str] = {
    "ogbn-proteins": "it has no node features (8 features per edge instead) and 112 binary tasks scored by ROC-AUC, "
    "which gnnviz's models and metrics do not cover; use ogbn-arxiv or ogbn-products",
    "ogbn-mag": "it is heterogeneous (papers, authors, institutions, fields of study) and gnnviz trains on one node type; "
    "its paper-cites-paper part is out of scope here; use ogbn-arxiv, a citation graph of the same kind",
    "ogbn-papers100M": "OGB ships it in its binary layout (raw/data.npz), which gnnviz does not read, and its 111M x 128 "
    "features alone take 57 GB; use ogbn-arxiv or ogbn-products",
}
