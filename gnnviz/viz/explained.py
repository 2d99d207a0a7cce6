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
- ``gnnviz explain --out ELSEWHERE`` (any folder but the state's default) is never shown: the run
  directory would then hold a page that depends on files outside it, and visualize, which reads
  only the run directory, could not draw it again. Instead the explorer of the same bytes records
  where they went (``explain.js``'s ``elsewhere``: the folder, its nodes) and says so when one of
  those nodes is clicked, and explain prints where the explorer looks. (A ``--seeds`` folder's
  runs are explained into their own default folders, so each seed's explorer shows them.)
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
    or None). ``digest``: ``state_digest`` of the state the page draws. Drawn again into the
    state's own ``RUN/viz``, the page keeps the ``elsewhere`` record its explain.js has for the
    same bytes (a file of the run directory; the folder it names is not read)."""
    data, note = _for_page(run_dir, state, page_dir, digest)
    if Path(page_dir).resolve() == viz_dir(run_dir, state).resolve():
        try:
            old = read_explain_js((Path(page_dir) / EXPLAIN).read_bytes())
        except (OSError, ValueError, UnicodeDecodeError):
            old = {}
        if old.get("inputs_sha256") == digest and _is_elsewhere(old.get("elsewhere")):
            data["elsewhere"] = old["elsewhere"]
    return data, note


def _for_page(run_dir: Path, state: str, page_dir: Path, digest: str) -> tuple[dict[str, Any], str | None]:
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
    state shows it, when there is one drawn from the same bytes; for ``out`` elsewhere than the
    default folder it names ``out`` instead (``elsewhere``). Returns the page it rewrote, or None (no
    explorer, another one's bytes, or one that cannot be written)."""
    default = explain_dir(run_dir, state)
    if Path(out).resolve() == default.resolve():
        return _rewrite(run_dir, state, out, doc, log, None)
    where = (
        f"note: the explorer shows only the explanations in {default} (visualize reads only the run directory); "
        f"these are in {out}: open {Path(out) / 'index.html'}, or explain without --out to see them in the explorer"
    )
    page = _rewrite(run_dir, state, out, doc, log, default)
    log(where if page is None else f"{where}; {page} says so when one of these nodes is clicked")
    return page


def _rewrite(
    run_dir: Path, state: str, out: Path, doc: dict[str, Any], log: Callable[[str], None], default: Path | None
) -> Path | None:
    """``refresh``'s rewrite of the state's explain.js: showing ``out`` (``default`` None), or
    recording it as ``elsewhere`` (``default``: the folder the page shows)."""
    viz = viz_dir(run_dir, state)
    if not (viz / PAGE).is_file():
        return None
    visualize = f"run 'gnnviz visualize {run_dir}{'' if state == DEFAULT_STATE else f' --state {state}'}' to see them there"
    say = log if default is None else (lambda _: None)  # elsewhere: refresh says where they are
    try:
        current = read_explain_js((viz / EXPLAIN).read_bytes())
    except (OSError, ValueError, UnicodeDecodeError):
        say(f"note: {viz / PAGE} is damaged or was written by an older gnnviz and shows no explanations; {visualize}")
        return None
    if current.get("inputs_sha256") != doc["inputs_sha256"]:
        say(f"note: {viz / PAGE} draws another checkpoint or graph than the one explained; {visualize}")
        return None
    from gnnviz.io import atomic_write_bytes

    if default is None:
        data = explain_data(doc, doc["inputs_sha256"], href=_href(out, viz), run=str(run_dir))
        if _is_elsewhere(current.get("elsewhere")):
            data["elsewhere"] = current["elsewhere"]
    else:  # what the page shows stays; it only learns where these nodes were explained
        data = dict(current) | {"elsewhere": elsewhere(out, doc, default)}
    try:
        atomic_write_bytes(viz / EXPLAIN, explain_js(data))
    except OSError as err:  # a read-only run: the explanations are written; the page is as it was
        log(f"note: {viz / EXPLAIN} cannot be written ({err.strerror or err}); the explorer is left as it was")
        return None
    if default is None:
        log(f"the explorer {viz / PAGE} shows these explanations: click an explained node")
    return viz / PAGE


def elsewhere(out: Path, doc: dict[str, Any], default: Path) -> dict[str, Any]:
    """explain.js's record of an explain folder the explorer does not show: {"folder": ``out``
    absolute, "index": its index.html as a file:// URL (None without one), "nodes": the explained
    node ids, "shows": the folder the explorer does show}. Names only: nothing outside the run
    directory is read to draw the page."""
    folder = Path(out).resolve()
    files = set(doc.get("files") or ())
    return {
        "folder": str(folder),
        "index": (folder / "index.html").as_uri() if "index.html" in files else None,
        "nodes": [int(r["node"]) for r in doc["nodes"]],
        "shows": str(default),
    }


def _is_elsewhere(record: Any) -> bool:
    """Whether ``record`` has ``elsewhere``'s shape (an explain.js edited by hand is not carried on)."""
    return (
        isinstance(record, dict)
        and isinstance(record.get("folder"), str)
        and isinstance(record.get("shows"), str)
        and isinstance(record.get("index"), (str, type(None)))
        and isinstance(record.get("nodes"), list)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in record["nodes"])
    )
