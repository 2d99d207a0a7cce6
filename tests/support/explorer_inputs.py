"""Arrays for ``explorer_files`` from a trained run, the way visualize gets them today.

An adapter for tests and the bench until the viz split (issue 9) gives visualize one arrays module:
it calls ``report._load``/``_projections`` (the forward pass and its cache), the layout and the
numpy attention statistics, and returns the keyword arguments of ``explorer_files``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

CORA_CLASSES = (
    "Case_Based", "Genetic_Algorithms", "Neural_Networks", "Probabilistic_Methods",
    "Reinforcement_Learning", "Rule_Learning", "Theory",
)  # fmt: skip


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def explorer_inputs(run_dir: Path, *, class_names=None, figures=(), method: str = "tsne") -> dict[str, Any]:
    """The keyword arguments visualize passes to ``explorer_files`` for ``run_dir`` (no lift)."""
    from gnnviz.viz import visualize as report
    from gnnviz.viz.coords.layout import graph_layout
    from gnnviz.viz.load import load_arrays
    from gnnviz.viz.pages import explorer

    a = load_arrays(Path(run_dir))
    lay = graph_layout(a.edge_index, a.num_nodes, seed=report.VIZ_SEED)
    kwargs = explorer.run_inputs(a, lay.coords, report._projections(a, method), None, list(figures))
    if class_names is not None:
        kwargs["class_names"] = class_names
    return kwargs


def write_files(files: dict[str, bytes], out: Path) -> Path:
    """What the renderer will do with ``explorer_files``' result."""
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return out / "explorer.html"


def train_run(out: Path, config: str, *sets: str, name: str) -> Path:
    """A real run directory from one of the repo's configs (what ``gnnviz train`` writes)."""
    from gnnviz.config import load_config
    from gnnviz.experiment import train

    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / config, list(sets))
    return train(cfg, out=out, name=name, quiet=True)


def incoming_weights(edge_index: np.ndarray, weights: np.ndarray, node: int) -> dict[int, np.ndarray]:
    """{source: weights [H] or scalar} of the edges into ``node`` (self-loop included)."""
    pos = np.flatnonzero(edge_index[1] == node)
    return {int(edge_index[0, p]): weights[p] for p in pos}
