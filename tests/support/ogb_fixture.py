"""Small graphs written in OGB's raw node-property layout, so gnnviz's OGB reader runs offline.

The layout is what OGB's zip unpacks to (``<root>/ogbn_arxiv/...``)::

    raw/edge.csv.gz            one "src,dst" line per edge (arxiv: directed, citing -> cited;
                               products: each undirected edge once)
    raw/node-feat.csv.gz       one line of comma-separated floats per node
    raw/node-label.csv.gz      one class id per node
    raw/num-node-list.csv.gz   one line per graph: its node count (node datasets have one graph)
    raw/num-edge-list.csv.gz   one line per graph: its edge count
    split/<kind>/{train,valid,test}.csv.gz   node ids, one per line

Labels follow the graph (neighbours mostly share a class) and the features only weakly, so a GNN
beats a feature-only model on it.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np


def write_ogb_raw(
    folder: Path,
    *,
    nodes: int = 300,
    degree: int = 6,
    features: int = 8,
    classes: int = 4,
    split: str = "time",
    shares: tuple[float, float, float] = (0.5, 0.25, 0.25),
    seed: int = 0,
) -> Path:
    """Write ``folder/raw/*`` and ``folder/split/<split>/*``; returns ``folder``."""
    rng = np.random.default_rng(seed)
    y = rng.integers(classes, size=nodes)
    m = nodes * degree // 2
    src = rng.integers(nodes, size=m)
    # 9 in 10 edges join two nodes of one class; the rest are random.
    dst = rng.integers(nodes, size=m)
    same = rng.random(m) < 0.9
    for c in range(classes):
        members = np.flatnonzero(y == c)
        pick = same & (y[src] == c)
        dst[pick] = rng.choice(members, size=int(pick.sum()))
    keep = src != dst
    edges = np.stack([src[keep], dst[keep]], axis=1)
    centres = rng.normal(size=(classes, features))
    x = 0.5 * centres[y] + rng.normal(size=(nodes, features))

    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    _write(raw / "edge.csv.gz", "\n".join(f"{a},{b}" for a, b in edges))
    _write(raw / "node-feat.csv.gz", "\n".join(",".join(f"{v:.6f}" for v in row) for row in x))
    _write(raw / "node-label.csv.gz", "\n".join(str(int(v)) for v in y))
    _write(raw / "num-node-list.csv.gz", str(nodes))
    _write(raw / "num-edge-list.csv.gz", str(len(edges)))
    order = rng.permutation(nodes)
    cut1, cut2 = int(shares[0] * nodes), int((shares[0] + shares[1]) * nodes)
    parts = {"train": order[:cut1], "valid": order[cut1:cut2], "test": order[cut2:]}
    where = folder / "split" / split
    where.mkdir(parents=True, exist_ok=True)
    for name, ids in parts.items():
        _write(where / f"{name}.csv.gz", "\n".join(str(int(i)) for i in np.sort(ids)))
    return folder


def _write(path: Path, text: str) -> None:
    with gzip.open(path, "wt") as f:
        f.write(text + "\n")
