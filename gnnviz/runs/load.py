"""A run opened for reading: every file read (``store``), its status (``status``) and the files'
agreement (``checks``) checked before anything is used."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gnnviz.errors import ConfigError, RunError, did_you_mean
from gnnviz.runs.checks import _check_agree, _check_same_run
from gnnviz.runs.layout import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    CONFIG_SECTIONS,
    DEFAULT_STATE,
    REQUIRED,
    STATE_FILES,
    STATES,
)
from gnnviz.runs.schema import check_checkpoint
from gnnviz.runs.status import _check_status
from gnnviz.runs.store import _load_torch, _read_text, read_metrics, read_summary


@dataclass
class Run:
    path: Path
    config: dict[str, Any]
    summary: dict[str, Any]
    metrics: list[dict[str, float]]


def load_run(path: str | Path) -> Run:
    """Read a run directory's config, summary and metrics, naming whatever is missing."""
    path = Path(path).expanduser()
    if not path.exists():
        raise RunError(f"run directory {path} does not exist; create one with 'gnnviz train --config ...'")
    if not path.is_dir():
        raise RunError(f"{path} is not a run directory; pass the folder that 'gnnviz train' printed")
    summary = read_summary(path / "summary.json") if (path / "summary.json").is_file() else None
    if summary is not None and not (path / "checkpoint.pt").exists() and "runs" in summary:
        seeds = sorted(p.name for p in path.glob("seed-*") if p.is_dir())
        example = path / (seeds[0] if seeds else "seed-0")
        raise RunError(f"{path} is a multi-seed aggregate; visualize one of its runs, e.g. {example}")
    if summary is not None:
        _check_status(path, summary)
    missing = [f for f in REQUIRED if not (path / f).is_file()]
    if missing:
        raise RunError(_not_a_run(path, missing))
    try:
        config = yaml.safe_load(_read_text(path / "config.yaml"))
    except (yaml.YAMLError, UnicodeDecodeError):
        raise RunError(f"{path / 'config.yaml'} is not valid YAML; the run is damaged: train again") from None
    if not isinstance(config, dict):
        raise RunError(f"{path / 'config.yaml'} is not a gnnviz config; the run is damaged: train again")
    # train writes every section in full: one missing or empty is a file cut short (or edited).
    lacking = [s for s in CONFIG_SECTIONS if not isinstance(config.get(s), dict) or not config[s]]
    if lacking:
        raise RunError(
            f"{path / 'config.yaml'} has no {', '.join(lacking)} section (train writes all of {', '.join(CONFIG_SECTIONS)}); "
            "the file is cut short or damaged: put back the run's own config.yaml or train again"
        )
    summary = read_summary(path / "summary.json")
    _check_agree(path, config, summary)
    _check_values(path, config)
    metrics = read_metrics(path / "metrics.csv") if (path / "metrics.csv").is_file() else []
    return Run(path, config, summary, metrics)


def _check_values(path: Path, config: dict[str, Any]) -> None:
    """Every value config.yaml holds for a field this gnnviz knows has that field's type and
    choices, as train wrote it: a damaged value (``nul6`` for ``null``) is named, not ignored
    because this run's dataset or model does not read it. Keys this gnnviz does not know (a
    note added by hand) are left alone; the checkpoint and summary checks catch changed values."""
    from gnnviz.config.schema import SECTIONS
    from gnnviz.config.validate import from_dict
    from gnnviz.errors import ConfigError

    known = {}
    for section, values in config.items():
        if section in SECTIONS and isinstance(values, dict):
            fields = {f.name for f in dataclasses.fields(SECTIONS[section])}
            known[section] = {k: v for k, v in values.items() if k in fields}
    try:
        from_dict(known, source=str(path / "config.yaml"))
    except ConfigError as exc:
        raise RunError(f"{path / 'config.yaml'} is damaged: {exc}; put back the run's own config.yaml or train again") from None


def _not_a_run(path: Path, missing: list[str]) -> str:
    """Why ``path`` is not a run, naming the run meant where it can tell: a folder of runs (such
    as outputs/), a run's own viz/ folder, or a run cut short."""
    runs = sorted(p.name for p in path.iterdir() if p.is_dir() and (p / "summary.json").is_file())
    if len(missing) == len(REQUIRED) and runs:
        shown = ", ".join(runs[:3]) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")
        return f"{path} is a folder of runs ({shown}), not a run; pass one of them, e.g. {path / runs[-1]}, or list them with 'gnnviz runs {path}'"
    parent = path.parent
    if len(missing) == len(REQUIRED) and (parent / "summary.json").is_file() and (parent / "checkpoint.pt").is_file():
        return f"{path} is inside the run {parent} (its figures go there); pass the run itself: {parent}"
    return (
        f"{path} is incomplete (missing {', '.join(missing)}); it is not a finished run: 'gnnviz runs {parent}' lists the "
        "runs there, or train it again with 'gnnviz train --config ...'"
    )


def check_state_name(state: str) -> str:
    """``state`` if it is one of ``STATES``; else a ConfigError (exit 2) naming them."""
    if state not in STATES:
        raise ConfigError(
            f"--state '{state}' is not a state a run keeps; choose one of {', '.join(STATES)}{did_you_mean(state, STATES)}"
        )
    return state


def kept_states(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The states a run keeps, by name, as its summary.json records them (``schema.STATE_ROW``).
    A run from before other states were kept records none: it keeps the selected state alone,
    in checkpoint.pt, at its best_epoch."""
    states = summary.get("states")
    if isinstance(states, dict) and states:
        return {name: states[name] for name in STATES if name in states}
    best = summary.get("best_epoch")
    return {DEFAULT_STATE: {"epoch": best if isinstance(best, int) else None, "file": STATE_FILES[DEFAULT_STATE]}}


def state_file(run: str | Path, state: str = DEFAULT_STATE) -> Path:
    """The checkpoint file holding ``state`` in ``run`` (``summary.json`` says which); a ConfigError
    (exit 2) naming the states the run has where it lacks this one."""
    run = Path(run)
    check_state_name(state)
    if state == DEFAULT_STATE:
        return run / STATE_FILES[state]
    summary = read_summary(run / "summary.json")
    have = kept_states(summary)
    if state not in have and "states" not in summary:
        raise ConfigError(
            f"{run} was trained before gnnviz kept more states than the selected one, so it has no '{state}' state; "
            "leave out --state (the selected state), or train the run again to keep all three"
        )
    if state not in have:
        why = "its training ended before that state was saved"
        raise ConfigError(
            f"{run} has no '{state}' state ({why}); it has {', '.join(have)}: pass --state {' or '.join(have)}, or train it again"
        )
    return run / have[state]["file"]


def state_digest(run: str | Path, state: str = DEFAULT_STATE) -> str:
    """SHA-256 of the bytes of ``state``'s checkpoint file and ``graph.pt``: what a model's outputs
    on the stored graph depend on. Explanations and the explorer that shows them must agree on it."""
    import hashlib

    from gnnviz.io import named

    digest = hashlib.sha256()
    for path in (state_file(run, state), Path(run) / "graph.pt"):
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:  # a failed read does not name its file
            raise named(exc, path) from None
    return digest.hexdigest()


def check_state_epoch(path: Path, state: str, epoch: Any) -> None:
    """The checkpoint at ``path`` holds the epoch summary.json records for ``state`` (where it records
    one): a file copied in from another run, or from another state's, is named."""
    summary_path = path.parent / "summary.json"
    summary = read_summary(summary_path) if summary_path.is_file() else {}
    want = (summary.get("states") or {}).get(state, {}).get("epoch") if isinstance(summary.get("states"), dict) else None
    if isinstance(want, int) and epoch != want:
        raise RunError(
            f"{path} holds epoch {epoch}, but {summary_path} says the {state} state is epoch {want}: the file comes from "
            "another run or state; put back this run's own file or train again"
        )


def load_checkpoint(run: str | Path, state: str = DEFAULT_STATE) -> dict[str, Any]:
    """The checkpoint of ``state`` (``runs.layout.STATES``), checked against the run it sits in."""
    path = state_file(run, state)
    ckpt = _load_torch(path, "checkpoint")
    if ckpt.get("format") != CHECKPOINT_FORMAT:
        raise RunError(f"{path} is a foreign checkpoint, not one written by gnnviz train; train a run with 'gnnviz train'")
    if ckpt.get("version") != CHECKPOINT_VERSION:
        raise RunError(
            f"{path} has checkpoint version {ckpt.get('version')}, this gnnviz reads {CHECKPOINT_VERSION}; retrain the run"
        )
    check_checkpoint(path, ckpt)
    _check_same_run(path, ckpt)
    check_state_epoch(path, state, ckpt.get("epoch"))
    return ckpt
