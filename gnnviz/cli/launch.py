"""``gnnviz train --nproc N``: the same command as N ranks under torchrun (``distributed.launch``)."""

from __future__ import annotations

import os
from pathlib import Path

from gnnviz import distributed, machine
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
    check_nproc(nproc)
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


def check_nproc(nproc: int, cores: int | None = None, available: int | None = None) -> None:
    """Refuse, before any rank starts, more ranks than this machine has cores or memory for."""
    cores = machine.cores() if cores is None else cores
    if nproc > cores:
        raise ConfigError(
            f"--nproc {nproc} is more ranks than the {cores} CPU cores this process may use; "
            f"use at most --nproc {cores} (each rank trains on a core of its own)"
        )
    available = machine.available_memory() if available is None else available
    if available is not None and nproc * machine.RANK_MEMORY > available:
        most = max(available // machine.RANK_MEMORY, 1)
        raise ConfigError(
            f"--nproc {nproc} ranks need at least {machine.gib(nproc * machine.RANK_MEMORY)} "
            f"({machine.gib(machine.RANK_MEMORY)} a rank for torch and PyG alone), more than the "
            f"{machine.gib(available)} of memory available; use at most --nproc {most} or free memory"
        )
