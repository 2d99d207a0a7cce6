"""Seeded randomness: ``seed_everything`` (Python's ``random``, numpy and torch for a run),
``igraph_rng`` (igraph's own seeded RNG for a block: layouts and synthetic graphs) and ``seeded`` (all three
global RNGs seeded for a block and restored: generated graphs).

Imports no torch at module level (``seed_everything`` imports it when called): the torch-free
visualize path (``gnnviz.viz``) uses ``igraph_rng``.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import numpy as np


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextlib.contextmanager
def igraph_rng(seed: int) -> Iterator[None]:
    """Give igraph its own seeded RNG (it uses Python's ``random`` module by default)."""
    import igraph as ig

    ig.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        ig.set_random_number_generator(random)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Python's ``random``, numpy's and torch's (CPU) global RNGs seeded for a block, then restored:
    a generator that draws from any of them (PyG's graph generators use torch's) gives the same
    result for the same seed, and the caller's streams are left as they were."""
    import torch

    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        seed_everything(seed)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
