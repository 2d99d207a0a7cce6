"""What the JSON files of a run may hold: each field's type and range, and the rules between fields,
in one table per file, checked by every reader before a value is used.

A violation is a ``RunError`` naming the file, the field and what is wrong: a damaged file is never
drawn from, and ``gnnviz runs`` lists it as damaged with that reason. Fields a table does not name
are allowed (a newer gnnviz may add some) and never read.

Adding a field a reader uses: one ``Field`` line in the file's table. Adding a file kind: a table
and a ``check_<file>`` that names it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnnviz.errors import RunError
from gnnviz.runs.layout import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, STATE_FILES, STATES

STATUSES = ("running", "completed", "early_stopped", "interrupted", "diverged", "failed")

# Linux pids fit pid_t (a C int) and never exceed pid_max (at most 2**22); os.kill overflows beyond 2**31 - 1.
PID_MAX = 2**22
SEED_MAX = 2**32 - 1  # numpy's seeds
COUNT_MAX = 2**63 - 1


@dataclass(frozen=True)
class Field:
    kind: str  # "int", "number" (int or float, finite), "str", "bool", "list", "dict"
    lo: float | None = None
    hi: float | None = None
    null: bool = False  # None allowed (a metric of a run that never evaluated)
    choices: tuple[str, ...] = ()
    items: dict[str, Field] | None = None  # "list" of objects: the table each item follows; "dict": its own table
    item_kind: str | None = None  # "list" of plain values: their kind
    item_null: bool = False  # "list" of plain values: None allowed among them


def _int(lo: float | None = 0, hi: float | None = COUNT_MAX, **kw: Any) -> Field:
    return Field("int", lo, hi, **kw)


def _num(lo: float | None = None, hi: float | None = None, **kw: Any) -> Field:
    return Field("number", lo, hi, **kw)


_METRIC = _num(null=True)
_SEED = _int(0, SEED_MAX)

SEED_ROW: dict[str, Field] = {
    "run": Field("str"),
    "seed": _SEED,
    "status": Field("str", choices=STATUSES),
    "best_epoch": _int(null=True),
    "val_metric": _METRIC,
    "test_metric": _METRIC,
}

# One state a run keeps (``runs.layout.STATES``): its epoch, the file holding it, and its scores.
STATE_ROW: dict[str, Field] = {
    "epoch": _int(0),
    "file": Field("str", choices=tuple(dict.fromkeys(STATE_FILES.values()))),
    "val_metric": _METRIC,
    "val_loss": _num(0, null=True),
    "test_metric": _METRIC,
}
STATE_REQUIRED = ("epoch", "file")

SUMMARY: dict[str, Field] = {
    "status": Field("str", choices=STATUSES),
    "dataset": Field("str"),
    "model": Field("str"),
    "metric": Field("str"),
    "seed": _SEED,
    "device": Field("str"),
    "pid": _int(1, PID_MAX),
    "host": Field("str"),
    "pid_started": _int(0),
    "started": Field("str"),
    "finished": Field("str"),
    "ranks": _int(1, 1 << 20),
    "num_params": _int(0),
    "best_epoch": _int(0),
    "epochs_run": _int(0),
    "val_metric": _METRIC,
    "test_metric": _METRIC,
    "train_seconds": _num(0),
    "seconds_per_epoch": _num(0),
    "peak_memory_mb": _num(0),
    "error": Field("str"),
    "states": Field("dict", items={name: Field("dict", items=STATE_ROW) for name in STATES}),
    # a multi-seed aggregate
    "seeds": Field("list", item_kind="int"),
    "runs": Field("list", items=SEED_ROW),
    "test_metric_mean": _METRIC,
    "test_metric_std": _num(0, null=True),
    "val_metric_mean": _METRIC,
}

SUMMARY_REQUIRED = ("status",)

# Fields that say which process on which machine wrote the run: summary.json keeps them to tell a
# live run from a dead one, and pages never show them (a page travels; a host name should not).
MACHINE_FIELDS = frozenset({"pid", "host", "pid_started"})


def shareable(summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` without ``MACHINE_FIELDS``, at the top and in each seed's entry of ``runs``."""
    out = {k: v for k, v in summary.items() if k not in MACHINE_FIELDS}
    if isinstance(out.get("runs"), list):
        out["runs"] = [shareable(r) if isinstance(r, dict) else r for r in out["runs"]]
    return out


CHECKPOINT: dict[str, Field] = {
    "format": Field("str", choices=(CHECKPOINT_FORMAT,)),  # load_checkpoint names a foreign one first
    "version": _int(CHECKPOINT_VERSION, CHECKPOINT_VERSION),
    "dataset": Field("str"),
    "task": Field("str"),
    "epoch": _int(0),
    "model": Field("dict", items={"name": Field("str"), "kwargs": Field("dict")}),
    "state_dict": Field("dict"),
    "versions": Field("dict"),
    "graph_sha256": Field("str"),
    "state_sha256": Field("str"),
}

CHECKPOINT_REQUIRED = ("format", "version", "model", "state_dict")


# metrics.csv: one row per epoch (``runs.layout.METRIC_COLUMNS``), epochs rising. Accuracy and
# micro-F1 lie in [0, 1]; losses are finite (a diverged epoch is never written).
METRICS_ROW: dict[str, Field] = {
    "epoch": _int(1),
    "train_loss": _num(0),
    "train_metric": _num(0, 1),
    "val_loss": _num(0),
    "val_metric": _num(0, 1),
    "seconds": _num(0),
}


def check_metrics(path: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` of ``path`` (cells parsed as numbers where they are) if each follows ``METRICS_ROW``
    and the epochs rise; else a RunError naming the row and the column."""
    last = 0
    for i, row in enumerate(rows, start=1):
        for name, field in METRICS_ROW.items():
            if name not in row:
                _damaged(path, f"row {i} has no '{name}'")
            problem = _problem(row[name], field)
            if problem:
                _damaged(path, f"row {i} column '{name}' {problem}")
        if row["epoch"] <= last:
            _damaged(path, f"row {i} is epoch {row['epoch']}, not after the epoch {last} above it")
        last = row["epoch"]
    return rows


# snapshots.json (training.snapshots): {"snapshots": [row, ...]}; a run without the file has none.
SNAPSHOT_LAYER: dict[str, Field] = {
    "kl": Field("list", item_kind="number", item_null=True),  # [H] per head; null where undefined
    "lift": Field("list", item_kind="number", item_null=True),
}
SNAPSHOT_ROW: dict[str, Field] = {
    "epoch": _int(0),
    "val_metric": _METRIC,
    "test_metric": _METRIC,
    "layers": Field("list", items=SNAPSHOT_LAYER),
}
SNAPSHOTS: dict[str, Field] = {"snapshots": Field("list", items=SNAPSHOT_ROW)}
SNAPSHOTS_REQUIRED = ("snapshots",)


def check_snapshots(path: Path, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a parsed ``snapshots.json`` if they follow ``SNAPSHOTS`` (each row with its
    epoch and layers, each layer with kl and lift); else a RunError naming the field."""
    check(path, data, SNAPSHOTS, SNAPSHOTS_REQUIRED)
    for i, row in enumerate(data["snapshots"]):
        for name in ("epoch", "layers"):
            if name not in row:
                _damaged(path, f"field 'snapshots[{i}]' has no '{name}'")
        for j, layer in enumerate(row["layers"]):
            for name in SNAPSHOT_LAYER:
                if name not in layer:
                    _damaged(path, f"field 'snapshots[{i}].layers[{j}]' has no '{name}'")
    return data["snapshots"]


# compare.json, read back only when a compare replaces an earlier one in its --out folder: the
# files that compare wrote there (relative paths), which this one removes where it does not rewrite them.
COMPARE: dict[str, Field] = {"files": Field("list", item_kind="str")}
COMPARE_REQUIRED = ("files",)


def check_checkpoint(path: Path, ckpt: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint's fields (``CHECKPOINT``; its tensors are checked against the model when it is rebuilt)."""
    check(path, ckpt, CHECKPOINT, CHECKPOINT_REQUIRED)
    for name in ("name", "kwargs"):
        if name not in ckpt["model"]:
            _damaged(path, f"field 'model' has no '{name}'")
    return ckpt


def _summary_rules(summary: dict[str, Any]) -> str | None:
    best, run = summary.get("best_epoch"), summary.get("epochs_run")
    if isinstance(best, int) and isinstance(run, int) and best > run:
        return f"best_epoch {best} is after the last epoch run ({run})"
    states = summary.get("states")
    return _states_rules(states, best, run) if isinstance(states, dict) else None


def _states_rules(states: dict[str, Any], best: Any, run: Any) -> str | None:
    """Each state names its epoch and its file: the file of its own name, or that of an earlier
    state (in ``STATES``) of the same epoch; the selected state is ``best_epoch``'s."""
    if "selected" not in states:
        return "field 'states' has no 'selected'"
    seen: dict[int, str] = {}  # epoch -> the file of the first state of that epoch
    for name in STATES:
        row = states.get(name)
        if row is None:
            continue
        for key in STATE_REQUIRED:
            if key not in row:
                return f"field 'states.{name}' has no '{key}'"
        epoch, file = row["epoch"], row["file"]
        want = seen.setdefault(epoch, STATE_FILES[name])
        if file != want:
            return f"field 'states.{name}.file' is {file!r}, but the {name} state (epoch {epoch}) is in {want}"
        if isinstance(run, int) and epoch > run:
            return f"field 'states.{name}.epoch' {epoch} is after the last epoch run ({run})"
    if isinstance(best, int) and states["selected"]["epoch"] != best:
        return f"field 'states.selected.epoch' {states['selected']['epoch']} is not best_epoch {best}"
    return None


def check_summary(path: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` (parsed from ``path``) if every field it has is what ``SUMMARY`` says; else a RunError."""
    return check(path, summary, SUMMARY, SUMMARY_REQUIRED, _summary_rules)


def check(
    path: Path,
    data: dict[str, Any],
    table: dict[str, Field],
    required: tuple[str, ...] = (),
    rules: Callable[[dict[str, Any]], str | None] | None = None,
) -> dict[str, Any]:
    for name in required:
        if name not in data:
            _damaged(path, f"has no '{name}'")
    for name, value in data.items():
        field = table.get(name)
        if field is not None:
            problem = _problem(value, field)
            if problem:
                if problem.startswith((".", "[")):
                    inner, _, problem = problem.partition(" ")
                    name += inner
                _damaged(path, f"field '{name}' {problem}")
    problem = rules(data) if rules is not None else None
    if problem:
        _damaged(path, problem)
    return data


def _damaged(path: Path, what: str) -> None:
    raise RunError(f"{path} is damaged: {what}; put back the run's own {path.name} or train again")


def _problem(value: Any, field: Field) -> str | None:
    """What is wrong with ``value`` for ``field``, or None."""
    if value is None:
        return None if field.null else f"is null, expected {_kind_name(field)}"
    if not _is_kind(value, field.kind):
        return f"is {_shown(value)}, expected {_kind_name(field)}"
    if field.kind == "number" and not math.isfinite(value):
        return f"is {value}, expected a finite number"
    if field.kind in ("int", "number"):
        if field.lo is not None and value < field.lo:
            return f"is {value}, below its least value {_bound(field.lo)}"
        if field.hi is not None and value > field.hi:
            return f"is {value}, above its greatest value {_bound(field.hi)}"
    if field.choices and value not in field.choices:
        return f"is {_shown(value)}, expected one of {', '.join(field.choices)}"
    if field.kind == "dict" and field.items is not None:
        for key, sub in field.items.items():
            if key in value:
                problem = _problem(value[key], sub)
                if problem:
                    return f".{key}{'' if problem.startswith(('.', '[')) else ' '}{problem}"
    if field.kind == "list":
        for i, item in enumerate(value):
            if field.item_kind is not None:
                problem = _problem(item, Field(field.item_kind, null=field.item_null))
                if problem:
                    return f"[{i}] {problem}"
            if field.items is not None:
                if not isinstance(item, dict):
                    return f"[{i}] is {_shown(item)}, expected an object"
                for key, sub in field.items.items():
                    if key in item:
                        problem = _problem(item[key], sub)
                        if problem:
                            return f"[{i}].{key}{'' if problem.startswith(('.', '[')) else ' '}{problem}"
    return None


def _is_kind(value: Any, kind: str) -> bool:
    if isinstance(value, bool):
        return kind == "bool"
    return {
        "int": isinstance(value, int),
        "number": isinstance(value, (int, float)),
        "str": isinstance(value, str),
        "bool": False,
        "list": isinstance(value, list),
        "dict": isinstance(value, dict),
    }[kind]


def _kind_name(field: Field) -> str:
    name = {
        "int": "a whole number",
        "number": "a number",
        "str": "text",
        "bool": "true or false",
        "list": "a list",
        "dict": "an object",
    }[field.kind]
    return name + (" or null" if field.null else "")


def _bound(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 2**53 else f"{x:g}"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {text!r}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
