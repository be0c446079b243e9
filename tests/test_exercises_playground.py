"""The check of notebook 08: the reference share of holes passes, each known wrong answer is named
with its hint, an unfinished skeleton is "not done yet", a crash is one line, the caller's random
stream is untouched, and the reference agrees with vaelib.analysis.holes."""

from __future__ import annotations

import math

import pytest
import torch

import vaelib
from vaelib import exercises
from vaelib.exercises import playground


def holes(prior, aggregate, ratio, num_samples):
    """The solution of notebook 08: the share of prior samples where q(z) < ratio * p(z)."""
    z = prior.sample((num_samples,))
    return float((aggregate.log_prob(z) - prior.log_prob(z) < math.log(ratio)).float().mean())


def reversed_inequality(prior, aggregate, ratio, num_samples):
    z = prior.sample((num_samples,))
    return float((torch.exp(aggregate.log_prob(z)) > ratio * torch.exp(prior.log_prob(z))).float().mean())


def ratio_on_the_wrong_side(prior, aggregate, ratio, num_samples):
    z = prior.sample((num_samples,))
    return float((ratio * torch.exp(aggregate.log_prob(z)) < torch.exp(prior.log_prob(z))).float().mean())


def posterior_samples(prior, aggregate, ratio, num_samples):
    z = aggregate.sample((num_samples,))
    return float((aggregate.log_prob(z) - prior.log_prob(z) < math.log(ratio)).float().mean())


def skeleton(prior, aggregate, ratio, num_samples):
    """The share of prior samples where q(z) < ratio * p(z) -> a number in [0, 1]"""
    ...  # your code here


@pytest.mark.parametrize("seed", range(5))
def test_the_reference_passes_on_fresh_distributions(seed):
    feedback = exercises.check_holes(holes, seed=seed)
    assert feedback and str(feedback).startswith("✓ Correct:"), str(feedback)


def test_an_exact_answer_by_quadrature_passes_too():
    def by_quadrature(prior, aggregate, ratio, num_samples):
        step = 0.02
        centres = torch.arange(-8, 8, step) + step / 2
        z = torch.cartesian_prod(centres, centres)
        mass = torch.exp(prior.log_prob(z)) * step**2
        return float(mass[aggregate.log_prob(z) - prior.log_prob(z) < math.log(ratio)].sum())

    assert exercises.check_holes(by_quadrature)


@pytest.mark.parametrize(
    "function, name, hint",
    [
        (reversed_inequality, "inequality reversed", "a hole is where the codes are THIN"),
        (ratio_on_the_wrong_side, "ratio applied to the wrong side", "the ratio scales the prior"),
        (posterior_samples, "posterior's samples counted", "draw z from the PRIOR"),
    ],
)
def test_each_known_wrong_share_is_named_with_its_hint(function, name, hint):
    for seed in range(3):
        feedback = exercises.check_holes(function, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name, str(feedback)
        assert "Hint:" in str(feedback) and hint in str(feedback)


def test_the_fresh_distributions_keep_right_and_wrong_shares_apart():
    """Holes between 0.15 and 0.4, every wrong share more than 4 tolerances from it and from each other."""
    for seed in range(10):
        shares = playground.exact_shares(seed)
        assert 0.15 < shares["holes"] < 0.4
        tolerance = playground.STANDARD_ERRORS * math.sqrt(0.25 / playground.SAMPLES) + playground.GRID_ERROR
        values = list(shares.values())
        for i, a in enumerate(values):
            for b in values[i + 1 :]:
                assert abs(a - b) > 4 * tolerance


def test_the_exact_share_agrees_with_a_large_monte_carlo_sample():
    prior, aggregate = playground.holes_distributions(0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        estimate = holes(prior, aggregate, 0.1, 400_000)
    exact = playground.exact_shares(0)["holes"]
    assert abs(estimate - exact) < 4 * math.sqrt(exact * (1 - exact) / 400_000) + playground.GRID_ERROR / 3


def test_the_solution_agrees_with_vaelib_analysis_holes_on_a_model():
    """On a model, the student's function with the model's p(z) and q(z) is analysis.holes, up to sampling."""
    model = vaelib.make_vae("mog", seed=0)
    x = vaelib.load_digits().test
    expected = vaelib.analysis.holes(model, x, num_samples=20_000)
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        answer = holes(model.prior.distribution(), vaelib.analysis.aggregate_posterior(model, x), 0.1, 20_000)
    assert abs(answer - expected) < 5 * math.sqrt(2 * max(expected * (1 - expected), 1e-3) / 20_000)


def test_an_unfinished_or_crashing_answer_is_not_a_traceback():
    assert str(exercises.check_holes(skeleton)) == (
        "… Not done yet: replace the ... in your share of holes, then run this cell again."
    )
    crashed = exercises.check_holes(lambda prior, aggregate, ratio, num_samples: prior.sample(num_samples) @ ratio)
    assert crashed.status == "wrong" and "your function raised" in str(crashed) and "\n" not in str(crashed)
    several = exercises.check_holes(lambda prior, aggregate, ratio, num_samples: torch.zeros(3))
    assert several.status == "wrong" and "should be one number" in str(several)
    unknown = exercises.check_holes(lambda *inputs: 0.5)
    assert unknown.status == "wrong" and unknown.mistake is None and "Hint:" in str(unknown)


def test_the_check_is_deterministic_and_leaves_the_callers_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = exercises.check_holes(holes)
    assert torch.equal(torch.rand(3), expected)
    assert str(exercises.check_holes(holes)) == str(first)
