"""The random train/val/test split every generated dataset draws: the shares checked before
anything is built (``check_shares``) and the masks drawn from one permutation (``split_masks``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gnnviz.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

SPLITS = ("train", "val", "test")


def check_shares(d: Any, count: int, of: str, unit: str) -> None:
    """``dataset.<split>_fraction`` of ``d``: each in (0, 1] and at least one ``unit`` of the
    ``count`` split (``of`` names them in the message, e.g. 'dataset.nodes=100'), all three at most 1."""
    shares = {split: getattr(d, f"{split}_fraction") for split in SPLITS}
    for split, share in shares.items():
        key = f"dataset.{split}_fraction"
        if not 0 < share <= 1:
            raise ConfigError(f"{key}={share} must be greater than 0 and at most 1")
        if int(share * count) < 1:
            raise ConfigError(f"{key}={share} of {of} is no {unit}; raise it to at least {math.ceil(1e4 / count) / 1e4}")
    total = sum(shares.values())
    if total > 1 + 1e-9:
        raise ConfigError(
            f"dataset.train_fraction + val_fraction + test_fraction = {total:g} must be at most 1 (a {unit} is in one split at most)"
        )


def split_masks(order: np.ndarray, p: Any) -> dict[str, np.ndarray]:
    """Boolean masks over ``order.size`` items, keyed by split: the first ``int(share * size)``
    of the permutation ``order`` train, the next val, then test; the rest in no split."""
    import numpy as np

    size, start, masks = order.size, 0, {}
    for split in SPLITS:
        count = int(getattr(p, f"{split}_fraction") * size)
        mask = np.zeros(size, dtype=bool)
        mask[order[start : start + count]] = True
        masks[split] = mask
        start += count
    return masks
