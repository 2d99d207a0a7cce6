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

Batching: a method scores many subgraphs (nodes, and the ``--repeats`` of a stochastic method)
in one call, on their disjoint union (PyG's ``Batch``), in parts within ``BATCH_NUMBERS`` (a
memory bound). A node's prediction on the union depends only on its own subgraph, so the gradient
methods' attributions of every node's predicted logit come from one pass per part (PyG's
``CaptumExplainer`` given the nodes as an index tensor) and equal the per-node ones; GNNExplainer
optimises the sum over nodes of each node's own loss (its cross entropy and PyG's mask-size and
mask-entropy terms over its own edges, ``_UnionGNNExplainer``), and since Adam updates each mask
entry from that entry's gradients alone, every node's mask follows the path of a separate run
started from the same draw (each subgraph's is drawn as PyG draws it, from the node's own seed).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from math import sqrt

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
# How much is explained together in one disjoint union, in numbers: 32 per input edge (a layer's
# messages, up to 32 wide) plus the node features; bounds a union's memory for one forward and
# backward pass. A subgraph larger than this is explained alone.
BATCH_NUMBERS = 8_000_000


@dataclass(frozen=True)
class Subgraph:
    """One node's computation subgraph, relabelled: ``x`` [n, F], ``edge_index`` [2, E_sub] (input
    edges), ``index`` the node's position; ``fresh()`` a new copy of the model in eval mode (PyG's
    explainers leave state on the layers they mask, so each method gets its own copy)."""

    x: Tensor
    edge_index: Tensor
    index: int
    fresh: Callable[[], torch.nn.Module]
    # GNNExplainer's start where edges were left out of a subgraph PyG would explain whole:
    # (that subgraph's edge count, the positions [E_sub] of these edges in it); the mask is drawn
    # for all of them, as PyG draws it, and these positions' entries kept. None: drawn for these.
    drawn: tuple[int, Tensor] | None = None


# (subgraphs, a seed each, epochs) -> each subgraph's [E_sub] scores. Subgraphs scored in one call
# share one model (the first one's ``fresh()``).
Score = Callable[[list[Subgraph], list[int], int], list[Tensor]]


@dataclass(frozen=True)
class MethodSpec:
    description: str
    score: Score
    attention: bool = False  # only for models whose layers compute attention
    stochastic: bool = False  # depends on the seed
    # (subgraphs, a seed each) -> each one's [n, F] attribution of its prediction to each node's
    # features, or None: the method gives no feature attribution
    features: Callable[[list[Subgraph], list[int]], list[Tensor]] | None = None
    # a trained method: (training nodes' subgraphs, seed) -> the score function explained nodes get;
    # ``score`` is then never called unfitted
    fit: Callable[[list[Subgraph], int], Score] | None = None
    default: bool = True  # run when --methods is not given
    # (GNNExplainer epochs, repeats) -> the method's time per node for its edge scores and their
    # fidelities, relative to the others', about forward and backward passes of the subgraphs; and
    # (number of features) -> that of its feature attribution: how explain shares the work between
    # its two processes (``run._split``)
    cost: Callable[[int, int], float] = lambda epochs, repeats: 10.0
    features_cost: Callable[[int], float] = lambda features: 10.0


def size(sub: Subgraph) -> int:
    """What ``sub`` counts against ``BATCH_NUMBERS``."""
    return 32 * sub.edge_index.size(1) + sub.x.numel()


def parts(sizes: list[int], budget: int | None = None) -> list[list[int]]:
    """Consecutive groups of positions whose ``sizes`` sum to at most ``budget`` (default
    ``BATCH_NUMBERS``); a size over the budget is a group of its own."""
    budget = BATCH_NUMBERS if budget is None else budget
    groups: list[list[int]] = []
    total = 0
    for i, size in enumerate(sizes):
        if not groups or total + size > budget:
            groups.append([])
            total = 0
        groups[-1].append(i)
        total += size
    return groups


def union(subs: list[Subgraph]):
    """The disjoint union of ``subs`` (PyG's ``Batch``): (x, edge_index, each subgraph's node
    position in it [B], each one's edge count)."""
    from torch_geometric.data import Batch, Data

    b = Batch.from_data_list([Data(x=s.x, edge_index=s.edge_index, num_nodes=s.x.size(0)) for s in subs])
    index = b.ptr[:-1] + torch.tensor([s.index for s in subs], dtype=torch.long)
    return b.x, b.edge_index, index, [s.edge_index.size(1) for s in subs]


def _batched(one_part: Callable[[list[Subgraph], list[int], int], list[Tensor]]) -> Score:
    """``one_part`` run on groups within ``BATCH_NUMBERS``, results in input order."""

    def score(subs: list[Subgraph], seeds: list[int], epochs: int) -> list[Tensor]:
        out: list[Tensor] = []
        for group in parts([size(s) for s in subs]):
            out.extend(one_part([subs[i] for i in group], [seeds[i] for i in group], epochs))
        return out

    return score


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


def _union_gnnexplainer():
    from torch_geometric.explain import GNNExplainer

    class UnionGNNExplainer(GNNExplainer):
        """PyG's GNNExplainer on a disjoint union of subgraphs, each with the loss and start it
        would have alone: its edge mask drawn as PyG draws it for that subgraph (std from its node
        count) from its own seed, and the loss the sum over subgraphs of PyG's per-node loss (cross
        entropy of the node's prediction, mask size and mean mask entropy over its own edges)."""

        def __init__(self, nodes: list[int], edges: list[int], seeds: list[int], epochs: int, drawn: list | None = None):
            super().__init__(epochs=epochs)
            self.part_nodes, self.part_edges, self.part_seeds = nodes, edges, seeds
            self.part_drawn = drawn or [None] * len(edges)
            self.part = torch.repeat_interleave(torch.arange(len(edges)), torch.tensor(edges, dtype=torch.long))

        def _initialize_homogeneous_masks(self, node_mask_type, edge_mask_type, N, F, E, device):
            super()._initialize_homogeneous_masks(node_mask_type, None, N, F, E, device)
            if edge_mask_type is None:
                self.edge_mask = None
                return
            gain = torch.nn.init.calculate_gain("relu")
            draws = [
                (
                    torch.randn(e, generator=torch.Generator().manual_seed(seed))
                    if d is None
                    else torch.randn(d[0], generator=torch.Generator().manual_seed(seed))[d[1]]
                )
                * (gain * sqrt(2.0 / (2 * n)))
                for n, e, seed, d in zip(self.part_nodes, self.part_edges, self.part_seeds, self.part_drawn, strict=True)
            ]
            self.edge_mask = torch.nn.Parameter(torch.cat(draws).to(device))

        def _calculate_base_loss(self, y_hat, y):
            return super()._calculate_base_loss(y_hat, y) * y.numel()  # PyG's mean over nodes -> their sum

        def _apply_homo_regularization(self, loss):
            if self.node_mask is not None:
                raise NotImplementedError("explained with an edge mask only")
            if self.hard_edge_mask is None:  # PyG's first step: no regularisers yet
                return loss
            m = self.edge_mask[self.hard_edge_mask].sigmoid()
            part = self.part[self.hard_edge_mask]
            count = torch.bincount(part, minlength=len(self.part_edges)).clamp(min=1)
            eps = self.coeffs["EPS"]
            ent = -m * torch.log(m + eps) - (1 - m) * torch.log(1 - m + eps)
            if self.coeffs["edge_reduction"] != "sum":  # PyG's default, which adds up over subgraphs
                raise NotImplementedError("a per-subgraph mask size other than the sum")
            return loss + self.coeffs["edge_size"] * m.sum() + self.coeffs["edge_ent"] * (ent / count[part]).sum()

    return UnionGNNExplainer


def _gnnexplainer_part(subs: list[Subgraph], seeds: list[int], epochs: int) -> list[Tensor]:
    x, edge_index, index, sizes = union(subs)
    algorithm = _union_gnnexplainer()([s.x.size(0) for s in subs], sizes, seeds, epochs, [s.drawn for s in subs])
    mask = explainer(subs[0].fresh(), algorithm)(x, edge_index, index=index).edge_mask.detach()
    return list(torch.split(mask, sizes))


def _unfitted(subs: list[Subgraph], seeds: list[int], epochs: int) -> list[Tensor]:
    raise RuntimeError("a trained method scores nodes only through the function its fit returns")


def _pg_fit(train: list[Subgraph], seed: int) -> Score:
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

    def score(subs: list[Subgraph], seeds: list[int], epochs: int) -> list[Tensor]:
        # PyG's PGExplainer explains one node per call
        return [pg(s.x, s.edge_index, target=predicted(s), index=s.index).edge_mask.detach() for s in subs]

    return score


def _captum(name: str) -> Score:
    """Captum's ``name`` attribution of each node's predicted logit to the edge mask, every node of
    a part at once: PyG's ``CaptumExplainer`` with the nodes as an index tensor (the gradient of
    their logits' sum, which on a disjoint union is each node's own gradient on its own edges)."""

    def part(subs: list[Subgraph], seeds: list[int], epochs: int) -> list[Tensor]:
        from torch_geometric.explain import CaptumExplainer

        x, edge_index, index, sizes = union(subs)
        mask = explainer(subs[0].fresh(), CaptumExplainer(name))(x, edge_index, index=index).edge_mask
        return list(torch.split(mask.detach().abs(), sizes))

    return _batched(part)


def _captum_features(name: str) -> Callable[[list[Subgraph], list[int]], list[Tensor]]:
    def part(subs: list[Subgraph], seeds: list[int], epochs: int) -> list[Tensor]:
        from torch_geometric.explain import CaptumExplainer

        x, edge_index, index, _ = union(subs)
        x = x.detach().clone().requires_grad_(True)  # captum warns about inputs without gradients
        mask = explainer(subs[0].fresh(), CaptumExplainer(name), edges=False)(x, edge_index, index=index).node_mask
        return list(torch.split(mask.detach().abs(), [s.x.size(0) for s in subs]))

    batched = _batched(part)
    return lambda subs, seeds: batched(subs, seeds, 0)


def _attention(reading: str) -> Score:
    def one(sub: Subgraph, model: torch.nn.Module) -> Tensor:
        with torch.no_grad():
            _, details = model(sub.x, sub.edge_index, return_details=True)
        a = details["attention"]
        if reading == "last":
            return att.last_layer(a, sub.edge_index)
        if reading == "mean":
            return att.layer_mean(a, sub.edge_index)
        return att.tree(a, sub.edge_index, sub.index, sub.x.size(0))

    def score(subs: list[Subgraph], seeds: list[int], epochs: int) -> list[Tensor]:
        model = subs[0].fresh() if subs else None
        return [one(s, model) for s in subs]

    return score


METHODS: dict[str, MethodSpec] = {
    "gnnexplainer": MethodSpec(
        "GNNExplainer (Ying et al. 2019): a learned soft edge mask, PyG (the explained nodes' masks optimised "
        "together on the union of their subgraphs, each with its own loss)",
        _batched(_gnnexplainer_part),
        stochastic=True,
        cost=lambda epochs, repeats: epochs * repeats + 8.0,
    ),
    "pgexplainer": MethodSpec(
        f"PGExplainer (Luo et al. 2020), PyG: an edge-scoring network trained once per explain on up to "
        f"{PG_TRAIN_NODES} training nodes ({PG_EPOCHS} epochs, lr {PG_LR}) for the model's predictions, "
        "then applied to each node; off by default (--methods pgexplainer)",
        _unfitted,
        stochastic=True,
        fit=_pg_fit,
        cost=lambda epochs, repeats: 100.0 * repeats,  # its training, once per repeat, dominates
        default=False,
    ),
    "integrated_gradients": MethodSpec(
        "Integrated Gradients of the predicted logit w.r.t. the edge mask (captum via PyG), absolute value",
        _captum("IntegratedGradients"),
        features=_captum_features("IntegratedGradients"),
        # measured on one core: 0.3 s edges (with their fidelities) and 0.25 s features on BA-Shapes
        # (10 features), 0.35 s and 1.05 s on Cora (1,433), against GNNExplainer's 0.76 s and 0.57 s
        cost=lambda epochs, repeats: 50.0,
        features_cost=lambda features: 30.0 + features / 10,
    ),
    "saliency": MethodSpec(
        "saliency: |d predicted logit / d edge mask| at mask = 1 (captum via PyG)",
        _captum("Saliency"),
        features=_captum_features("Saliency"),
        cost=lambda epochs, repeats: 12.0,
        features_cost=lambda features: 1.0 + features / 400,
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
