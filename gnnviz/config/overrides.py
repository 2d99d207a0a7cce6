"""``--set section.field=value`` overrides: each value read as one YAML scalar, by the strict
reader's rules, and put into the raw config before validation."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import yaml

from gnnviz.config.schema import REMOVED, SECTIONS, key_hint, removed
from gnnviz.config.strict_yaml import Leaf, odd_reading, read_leaf, refuse_events
from gnnviz.errors import ConfigError, did_you_mean


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
        refuse_events(text, lambda mark: f"--set '{item}'")
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:  # e.g. '#...': YAML reads it as a comment, not as the text typed
                raise ConfigError(
                    f"--set '{item}': YAML reads this value as a comment, i.e. no value; quote it, or drop the --set"
                )
            if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
                raise ConfigError(f"--set '{item}': value must be a single number, string or boolean")
            value = read_leaf(loader, node, "--set")
        finally:
            loader.dispose()
    except ConfigError as exc:
        if "YAML tag" in str(exc):
            raise ConfigError(f"--set '{item}': YAML tags are not allowed, values are plain data; drop the '!!...' tag") from None
        raise
    except yaml.YAMLError:
        # Not YAML on its own (e.g. a stray colon): the text exactly as typed.
        value = Leaf(text, text, True, "--set", odd_reading(text, "tag:yaml.org,2002:str", False))
    return key, value


def set_dotted(raw: dict[str, Any], key: str, value: Any, item: str) -> None:
    section, name = key.split(".", 1)
    if section not in SECTIONS:
        raise ConfigError(
            f"--set '{item}': unknown section '{section}'; choose one of {', '.join(SECTIONS)}{did_you_mean(section, SECTIONS)}"
        )
    known = [f.name for f in dataclasses.fields(SECTIONS[section])]
    if key in REMOVED:
        raise ConfigError(f"--set '{item}': {removed(key, 'drop that --set')}")
    if name not in known:
        raise ConfigError(
            f"--set '{item}': unknown key '{key}'; {section} has {', '.join(known)}{key_hint(section, name, known)}"
        )
    current = raw.setdefault(section, {})
    if not isinstance(current, dict):
        raise ConfigError(f"section '{section}' must be a mapping, not {type(current).__name__}")
    current[name] = value
