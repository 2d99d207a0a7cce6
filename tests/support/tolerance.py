"""Tolerances that follow from float32 arithmetic, not from what one machine gave.

Two computations that are the same mathematics but add in different orders (a mini-batch and the
full batch, PyG's sampler and ours, two ranks' averaged gradients and one process's, another
CPU's vector width) round differently: each float32 sum may differ by a few units in the last
place (ulps, ``2**-23`` relative) of the largest magnitude in it. After ``steps`` optimizer steps
those differences add up, about linearly: each step starts from parameters that already differ
by the earlier steps' rounding and adds its own.

Not covered: Adam divides by the gradient's size, so a gradient that is itself rounding noise
(near zero) can move a weight by up to the learning rate in either direction (the README's
distributed notes measured 1.35e-5 so on one generator). The tests that use this bound train
seeded models on karate, whose gradients are far from zero; there the measured differences
(<= 1.07e-6 after 5 steps on an AVX-512 Xeon, 4e-7 after 68 epochs of two ranks) sit below it.
"""

from __future__ import annotations

import torch

FLOAT32_EPS = torch.finfo(torch.float32).eps  # 2**-23: one ulp of 1.0
ULPS_PER_STEP = 4  # rounding differences of one step, in ulps of the largest magnitude involved


def float32_atol(tensors, steps: int, ulps: int = ULPS_PER_STEP) -> float:
    """Absolute tolerance for comparing ``tensors`` (or one tensor) after ``steps`` steps computed in
    another summation order: ``ulps`` ulps of their largest magnitude (at least 1: the sums inside,
    activations and losses, are of order one) per step, times the steps."""
    if isinstance(tensors, torch.Tensor):
        tensors = [tensors]
    scale = max([1.0, *(float(t.detach().abs().max()) for t in tensors if t.numel())])
    return ulps * FLOAT32_EPS * scale * max(int(steps), 1)
