"""Explanations in the explorer, whichever of ``gnnviz explain`` and ``gnnviz visualize`` runs first.

The explorer reads them from ``explorer/explain.js`` beside its ``data.js`` (``pages.explorer.EXPLAIN``;
a script, since a file:// page cannot ``fetch()``). Both commands agree on where to look: the
state's default folders, ``RUN/explain`` and ``RUN/viz`` (``RUN/explain-<state>`` and
``RUN/viz-<state>`` for another state), and on what must match: ``runs.load.state_digest``, the
bytes of the state's checkpoint and ``graph.pt``, which ``explain.json`` records as
``inputs_sha256`` and ``explain.js`` as the page's.

- ``gnnviz visualize`` embeds ``explain.json`` where its digest is the page's, and otherwise says
  why it shows none (explained before the run was trained again, or by an older gnnviz).
- ``gnnviz explain`` rewrites ``explain.js`` (only that file) of an explorer that draws the state it
  explained; an explorer of other bytes is left alone, with a note to visualize again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gnnviz.runs.layout import DEFAULT_STATE
from gnnviz.viz.pages.explorer import EXPLAIN, PAGE, explain_data, explain_js, read_explain_js


def explain_dir(run_dir: Path, state: str = DEFAULT_STATE) -> Path:
    """``RUN/explain`` for the selected state, ``RUN/explain-<state>`` for another (explain's default)."""
    return Path(run_dir) / ("explain" if state == DEFAULT_STATE else f"explain-{state}")


def viz_dir(run_dir: Path, state: str = DEFAULT_STATE) -> Path:
    """``RUN/viz`` for the selected state, ``RUN/viz-<state>`` for another (visualize's default)."""
    return Path(run_dir) / ("viz" if state == DEFAULT_STATE else f"viz-{state}")


def _href(folder: Path, page_dir: Path) -> str:
    """``folder`` relative to the page's folder, with forward slashes (a URL)."""
    return Path(os.path.relpath(Path(folder).resolve(), Path(page_dir).resolve())).as_posix()


def for_page(run_dir: Path, state: str, page_dir: Path, digest: str) -> tuple[dict[str, Any], str | None]:
    """(``explain_data`` for the explorer visualize writes into ``page_dir``, a note for the user
    or None). ``digest``: ``state_digest`` of the state the page draws."""
    folder = explain_dir(run_dir, state)
    path = folder / "explain.json"
    if not path.is_file():
        return explain_data(None, digest), None
    again = f"run 'gnnviz explain {run_dir}{'' if state == DEFAULT_STATE else f' --state {state}'}' again to see them there"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        stamp = doc.get("inputs_sha256")
        if stamp == digest:
            return explain_data(doc, digest, href=_href(folder, page_dir), run=str(run_dir)), None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        note = f"{path} cannot be read ({type(err).__name__}: {err}), so the explorer shows no explanations; {again}"
    else:
        why = "was written by an older gnnviz" if stamp is None else "explains another checkpoint or graph than this one"
        note = f"{path} {why}, so the explorer shows no explanations; {again}"
    return explain_data(None, digest, note=note), note


def refresh(run_dir: Path, state: str, out: Path, doc: dict[str, Any], log: Callable[[str], None]) -> Path | None:
    """After ``gnnviz explain`` wrote ``out`` (``doc``: its explain.json): the explorer of the same
    state shows it, when there is one drawn from the same bytes. Returns the page it refreshed, or
    None (no explorer, another one's bytes, or ``out`` not the default folder the explorer reads)."""
    if Path(out).resolve() != explain_dir(run_dir, state).resolve():
        return None  # visualize would not find it there either
    viz = viz_dir(run_dir, state)
    if not (viz / PAGE).is_file():
        return None
    visualize = f"run 'gnnviz visualize {run_dir}{'' if state == DEFAULT_STATE else f' --state {state}'}' to see them there"
    try:
        current = read_explain_js((viz / EXPLAIN).read_bytes())
    except (OSError, ValueError, UnicodeDecodeError):
        log(f"note: {viz / PAGE} was written by an older gnnviz and shows no explanations; {visualize}")
        return None
    if current.get("inputs_sha256") != doc["inputs_sha256"]:
        log(f"note: {viz / PAGE} draws another checkpoint or graph than the one explained; {visualize}")
        return None
    from gnnviz.io import atomic_write_bytes

    data = explain_data(doc, doc["inputs_sha256"], href=_href(out, viz), run=str(run_dir))
    atomic_write_bytes(viz / EXPLAIN, explain_js(data))
    log(f"the explorer {viz / PAGE} shows these explanations: click an explained node")
    return viz / PAGE
