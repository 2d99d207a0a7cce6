"""Typed config: defaults, YAML loading, ``--set`` overrides and validation, all in one place.

A config file holds only what differs from these defaults. Every value is validated once, here,
before anything starts; nothing is silently corrected.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from gnnviz import architectures
from gnnviz import datasets as data
from gnnviz.architectures import ATTENTION_OPTIONS, model_names
from gnnviz.datasets.synthetic import SyntheticParams
from gnnviz.errors import ConfigError, GnnvizError, did_you_mean, os_error_message


def _f(
    default: Any, why: str, choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None, *, counts: bool = False
) -> Any:
    """A config field; ``choices`` may be a function, read at validation time (the model table);
    ``counts``: a text field of comma-separated numbers, where one number alone is read as text too."""
    return field(default=default, metadata={"why": why, "choices": choices, "counts": counts})


_SYNTHETIC = SyntheticParams()


def _dataset_names() -> tuple[str, ...]:
    return tuple(data.DATASETS)


@dataclass
class DatasetConfig:
    name: str = _f("cora", "which graph(s) to learn on: a name in the dataset table (gnnviz/data.py)", _dataset_names)
    normalize_features: bool | None = _f(None, "row-normalise features as the GAT/GCN papers do; null = the dataset's default")
    batch_size: int = _f(1, "graphs per mini-batch for multi-graph datasets (PPI); the GAT paper uses 2")
    # The synthetic dataset's settings (gnnviz/synthetic.py): null = its default; refused for other datasets.
    nodes: int | None = _f(None, f"synthetic: number of nodes; null = {_SYNTHETIC.nodes}")
    blocks: int | None = _f(None, f"synthetic: number of blocks, one class each; null = {_SYNTHETIC.blocks}")
    mean_degree: float | None = _f(None, f"synthetic: neighbours per node on average; null = {_SYNTHETIC.mean_degree}")
    homophily: float | None = _f(
        None, f"synthetic: share of a node's neighbours in its own block, 0 to 1; null = {_SYNTHETIC.homophily}"
    )
    features: int | None = _f(None, f"synthetic: feature count; null = {_SYNTHETIC.features}")
    feature_noise: float | None = _f(
        None,
        "synthetic: share of nodes whose features come from a random block, 0 to 1 (1 = features say nothing of the label); "
        f"null = {_SYNTHETIC.feature_noise}",
    )
    train_fraction: float | None = _f(
        None, f"synthetic: share of nodes in the training split; null = {_SYNTHETIC.train_fraction}"
    )
    val_fraction: float | None = _f(None, f"synthetic: share of nodes in the validation split; null = {_SYNTHETIC.val_fraction}")
    test_fraction: float | None = _f(
        None, f"synthetic: share of nodes in the test split (the rest are unlabelled); null = {_SYNTHETIC.test_fraction}"
    )
    seed: int | None = _f(
        None, f"synthetic: seed of the graph, features and split (run.seed seeds training); null = {_SYNTHETIC.seed}"
    )


@dataclass
class ModelConfig:
    name: str = _f("gat", "which architecture: a name in the model table (gnnviz/architectures.py)", model_names)
    hidden: int | None = _f(None, "hidden width per layer, all heads together (8 heads x 8 = 64); null = model default")
    heads: int | None = _f(None, "attention heads in hidden layers (attention models only); null = model default")
    out_heads: int | None = _f(None, "attention heads in the output layer, averaged; null = model default")
    layers: int = _f(2, "number of message-passing layers, output layer included")
    dropout: float | None = _f(None, "dropout on each layer's input features; null = model default")
    attn_dropout: float | None = _f(None, "dropout on attention coefficients (attention models only); null = model default")
    residual: bool = _f(False, "skip connections around each layer (the GAT paper's PPI model)")
    aggr: str | None = _f(None, "neighbour aggregation for sage; null = mean", ("mean", "max", "sum"))


@dataclass
class TrainingConfig:
    epochs: int = _f(1000, "upper bound on epochs; early stopping usually ends sooner")
    patience: int = _f(
        100,
        "epochs to wait before stopping: under metric_or_loss, epochs in which the val metric stays below its best and the val loss above its lowest; under metric, epochs without a better val metric; 0 = never stop",
    )
    lr: float = _f(0.005, "Adam learning rate")
    weight_decay: float = _f(5e-4, "Adam L2 penalty")
    early_stopping: str = _f(
        "metric_or_loss",
        "metric_or_loss (GAT paper): the wait resets when the val metric reaches its best or the val loss its lowest (ties count), state kept where both hold; metric: val metric only, ties broken by lower loss",
        ("metric_or_loss", "metric"),
    )
    fast: bool = _f(True, "sparse-aware fast path (same model and maths); false = the plain dense PyG way")
    snapshots: int = _f(
        0,
        "every N epochs (and before the first) keep attention summaries in snapshots.json, drawn by visualize against the epoch; 0 = off",
    )
    batch_size: int = _f(
        0,
        "single-graph datasets: seed (training) nodes per mini-batch, one optimiser step each; 0 = full batch, one step per epoch (dataset.batch_size counts whole graphs, for PPI)",
    )
    num_neighbors: str | None = _f(
        None,
        "with training.batch_size: neighbours sampled per node and layer, first layer first, e.g. '15,10' (PyG NeighborLoader; -1 = all); null = all neighbours, exact receptive fields",
        counts=True,
    )


@dataclass
class RunConfig:
    seed: int = _f(0, "seeds torch, numpy and random so a run can be repeated exactly on CPU")
    device: str = _f("auto", "auto, cpu, cuda or cuda:N; auto takes CUDA when present")


@dataclass
class Config:
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


SECTIONS: dict[str, type] = {
    "dataset": DatasetConfig,
    "model": ModelConfig,
    "training": TrainingConfig,
    "run": RunConfig,
}

# Keys that no longer exist, with why: a config naming one fails with this rather than "unknown key".
REMOVED = {
    "training.loss": "the loss follows the dataset's task (cross-entropy for multi-class, binary cross-entropy for multi-label), "
    "so nothing read it",
}

# Values that name something real that gnnviz cannot take, with why and what to use instead.
REFUSED_VALUES = {"dataset.name": data.REFUSED}

_SCIENTIFIC = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")
_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


# ----------------------------------------------------------------------------- loading


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read ``path`` (or defaults), apply dotted ``key=value`` overrides, validate, resolve."""
    raw: dict[str, Any] = {}
    if path is not None:
        raw = read_yaml(Path(path))
    # A key set twice on the command line takes the later value, as options do (both are in plain
    # view there, unlike two equal keys in a file); scripts rely on appending an override.
    for item in overrides:
        key, value = parse_override(item)
        _set_dotted(raw, key, value, item)
    cfg = from_dict(raw, source=str(path) if path else "config")
    return resolve(cfg)


# ----------------------------------------------------------------------------- YAML as a reader sees it
# A config must mean what a person reading it sees. PyYAML follows YAML 1.1, which reads some
# spellings differently from YAML 1.2 and from how they look (base-60 ``1:30`` is 90, ``010`` is
# 8, ``no`` is false, ``1_000`` is 1000), keeps the last of two equal keys, and lets anchors,
# aliases, merge keys and tags make one line stand for another. Such a file or value is refused
# with a message that says how YAML reads it and how to write it; nothing is guessed. A leading
# UTF-8 byte-order mark is accepted (it does not change how anything reads).


@dataclass(frozen=True)
class Leaf:
    """A scalar as written. ``value``: what YAML reads; ``text``: what the reader sees; ``plain``:
    not quoted; ``where``: ``file:line`` or ``--set``; ``odd``: why YAML readers disagree on it, if they do."""

    value: Any
    text: str
    plain: bool
    where: str
    odd: str | None = None

    def show(self, key: str) -> str:
        return f"--set {key}={self.text}" if self.where == "--set" else f"{self.where}: {key}: {self.text}"


_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
_BOOL_11 = {"yes", "no", "on", "off", "y", "n"}


def _odd(text: str, tag: str, plain: bool) -> str | None:
    """Why readers of YAML disagree on ``text`` (``tag``: how PyYAML resolved it), or None."""
    for ch in text:
        if (unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp") and ch != "\n") or (
            ch.isspace() and ch not in " \n"
        ):
            name = unicodedata.name(ch, "a control character")
            return f"contains the invisible character U+{ord(ch):04X} ({name}); retype the value"
    if not plain:
        return None
    kind = tag.rsplit(":", 1)[-1]
    low = text.lower()
    if low in _BOOL_11:
        reading = "true" if low in ("yes", "on", "y") else "false"
        return f"is the boolean {reading} to YAML 1.1 but text to YAML 1.2"
    if kind in ("int", "float") or _LEADING_ZERO.match(text):
        digits = text.lstrip("+-")
        if ":" in digits:
            return "is a base-60 number to YAML 1.1 but text to YAML 1.2"
        if digits[:2].lower() in ("0x", "0b", "0o"):
            return "is a hexadecimal, binary or octal number, not a decimal one"
        if _LEADING_ZERO.match(text):
            return "has a leading zero: YAML 1.1 reads it as octal (or text), YAML 1.2 as decimal"
        if "_" in digits:
            return "is a number to YAML 1.1 but text to YAML 1.2 (the underscores)"
    if kind == "str" and _SCIENTIFIC.match(text):
        return "is a number to YAML 1.2 but text to YAML 1.1 (an exponent without a dot)"
    return None


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


def _leaf(loader: yaml.SafeLoader, node: yaml.ScalarNode, where: str) -> Leaf:
    """A scalar node as a ``Leaf``."""
    plain = node.style is None
    if node.tag.endswith(":timestamp"):
        # YAML 1.1 reads 2024-01-02 as a date (and 2024-13-45 as an error), YAML 1.2 as text.
        return Leaf(node.value, node.value, plain, where, "is a date to YAML 1.1 but text to YAML 1.2")
    value = loader.construct_object(node, deep=True)
    text = node.value if plain or node.style not in "'\"" else f"{node.style}{node.value}{node.style}"
    return Leaf(value, text, plain, where, _odd(node.value, node.tag, plain))


def _refuse_events(text: str, where: Callable[[Any], str]) -> None:
    """Several documents, anchors, aliases and tags: refused before anything is built."""
    documents = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise ConfigError(
                    f"{where(event.start_mark)}: a second YAML document starts here ('---'); a config is one document: remove the second"
                )
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise ConfigError(
                f"{where(event.start_mark)}: YAML anchors and aliases (&name, *name) are not allowed; write the value out in full"
            )
        if getattr(event, "tag", None) and not isinstance(event, (yaml.DocumentStartEvent,)):
            raise ConfigError(
                f"{where(event.start_mark)}: YAML tag {event.tag} is not allowed; configs hold plain data only, remove the YAML tag"
            )


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, line: Callable[[Any], str], prefix: str, depth: int) -> dict:
    out: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        where = line(key_node.start_mark)
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise ConfigError(f"{where}: merge keys (<<) are not allowed; write the keys out in full")
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            what = key_node.tag.rsplit(":", 1)[-1] if isinstance(key_node, yaml.ScalarNode) else "a list or mapping"
            shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            raise ConfigError(
                f"{where}: key {shown or '(empty)'} is read by YAML as {what}, not a name; keys are section and field names such as 'model' or 'hidden'"
            )
        key = key_node.value
        odd = _odd(key, key_node.tag, key_node.style is None)
        if odd and "invisible" in odd:
            raise ConfigError(f"{where}: key {key!r} {odd}")
        dotted = f"{prefix}{key}"
        if key in out:
            raise ConfigError(
                f"{where}: '{dotted}' is given twice (lines {lines[key]} and {key_node.start_mark.line + 1}); YAML would keep only the last: keep one"
            )
        lines[key] = key_node.start_mark.line + 1
        if depth == 0 and isinstance(value_node, yaml.MappingNode):
            out[key] = _mapping(loader, value_node, line, f"{dotted}.", depth + 1)
        elif depth == 0 and isinstance(value_node, yaml.SequenceNode):
            raise ConfigError(f"{where}: section '{dotted}' must be a mapping of key: value, not a list")
        elif not isinstance(value_node, yaml.ScalarNode):
            raise ConfigError(
                f"{line(value_node.start_mark)}: {dotted} takes one value, not a list or mapping; write e.g. {key}: 8"
            )
        else:
            out[key] = _leaf(loader, value_node, line(value_node.start_mark))
    return out


# Errors reading a config that say the path given is wrong (exit 2); any other (EIO, EFBIG, ENOMEM,
# EMFILE...) is the machine's (exit 1).
_PATH_ERRNOS = ("EACCES", "EPERM", "ENOENT", "ENOTDIR", "EISDIR", "ELOOP", "ENAMETOOLONG", "ENXIO", "ENODEV")


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a config file into sections of ``Leaf`` values; errors name the file and line."""
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist; pass an existing file, e.g. --config configs/gat_cora.yaml")
    if path.is_dir():
        raise ConfigError(f"config path {path} is a directory; pass a YAML file, e.g. --config configs/gat_cora.yaml")
    try:
        data = path.read_bytes()
    except OSError as exc:
        exc.filename = str(path)
        message = os_error_message(exc, "cannot read config file")
        if errno.errorcode.get(exc.errno or 0) in _PATH_ERRNOS:
            raise ConfigError(message) from None  # the path given is wrong: a usage error
        raise GnnvizError(message) from None  # the device or the system failed: a run-time error
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"config file {path} is UTF-16 or UTF-32 text (it starts with that byte-order mark); save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: byte 0x{data[exc.start]:02x} is not UTF-8; save the file as UTF-8") from None
    text = text.removeprefix("\ufeff")

    def line(mark: Any) -> str:
        return f"{path}:{mark.line + 1}"

    try:
        _refuse_events(text, lambda mark: _mark(path, mark))
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ConfigError(f"config file {path} is empty; write at least one section, e.g. 'model: {{name: gat}}'")
            if not isinstance(node, yaml.MappingNode):
                kind = "list" if isinstance(node, yaml.SequenceNode) else type(loader.construct_object(node)).__name__
                raise ConfigError(
                    f"config file {path} must be a mapping of sections (dataset, model, training, run), not a {kind}"
                )
            return _mapping(loader, node, line, "", 0)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _mark(path, mark)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "\\t" in problem:  # PyYAML names a tab as repr: '\\t'
            raise ConfigError(f"{where}: a tab where YAML allows only spaces; indent with spaces") from None
        raise ConfigError(f"{where}: malformed YAML: {problem}; fix the syntax there") from None


def _mark(path: Path, mark: Any) -> str:
    if mark is None:
        return str(path)
    return f"{path}:{mark.line + 1}:{mark.column + 1}"


def parse_override(item: str) -> tuple[str, Any]:
    """``'model.hidden=32'`` -> ``('model.hidden', Leaf(32, '32', ...))``: the value read as a YAML scalar."""
    if any(ch in item for ch in "\n\r"):
        raise ConfigError(f"--set {item.splitlines()[0]!r}...: a value spans several lines; give each --set one line")
    if "=" not in item:
        raise ConfigError(f"--set '{item}' is not key=value; write e.g. --set model.hidden=32")
    key, text = item.split("=", 1)
    key = key.strip()
    if not re.fullmatch(r"[A-Za-z_]+\.[A-Za-z_]+", key):
        raise ConfigError(f"--set '{item}': key '{key}' must be section.field, e.g. --set training.lr=0.01")
    if not text.strip():
        return key, None
    try:
        _refuse_events(text, lambda mark: f"--set '{item}'")
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:  # e.g. '#...': YAML reads it as a comment, not as the text typed
                raise ConfigError(
                    f"--set '{item}': YAML reads this value as a comment, i.e. no value; quote it, or drop the --set"
                )
            if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
                raise ConfigError(f"--set '{item}': value must be a single number, string or boolean")
            value = _leaf(loader, node, "--set")
        finally:
            loader.dispose()
    except ConfigError as exc:
        if "YAML tag" in str(exc):
            raise ConfigError(f"--set '{item}': YAML tags are not allowed, values are plain data; drop the '!!...' tag") from None
        raise
    except yaml.YAMLError:
        # Not YAML on its own (e.g. a stray colon): the text exactly as typed.
        value = Leaf(text, text, True, "--set", _odd(text, "tag:yaml.org,2002:str", False))
    return key, value


def _set_dotted(raw: dict[str, Any], key: str, value: Any, item: str) -> None:
    section, name = key.split(".", 1)
    if section not in SECTIONS:
        raise ConfigError(
            f"--set '{item}': unknown section '{section}'; choose one of {', '.join(SECTIONS)}{did_you_mean(section, SECTIONS)}"
        )
    known = [f.name for f in dataclasses.fields(SECTIONS[section])]
    if key in REMOVED:
        raise ConfigError(f"--set '{item}': {_removed(key, 'drop that --set')}")
    if name not in known:
        raise ConfigError(f"--set '{item}': unknown key '{key}'; {section} has {', '.join(known)}{did_you_mean(name, known)}")
    current = raw.setdefault(section, {})
    if not isinstance(current, dict):
        raise ConfigError(f"section '{section}' must be a mapping, not {type(current).__name__}")
    current[name] = value


def from_dict(raw: dict[str, Any], source: str = "config") -> Config:
    """Build a typed Config from nested plain data, rejecting unknown keys and wrong types."""
    sections: dict[str, Any] = {}
    for section, values in raw.items():
        if section not in SECTIONS:
            raise ConfigError(
                f"{source}: unknown section '{section}'; choose one of {', '.join(SECTIONS)}{did_you_mean(str(section), SECTIONS)}"
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
            raise ConfigError(f"{source}: {_removed(f'{section}.{key}', 'delete it from the config')}")
        if key not in fields:
            raise ConfigError(
                f"{source}: unknown key '{section}.{key}'; {section} has {', '.join(fields)}{did_you_mean(str(key), fields)}"
            )
        choices = fields[key].metadata.get("choices")
        if fields[key].metadata.get("counts") and isinstance(value, Leaf) and type(value.value) is int:
            value = dataclasses.replace(value, value=value.text)  # '10' for a one-layer model
        kwargs[key] = _coerce(f"{section}.{key}", value, hints[key], choices() if callable(choices) else choices)
    return cls(**kwargs)


def _removed(key: str, fix: str) -> str:
    return f"{key} was removed: {REMOVED[key]}; {fix}"


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
        elif isinstance(value, str) and _SCIENTIFIC.match(value.strip()):
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
            if value in REFUSED_VALUES.get(key, {}):
                raise ConfigError(f"{key}={value} is not supported: {REFUSED_VALUES[key][value]}")
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

    _at_least("model.hidden", m.hidden, 1)
    _at_least("model.layers", m.layers, 1)
    _at_least("training.epochs", t.epochs, 1)
    _at_least("training.patience", t.patience, 0)
    _at_least("training.snapshots", t.snapshots, 0)
    _at_least("dataset.batch_size", d.batch_size, 1)
    _at_least("training.batch_size", t.batch_size, 0)
    if t.num_neighbors is not None:
        fanouts(t.num_neighbors, m.layers, t.batch_size)
    _at_least("run.seed", r.seed, 0)
    if r.seed >= 2**32:
        raise ConfigError(f"run.seed={r.seed} must be below 2**32")
    _unit("model.dropout", m.dropout)
    if spec.attention:
        _at_least("model.heads", m.heads, 1)
        _at_least("model.out_heads", m.out_heads, 1)
        _unit("model.attn_dropout", m.attn_dropout)
        if m.hidden % m.heads:
            raise ConfigError(f"model.hidden={m.hidden} must be divisible by model.heads={m.heads}")
    if not t.lr > 0:
        raise ConfigError(f"training.lr={t.lr} must be greater than 0")
    if t.weight_decay < 0:
        raise ConfigError(f"training.weight_decay={t.weight_decay} must be 0 or more")
    if not _DEVICE_RE.match(r.device):
        raise ConfigError(f"run.device='{r.device}' is not a device; choose auto, cpu, cuda or cuda:N")
    _resolve_dataset(d)
    return cfg


def _resolve_dataset(d: DatasetConfig) -> None:
    """Fill the dataset's defaults; refuse settings it does not take and values it cannot use."""
    spec = data.DATASETS[d.name]
    settings = [f.name for f in dataclasses.fields(SyntheticParams)]
    if spec.params is None:
        for name in settings:
            if getattr(d, name) is not None:
                takers = ", ".join(n for n, s in data.DATASETS.items() if s.params is not None)
                raise ConfigError(f"dataset.{name} is only for {takers}; remove it for dataset.name={d.name}")
    else:
        for name, value in dataclasses.asdict(spec.params()).items():
            if getattr(d, name) is None:
                setattr(d, name, value)
        _check_synthetic(d)
    if d.normalize_features is None:
        d.normalize_features = spec.normalize
    elif d.normalize_features and spec.signed_features:
        raise ConfigError(
            f"dataset.normalize_features=true divides each row by its sum, but {d.name}'s features are signed "
            f"(rows may sum to about 0); remove it for dataset.name={d.name}"
        )


def _check_synthetic(d: DatasetConfig) -> None:
    """Ranges of the synthetic graph's settings, and whether the block model can give that degree."""
    _at_least("dataset.blocks", d.blocks, 2)
    if d.nodes < 2 * d.blocks:
        raise ConfigError(
            f"dataset.nodes={d.nodes} must be at least {2 * d.blocks} (two nodes a block, dataset.blocks={d.blocks})"
        )
    if d.nodes > 2**31 - 1:
        raise ConfigError(f"dataset.nodes={d.nodes} must be below 2**31")
    if not d.mean_degree > 0:
        raise ConfigError(f"dataset.mean_degree={d.mean_degree} must be greater than 0")
    _closed_unit("dataset.homophily", d.homophily)
    _at_least("dataset.features", d.features, 1)
    _closed_unit("dataset.feature_noise", d.feature_noise)
    shares = {"train": d.train_fraction, "val": d.val_fraction, "test": d.test_fraction}
    for split, share in shares.items():
        key = f"dataset.{split}_fraction"
        if not 0 < share <= 1:
            raise ConfigError(f"{key}={share} must be greater than 0 and at most 1")
        if int(share * d.nodes) < 1:
            raise ConfigError(
                f"{key}={share} of dataset.nodes={d.nodes} is no node; raise it to at least {math.ceil(1e4 / d.nodes) / 1e4}"
            )
    total = sum(shares.values())
    if total > 1 + 1e-9:
        raise ConfigError(
            f"dataset.train_fraction + val_fraction + test_fraction = {total:g} must be at most 1 (a node is in one split at most)"
        )
    _at_least("dataset.seed", d.seed, 0)
    if d.seed >= 2**32:
        raise ConfigError(f"dataset.seed={d.seed} must be below 2**32")
    smallest, largest = d.nodes // d.blocks, -(-d.nodes // d.blocks)
    inside, across = d.homophily * d.mean_degree, (1 - d.homophily) * d.mean_degree
    if inside > smallest - 1:
        raise ConfigError(
            f"dataset.mean_degree={d.mean_degree:g} with dataset.homophily={d.homophily:g} asks for {inside:g} neighbours inside a "
            f"block of {smallest} nodes; lower dataset.mean_degree or dataset.blocks, or raise dataset.nodes"
        )
    if across > d.nodes - largest:
        raise ConfigError(
            f"dataset.mean_degree={d.mean_degree:g} with dataset.homophily={d.homophily:g} asks for {across:g} neighbours outside a "
            f"node's block, which has only {d.nodes - largest} nodes outside it; lower dataset.mean_degree or raise dataset.nodes"
        )


def synthetic_params(d: DatasetConfig) -> SyntheticParams | None:
    """The generator's settings from a resolved dataset section, or None for datasets read from files."""
    if data.DATASETS[d.name].params is None:
        return None
    return SyntheticParams(**{f.name: getattr(d, f.name) for f in dataclasses.fields(SyntheticParams)})


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


def _at_least(key: str, value: int, low: int) -> None:
    if value < low:
        raise ConfigError(f"{key}={value} must be at least {low}")


def _closed_unit(key: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{key}={value} must be in [0, 1]")


def _unit(key: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{key}={value} must be in [0, 1)")
