"""One random-number policy: a ``seed=`` gives a call random numbers of its own.

Library code never reseeds the caller's global stream: it forks it, seeds the fork, and
the caller's stream continues afterwards exactly as if the call had not happened.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

from ._checks import check_seed


@contextmanager
def fixed_seed(seed: int | None, device=None):
    """Run the block with the global generators seeded with ``seed``, then restore the caller's
    state (None: no seeding, the block draws from the caller's stream). device: also fork the
    generator of this CUDA device."""
    if seed is None:
        yield
        return
    check_seed(seed)
    devices = [device] if device is not None and torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def with_fixed_seed(seed: int | None, device, fn):
    """``fn()`` with its own random numbers (see :func:`fixed_seed`)."""
    with fixed_seed(seed, device):
        return fn()
