"""Exercise checks for notebook 08: the share of holes.

``check_holes`` checks the student's share of holes exactly as ``vaelib.analysis.holes``
defines it: the share of samples z ~ p(z) of the PRIOR for which the aggregated posterior is
thin, q(z) < ratio * p(z). The student's function gets the prior and the aggregated posterior
as ``torch.distributions`` objects (``sample``, ``log_prob``), the ratio and the number of
samples to draw. Fresh inputs: a standard normal prior and the uniform mixture of N = 5 narrow
Gaussian posteriors on a ring (a share of holes between 0.15 and 0.4). The reference is the
exact share, the prior's mass where q(z) < ratio * p(z), by quadrature on a fine grid; a
Monte Carlo answer passes within 5 of its standard errors.

It names the inequality reversed (q(z) > ratio * p(z): the share that is NOT a hole), the
ratio applied to the wrong side (ratio * q(z) < p(z), i.e. q(z) < p(z) / ratio), and the
samples drawn from the aggregated posterior instead of the prior (where q is never thin).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from ..analysis import HOLE_RATIO
from ._core import Feedback, Mistake, call, compare_number, generator, run_check

__all__ = ["check_holes"]

POSTERIORS = 5
SAMPLES = 20_000
STANDARD_ERRORS = 5.0  # a correct Monte Carlo answer misses by more with probability about 6e-7
GRID_ERROR = 0.003  # the quadrature's error on a share is under 0.001 (against a grid 1.5x as fine)
_EXTENT, _RESOLUTION = 7.0, 400  # the reference's grid: [-7, 7]^2 (all but 1e-11 of the prior) in cells of width 0.035


def holes_distributions(seed: int = 0, dtype=torch.float64):
    """Fresh (prior, aggregate): N(0, I) and the uniform mixture of N = 5 Gaussian posteriors.

    The posteriors' means lie around a ring (radius 1 to 1.6, angles evenly spread and
    jittered), their standard deviations between 0.25 and 0.4: the prior's centre and tails
    are holes, 15-40% of its mass.
    """
    g = generator(seed)
    jitter = 0.3 * torch.rand(POSTERIORS, generator=g, dtype=torch.float64)
    angles = 2 * math.pi * (torch.arange(POSTERIORS, dtype=torch.float64) + jitter) / POSTERIORS
    radii = 1.0 + 0.6 * torch.rand(POSTERIORS, generator=g, dtype=torch.float64)
    means = torch.stack([radii * torch.cos(angles), radii * torch.sin(angles)], dim=1).to(dtype)
    stds = (0.25 + 0.15 * torch.rand(POSTERIORS, 2, generator=g, dtype=torch.float64)).to(dtype)
    aggregate = MixtureSameFamily(
        Categorical(logits=torch.zeros(POSTERIORS, dtype=dtype)), Independent(Normal(means, stds), 1)
    )
    prior = Independent(Normal(torch.zeros(2, dtype=dtype), torch.ones(2, dtype=dtype)), 1)
    return prior, aggregate


def _grid():
    step = 2 * _EXTENT / _RESOLUTION
    centres = -_EXTENT + step * (torch.arange(_RESOLUTION, dtype=torch.float64) + 0.5)
    z2, z1 = torch.meshgrid(centres, centres, indexing="ij")
    return torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1), step * step


def exact_shares(seed: int = 0, ratio: float = HOLE_RATIO) -> dict[str, float]:
    """The share of holes and the known wrong shares, by quadrature: name -> share."""
    prior, aggregate = holes_distributions(seed)
    z, cell_area = _grid()
    log_p, log_q = prior.log_prob(z), aggregate.log_prob(z)
    p_mass, q_mass = torch.exp(log_p) * cell_area, torch.exp(log_q) * cell_area
    thin = log_q - log_p < math.log(ratio)
    return {
        "holes": float(p_mass[thin].sum()),
        "inequality reversed": float(p_mass[~thin].sum()),
        "ratio applied to the wrong side": float(p_mass[log_q + math.log(ratio) < log_p].sum()),
        "posterior's samples counted": float(q_mass[thin].sum()),
    }


_HINTS = {
    "inequality reversed": "a hole is where the codes are THIN: count the prior samples with "
    "q(z) < ratio * p(z) (in logs: log q(z) - log p(z) < log ratio), not those where q(z) is larger.",
    "ratio applied to the wrong side": "the ratio scales the prior: q(z) < ratio * p(z) asks whether q is "
    "below a tenth of p. ratio * q(z) < p(z) asks whether q is below ten times p, which holds almost everywhere.",
    "posterior's samples counted": "draw z from the PRIOR, prior.sample((num_samples,)): holes are where the "
    "prior sends samples and the codes are thin. Samples of q(z) land where q is thick, almost never in a hole.",
}


def check_holes(function: Callable, seed: int = 0) -> Feedback:
    """Your share of holes: my_holes(prior, aggregate, ratio, num_samples) -> a number in [0, 1].

    prior, aggregate: torch.distributions over z (event_shape (2,)), p(z) and q(z); the share
    of num_samples samples z ~ p(z) with q(z) < ratio * p(z), as vaelib.analysis.holes defines
    it. Compares with the exact share (quadrature) on fresh distributions, within 5 standard
    errors of a Monte Carlo estimate; draws from the global stream, seeded here and restored.
    """

    def body() -> Feedback:
        shares = exact_shares(seed)
        reference = shares["holes"]
        prior, aggregate = holes_distributions(seed, torch.float32)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            answer = call(function, prior, aggregate, HOLE_RATIO, SAMPLES)
        tolerance = STANDARD_ERRORS * math.sqrt(reference * (1 - reference) / SAMPLES) + GRID_ERROR
        return compare_number(
            answer,
            reference,
            what="your share of holes",
            passed=f"your share of holes is within {tolerance:.3f} of the exact share ({reference:.3f}, "
            f"the prior's mass where q(z) < {HOLE_RATIO:g} p(z)) on fresh distributions.",
            tolerance=tolerance,
            mistakes=tuple(Mistake(name, shares[name], hint) for name, hint in _HINTS.items()),
            hint=f"draw num_samples = {SAMPLES:,} samples z from the prior and return the share of them "
            "where aggregate.log_prob(z) - prior.log_prob(z) < log(ratio), a number between 0 and 1.",
        )

    return run_check(body, "your share of holes")
