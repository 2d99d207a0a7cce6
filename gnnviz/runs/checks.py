"""The files of a run agree: config.yaml with summary.json, the checkpoint with both and with graph.pt.

A file copied in from another run is named with the first field that differs, and the file it
disagrees with.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from gnnviz.errors import RunError
from gnnviz.runs.store import StoredGraphs, _read_text, graph_digest, read_summary


def checkpoint_facts(ckpt: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint says about its model, as plain JSON values (cached with the forward, so a
    warm visualize checks them against the run's files without reading the checkpoint again)."""
    model = ckpt.get("model")
    kwargs = model.get("kwargs") if isinstance(model, dict) else None
    state = ckpt.get("state_dict")
    count = None
    if isinstance(state, dict) and all(hasattr(v, "numel") for v in state.values()):
        count = sum(int(v.numel()) for v in state.values())
    return {
        "dataset": ckpt.get("dataset") if isinstance(ckpt.get("dataset"), str) else None,
        "model": model.get("name") if isinstance(model, dict) and isinstance(model.get("name"), str) else None,
        "kwargs": {k: v for k, v in kwargs.items() if v is None or isinstance(v, (str, int, float, bool))}
        if isinstance(kwargs, dict)
        else {},
        "num_params": count,
    }


def _check_same_run(path: Path, ckpt: dict[str, Any]) -> None:
    check_agrees(path, checkpoint_facts(ckpt))


def check_agrees(path: Path, facts: dict[str, Any]) -> None:
    """Everything checkpoint ``path`` says about its model (``checkpoint_facts``) must match the run
    it sits in: the dataset, model name and parameter count of summary.json and the model section of
    config.yaml. A checkpoint copied in from another run is named with the first field that differs."""
    summary_path, config_path = path.parent / "summary.json", path.parent / "config.yaml"
    summary = read_summary(summary_path) if summary_path.is_file() else {}
    for key in ("dataset", "model"):
        value, want = facts.get(key), summary.get(key)
        if want is not None and value is not None and want != value:
            raise RunError(
                f"{path} holds a {key} {_shown(value)} checkpoint, but {path.parent} is a {key} {_shown(want)} run: it "
                f"comes from another run; put back this run's checkpoint.pt or train again"
            )
    count, want = facts.get("num_params"), summary.get("num_params")
    if isinstance(want, int) and not isinstance(want, bool) and isinstance(count, int) and count != want:
        _disagree(path, "num_params", count, summary_path, want)
    config = _yaml_or_none(config_path)
    section = config.get("model") if isinstance(config, dict) else None
    kwargs = facts.get("kwargs") or {}
    for key, want in section.items() if isinstance(section, dict) else ():
        # A null in a config means "the model's default" (or "not used by this model"): no claim.
        if key in kwargs and want is not None and not _same_value(kwargs[key], want):
            _disagree(path, f"model.{key}", kwargs[key], config_path, want)


def _check_agree(path: Path, config: dict[str, Any], summary: dict[str, Any]) -> None:
    """config.yaml and summary.json must describe the same run (one copied in from elsewhere is named)."""
    for section, key in (("model", "name"),):  # the dataset: a bench run trains a synthetic graph under any config
        said = config.get(section)
        said = said.get(key) if isinstance(said, dict) else None
        recorded = summary.get(section)
        if said is not None and recorded is not None and said != recorded:
            raise RunError(
                f"{path / 'config.yaml'} says {section} {_shown(said)} but {path / 'summary.json'} says {_shown(recorded)}: the files come "
                f"from different runs; put back this run's files or train again"
            )


def _disagree(path: Path, field: str, value: Any, other: Path, want: Any) -> None:
    raise RunError(
        f"{path} says {field}={_shown(value)} but {other} says {field}={_shown(want)}: the two files come from different runs; "
        f"put back this run's own files or train again"
    )


def _shown(value: Any, limit: int = 60) -> str:
    """A value read from a file, quoted for a message: a damaged file can hold a megabyte in one field."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _yaml_or_none(path: Path) -> Any:
    # load_run has already named a damaged config.yaml; a checkpoint read on its own skips the check.
    try:
        return yaml.safe_load(_read_text(path)) if path.is_file() else None
    except (yaml.YAMLError, UnicodeDecodeError):
        return None


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return type(a) is type(b) and a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)


def check_fits(run: str | Path, ckpt: dict[str, Any], stored: StoredGraphs, name: str = "checkpoint.pt") -> None:
    """The checkpoint's model must fit the stored graphs (``read_graphs``): its input width is
    their feature count, its output width their class count (as recorded at training; in older
    runs the labels must be in range), and its task theirs; and graph.pt must be the very file it was
    trained on, and its weights those written at training, where the checkpoint recorded their
    digests (older ones did not). ``name``: the checkpoint's file in the run."""
    path, graph_path = Path(run) / name, Path(run) / "graph.pt"
    _check_shapes(path, graph_path, ckpt, stored)
    # Last, so that a graph the model cannot even run on is named by what differs.
    recorded = ckpt.get("graph_sha256")
    if isinstance(recorded, str) and graph_digest(Path(run)) not in (None, recorded):
        raise RunError(
            f"{graph_path} is not the graph file {path} was trained on (its content differs from the one recorded "
            "at training): it comes from another run or was changed; put back this run's graph.pt or train again"
        )
    _check_weights(path, ckpt)


def _check_weights(path: Path, ckpt: dict[str, Any]) -> None:
    """Last of all: weights the model cannot even take, or a graph they do not fit, are named by
    what does not fit first."""
    from gnnviz.runs.store import weights_digest

    recorded = ckpt.get("state_sha256")
    if not isinstance(recorded, str) or weights_digest(ckpt["state_dict"]) == recorded:
        return
    from gnnviz.models.gnn import rebuild

    rebuild(ckpt)  # raises "does not match its model description" where they do not fit
    raise RunError(
        f"{path} is damaged: its weights are not those written at training (its bytes were changed after); "
        f"put back the run's own {path.name} or train again"
    )


def _check_shapes(path: Path, graph_path: Path, ckpt: dict[str, Any], stored: StoredGraphs) -> None:
    model = ckpt.get("model")
    kwargs = model.get("kwargs") if isinstance(model, dict) else None
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    if ckpt.get("task") not in (None, stored.task):
        _disagree(path, "task", ckpt.get("task"), graph_path, stored.task)
    width, classes = kwargs.get("in_channels"), kwargs.get("out_channels")
    for g in stored.graphs:
        if isinstance(width, int) and g.x.size(1) != width:
            _disagree(path, "in_channels (node features)", width, graph_path, int(g.x.size(1)))
    if not isinstance(classes, int):
        return
    for g in stored.graphs:
        y = g.y
        if y.dim() == 2:  # multi-label: one column per class
            have = int(y.size(1))
        elif stored.num_classes is not None:
            have = stored.num_classes
        elif y.numel() and not (0 <= int(y.min()) and int(y.max()) < classes):
            have = int(y.max()) + 1
        else:
            continue
        if have != classes:
            _disagree(path, "out_channels (classes)", classes, graph_path, have)
