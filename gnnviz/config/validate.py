"""Validation: raw sections (``Leaf`` values from the strict reader or ``--set``) into a typed
``Config`` (``from_dict``), then ranges and combinations checked and model and dataset defaults
filled (``resolve``), so that the saved config is concrete. Nothing is silently corrected.

``resolve`` fills defaults in place (the dataclasses stay mutable: ``experiment`` and ``bench``
set fields of a loaded config) and returns the same config.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from gnnviz import architectures
from gnnviz.architectures import ATTENTION_OPTIONS
from gnnviz.config.schema import REFUSED_VALUES, REMOVED, SECTIONS, Config, DatasetConfig, key_hint, removed, span
from gnnviz.config.strict_yaml import SCIENTIFIC, Leaf
from gnnviz.errors import ConfigError, did_you_mean

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def _where(values: Any, key: str, source: str) -> str:
    """``file:line`` of ``key`` in a section read from a file, else ``source``."""
    return getattr(values, "where", {}).get(str(key), source)


def from_dict(raw: dict[str, Any], source: str = "config") -> Config:
    """Build a typed Config from nested plain data, rejecting unknown keys and wrong types."""
    sections: dict[str, Any] = {}
    for section, values in raw.items():
        if section not in SECTIONS:
            raise ConfigError(
                f"{_where(raw, section, source)}: unknown section '{section}'; choose one of {', '.join(SECTIONS)}"
                f"{did_you_mean(str(section), SECTIONS)}"
            )
        if isinstance(values, Leaf):
            if values.value is not None:
                raise ConfigError(f"{values.where}: section '{section}' must be a mapping of key: value, not '{values.text}'")
            values = None
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: section '{section}' must be a mapping of key: value, not {type(values).__name__}")
        sections[section] = _build_section(section, SECTIONS[section], values, source)
    return Config(**sections)


def _build_section(section: str, cls: type, values: dict[str, Any], source: str) -> Any:
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if f"{section}.{key}" in REMOVED:
            raise ConfigError(f"{_where(values, key, source)}: {removed(f'{section}.{key}', 'delete it from the config')}")
        if key not in fields:
            raise ConfigError(
                f"{_where(values, key, source)}: unknown key '{section}.{key}'; {section} has {', '.join(fields)}"
                f"{key_hint(section, str(key), fields)}"
            )
        choices = fields[key].metadata.get("choices")
        if fields[key].metadata.get("counts") and isinstance(value, Leaf) and type(value.value) is int:
            value = dataclasses.replace(value, value=value.text)  # '10' for a one-layer model
        kwargs[key] = _coerce(f"{section}.{key}", value, hints[key], choices() if callable(choices) else choices)
    return cls(**kwargs)


def _coerce(key: str, value: Any, hint: Any, choices: tuple[str, ...] | None) -> Any:
    if isinstance(value, Leaf):
        return _coerce_leaf(key, value, hint, choices)
    optional = False
    if get_origin(hint) is Union or str(get_origin(hint)) == "<class 'types.UnionType'>":
        args = [a for a in get_args(hint) if a is not type(None)]
        optional = len(args) < len(get_args(hint))
        hint = args[0]
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{key} must be set; null is not allowed (remove the line to use the default)")
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}={_show(value)} must be true or false")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}={_show(value)} must be a whole number")
    if hint is float:
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str) and SCIENTIFIC.match(value.strip()):
            number = float(value)  # YAML 1.1 reads 5e-4 (no dot) as text; it is plainly a number
        if number is None:
            raise ConfigError(f"{key}={_show(value)} must be a number")
        if not math.isfinite(number):  # .inf, .nan or 1e400: no rate, decay or dropout means that
            raise ConfigError(f"{key}={_show(value)} must be a finite number")
        return number
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}={_show(value)} must be text")
        value = value.strip()
        if choices and value.lower() in choices:
            value = value.lower()
        if choices and value not in choices:
            refused = REFUSED_VALUES[key]() if key in REFUSED_VALUES else {}
            if value in refused:
                raise ConfigError(f"{key}={value} is not supported: {refused[value]}")
            raise ConfigError(f"unknown {key} '{value}'; choose one of {', '.join(choices)}{did_you_mean(value, choices)}")
        return value
    raise AssertionError(f"unsupported config type {hint!r}")  # pragma: no cover - programming error


def _coerce_leaf(key: str, leaf: Leaf, hint: Any, choices: tuple[str, ...] | None) -> Any:
    """``_coerce`` for a value as written: refuse what YAML readers disagree on, then check the type."""
    base = next((a for a in get_args(hint) if a is not type(None)), hint)
    if leaf.odd and not (base is float and "exponent" in leaf.odd):
        raise ConfigError(f"{leaf.show(key)} {leaf.odd}{_fix(leaf, key, base)}")
    if not leaf.plain and base in (bool, int, float):
        kind = "true or false" if base is bool else "a number"
        raise ConfigError(f"{leaf.show(key)} is quoted, so YAML reads it as text, not {kind}; remove the quotes")
    try:
        return _coerce(key, leaf.value, hint, choices)
    except ConfigError as exc:
        if leaf.where == "--set":
            raise
        raise ConfigError(f"{leaf.where}: {exc}") from None


def _fix(leaf: Leaf, key: str, hint: Any) -> str:
    """How to write ``leaf`` for a field of type ``hint`` so that every reader agrees."""
    if leaf.odd and leaf.odd.endswith("retype the value"):
        return ""
    if hint is bool:
        return "; write true or false"
    if hint in (int, float):
        if "underscores" in (leaf.odd or ""):
            return f"; write {leaf.text.replace('_', '')}"
        if "exponent" in (leaf.odd or "") and hint is float:
            return ""
        return "; write the number in plain decimal digits" + (", e.g. 1000 for 1e3" if "exponent" in (leaf.odd or "") else "")
    name = key.split(".")[-1]
    if leaf.where == "--set":
        return f"; if you mean the text, quote it: --set '{key}=\"{leaf.text}\"'"
    return f'; if you mean the text, quote it: {name}: "{leaf.text}"'


def _show(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


# ----------------------------------------------------------------------------- validation


def resolve(cfg: Config) -> Config:
    """Check ranges and combinations, then fill model defaults (the saved config is concrete)."""
    m, t, d, r = cfg.model, cfg.training, cfg.dataset, cfg.run
    table = architectures.MODELS
    spec = architectures.model_spec(m.name)
    for name in (*ATTENTION_OPTIONS, *sorted({o for s in table.values() for o in s.options})):
        if getattr(m, name) is not None and not spec.takes(name):
            takers = ", ".join(n for n, s in table.items() if s.takes(name))
            who = f"attention models ({takers})" if name in ATTENTION_OPTIONS else takers
            raise ConfigError(f"model.{name} is only for {who}; remove it for model.name={m.name}")
    for name, value in spec.defaults.items():
        if getattr(m, name) is None:
            setattr(m, name, value)

    # The ranges are the fields' own (schema ``span``); the order here is the order errors are met.
    _in_span(cfg, "model.hidden", "model.layers", "training.epochs", "training.patience", "training.snapshots")
    _in_span(cfg, "dataset.batch_size", "training.batch_size")
    if t.num_neighbors is not None:
        fanouts(t.num_neighbors, m.layers, t.batch_size)
    _in_span(cfg, "run.seed", "model.dropout")
    if spec.attention:
        _in_span(cfg, "model.heads", "model.out_heads", "model.attn_dropout")
        if m.hidden % m.heads:
            near = [n for n in (m.hidden // m.heads * m.heads, (m.hidden // m.heads + 1) * m.heads) if n > 0]
            raise ConfigError(
                f"model.hidden={m.hidden} must be divisible by model.heads={m.heads}: hidden counts all heads together "
                f"({m.heads} heads x 8 features = {m.heads * 8}); take a multiple of {m.heads}, e.g. "
                + " or ".join(f"model.hidden={n}" for n in near)
            )
    _in_span(cfg, "training.lr", "training.weight_decay")
    if not _DEVICE_RE.match(r.device):
        raise ConfigError(f"run.device='{r.device}' is not a device; choose auto, cpu, cuda or cuda:N")
    _resolve_dataset(d)
    return cfg


def _resolve_dataset(d: DatasetConfig) -> None:
    """Fill the dataset's defaults; refuse settings it does not take and values it cannot use."""
    from gnnviz.datasets import DATASETS  # the table (torch-free), read here: config imports no dataset code

    spec = DATASETS[d.name]
    settings = dict.fromkeys(f.name for s in DATASETS.values() if s.params is not None for f in dataclasses.fields(s.params))
    taken = {f.name for f in dataclasses.fields(spec.params)} if spec.params is not None else set()
    for name in settings:
        if name not in taken and getattr(d, name) is not None:
            takers = ", ".join(n for n, s in DATASETS.items() if s.params is not None and name in s.params.__dataclass_fields__)
            raise ConfigError(f"dataset.{name} is only for {takers}; remove it for dataset.name={d.name}")
    if spec.params is not None:
        for name, value in dataclasses.asdict(spec.params()).items():
            if getattr(d, name) is None:
                setattr(d, name, value)
        spec.check(d)  # the dataset's own checks of its settings (synthetic.check)
    if d.normalize_features is None:
        d.normalize_features = spec.normalize
    elif d.normalize_features and spec.signed_features:
        raise ConfigError(
            f"dataset.normalize_features=true divides each row by its sum, but {d.name}'s features are signed "
            f"(rows may sum to about 0); remove it for dataset.name={d.name}"
        )


def fanouts(text: str, layers: int, batch_size: int = 1) -> list[int]:
    """``training.num_neighbors`` as PyG's ``NeighborLoader`` takes it: '15,10' -> [15, 10]."""
    parts = [p.strip() for p in str(text).split(",")]
    example = ",".join(["10"] * layers)
    try:
        counts = [int(p) for p in parts]
    except ValueError:
        raise ConfigError(
            f"training.num_neighbors='{text}' must be whole numbers separated by commas, one per layer, e.g. '{example}'"
        ) from None
    if len(counts) != layers:
        raise ConfigError(
            f"training.num_neighbors='{text}' gives {len(counts)} layer(s) but model.layers={layers}; give one count per layer, e.g. '{example}'"
        )
    if any(c == 0 or c < -1 for c in counts):
        raise ConfigError(f"training.num_neighbors='{text}': each count must be at least 1, or -1 for all neighbours")
    if batch_size == 0:
        raise ConfigError("training.num_neighbors samples mini-batches; set training.batch_size too (seed nodes per batch)")
    return counts


def _in_span(cfg: Config, *keys: str) -> None:
    """Each ``section.field`` against its schema bounds: ``model.layers=0 must be at least 1``."""
    for key in keys:
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        for bound in span(key):
            if not bound.ok(value):
                raise ConfigError(f"{key}={value} {bound.says}")
