"""Claims that check themselves: the one-liners a notebook puts under a sentence that compares numbers.

A notebook says only what its own outputs show. Each comparative sentence is followed by a
check cell such as ::

    vaelib.check("a mixture's density integrates to 1", abs(total - 1) < 1e-3)
    vaelib.expect_within_noise("MoG and standard: no difference in test −ELBO", mog, standard)

that prints "✓ <claim>" (a fixed sentence, so nbval compares it) and raises ClaimFailed the
day the numbers stop supporting the sentence. Comparisons between priors take
:class:`SeedStats` (the mean and spread over several training seeds): a difference counts
only when it is larger than the seed-to-seed spread; anything smaller is "no difference".
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class ClaimFailed(AssertionError):
    """A notebook's sentence is no longer true on this run's numbers: change the sentence."""


@dataclass(frozen=True)
class SeedStats:
    """One number measured for several training seeds: its values, mean and spread.

    spread: the sample standard deviation over seeds (ddof = 1), the "seed-to-seed spread".
    Formats as "98.87 ± 0.31" with any float format: ``f"{stats:.2f}"``.
    """

    values: tuple

    def __init__(self, values):
        values = tuple(float(v) for v in values)
        if len(values) < 2:
            raise ValueError(f"SeedStats needs the values of at least 2 seeds to have a spread, got {len(values)}")
        object.__setattr__(self, "values", values)

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / len(self.values)

    @property
    def spread(self) -> float:
        mean = self.mean
        return math.sqrt(math.fsum((v - mean) ** 2 for v in self.values) / (len(self.values) - 1))

    @property
    def seeds(self) -> int:
        return len(self.values)

    def __format__(self, spec: str) -> str:
        spec = spec or ".2f"
        return f"{format(self.mean, spec)} ± {format(self.spread, spec)}"

    def __str__(self) -> str:
        return format(self, ".4g")

    def __float__(self) -> float:
        return self.mean


def _stats(value) -> tuple[float, float]:
    """(mean, spread) of a SeedStats; (value, 0) of a plain number."""
    if isinstance(value, SeedStats):
        return value.mean, value.spread
    if isinstance(value, bool) or not hasattr(value, "__float__"):
        raise TypeError(f"expected a number or SeedStats, got {value!r}")
    return float(value), 0.0


def noise(a, b) -> float:
    """The seed-to-seed spread a difference between ``a`` and ``b`` must exceed to count:
    the larger of the two spreads (0 between plain numbers)."""
    return max(_stats(a)[1], _stats(b)[1])


def check(claim: str, holds) -> None:
    """Print "✓ claim" when ``holds`` is true; raise ClaimFailed naming the claim otherwise."""
    if not bool(holds):
        raise ClaimFailed(f"no longer true: {claim}")
    print("✓", claim)


def expect_lower(claim: str, lower, higher, *, margin: float = 0.0) -> None:
    """Check that ``lower`` is below ``higher`` by more than the seed spread (and ``margin``).

    lower, higher: numbers or SeedStats; with SeedStats the gap between the means must exceed
    the larger of the two spreads, so that a difference smaller than the seed noise never
    counts as "lower".
    """
    (a, _), (b, _) = _stats(lower), _stats(higher)
    check(claim, b - a > noise(lower, higher) + margin)


def expect_within_noise(claim: str, a, b, *, tolerance: float | None = None) -> None:
    """Check that ``a`` and ``b`` differ by no more than the noise: the larger seed spread of
    the two (SeedStats), or ``tolerance`` when given (e.g. 3 standard errors)."""
    (ma, _), (mb, _) = _stats(a), _stats(b)
    allowed = noise(a, b) if tolerance is None else float(tolerance)
    check(claim, abs(ma - mb) <= allowed)


def expect_between(claim: str, value, low: float, high: float) -> None:
    """Check that ``value`` (its mean, for SeedStats) lies in [low, high]."""
    mean, _ = _stats(value)
    check(claim, low <= mean <= high)
