"""The Python API for notebooks and scripts: the functions the CLI calls, with the same checks.

    import gnnviz
    run = gnnviz.train("configs/gat_karate.yaml", training__epochs=50)   # or **{"training.epochs": 50}
    run                                     # in Jupyter: a summary table and, once drawn, the figures
    figs = run.visualize(embedding="umap")  # every figure of `gnnviz visualize`; shown inline
    run.explorer()                          # the interactive explorer in the notebook's output
    gnnviz.compare([run, other])            # `gnnviz compare`, a folder of figures

One code path: ``train`` is ``gnnviz train`` (``config.load_config`` then ``experiment.train``),
``Run.visualize`` is ``gnnviz visualize`` (``viz.visualize.visualize``), ``compare`` is ``gnnviz
compare`` (``viz.compare.compare``), ``load_run`` opens a run directory as every command does
(``runs.load.load_run``). Bad input raises the ``GnnvizError`` the CLI would print as one line
(``ConfigError`` for a bad config or option, ``RunError`` for a bad run directory), before anything
is written; nothing here prints unless ``quiet=False``.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gnnviz.config.schema import Config

# What a Run's summary table shows, in this order, when summary.json has it.
SUMMARY_FIELDS = (
    "dataset",
    "model",
    "status",
    "metric",
    "best_epoch",
    "epochs_run",
    "val_metric",
    "test_metric",
    "seeds",
    "train_seconds",
)


class Figures(list):
    """The figure files of one ``visualize`` (a list of ``Path``, drawing order); Jupyter shows them inline.

    ``folder`` is the output folder (with ``index.html``); ``figures["tsne"]`` is the file of that stem.
    """

    def __init__(self, folder: Path, paths: Sequence[Path]):
        super().__init__(paths)
        self.folder = folder

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            for path in self:
                if path.relative_to(self.folder).with_suffix("").as_posix() == key:
                    return path
            have = ", ".join(p.relative_to(self.folder).with_suffix("").as_posix() for p in self)
            raise KeyError(f"no figure '{key}' in {self.folder}; have {have}")
        return super().__getitem__(key)

    def _repr_html_(self) -> str:
        return "".join(_figure_html(p, self.folder) for p in self)


class Run:
    """A run directory, opened and checked (``gnnviz.runs.load``).

    path: the folder; config: its resolved ``config.yaml`` (nested dict); summary: ``summary.json``;
    metrics: ``metrics.csv`` rows (dicts of floats). ``viz`` is the folder of the last
    ``visualize`` (None before one; ``RUN/viz`` if an earlier one left it there).
    """

    def __init__(self, path: str | Path):
        from gnnviz.runs.load import load_run as open_run

        opened = open_run(path)
        self.path: Path = opened.path
        self.config: dict[str, Any] = opened.config
        self.summary: dict[str, Any] = opened.summary
        self.metrics: list[dict[str, float]] = opened.metrics
        self.viz: Path | None = self.path / "viz" if (self.path / "viz" / "index.html").is_file() else None

    def visualize(self, out: str | Path | None = None, *, quiet: bool = True, **options: Any) -> Figures:
        """Draw every figure as ``gnnviz visualize`` does into ``out`` (default ``RUN/viz``).

        options: those of ``gnnviz.viz.visualize.visualize``: ``nodes``, ``top_k``, ``layers``,
        ``heads``, ``fmt``, ``dpi``, ``graph_index``, ``embedding`` (tsne, umap or pca), ``state``
        (selected, min-loss or last; another than selected goes to ``RUN/viz-<state>``).
        Returns the figures written; raises ``GnnvizError`` before writing anything on bad input.
        """
        draw = _visualize_function()
        self.viz = draw(self.path, Path(out).expanduser() if out is not None else None, quiet=quiet, log=_stderr, **options)
        return self.figures()

    def figures(self) -> Figures:
        """The figures of the last ``visualize`` (drawing one with the defaults if there is none)."""
        if self.viz is None:
            return self.visualize()
        return Figures(self.viz, _page_figures(self.viz))

    def explorer(self, width: int | str = "100%", height: int = 640) -> Any:
        """The interactive explorer (``explorer.html`` of the last ``visualize``) as an IPython IFrame.

        The page is offline (its scripts are files beside it); Jupyter serves it when the run is
        under the folder the notebook server was started in, so the IFrame's address is relative
        to the working directory. Raises ``RunError`` when the graph was too large for an explorer.
        """
        from IPython.display import IFrame

        from gnnviz.errors import RunError

        viz = self.viz if self.viz is not None else self.figures().folder
        page = viz / "explorer.html"
        if not page.is_file():
            raise RunError(f"{viz} has no explorer.html (its index.html says why); visualize a smaller graph")
        return IFrame(os.path.relpath(page, Path.cwd()), width=width, height=height)

    def __repr__(self) -> str:
        known = {k: self.summary[k] for k in SUMMARY_FIELDS if k in self.summary}
        return f"Run({str(self.path)!r}, {json.dumps(known)})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(_text(self.summary[k]))}</td></tr>"
            for k in SUMMARY_FIELDS
            if k in self.summary
        )
        head = f"<p><b>gnnviz run</b> <code>{html.escape(str(self.path))}</code></p><table>{rows}</table>"
        if self.viz is None:
            return head + "<p>No figures yet: <code>run.visualize()</code> draws them.</p>"
        return head + self.figures()._repr_html_()


def train(
    config: Config | str | Path | None = None,
    *,
    sets: Sequence[str] = (),
    out: str | Path = "outputs",
    name: str | None = None,
    data_root: str | Path | None = None,
    seeds: int = 1,
    quiet: bool = True,
    **overrides: Any,
) -> Run:
    """Train as ``gnnviz train`` does and return the run (the aggregate run for ``seeds`` > 1).

    config: a YAML path (as ``--config``), a ``Config``, or None for the defaults. Overrides, as
    ``--set`` takes them: ``sets=["training.lr=0.01"]`` in the CLI's syntax, and keyword arguments
    with ``__`` for the dot (``training__lr=0.01``, ``model__name="gcn"``) or dotted names through
    ``**{"training.lr": 0.01}``; later ones win. Raises ``ConfigError`` for a bad config or value,
    before any folder is created.
    """
    from gnnviz.errors import ConfigError
    from gnnviz.experiment import train as run_train

    if seeds < 1:
        raise ConfigError(f"seeds={seeds} must be at least 1")
    items = list(sets) + [f"{key.replace('__', '.')}={json.dumps(value)}" for key, value in overrides.items()]
    cfg = _config(config, items)
    if cfg.run.tensorboard:
        from gnnviz.tensorboard import check_available

        check_available()
    path = run_train(cfg, out=Path(out).expanduser(), name=name, data_root=data_root, seeds=seeds, quiet=quiet, log=_stderr)
    return Run(path)


def load_run(path: str | Path) -> Run:
    """Open a run directory written by ``gnnviz train`` (raises ``RunError`` naming what is missing)."""
    return Run(path)


def figures(run: Run | str | Path, **options: Any) -> Figures:
    """``visualize`` a run (a ``Run`` or its folder) with ``options`` and return its figures."""
    return (run if isinstance(run, Run) else Run(run)).visualize(**options)


def compare(runs: Sequence[Run | str | Path], out: str | Path | None = None, *, quiet: bool = True, **options: Any) -> Figures:
    """Compare runs as ``gnnviz compare`` does; returns the figures of the new folder.

    out: the folder (default ``outputs/compare-<time>``); options: ``nodes``, ``top_k``, ``fmt``,
    ``dpi``, ``graph_index``, ``state`` (of every run; a path ``"DIR@min-loss"`` names one run's).
    Raises ``GnnvizError`` before writing anything on bad input.
    """
    with _backend_kept():
        from gnnviz.viz.compare import compare as run_compare
    folder = run_compare(
        [r.path if isinstance(r, Run) else Path(r).expanduser() for r in runs],
        Path(out).expanduser() if out is not None else None,
        quiet=quiet,
        log=_stderr,
        **options,
    )
    return Figures(folder, _page_figures(folder))


def _config(config: Config | str | Path | None, items: list[str]) -> Config:
    from gnnviz.config import load_config

    if not isinstance(config, Config):
        return load_config(Path(config).expanduser() if config is not None else None, items)
    from gnnviz.config.overrides import parse_override, set_dotted
    from gnnviz.config.validate import from_dict, resolve

    raw = config.to_dict()
    for item in items:
        key, value = parse_override(item)
        set_dotted(raw, key, value, item)
    return resolve(from_dict(raw))


def _visualize_function() -> Any:
    with _backend_kept():
        from gnnviz.viz.visualize import visualize
    return visualize


@contextlib.contextmanager
def _backend_kept() -> Iterator[None]:
    """Importing the visualize pipeline selects matplotlib's Agg backend (figures are drawn
    headless); a notebook that already uses pyplot keeps its own backend (its inline plots)."""
    before = None
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib

        before = matplotlib.get_backend()
    try:
        yield
    finally:
        if before is not None:
            import matplotlib

            matplotlib.use(before)


def _page_figures(folder: Path) -> list[Path]:
    """The PNG/SVG figures of a visualize or compare folder, in drawing order (the page's order)."""
    page = folder / "index.html"
    text = page.read_text(encoding="utf-8") if page.is_file() else ""
    found = sorted(p for p in folder.rglob("*") if p.suffix in (".png", ".svg") and p.is_file())
    # index.html lists the figures in drawing order; files it does not name (none today) go last.
    return sorted(found, key=lambda p: (text.find(p.relative_to(folder).as_posix()) % (len(text) + 1), str(p)))


def _figure_html(path: Path, folder: Path) -> str:
    name = html.escape(path.relative_to(folder).as_posix())
    data = path.read_bytes()
    mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    src = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return f"<figure style='margin:0 0 1em 0'><img src='{src}' style='max-width:100%'><figcaption>{name}</figcaption></figure>"


def _text(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _stderr(message: str) -> None:
    from gnnviz.progress import to_stderr

    to_stderr(message)
