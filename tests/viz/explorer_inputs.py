"""Arrays for ``explorer_files`` from a trained run, the way visualize gets them today.

An adapter for tests and the bench until the viz split (issue 9) gives visualize one arrays module:
it calls ``report._load``/``_projections`` (the forward pass and its cache), the layout and the
numpy attention statistics, and returns the keyword arguments of ``explorer_files``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

CORA_CLASSES = (
    "Case_Based", "Genetic_Algorithms", "Neural_Networks", "Probabilistic_Methods",
    "Reinforcement_Learning", "Rule_Learning", "Theory",
)  # fmt: skip


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def explorer_inputs(run_dir: Path, *, class_names=None, figures=()) -> dict[str, Any]:
    from gnnviz.viz import attention as att
    from gnnviz.viz import report
    from gnnviz.viz.layout import graph_layout

    inputs = report._load(Path(run_dir), [], 0, None, None, 0)
    n, ei = inputs.num_nodes, inputs.edge_index
    lay = graph_layout(ei, n, seed=report.VIZ_SEED)
    multilabel = inputs.task == "multilabel"
    probs = 1 / (1 + np.exp(-inputs.logits)) if multilabel else softmax(inputs.logits.astype(np.float64))
    degree = np.bincount(ei[1][ei[0] != ei[1]], minlength=n)
    entropy, entropy_mean = [], []
    for layer_ei, alpha in inputs.attention:
        entropy.append(att.entropy(layer_ei, alpha, n))
        entropy_mean.append(att.entropy(layer_ei, alpha.mean(1), n) if alpha.shape[1] > 1 else None)
    gcn = None
    if inputs.model_name == "gcn":
        loops = att.with_self_loops(ei, n)
        gcn = (loops, att.gcn_coefficients(loops, n))
    tsne = [(title, p.coords, p.index) for title, p in report._projections(inputs)]
    return dict(
        title=f"{inputs.model_name.upper()} on {inputs.graph_label}",
        num_nodes=n, edge_index=ei, coords=lay.coords, y=inputs.y, probabilities=probs, split=inputs.split,
        degree=degree, class_names=class_names, attention=inputs.attention, entropy=entropy, entropy_mean=entropy_mean,
        gcn=gcn, tsne=tsne, summary=inputs.run.summary, config_text=yaml.safe_dump(inputs.run.config, sort_keys=False),
        figures=list(figures),
    )  # fmt: skip


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
