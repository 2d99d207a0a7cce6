"""``gnnviz train --nproc N``: the same command as N ranks under torchrun (``distributed.launch``)."""

from __future__ import annotations

import os
from pathlib import Path

from gnnviz import distributed
from gnnviz.cli import exits
from gnnviz.errors import ConfigError, GnnvizError


def launch(cfg, nproc: int, *, config, overrides, seeds: int, out: Path, name, data_root, quiet: bool) -> None:
    """``train --nproc N``: the same command as N ranks under torchrun, into a run directory named now."""
    from gnnviz.runs.layout import check_new_run, default_name

    if os.environ.get("WORLD_SIZE", "1") != "1":
        raise ConfigError("--nproc inside torchrun: the ranks are already started; drop --nproc")
    if seeds != 1:
        raise ConfigError(f"--seeds {seeds} with --nproc: train one seed at a time (--seed N)")
    distributed.check_device(cfg.run.device)
    check_new_run(out, name)
    if name is None:
        default = default_name(cfg.dataset.name, cfg.model.name)
        name = next(n for n in (default if i == 1 else f"{default}-{i}" for i in range(1, 10_000)) if not (out / n).exists())
    args = [*(["--config", str(config)] if config is not None else []), *[a for o in overrides for a in ("--set", o)]]
    args += ["--out", str(out), "--name", name, *(["--data-root", str(data_root)] if data_root is not None else [])]
    args += ["--quiet"] if quiet else []
    if exits.debugging():
        os.environ["GNNVIZ_DEBUG"] = "1"
    try:
        distributed.launch(args, nproc, out / name)
    except distributed.RankFailed as exc:
        error = GnnvizError(f"{exc.line} (run {out / name})" if (out / name).exists() else exc.line)
        error.exit_code = exc.code
        raise error from None
