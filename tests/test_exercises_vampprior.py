"""The check of notebook 04: the reference VampPrior log-density passes, each known wrong answer
is named with its hint, an unfinished skeleton is "not done yet", a crash is one line, and the
caller's random stream is untouched."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal

from vaelib import exercises
from vaelib.exercises import vampprior

LOG_2PI = math.log(2 * math.pi)


def log_normal_per_dimension(z, means, logvars):
    """As notebook 04 writes it: (N, L), (K, L) -> (N, K, L)."""
    return -0.5 * (LOG_2PI + logvars + (z[:, None, :] - means) ** 2 * torch.exp(-logvars))


def reference_log_prob(z, encoder, pseudo_inputs):
    """The solution of notebook 04's exercise: sum over dimensions, log-sum-exp over components, - log K."""
    means, logvars = encoder(pseudo_inputs)
    return torch.logsumexp(log_normal_per_dimension(z, means, logvars).sum(-1), dim=1) - math.log(len(means))


def per_dimension_log_prob(z, encoder, pseudo_inputs):
    """The book companion code's VampPrior.log_prob with uniform weights, summed over dimensions."""
    means, logvars = encoder(pseudo_inputs)
    return (torch.logsumexp(log_normal_per_dimension(z, means, logvars), dim=1) - math.log(len(means))).sum(-1)


def per_dimension_log_k_once(z, encoder, pseudo_inputs):
    means, logvars = encoder(pseudo_inputs)
    return torch.logsumexp(log_normal_per_dimension(z, means, logvars), dim=1).sum(-1) - math.log(len(means))


def no_log_k(z, encoder, pseudo_inputs):
    means, logvars = encoder(pseudo_inputs)
    return torch.logsumexp(log_normal_per_dimension(z, means, logvars).sum(-1), dim=1)


def variance_as_std(z, encoder, pseudo_inputs):
    means, logvars = encoder(pseudo_inputs)
    log_components = Normal(means, torch.exp(logvars)).log_prob(z[:, None, :]).sum(-1)
    return torch.logsumexp(log_components, dim=1) - math.log(len(means))


def mean_of_log_densities(z, encoder, pseudo_inputs):
    means, logvars = encoder(pseudo_inputs)
    return log_normal_per_dimension(z, means, logvars).sum(-1).mean(dim=1)


def skeleton(z, encoder, pseudo_inputs):
    """log p(z) of the VampPrior with uniform weights; z: (N, L) -> (N,)"""
    ...  # your code here


@pytest.mark.parametrize("seed", range(5))
def test_the_reference_log_density_passes_on_fresh_inputs(seed):
    feedback = exercises.check_vampprior_log_prob(reference_log_prob, seed=seed)
    assert feedback and str(feedback).startswith("✓ Correct:")


@pytest.mark.parametrize(
    "log_prob, name, hint",
    [
        (per_dimension_log_prob, "per-dimension log-sum-exp", "sum the log-densities over the L dimensions FIRST"),
        (per_dimension_log_k_once, "per-dimension log-sum-exp", "sum the log-densities over the L dimensions FIRST"),
        (no_log_k, "forgotten 1/K", "subtract log K"),
        (variance_as_std, "exp(logvar) used as the standard deviation", "exp(logvar) is the variance"),
        (mean_of_log_densities, "mean of log-densities", "the mixture averages the densities"),
    ],
)
def test_each_known_wrong_log_density_is_named_with_its_hint(log_prob, name, hint):
    for seed in range(3):
        feedback = exercises.check_vampprior_log_prob(log_prob, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name
        assert "Hint:" in str(feedback) and hint in str(feedback)


def test_the_known_wrong_log_densities_differ_from_the_reference_and_from_each_other():
    """Else a mistake could pass, or get another's name: K and L > 1 and distinct components see to it."""
    for seed in range(10):
        z, encoder, pseudo_inputs = vampprior.log_prob_inputs(seed)
        means, logvars = encoder(pseudo_inputs)
        answers = [vampprior.reference_vampprior(means, logvars).log_prob(z)]
        answers += [m.answer for m in vampprior._log_prob_mistakes(z, means, logvars)]
        for i, a in enumerate(answers):
            for b in answers[i + 1 :]:
                assert not torch.allclose(a, b, rtol=1e-3, atol=1e-2)


def test_the_fresh_encoder_gives_variances_far_from_standard_deviations():
    """exp(logvar) and exp(0.5 logvar) must differ: log-variances well away from 0 on both sides."""
    for seed in range(5):
        _, encoder, pseudo_inputs = vampprior.log_prob_inputs(seed)
        means, logvars = encoder(pseudo_inputs)
        assert means.shape == logvars.shape == (vampprior.COMPONENTS, vampprior.LATENT_DIM)
        assert bool((logvars > -1.7).all() and (logvars < 0.7).all()) and float(logvars.abs().max()) > 0.3
        assert encoder(pseudo_inputs.float())[0].dtype == torch.float32


def test_the_check_agrees_with_vaelibs_vampprior_with_uniform_weights():
    """The exercise's density is the library's VampPrior with learn_weights=False."""
    import vaelib

    model = vaelib.make_vae("vampprior", seed=0, learn_weights=False)
    z = 3 * torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(
            reference_log_prob(z, model.encoder, model.prior.pseudo_inputs),
            model.prior.log_prob(z),
            atol=1e-4,
            rtol=1e-4,
        )


def test_an_unfinished_or_crashing_log_density_is_not_a_traceback():
    assert str(exercises.check_vampprior_log_prob(skeleton)) == (
        "… Not done yet: replace the ... in your log-density, then run this cell again."
    )
    crashed = exercises.check_vampprior_log_prob(lambda z, encoder, pseudo_inputs: z @ pseudo_inputs)
    assert crashed.status == "wrong" and "your function raised RuntimeError" in str(crashed)
    assert len(str(crashed).splitlines()) == 1
    shaped = exercises.check_vampprior_log_prob(lambda *inputs: reference_log_prob(*inputs)[:, None])
    assert "has shape (200, 1) where (200,) was expected" in str(shaped)
    off = exercises.check_vampprior_log_prob(lambda *inputs: reference_log_prob(*inputs) + 0.5)
    assert off.status == "wrong" and off.mistake is None and "differs from the reference by up to 0.5" in str(off)


def test_the_check_leaves_the_callers_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    exercises.check_vampprior_log_prob(reference_log_prob)
    assert torch.equal(torch.rand(3), expected)
