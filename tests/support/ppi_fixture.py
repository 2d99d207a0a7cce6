"""Small graphs written in PPI's raw format, so the real PyG PPI loader is exercised offline.

Labels depend on the neighbourhood (a 2-hop smoothed random projection of the features), so a
GNN can learn them while a predictor that ignores the input cannot.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
from networkx.readwrite import json_graph


def write_ppi_raw(folder: Path, graphs=(4, 2, 2), nodes: int = 60, features: int = 16, labels: int = 8, seed: int = 0) -> Path:
    """Write ``folder/raw/{train,valid,test}_*`` files; returns ``folder``."""
    rng = np.random.default_rng(seed)
    proj = rng.normal(size=(features, labels))
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, count in zip(("train", "valid", "test"), graphs, strict=False):
        G = nx.Graph()
        feats, labs, gids = [], [], []
        offset = 0
        for k in range(count):
            n = nodes + int(rng.integers(0, 10))
            local = nx.connected_watts_strogatz_graph(n, 4, 0.3, seed=int(rng.integers(1 << 30)))
            x = rng.normal(size=(n, features)).astype(np.float32)
            a = nx.to_numpy_array(local, nodelist=range(n)) + np.eye(n)
            a = a / a.sum(1, keepdims=True)
            score = a @ a @ x @ proj
            y = (score > np.median(score, axis=0)).astype(np.float32)
            G.add_nodes_from(range(offset, offset + n))
            G.add_edges_from((u + offset, v + offset) for u, v in local.edges)
            feats.append(x)
            labs.append(y)
            gids.append(np.full(n, k + 1, dtype=np.int64))  # PPI numbers graphs from 1
            offset += n
        data = json_graph.node_link_data(G, edges="links")
        (raw / f"{split}_graph.json").write_text(json.dumps(data))
        np.save(raw / f"{split}_feats.npy", np.concatenate(feats))
        np.save(raw / f"{split}_labels.npy", np.concatenate(labs))
        np.save(raw / f"{split}_graph_id.npy", np.concatenate(gids))
    return folder
