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
PGExplainer (Luo et al. 2020, PyG's ``PGExplainer``) is a trained method (``MethodSpec.fit``): a
small network mapping (source, target, explained node) embeddings to an edge score, trained once
per explain call on a seeded sample of the run's training nodes (each on its computation subgraph,
for the model's own prediction: PyG's "phenomenon" explanation with target = the predicted
class), then run on every explained node. It is off by default (``MethodSpec.default``): its
training costs ``PG_EPOCHS`` x the sampled nodes forward/backward passes before the first node.
Code branches on ``MethodSpec.attention`` (the model must have attention), ``fit`` and
``default``, never on a name.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from gnnviz.errors import ConfigError
from gnnviz.explain import attention as att

MODEL_CONFIG = {"mode": "multiclass_classification", "task_level": "node", "return_type": "raw"}
# PGExplainer's training, as in PyG's PGExplainer example (epochs=30, lr=0.003): passes over the
# sampled training nodes, its learning rate, and how many training nodes are sampled at most.
PG_EPOCHS = 30
PG_LR = 0.003
PG_TRAIN_NODES = 300


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
    # a trained method: (training nodes' subgraphs, seed) -> the score function explained nodes get;
    # ``score`` is then never called unfitted
    fit: Callable[[list[Subgraph], int], Callable[[Subgraph, int, int], Tensor]] | None = None
    default: bool = True  # run when --methods is not given


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


def _unfitted(sub: Subgraph, seed: int, epochs: int) -> Tensor:
    raise RuntimeError("a trained method scores nodes only through the function its fit returns")


def _pg_fit(train: list[Subgraph], seed: int) -> Callable[[Subgraph, int, int], Tensor]:
    """Train PyG's PGExplainer on ``train`` (PG_EPOCHS passes, nodes in a seeded order) for the
    model's own predictions; returns the score of an explained node's input edges [E_sub]."""
    from torch_geometric.explain import Explainer, PGExplainer

    if not train:
        raise ConfigError(
            "--methods pgexplainer trains on the run's training nodes, and none of them has an edge within reach "
            "of the model; use gnnexplainer, integrated_gradients or saliency"
        )
    torch.manual_seed(seed)  # the explainer network's initial weights and its concrete-distribution samples
    model = train[0].fresh().requires_grad_(False)  # gradients flow to the mask only
    algorithm = PGExplainer(epochs=PG_EPOCHS, lr=PG_LR)
    # PyG's PGExplainer.supports() accepts this (phenomenon, node level, object edge mask, no
    # feature mask) for every model gnnviz trains; explain refuses the tasks it would not (multi-label).
    pg = Explainer(model, algorithm, explanation_type="phenomenon", edge_mask_type="object", model_config=MODEL_CONFIG)

    def predicted(sub: Subgraph) -> Tensor:
        with torch.no_grad():
            return model(sub.x, sub.edge_index).argmax(dim=-1)

    targets = [predicted(s) for s in train]
    order = torch.Generator().manual_seed(seed)
    with warnings.catch_warnings():  # PyG's float(loss) of a tensor that requires grad: harmless
        warnings.filterwarnings("ignore", "Converting a tensor with requires_grad=True to a scalar")
        for epoch in range(PG_EPOCHS):
            for i in torch.randperm(len(train), generator=order).tolist():
                s = train[i]
                algorithm.train(epoch, model, s.x, s.edge_index, target=targets[i], index=s.index)

    def score(sub: Subgraph, seed: int, epochs: int) -> Tensor:
        return pg(sub.x, sub.edge_index, target=predicted(sub), index=sub.index).edge_mask.detach()

    return score


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
    "pgexplainer": MethodSpec(
        f"PGExplainer (Luo et al. 2020), PyG: an edge-scoring network trained once per explain on up to "
        f"{PG_TRAIN_NODES} training nodes ({PG_EPOCHS} epochs, lr {PG_LR}) for the model's predictions, "
        "then applied to each node; off by default (--methods pgexplainer)",
        _unfitted,
        stochastic=True,
        fit=_pg_fit,
        default=False,
    ),
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
