"""``gnnviz compare``: runs of one graph side by side; the order of the steps, nothing else.

    run directories --load.py--> RunArrays (one per run) --analysis/comparison.py--> Comparison
        --figures/compare.py--> FigureSpecs --write.py--> files (figures, compare.json, index.html)

Every check on the input comes before the first file is written, and every figure is drawn
before the output folder is created: a failure writes nothing. Checked: at least two runs (a
``--seeds`` folder counts as its seed runs), no run given twice, each a finished run that loads
(``runs.load.load_run``: missing, damaged, still running, dead or failed runs are named), one dataset,
one graph (same nodes, edges, labels and split), node ids in range, and the output folder.

Each run is drawn in the state ``state`` names (``--state``; default the selected one), or in the
one its own ``@STATE`` suffix names (``RUN@min-loss``): ``gnnviz compare RUN RUN@min-loss`` puts two
states of one run side by side, as two groups.

The output folder is ``--out DIR`` (a new or empty folder, or an earlier compare folder: its
files are replaced and files of the earlier compare that this one does not write are removed),
else ``outputs/compare-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``... when that exists), so an earlier
compare is never overwritten by accident.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless; chosen here, at the entry point

from gnnviz.analysis import comparison  # noqa: E402
from gnnviz.analysis.arrays import RunArrays  # noqa: E402
from gnnviz.errors import ConfigError, RunError, did_you_mean  # noqa: E402
from gnnviz.runs.layout import DEFAULT_STATE, STATES, check_out_dir, create_run_dir  # noqa: E402
from gnnviz.runs.load import check_state_name, load_run  # noqa: E402
from gnnviz.runs.store import read_summary  # noqa: E402
from gnnviz.viz import write as render  # noqa: E402
from gnnviz.viz.figures import compare as compare_figures  # noqa: E402
from gnnviz.viz.load import load_arrays  # noqa: E402
from gnnviz.viz.options import DEFAULT_DPI, Options  # noqa: E402
from gnnviz.viz.pages import index as page  # noqa: E402

DEFAULT_BASE = Path("outputs")
MARKER = "compare.json"  # what makes a folder an earlier compare's
FINISHED = ("completed", "early_stopped")


def compare(
    runs: Sequence[Path],
    out: Path | None = None,
    *,
    nodes: Sequence[int] = (),
    top_k: int = 2,
    fmt: str = "png",
    dpi: int = DEFAULT_DPI,
    graph_index: int = 0,
    state: str = DEFAULT_STATE,
    quiet: bool = False,
    log: Callable[[str], Any] = print,
    base: Path = DEFAULT_BASE,
) -> Path:
    """Compare ``runs`` into ``out`` (default ``base/compare-<time>``) and return that folder.

    ``runs``: run directories, each optionally ``DIR@STATE``; ``state``: the state of those without.

    Raises ``GnnvizError`` (before writing anything) for any bad input.
    """
    say: Callable[[str], Any] = (lambda _m: None) if quiet else log
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    Options(tuple(nodes), top_k, None, None, fmt, dpi, graph_index).check()
    check_state_name(state)
    specs_given = [split_state(r, state) for r in runs]
    expanded = expand_runs([p for p, _ in specs_given], [s for _, s in specs_given])
    paths = [p for p, _ in expanded]
    check_out(out, base)
    loaded = [load_run(p) for p in paths]
    _same_dataset(paths, loaded)
    arrays = [load_arrays(p, graph_index, s) for p, s in expanded]
    _same_graph(arrays)
    n = arrays[0].num_nodes
    for v in nodes:
        if not 0 <= v < n:
            raise ConfigError(
                f"node {v} out of range; {arrays[0].graph_label} has {n} nodes (0..{n - 1}); pass --nodes ids in that range"
            )
    seconds["load"] = time.perf_counter() - started

    tick = time.perf_counter()
    result = comparison.compare_runs(arrays, nodes=nodes, top_k=top_k)
    notes = _notes(result)
    for note in notes:
        say(f"note: {note}")
    specs = compare_figures.build(result)
    seconds["analysis"] = time.perf_counter() - tick
    tick = time.perf_counter()
    images, _ = render.render_cached(specs, fmt, dpi)
    seconds["drawing"] = time.perf_counter() - tick

    tick = time.perf_counter()
    folder, created = _make_folder(out, base)
    try:
        earlier = _earlier_files(folder)
        writer = render.Writer(folder)
        drawn: dict[str, list[page.PageFigure]] = {}
        for spec, data in zip(specs, images, strict=True):
            path = writer.bytes(f"{spec.stem}.{fmt}", data)
            drawn.setdefault(spec.section, []).append(page.PageFigure(path, spec.caption))
        files = [*writer.written, "index.html", MARKER, "timings.json"]
        writer.text("index.html", page.compare_html(result.numbers, drawn, notes, seconds))
        writer.json(MARKER, {**result.numbers, "notes": notes, "files": files})
        seconds["writing"] = time.perf_counter() - tick
        seconds["total"] = time.perf_counter() - started
        writer.json("timings.json", {"seconds": {k: round(v, 3) for k, v in seconds.items()}})
        _remove_stale(folder, earlier, set(files))
    except BaseException:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    say("timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in seconds.items()))
    say(f"compared {len(arrays)} runs in {len(result.groups)} groups; wrote {len(files)} files to {folder}")
    return folder


def split_state(given: str | Path, default: str = DEFAULT_STATE) -> tuple[Path, str]:
    """``DIR@STATE`` as (DIR, STATE); a path that exists as given, or has no ``@``, is a run
    directory in the ``default`` state. An unknown STATE is a ``ConfigError`` naming the states."""
    text = str(given)
    head, at, tail = text.rpartition("@")
    if not at or Path(text).expanduser().exists() or "/" in tail:
        return Path(given), default
    try:
        return Path(head), check_state_name(tail)
    except ConfigError:
        raise ConfigError(
            f"{text}: '{tail}' is not a state a run keeps; write RUN@selected, RUN@min-loss or RUN@last"
            f"{did_you_mean(tail, STATES)}"
        ) from None


def expand_runs(runs: Sequence[Path], states: Sequence[str] | None = None) -> list[tuple[Path, str]]:
    """The run directories to compare, each with its state (``states``, one per run; default all
    the selected one): a ``--seeds`` folder stands for its ``seed-*`` runs.

    Raises ``ConfigError`` for fewer than two runs or a run given twice in one state.
    """
    states = list(states) if states is not None else [DEFAULT_STATE] * len(runs)
    paths: list[tuple[Path, Path | None, str]] = []  # (run, the --seeds folder it came from, state)
    for given, state in zip(runs, states, strict=True):
        p = Path(given).expanduser()
        seeds = seed_runs(p)
        paths.extend([(s, p, state) for s in seeds] if seeds is not None else [(p, None, state)])
    if len(paths) < 2:
        got = f"one ({paths[0][0]})" if paths else "none"
        raise ConfigError(
            f"compare needs at least two runs, got {got}; pass two or more run directories, e.g. gnnviz compare outputs/a outputs/b"
        )
    seen: dict[tuple[Path, str], tuple[Path, Path | None]] = {}
    for p, folder, state in paths:
        key = (p.resolve(), state)
        if key in seen:
            q, other = seen[key]
            if folder is not None or other is not None:
                same = f"{p if folder is None else q} is given twice (also as a seed of {folder or other})"
            elif str(q) == str(p):
                same = f"{p} is given twice"
            else:
                same = f"{q} and {p} are the same run"
            in_state = "" if state == DEFAULT_STATE else f" in the {state} state"
            raise ConfigError(f"{same}{in_state}; pass each run once (two states of one run: RUN RUN@min-loss)")
        seen[key] = (p, folder)
    return [(p, state) for p, _, state in paths]


def seed_runs(p: Path) -> list[Path] | None:
    """The seed runs of a ``--seeds`` folder (by seed), or None if ``p`` is not one."""
    if not p.is_dir() or (p / "checkpoint.pt").exists() or not (p / "summary.json").is_file():
        return None
    if "runs" not in read_summary(p / "summary.json"):
        return None
    seeds = [s for s in p.glob("seed-*") if s.is_dir()]
    if not seeds:
        raise RunError(
            f"{p} is a multi-seed folder without seed runs (seed-0, ...); train it again with 'gnnviz train --seeds N'"
        )
    return sorted(seeds, key=lambda s: (int(s.name[5:]) if s.name[5:].isdigit() else 1 << 62, s.name))


def check_out(out: Path | None, base: Path) -> None:
    """The output folder can be written without destroying anything that is not an earlier compare."""
    if out is None:
        check_out_dir(base)
        return
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; pass a new folder (or an earlier compare folder to replace it)")
    check_out_dir(out)
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ConfigError(
            f"--out {out} already holds files that are not a gnnviz compare; pass a new or empty folder (or an earlier compare folder to replace it)"
        )
    if (out / MARKER).is_file():
        _earlier_marker(out / MARKER)


def _earlier_marker(path: Path) -> dict:
    """An earlier compare's compare.json, checked (``schema.COMPARE``) before its file list is trusted."""
    from gnnviz.runs.schema import COMPARE, COMPARE_REQUIRED, check
    from gnnviz.runs.store import read_json

    try:
        return check(path, read_json(path), COMPARE, COMPARE_REQUIRED)
    except RunError as exc:
        what = str(exc).split("; ")[0]
        raise ConfigError(
            f"--out {path.parent}: {what}, so what it holds is unknown; pass another --out or remove the folder"
        ) from None


def _same_dataset(paths: list[Path], loaded: list) -> None:
    names = [str(r.summary.get("dataset") or (r.config.get("dataset") or {}).get("name")) for r in loaded]
    for p, name in zip(paths[1:], names[1:], strict=True):
        if name != names[0]:
            raise ConfigError(f"runs of different datasets: {paths[0]} is {names[0]}, {p} is {name}; compare runs of one dataset")


def _same_graph(arrays: list[RunArrays]) -> None:
    a = arrays[0]
    for b in arrays[1:]:
        what = None
        if b.num_nodes != a.num_nodes:
            what = f"{b.num_nodes} nodes, not {a.num_nodes}"
        elif b.edge_index.shape != a.edge_index.shape or not (b.edge_index == a.edge_index).all():
            what = "other edges"
        elif b.y.shape != a.y.shape or not (b.y == a.y).all():
            what = "other labels"
        elif not (b.split == a.split).all():
            what = "another train/val/test split"
        if what is not None:
            several = f" ({a.dataset} has {a.num_graphs} stored graphs; both use --graph-index)" if a.num_graphs > 1 else ""
            raise ConfigError(
                f"{b.run_dir} was trained on another graph than {a.run_dir} ({what}){several}; compare runs of the same graph"
            )


def _notes(result: comparison.Comparison) -> list[str]:
    notes = []
    for a, label in zip(result.arrays, result.labels, strict=True):
        status = a.summary.get("status")
        if status not in FINISHED:
            notes.append(f"{label} ({a.run_dir}) did not finish ({status}): its numbers are those of its last saved state")
        if a.checkpoint.warning:
            notes.append(f"{label}: {a.checkpoint.warning}")
    ties = result.numbers["neighbourhoods"]["ties"]
    if ties:
        notes.append(f"neighbourhoods: {ties}")
    return notes


def _make_folder(out: Path | None, base: Path) -> tuple[Path, bool]:
    """The output folder, and whether this call created it."""
    if out is None:
        return create_run_dir(base, None, f"compare-{datetime.now().strftime('%Y%m%d-%H%M%S')}"), True
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    return out, created


def _earlier_files(folder: Path) -> list[str]:
    """The files an earlier compare in ``folder`` wrote (its compare.json says), or []."""
    if not (folder / MARKER).is_file():
        return []
    return list(_earlier_marker(folder / MARKER)["files"])


def _remove_stale(folder: Path, earlier: list[str], written: set[str]) -> None:
    """Remove what an earlier compare wrote here and this one did not (e.g. another node's figure)."""
    root = folder.resolve()
    for name in earlier:
        if name in written:
            continue
        path = (folder / name).resolve()
        if root in path.parents and path.is_file():
            path.unlink()
            parent = path.parent
            while parent != root and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
