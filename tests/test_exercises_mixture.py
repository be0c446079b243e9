"""The checks of notebook 03: the reference log-density and sampler pass, each known wrong answer
is named with its hint, an unfinished skeleton is "not done yet", a crash is one line, and the
caller's random stream is untouched."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Categorical, Normal

from vaelib import exercises
from vaelib.exercises import mixture

LOG_2PI = math.log(2 * math.pi)


def log_normal_per_dimension(z, means, logvars):
    """As notebook 03 writes it: (N, L), (K, L) -> (N, K, L)."""
    return -0.5 * (LOG_2PI + logvars + (z[:, None, :] - means) ** 2 * torch.exp(-logvars))


def reference_log_prob(z, mixture_logits, means, logvars):
    """Notebook 03's mog_log_prob: sum over dimensions, then log-sum-exp over components."""
    log_components = log_normal_per_dimension(z, means, logvars).sum(-1)
    return torch.logsumexp(torch.log_softmax(mixture_logits, dim=0) + log_components, dim=1)


def per_dimension_log_prob(z, mixture_logits, means, logvars):
    """The book companion code's MoGPrior.log_prob, summed: log-sum-exp per dimension."""
    log_weights = torch.log_softmax(mixture_logits, dim=0)[:, None]
    return torch.logsumexp(log_weights + log_normal_per_dimension(z, means, logvars), dim=1).sum(-1)


def uniform_weights_log_prob(z, mixture_logits, means, logvars):
    log_components = log_normal_per_dimension(z, means, logvars).sum(-1)
    return torch.logsumexp(log_components, dim=1) - math.log(len(mixture_logits))


def no_weights_log_prob(z, mixture_logits, means, logvars):
    return torch.logsumexp(log_normal_per_dimension(z, means, logvars).sum(-1), dim=1)


def unnormalised_logits_log_prob(z, mixture_logits, means, logvars):
    return torch.logsumexp(mixture_logits + log_normal_per_dimension(z, means, logvars).sum(-1), dim=1)


def variance_as_std_log_prob(z, mixture_logits, means, logvars):
    log_components = Normal(means, torch.exp(logvars)).log_prob(z[:, None, :]).sum(-1)
    return torch.logsumexp(torch.log_softmax(mixture_logits, dim=0) + log_components, dim=1)


def log_prob_skeleton(z, mixture_logits, means, logvars):
    """log p(z) of a mixture of diagonal Gaussians; z: (N, L) -> (N,)"""
    ...  # your code here


@pytest.mark.parametrize("seed", range(5))
def test_the_reference_log_density_passes_on_fresh_parameters(seed):
    feedback = exercises.check_mixture_log_prob(reference_log_prob, seed=seed)
    assert feedback and str(feedback).startswith("✓ Correct:")


@pytest.mark.parametrize(
    "log_prob, name, hint",
    [
        (per_dimension_log_prob, "per-dimension log-sum-exp", "sum the log-densities over the L dimensions FIRST"),
        (uniform_weights_log_prob, "forgotten mixture weights", "each component counts with its weight"),
        (no_weights_log_prob, "forgotten mixture weights", "each component counts with its weight"),
        (unnormalised_logits_log_prob, "logits used as log-weights", "torch.log_softmax(mixture_logits, dim=0)"),
        (variance_as_std_log_prob, "exp(logvar) used as the standard deviation", "exp(logvar) is the variance"),
    ],
)
def test_each_known_wrong_log_density_is_named_with_its_hint(log_prob, name, hint):
    for seed in range(3):
        feedback = exercises.check_mixture_log_prob(log_prob, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name
        assert "Hint:" in str(feedback) and hint in str(feedback)


def test_the_known_wrong_log_densities_differ_from_the_reference_and_from_each_other():
    """Else a mistake could pass, or get another's name: K and L > 1 and unnormalised logits see to it."""
    for seed in range(10):
        inputs = mixture.log_prob_inputs(seed)
        answers = [mixture.reference_mixture(*inputs[1:]).log_prob(inputs[0])]
        answers += [m.answer for m in mixture._log_prob_mistakes(*inputs)]
        for i, a in enumerate(answers):
            for b in answers[i + 1 :]:
                assert not torch.allclose(a, b, rtol=1e-3, atol=1e-2)


def test_an_unfinished_or_crashing_log_density_is_not_a_traceback():
    assert str(exercises.check_mixture_log_prob(log_prob_skeleton)) == (
        "… Not done yet: replace the ... in your log-density, then run this cell again."
    )
    crashed = exercises.check_mixture_log_prob(lambda z, mixture_logits, means, logvars: z @ means)
    assert crashed.status == "wrong" and "your function raised RuntimeError" in str(crashed)
    shaped = exercises.check_mixture_log_prob(lambda *inputs: reference_log_prob(*inputs)[:, None])
    assert "has shape (200, 1) where (200,) was expected" in str(shaped)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    exercises.check_mixture_log_prob(reference_log_prob)
    assert torch.equal(torch.rand(3), expected)


def reference_sampler(n, mixture_logits, means, logvars):
    """The solution of the notebook: pick a component by the weights, then sample it."""
    components = Categorical(logits=mixture_logits).sample((n,))
    return means[components] + torch.exp(0.5 * logvars[components]) * torch.randn(n, means.shape[1])


def variance_as_std(n, mixture_logits, means, logvars):
    """The book companion code's MoGPrior.sample: exp(logvar) as the standard deviation."""
    components = Categorical(logits=mixture_logits).sample((n,))
    return means[components] + torch.exp(logvars[components]) * torch.randn(n, means.shape[1])


def uniform_components(n, mixture_logits, means, logvars):
    components = torch.randint(len(mixture_logits), (n,))
    return means[components] + torch.exp(0.5 * logvars[components]) * torch.randn(n, means.shape[1])


def logits_as_probabilities(n, mixture_logits, means, logvars):
    components = torch.multinomial(mixture_logits, n, replacement=True)
    return means[components] + torch.exp(0.5 * logvars[components]) * torch.randn(n, means.shape[1])


def component_per_dimension(n, mixture_logits, means, logvars):
    latent_dim = means.shape[1]
    components = Categorical(logits=mixture_logits).sample((n, latent_dim))  # (n, L): one pick per coordinate
    dims = torch.arange(latent_dim)
    return means[components, dims] + torch.exp(0.5 * logvars[components, dims]) * torch.randn(n, latent_dim)


def skeleton(n, mixture_logits, means, logvars):
    """n samples of the mixture: n, (K,), (K, L), (K, L) -> (n, L)"""
    ...  # your code here


@pytest.mark.parametrize("seed", range(5))
def test_the_reference_sampler_passes_on_fresh_parameters(seed):
    feedback = exercises.check_mixture_sample(reference_sampler, seed=seed)
    assert feedback and str(feedback).startswith("✓ Correct:")


@pytest.mark.parametrize(
    "sampler, name, hint",
    [
        (variance_as_std, "exp(logvar) used as the standard deviation", "the standard deviation is exp(0.5 * logvar)"),
        (uniform_components, "forgotten mixture weights", "softmax(mixture_logits), not uniformly"),
        (logits_as_probabilities, "logits used as probabilities", "the logits are not probabilities"),
        (component_per_dimension, "component picked per dimension", "product of the mixture's marginals"),
    ],
)
def test_each_known_wrong_sampler_is_named_with_its_hint(sampler, name, hint):
    for seed in range(3):
        feedback = exercises.check_mixture_sample(sampler, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name
        assert "Hint:" in str(feedback) and hint in str(feedback)


def test_other_wrong_samplers_say_what_is_off():
    def no_noise(n, mixture_logits, means, logvars):
        return means[Categorical(logits=mixture_logits).sample((n,))]

    def shifted(n, mixture_logits, means, logvars):
        return reference_sampler(n, mixture_logits, means, logvars) + 0.1

    def two_dimensional(n, mixture_logits, means, logvars):
        return torch.randn(n, 2)

    assert "standard deviations (0.00, 0.00, 0.00)" in str(exercises.check_mixture_sample(no_noise))
    assert "have mean" in str(exercises.check_mixture_sample(shifted))
    assert "have shape (20000, 2) where (20000, 3) was asked" in str(exercises.check_mixture_sample(two_dimensional))
    assert "NaN" in str(exercises.check_mixture_sample(lambda n, *_: torch.full((n, 3), float("nan"))))
    for feedback in (exercises.check_mixture_sample(f) for f in (no_noise, shifted, two_dimensional)):
        assert feedback.status == "wrong" and feedback.mistake is None


def test_the_unfinished_skeleton_is_not_done_yet():
    feedback = exercises.check_mixture_sample(skeleton)
    assert feedback.status == "not done"
    assert str(feedback) == "… Not done yet: replace the ... in your sampler, then run this cell again."


def test_a_sampler_that_raises_is_one_line_not_a_traceback():
    def crashing(n, mixture_logits, means, logvars):
        return torch.randn(n, 2) @ means

    feedback = exercises.check_mixture_sample(crashing)
    assert feedback.status == "wrong" and "your function raised RuntimeError" in str(feedback)


def test_the_check_is_deterministic_and_leaves_the_callers_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = exercises.check_mixture_sample(variance_as_std)
    assert torch.equal(torch.rand(3), expected)
    assert str(exercises.check_mixture_sample(variance_as_std)) == str(first)


def test_the_fresh_components_lie_far_apart_and_the_reference_agrees_with_them():
    """The premise of the check: every sample is within 3.5 of its own mean and 3.5 from any other."""
    for seed in range(5):
        mixture_logits, means, logvars = mixture.mixture_parameters(seed)
        stds = torch.exp(0.5 * logvars)
        gaps = (means[:, None] - means[None]).abs()  # (K, K, L)
        off_diagonal = ~torch.eye(len(means), dtype=torch.bool)
        assert bool((gaps[off_diagonal] >= 2 * mixture._NEAR).all())
        assert bool((mixture._NEAR >= 5 * stds).all())
        assert bool((mixture_logits > 0).all())
        reference = mixture.reference_mixture(mixture_logits, means, logvars)
        torch.testing.assert_close(reference.mixture_distribution.probs, torch.softmax(mixture_logits, 0))
