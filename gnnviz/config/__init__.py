"""Typed config: defaults, YAML loading, ``--set`` overrides and validation.

A config file holds only what differs from the defaults. Every value is validated once, before
anything starts; nothing is silently corrected. Floor plan:

- ``schema``: the sections' dataclasses; each field's default, why, choices and range.
- ``strict_yaml``: the YAML reader that refuses what readers disagree on, with ``file:line`` marks.
- ``overrides``: ``--set section.field=value``.
- ``validate``: raw values into a typed ``Config`` (``from_dict``), then ranges, combinations and
  defaults (``resolve``); the dataset's own settings are checked by its spec (``DatasetSpec.check``).
- here: ``load_config``, the one entry point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gnnviz.config.overrides import parse_override, set_dotted
from gnnviz.config.schema import Config
from gnnviz.config.strict_yaml import read_yaml
from gnnviz.config.validate import from_dict, resolve


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read ``path`` (or defaults), apply dotted ``key=value`` overrides, validate, resolve."""
    raw: dict[str, Any] = {}
    if path is not None:
        raw = read_yaml(Path(path))
    # A key set twice on the command line takes the later value, as options do (both are in plain
    # view there, unlike two equal keys in a file); scripts rely on appending an override.
    for item in overrides:
        key, value = parse_override(item)
        set_dotted(raw, key, value, item)
    cfg = from_dict(raw, source=str(path) if path else "config")
    return resolve(cfg)
