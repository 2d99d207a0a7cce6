"""The model table: every architecture gnnviz can train, with what it can do. Imports no torch.

``MODELS`` maps a name to a ``ModelSpec``. Config choices, per-model defaults and validation
(config), the layer stack and its forward (models.gnn), the training path (training, models.fast) and
the figures (viz) all read the capabilities here; no code branches on a model's name. Adding a
model is one entry here plus its layer builder (a function ``(args, d_in, d_out, last) -> conv``,
named as ``"module:function"`` and imported only when a model is built, so that reading this
table stays free of torch and ``gnnviz --help`` stays fast).

``ModelArgs`` holds a model's constructor arguments; a checkpoint stores ``asdict(args)`` under
``checkpoint["model"]["kwargs"]`` and ``models.gnn.rebuild`` builds the same model from it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gnnviz.errors import ConfigError, GnnvizError, lookup

# Model fields only attention models use; the config refuses them for the others.
ATTENTION_OPTIONS = ("heads", "out_heads", "attn_dropout")


@dataclass(frozen=True)
class ModelSpec:
    """What one architecture is and can do.

    ``attention``: its layers compute attention coefficients (returned per layer and head by
    ``forward(return_details=True)``) and take ``heads``, ``out_heads`` and ``attn_dropout``.
    ``edge_weight``: its layers take GCN's fixed coefficients D^-1/2 (A+I) D^-1/2 as edge weights.
    ``self_loops``: the graph gets exactly one self-loop per node before the layers see it (none at all
    with ``separate_self``, an option of the models that list it: ``models.gnn.GNN.join_own``).
    ``sparse_input``: its layers accept a sparse feature matrix (SAGE gathers raw features: dense only).
    ``fast_kernel``: ``"module:function"`` of its fast-path layer (``training.fast``), or None.
    ``inference_kernel``: ``"module:function"`` computing one layer over the whole graph in eval
    mode from per-node projections made once (``GNN.inference``), or None (the layer then runs on
    each block of targets with all their sources).
    ``message_passing``: its layers read the edges (False: each node's output depends on its own
    features only, and visualize leaves out the figures about edges and attention, with a note).
    ``activation``: between layers, a name in ``models.gnn.ACTIVATIONS``.
    ``defaults``: values for the model fields a config leaves null (the published hyperparameters).
    ``options``: model fields beyond ``ATTENTION_OPTIONS`` that only this kind of model takes (``aggr``).
    """

    description: str
    layer: str
    attention: bool = False
    edge_weight: bool = False
    self_loops: bool = True
    sparse_input: bool = True
    fast_kernel: str | None = None
    inference_kernel: str | None = None
    message_passing: bool = True
    activation: str = "relu"
    defaults: Mapping[str, Any] = field(default_factory=dict)
    options: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    @property
    def fast_path(self) -> bool:
        """Trains through ``GNN.plan``/``forward_plan`` when ``training.fast`` is on."""
        return self.fast_kernel is not None

    def takes(self, option: str) -> bool:
        """Whether the model field ``option`` (heads, aggr, ...) means anything for this model."""
        return option in self.options or (self.attention and option in ATTENTION_OPTIONS)


# ``model.separate_self`` fits the models whose layers mix a node's own features with its
# neighbours' through a self-loop; SAGE already keeps them apart (its root weight, summed).
_SEPARATE = ("separate_self",)
_GAT_DEFAULTS = {"hidden": 64, "heads": 8, "out_heads": 1, "dropout": 0.6, "attn_dropout": 0.6}

MODELS: dict[str, ModelSpec] = {
    "gat": ModelSpec(
        "graph attention network (Velickovic et al. 2018)",
        "gnnviz.models.gnn:gat_conv",
        attention=True,
        fast_kernel="gnnviz.models.fast:gat_kernel",
        inference_kernel="gnnviz.models.fast:gat_inference",
        activation="elu",
        defaults=_GAT_DEFAULTS,
        options=_SEPARATE,
    ),
    "gatv2": ModelSpec(
        "GATv2, dynamic attention (Brody et al. 2022)",
        "gnnviz.models.gnn:gatv2_conv",
        attention=True,
        activation="elu",
        defaults=_GAT_DEFAULTS,
        options=_SEPARATE,
    ),
    "gcn": ModelSpec(
        "graph convolutional network (Kipf & Welling 2017)",
        "gnnviz.models.gnn:gcn_conv",
        edge_weight=True,
        fast_kernel="gnnviz.models.fast:gcn_kernel",
        defaults={"hidden": 16, "dropout": 0.5},
        options=_SEPARATE,
    ),
    "sage": ModelSpec(
        "GraphSAGE (Hamilton et al. 2017)",
        "gnnviz.models.gnn:sage_conv",
        self_loops=False,
        sparse_input=False,
        defaults={"hidden": 256, "dropout": 0.5, "aggr": "mean"},
        options=("aggr",),
    ),
    "mlp": ModelSpec(
        "multilayer perceptron: Linear layers, no message passing (the baseline that ignores edges)",
        "gnnviz.models.gnn:mlp_layer",
        self_loops=False,
        message_passing=False,
        defaults={"hidden": 64, "dropout": 0.5},
    ),
}


def model_spec(name: str, error: type[GnnvizError] = ConfigError) -> ModelSpec:
    """``MODELS[name]`` (read at call time, so a test may swap the table), or an error listing the choices."""
    return lookup(MODELS, name, "model", error)


def model_names() -> tuple[str, ...]:
    return tuple(MODELS)


def resolve(target: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> the function, imported now."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class ModelArgs:
    """A model's constructor arguments: the model section of a resolved config plus the dataset's
    input and output widths. ``dataclasses.asdict`` of it is what a checkpoint stores."""

    name: str
    in_channels: int
    out_channels: int
    hidden: int
    layers: int = 2
    heads: int | None = None
    out_heads: int | None = None
    dropout: float = 0.0
    attn_dropout: float | None = None
    residual: bool = False
    aggr: str | None = None
    separate_self: str = "none"
