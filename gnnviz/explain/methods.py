"""The explanation methods: ``METHODS`` maps a name to what the method is and can do.

Every method scores the input edges of one node's computation subgraph (``Subgraph``) for the
model's own prediction at that node; larger = more important. The gradient methods and
GNNExplainer are PyG's (``torch_geometric.explain``), run as ``explanation_type="model"`` with an
object-level edge mask; PyG multiplies the mask into every message, and ``GNN.graph`` removes
the input's self-loops and appends one per node, which is the layout PyG's mask handling expects,
so the masks align with the input edges (the appended self-loops are not scored).
Integrated Gradients' attributions can be negative; the score is their absolute value. The two
gradient methods also attribute the prediction to the node features (``MethodSpec.features``: a
second explainer with a mask on every feature of every node and none on the edges, so the edge
scores are not changed by it).
Code branches on ``MethodSpec.attention`` (the model must have attention), never on a name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from gnnviz.explain import attention as att

MODEL_CONFIG = {"mode": "multiclass_classification", "task_level": "node", "return_type": "raw"}


@dataclass(frozen=True)
class Subgraph:
    """One node's computation subgraph, relabelled: ``x`` [n, F], ``edge_index`` [2, E_sub] (input
    edges), ``index`` the node's position; ``fresh()`` a new copy of the model in eval mode (PyG's
    explainers leave state on the layers they mask, so each method gets its own copy)."""

    x: Tensor
    edge_index: Tensor
    index: int
    fresh: Callable[[], torch.nn.Module]


@dataclass(frozen=True)
class MethodSpec:
    description: str
    score: Callable[[Subgraph, int, int], Tensor]  # (subgraph, seed, epochs) -> [E_sub]
    attention: bool = False  # only for models whose layers compute attention
    stochastic: bool = False  # depends on the seed
    # (subgraph, seed) -> [n, F] attribution of the prediction to each node's features, or None:
    # the method gives no feature attribution
    features: Callable[[Subgraph, int], Tensor] | None = None


def explainer(model: torch.nn.Module, algorithm, *, edges: bool = True):
    """PyG's ``Explainer`` for the model's own prediction: an edge mask (``edges``) or, without
    it, a mask on every node feature ("attributes")."""
    from torch_geometric.explain import Explainer

    return Explainer(
        model,
        algorithm,
        explanation_type="model",
        edge_mask_type="object" if edges else None,
        node_mask_type=None if edges else "attributes",
        model_config=MODEL_CONFIG,
    )


def _gnnexplainer(sub: Subgraph, seed: int, epochs: int) -> Tensor:
    from torch_geometric.explain import GNNExplainer

    torch.manual_seed(seed)
    return explainer(sub.fresh(), GNNExplainer(epochs=epochs))(sub.x, sub.edge_index, index=sub.index).edge_mask.detach()


def _captum(name: str) -> Callable[[Subgraph, int, int], Tensor]:
    def score(sub: Subgraph, seed: int, epochs: int) -> Tensor:
        from torch_geometric.explain import CaptumExplainer

        torch.manual_seed(seed)
        mask = explainer(sub.fresh(), CaptumExplainer(name))(sub.x, sub.edge_index, index=sub.index).edge_mask
        return mask.detach().abs()

    return score


def _captum_features(name: str) -> Callable[[Subgraph, int], Tensor]:
    def features(sub: Subgraph, seed: int) -> Tensor:
        from torch_geometric.explain import CaptumExplainer

        torch.manual_seed(seed)
        x = sub.x.detach().clone().requires_grad_(True)  # captum warns about inputs without gradients
        mask = explainer(sub.fresh(), CaptumExplainer(name), edges=False)(x, sub.edge_index, index=sub.index).node_mask
        return mask.detach().abs()

    return features


def _attention(reading: str) -> Callable[[Subgraph, int, int], Tensor]:
    def score(sub: Subgraph, seed: int, epochs: int) -> Tensor:
        with torch.no_grad():
            _, details = sub.fresh()(sub.x, sub.edge_index, return_details=True)
        a = details["attention"]
        if reading == "last":
            return att.last_layer(a, sub.edge_index)
        if reading == "mean":
            return att.layer_mean(a, sub.edge_index)
        return att.tree(a, sub.edge_index, sub.index, sub.x.size(0))

    return score


METHODS: dict[str, MethodSpec] = {
    "gnnexplainer": MethodSpec("GNNExplainer (Ying et al. 2019): a learned soft edge mask, PyG", _gnnexplainer, stochastic=True),
    "integrated_gradients": MethodSpec(
        "Integrated Gradients of the predicted logit w.r.t. the edge mask (captum via PyG), absolute value",
        _captum("IntegratedGradients"),
        features=_captum_features("IntegratedGradients"),
    ),
    "saliency": MethodSpec(
        "saliency: |d predicted logit / d edge mask| at mask = 1 (captum via PyG)",
        _captum("Saliency"),
        features=_captum_features("Saliency"),
    ),
    "attention_last": MethodSpec(
        "the last layer's attention coefficient on each edge (mean over heads)", _attention("last"), attention=True
    ),
    "attention_mean": MethodSpec(
        "each edge's attention coefficient averaged over layers (and heads)", _attention("mean"), attention=True
    ),
    "attention_tree": MethodSpec(
        "computation-tree attribution (GAtt-style): attention multiplied along every path to the node, "
        "summed over paths, divided by the number of layers",
        _attention("tree"),
        attention=True,
    ),
}
