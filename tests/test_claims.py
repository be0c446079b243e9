"""The claim checks a notebook puts under a comparative sentence: they pass when the numbers
support the sentence, fail (naming it) when they do not, and treat seed noise as no difference."""

from __future__ import annotations

import math
import statistics

import pytest

import vaelib
from vaelib.claims import ClaimFailed, SeedStats, noise


def test_seed_stats_mean_and_spread_match_the_statistics_module():
    values = [98.8, 99.1, 98.6, 99.4]
    stats = SeedStats(values)
    assert stats.mean == pytest.approx(statistics.mean(values), abs=1e-12)
    assert stats.spread == pytest.approx(statistics.stdev(values), abs=1e-12)  # sample std, ddof = 1
    assert stats.seeds == 4
    assert f"{stats:.2f}" == f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"
    assert f"{SeedStats([0.05, 0.07]):.1%}" == "6.0% ± 1.4%"
    assert float(stats) == stats.mean


def test_seed_stats_needs_two_seeds():
    with pytest.raises(ValueError, match="at least 2 seeds.*got 1"):
        SeedStats([1.0])


def test_check_prints_the_claim_or_raises_naming_it(capsys):
    vaelib.check("two is more than one", 2 > 1)
    assert capsys.readouterr().out == "✓ two is more than one\n"
    with pytest.raises(ClaimFailed, match="no longer true: one is more than two"):
        vaelib.check("one is more than two", 1 > 2)
    assert issubclass(ClaimFailed, AssertionError)  # a failing check fails the notebook run like assert


def test_a_difference_inside_the_seed_spread_is_no_difference(capsys):
    a = SeedStats([98.5, 98.9, 99.3])  # spread 0.4
    b = SeedStats([98.9, 99.1, 99.5])  # mean 0.27 higher, spread 0.31
    assert noise(a, b) == pytest.approx(0.4)
    with pytest.raises(ClaimFailed):
        vaelib.expect_lower("a is lower than b", a, b)
    vaelib.expect_within_noise("a and b: no difference", a, b)
    assert "✓ a and b: no difference" in capsys.readouterr().out


def test_a_difference_beyond_the_spread_is_lower_and_not_noise():
    a = SeedStats([97.0, 97.1, 97.2])
    b = SeedStats([98.0, 98.1, 98.2])
    vaelib.expect_lower("a is lower than b", a, b)
    with pytest.raises(ClaimFailed):
        vaelib.expect_lower("b is lower than a", b, a)
    with pytest.raises(ClaimFailed):
        vaelib.expect_within_noise("a and b: no difference", a, b)
    with pytest.raises(ClaimFailed):  # the margin adds to the spread
        vaelib.expect_lower("a is lower than b by 2 nats", a, b, margin=2.0)


def test_plain_numbers_compare_with_an_explicit_tolerance():
    vaelib.expect_lower("1 < 2", 1.0, 2.0)
    vaelib.expect_within_noise("0.254 and 0.251 agree within 3 standard errors of 0.002", 0.254, 0.251, tolerance=0.006)
    with pytest.raises(ClaimFailed):
        vaelib.expect_within_noise("0.254 and 0.251 agree within one standard error", 0.254, 0.251, tolerance=0.002)
    vaelib.expect_between("e^3 within 5%", math.e**3 * 1.01, 0.95 * math.e**3, 1.05 * math.e**3)
    with pytest.raises(TypeError, match="expected a number or SeedStats"):
        vaelib.expect_lower("text", "1", 2.0)
