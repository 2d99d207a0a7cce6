"""Numbers about one explanation: ROC AUC against a known explanation, and fidelity.

AUC is scikit-learn's ``roc_auc_score`` (PyG's ``groundtruth_metrics`` computes the same through
torchmetrics, which gnnviz does not otherwise need); fidelity and the characterization score are
PyG's (``torch_geometric.explain.metric``), on a hard mask: the top ``keep`` share of the
computation graph's edges.
"""

from __future__ import annotations

import numpy as np
import torch


def auc(scores: np.ndarray, truth: np.ndarray) -> float | None:
    """ROC AUC of ``scores`` [E] against the bool ``truth`` [E]; None when truth is all one class
    (undefined). Ties count half, so constant scores give 0.5."""
    from sklearn.metrics import roc_auc_score

    truth = np.asarray(truth, dtype=bool)
    if truth.all() or not truth.any():
        return None
    return float(roc_auc_score(truth, scores))


def top_share(scores: np.ndarray, among: np.ndarray, keep: float) -> np.ndarray:
    """Bool [E]: the ceil(keep * m) highest-scoring edges of the m edges in ``among`` (ties by
    position, stably), nothing outside ``among``."""
    idx = np.flatnonzero(among)
    k = max(1, int(np.ceil(keep * idx.size))) if idx.size else 0
    order = idx[np.argsort(-scores[idx], kind="stable")]
    hard = np.zeros(scores.shape[0], dtype=bool)
    hard[order[:k]] = True
    return hard


def fidelity(model: torch.nn.Module, x: torch.Tensor, edge_index: torch.Tensor, index: int, hard: np.ndarray):
    """PyG's (fid+, fid-) of the hard edge mask ``hard`` [E] for the model's prediction at ``index``
    ("model" explanations: fid+ = 1 if removing the mask's edges changes the predicted class,
    fid- = 1 if keeping only them changes it)."""
    return fidelities(model, x, edge_index, index, [hard])[0]


def fidelities(
    model: torch.nn.Module, x: torch.Tensor, edge_index: torch.Tensor, index: int, hards: list[np.ndarray]
) -> list[tuple[float, float]]:
    """``fidelity`` of each hard mask in ``hards`` (one prediction of the unmasked model shared)."""
    from torch_geometric.explain.algorithm import DummyExplainer
    from torch_geometric.explain.metric import fidelity as pyg_fidelity

    from gnnviz.explain.methods import explainer

    e = explainer(model, DummyExplainer())
    explanation = e(x, edge_index, index=index)
    out = []
    for hard in hards:
        explanation.edge_mask = torch.from_numpy(hard.astype(np.float32))
        plus, minus = pyg_fidelity(e, explanation)
        out.append((float(plus), float(minus)))
    return out


def fidelities_many(model: torch.nn.Module, subs: list, hards: list[list[np.ndarray]]) -> list[list[tuple[float, float]]]:
    """``fidelities`` of many subgraphs (``methods.Subgraph``) at once: ``hards[j]`` the hard masks
    of ``subs[j]``. PyG's fidelity of "model" explanations per node, from PyG's masked predictions
    (``Explainer.get_masked_prediction``): the model's prediction at each node without a mask, then
    with each hard mask and with its complement, each a copy of the subgraph in a disjoint union,
    one forward pass per part within ``methods.BATCH_NUMBERS``."""
    from torch_geometric.explain.algorithm import DummyExplainer

    from gnnviz.explain.methods import explainer, parts, size, union

    e = explainer(model, DummyExplainer())
    with torch.no_grad():
        x, edge_index, index, _ = union(subs)
        y = e.get_target(e.get_prediction(x, edge_index))[index]
        # copies: (subgraph, mask), each hard mask then its complement
        copies = [(j, m) for j, hs in enumerate(hards) for h in hs for m in (h, ~h)]
        kept = torch.empty(len(copies), dtype=torch.bool)  # the copy's prediction is the unmasked one
        for group in parts([size(subs[j]) for j, _ in copies]):
            x, edge_index, index, _ = union([subs[copies[c][0]] for c in group])
            mask = torch.from_numpy(np.concatenate([copies[c][1] for c in group]).astype(np.float32))
            got = e.get_target(e.get_masked_prediction(x, edge_index, None, mask))[index]
            kept[group] = got == y[[copies[c][0] for c in group]]
    out: list[list[tuple[float, float]]] = []
    c = 0
    for hs in hards:
        row = []
        for _ in hs:  # fid+ from the complement (explanation removed), fid- from the explanation alone
            row.append((1.0 - float(kept[c + 1]), 1.0 - float(kept[c])))
            c += 2
        out.append(row)
    return out


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Overlap of two bool masks: |a & b| / |a | b| (1 where both are empty)."""
    union = int((a | b).sum())
    return float((a & b).sum() / union) if union else 1.0


def characterization(plus: float, minus: float) -> float | None:
    """PyG's characterization score (harmonic mean of fid+ and 1 - fid-, equal weights); None where
    it is undefined (fid+ = 0 or fid- = 1)."""
    from torch_geometric.explain.metric import characterization_score

    if plus <= 0 or minus >= 1:
        return None
    return float(characterization_score(torch.tensor([plus]), torch.tensor([minus])))
