"""A strict YAML reader for configs: a file is read as a person reading it sees it, or refused
with a ``file:line`` mark that says how YAML reads it and how to write it.

``read_yaml`` gives nested dicts of ``Leaf`` (a scalar as written, with where it was written);
``overrides`` reads ``--set`` values with the same rules.
"""

from __future__ import annotations

import errno
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gnnviz.errors import ConfigError, GnnvizError, os_error_message

SCIENTIFIC = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


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


def odd_reading(text: str, tag: str, plain: bool) -> str | None:
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
    if kind == "str" and SCIENTIFIC.match(text):
        return "is a number to YAML 1.2 but text to YAML 1.1 (an exponent without a dot)"
    return None


def read_leaf(loader: yaml.SafeLoader, node: yaml.ScalarNode, where: str) -> Leaf:
    """A scalar node as a ``Leaf``."""
    plain = node.style is None
    if node.tag.endswith(":timestamp"):
        # YAML 1.1 reads 2024-01-02 as a date (and 2024-13-45 as an error), YAML 1.2 as text.
        return Leaf(node.value, node.value, plain, where, "is a date to YAML 1.1 but text to YAML 1.2")
    value = loader.construct_object(node, deep=True)
    text = node.value if plain or node.style not in "'\"" else f"{node.style}{node.value}{node.style}"
    return Leaf(value, text, plain, where, odd_reading(node.value, node.tag, plain))


def refuse_events(text: str, where: Callable[[Any], str]) -> None:
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


class Section(dict):
    """A mapping read from a file that remembers where each key was written: ``where[key]`` is
    ``file:line``, so that an unknown key is reported at its line as a bad value is."""

    def __init__(self) -> None:
        super().__init__()
        self.where: dict[str, str] = {}


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, line: Callable[[Any], str], prefix: str, depth: int) -> dict:
    out = Section()
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        where = line(key_node.start_mark)
        out.where[str(key_node.value)] = where
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise ConfigError(f"{where}: merge keys (<<) are not allowed; write the keys out in full")
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            what = key_node.tag.rsplit(":", 1)[-1] if isinstance(key_node, yaml.ScalarNode) else "a list or mapping"
            shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            raise ConfigError(
                f"{where}: key {shown or '(empty)'} is read by YAML as {what}, not a name; keys are section and field names such as 'model' or 'hidden'"
            )
        key = key_node.value
        odd = odd_reading(key, key_node.tag, key_node.style is None)
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
            out[key] = read_leaf(loader, value_node, line(value_node.start_mark))
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
        refuse_events(text, lambda mark: _mark(path, mark))
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
