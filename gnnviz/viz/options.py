"""What the user asked ``visualize`` to draw, checked: first alone, then against the run's arrays.

``Options`` holds the command line's choices; ``Options.check()`` rejects what is wrong whatever
the run (format, dpi, top-k); ``select(arrays, options)`` resolves layers, heads and nodes against
what the run has, with a ``ConfigError`` naming the option and the valid range. Both run before
any file is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gnnviz.analysis.arrays import RunArrays
from gnnviz.analysis.run import top_degree
from gnnviz.errors import ConfigError

FORMATS = ("png", "svg")
# 200 dpi: sharp in a printed paper at full column width. Above MAX_DPI a 10-inch figure becomes a
# 100-megapixel image that takes minutes and gigabytes to draw; below MIN_DPI text is unreadable.
DEFAULT_DPI = 200
MIN_DPI, MAX_DPI = 30, 1200

Head = int | str  # a head index, or "mean" for the average over a layer's heads


@dataclass(frozen=True)
class Options:
    """The command line's choices. layers/heads are 0-based; None means the defaults."""

    nodes: Sequence[int] = ()
    top_k: int = 4
    layers: Sequence[int] | None = None
    heads: Sequence[int] | None = None
    fmt: str = "png"
    dpi: int = DEFAULT_DPI
    graph_index: int = 0

    def check(self) -> None:
        """Reject what is wrong for any run; raises ``ConfigError``."""
        if self.fmt not in FORMATS:
            raise ConfigError(f"--format '{self.fmt}' is not supported; choose png or svg")
        if self.top_k < 0:
            raise ConfigError(f"--top-k {self.top_k} must be 0 or more")
        if isinstance(self.dpi, bool) or not isinstance(self.dpi, int) or not MIN_DPI <= self.dpi <= MAX_DPI:
            raise ConfigError(
                f"--dpi {self.dpi} is out of range; pass a whole number from {MIN_DPI} to {MAX_DPI} (default {DEFAULT_DPI})"
            )


@dataclass(frozen=True)
class Selection:
    """What the figures show, resolved against the run.

    layers: layer indices; heads: per attention layer, heads for the per-head files and
    neighbourhoods (int or "mean"); heads_given: whether --heads restricted them; nodes: the
    neighbourhoods to draw (hubs first, then --nodes); hubs_note: how ties among equal degrees were
    broken, if any; notes: messages for the log and the page.
    """

    layers: list[int]
    heads: dict[int, list[Head]]
    heads_given: bool
    nodes: list[int]
    hubs_note: str | None = None
    notes: list[str] = field(default_factory=list)


def select(arrays: RunArrays, options: Options) -> Selection:
    n, label = arrays.num_nodes, arrays.graph_label
    for v in options.nodes:
        if not 0 <= v < n:
            raise ConfigError(f"node {v} out of range; {label} has {n} nodes (0..{n - 1}); pass --nodes ids in that range")
    layers = _layers(options.layers, arrays.num_layers, arrays.model)
    notes: list[str] = []
    heads = _heads(options.heads, layers, arrays, notes)
    hubs, hubs_note = top_degree(arrays.degree, options.top_k)
    nodes = list(dict.fromkeys(hubs + list(options.nodes)))
    return Selection(layers, heads, options.heads is not None, nodes, hubs_note, notes)


def _layers(layers: Sequence[int] | None, num_layers: int, model: str) -> list[int]:
    if layers is None:
        return list(range(num_layers))
    for layer in layers:
        if not 0 <= layer < num_layers:
            have = f"the {model} model has {num_layers} layers (0..{num_layers - 1})"
            raise ConfigError(f"layer {layer} does not exist; {have}; pass --layers in that range")
    return list(dict.fromkeys(layers))


def _heads(heads: Sequence[int] | None, layers: list[int], arrays: RunArrays, notes: list[str]) -> dict[int, list[Head]]:
    if not arrays.attention:
        if heads is not None:
            raise ConfigError(f"the {arrays.model} model has no attention heads; drop --heads")
        return {}
    counts = {layer: arrays.attention[layer].heads for layer in layers}
    if heads is None:
        return {layer: [0, "mean"] if h > 1 else [0] for layer, h in counts.items()}
    for head in heads:
        if not any(0 <= head < h for h in counts.values()):
            have = ", ".join(f"layer {layer} has {_heads_text(h)}" for layer, h in counts.items())
            raise ConfigError(f"head {head} does not exist; {have}; pass --heads in that range")
    chosen: dict[int, list[Head]] = {}
    for layer, h in counts.items():
        chosen[layer] = [head for head in dict.fromkeys(heads) if head < h]
        skipped = [head for head in dict.fromkeys(heads) if head >= h]
        if skipped:
            notes.append(f"layer {layer} has {_heads_text(h)}: heads {', '.join(map(str, skipped))} skipped there")
    return chosen


def _heads_text(h: int) -> str:
    return "1 head (0)" if h == 1 else f"{h} heads (0..{h - 1})"
