"""Attention switched off: re-run a trained model with some attention layers' weights replaced.

Answers "does attention matter here?": if replacing a layer's learned attention by uniform
weights over the same neighbours (or by GCN's fixed coefficients) changes no prediction, the
model did not need what its attention learned. Compare the logits with
``gnnviz.analysis.insight.prediction_change``.

How: the model's own ``forward`` runs unchanged (eval mode, no gradients); a PyG edge-update
hook on each chosen layer swaps the attention coefficients the layer just computed for the
given ones before they weight the messages. So everything else the layer does (projection,
heads, concatenation or mean, bias) and everything around it (skips, activation) stays the
model's own, and replacing attention by itself reproduces the model's logits exactly (tested).
A layer is an attention layer when it computes coefficients per edge through PyG's edge updater
(GATConv, GATv2Conv); asking to replace any other layer is an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from gnnviz.errors import ConfigError

# "uniform": 1 / in-degree on every incoming edge, self-loop included (in-degree as the layer
# sees it). "gcn": D^-1/2 (A+I) D^-1/2 on the layer's edges (self-loops included): GCN's
# coefficients as they are, which do not sum to 1 per node (the sum is above 1 for a node whose
# neighbours have lower degree than itself, below 1 otherwise).
KINDS = ("uniform", "gcn")

Weights = str | Tensor | np.ndarray  # a kind above, or [E_l] / [E_l, H_l] in the layer's edge order


def fixed_weights(kind: str, edge_index: Tensor, num_nodes: int) -> Tensor:
    """The weights of ``kind`` ("uniform" or "gcn") on ``edge_index`` [2, E] (self-loops in): [E]."""
    dst = edge_index[1]
    deg = torch.bincount(dst, minlength=num_nodes).to(torch.float)
    if kind == "uniform":
        return 1.0 / deg[dst]
    if kind == "gcn":
        inv = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
        return inv[edge_index[0]] * inv[dst]
    raise ConfigError(f"unknown attention replacement '{kind}'; choose one of {', '.join(KINDS)} or give weights")


def _message_passing(model: nn.Module) -> list[nn.Module | None]:
    """Per layer of ``model.convs``, the layer if it can take an edge-update hook, else None."""
    return [c if hasattr(c, "register_edge_update_forward_hook") else None for c in model.convs]


@torch.no_grad()
def attention_layers(model: nn.Module, x: Tensor, edge_index: Tensor) -> list[int]:
    """Indices into ``model.convs`` of the layers that compute attention, found by running once."""
    fired: list[int] = []
    handles = []
    for i, conv in enumerate(_message_passing(model)):
        if conv is not None:
            handles.append(conv.register_edge_update_forward_hook(lambda _m, _i, _o, i=i: fired.append(i)))
    was_training = model.training
    try:
        model.eval()
        model(x, edge_index)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return sorted(set(fired))


@torch.no_grad()
def logits_with_attention(model: nn.Module, x: Tensor, edge_index: Tensor, weights: Mapping[int, Weights]) -> np.ndarray:
    """Logits [N, C] of ``model`` in eval mode with layer ``l``'s attention replaced by ``weights[l]``.

    x: [N, F]; edge_index: [2, E] as given to the model (it adds its own self-loops). A weight is
    a kind of ``KINDS``, or [E_l] (the same for every head) or [E_l, H_l] in the order of the
    layer's edges, i.e. of the edge index ``forward(..., return_details=True)`` reports for it.
    Layers not in ``weights`` keep their attention. The model is left as it was found.
    """
    layers = _message_passing(model)
    for layer in weights:
        if not 0 <= layer < len(layers) or layers[layer] is None:
            raise ConfigError(
                f"layer {layer} is not an attention layer of this model; choose from {attention_layers(model, x, edge_index)}"
            )
    n = x.size(0)
    used: set[int] = set()

    def hook(layer: int):
        def swap(_module: nn.Module, inputs: tuple, alpha: Tensor) -> Tensor:
            used.add(layer)
            w = weights[layer]
            if isinstance(w, str):
                w = fixed_weights(w, inputs[0], n)
            w = torch.as_tensor(w, dtype=alpha.dtype, device=alpha.device)
            if w.dim() == 1:
                w = w.unsqueeze(1)
            if w.size(0) != alpha.size(0) or w.size(1) not in (1, alpha.size(1)):
                raise ConfigError(
                    f"weights for layer {layer} have shape {tuple(w.shape)}; the layer has {alpha.size(0)} edges and {alpha.size(1)} heads"
                )
            return w.expand_as(alpha).reshape(alpha.shape).clone()

        return swap

    handles = [layers[layer].register_edge_update_forward_hook(hook(layer)) for layer in weights]
    was_training = model.training
    try:
        model.eval()
        out = model(x, edge_index)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    missing = sorted(set(weights) - used)
    if missing:
        raise ConfigError(f"layers {missing} computed no attention in this forward pass; choose attention layers")
    return out.detach().cpu().numpy()


def switch_off(model: nn.Module, x: Tensor, edge_index: Tensor, kinds: Sequence[str] = KINDS) -> dict[str, np.ndarray]:
    """Logits [N, C] of the model as trained and with attention replaced, one layer at a time and all at once.

    Keys: ``"original"``, then for each kind ``"<kind>:<layer>"`` per attention layer and
    ``"<kind>:all"``. Raises ``ConfigError`` for a model without attention layers.
    """
    for kind in kinds:
        if kind not in KINDS:
            fixed_weights(kind, edge_index, 1)  # raises with the choices
    layers = attention_layers(model, x, edge_index)
    if not layers:
        raise ConfigError("this model has no attention layers to switch off; use a gat or gatv2 run")
    out = {"original": logits_with_attention(model, x, edge_index, {})}
    for kind in kinds:
        for layer in layers:
            out[f"{kind}:{layer}"] = logits_with_attention(model, x, edge_index, {layer: kind})
        out[f"{kind}:all"] = logits_with_attention(model, x, edge_index, dict.fromkeys(layers, kind))
    return out
