"""``resolve_device``: the ``--device`` option (``run.device``) -> a torch device, or a ``ConfigError``."""

from __future__ import annotations

import torch

from gnnviz.errors import ConfigError


def resolve_device(spec: str) -> torch.device:
    """``auto`` -> CUDA if present else CPU; an explicit CUDA device that is absent is an error."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(
            f"--device {spec} asked for CUDA, but CUDA is not available here (torch {torch.__version__}); use --device cpu or auto"
        )
    index = int(spec.split(":")[1]) if ":" in spec else 0
    count = torch.cuda.device_count()
    if index >= count:
        raise ConfigError(f"--device {spec} does not exist; this machine has {count} CUDA device(s): cuda:0..cuda:{count - 1}")
    return torch.device(spec)
