"""The checks of notebook 02: the reference reparameterised sample and closed-form KL pass, each known
wrong answer is named with its hint, an unfinished skeleton is "not done yet", a crash is one line,
and the caller's random stream is untouched."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Normal

from vaelib import exercises
from vaelib.exercises import standard


# ---------------------------------------------------------------------------------------
# The reparameterised sample
# ---------------------------------------------------------------------------------------
def reference_sample(mean, logvar, noise):
    """The notebook's solution."""
    return mean + torch.exp(0.5 * logvar) * noise


def sample_via_normal(mean, logvar, noise):
    """What Normal.rsample computes, with the given noise."""
    normal = Normal(mean, torch.exp(0.5 * logvar))
    return normal.loc + normal.scale * noise


def variance_as_std(mean, logvar, noise):
    return mean + torch.exp(logvar) * noise


def unscaled_noise(mean, logvar, noise):
    return mean + noise


def logvar_as_std(mean, logvar, noise):
    return mean + logvar * noise


def forgotten_mean(mean, logvar, noise):
    return torch.exp(0.5 * logvar) * noise


def detached(mean, logvar, noise):
    return (mean + torch.exp(0.5 * logvar) * noise).detach()


def without_gradient(mean, logvar, noise):
    with torch.no_grad():
        return mean + torch.exp(0.5 * logvar) * noise


def through_numpy(mean, logvar, noise):
    import numpy as np

    z = mean.detach().numpy() + np.exp(0.5 * logvar.detach().numpy()) * noise.numpy()
    return torch.from_numpy(z)


def sample_skeleton(mean, logvar, noise):
    """z = mean + std * noise: (B, L), (B, L), (B, L) -> (B, L)"""
    ...  # your code here


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("sample", [reference_sample, sample_via_normal])
def test_the_reference_sample_passes_on_fresh_inputs(sample, seed):
    feedback = exercises.check_reparameterised_sample(sample, seed=seed)
    assert feedback and str(feedback).startswith("✓ Correct:")


@pytest.mark.parametrize(
    "sample, name, hint",
    [
        (variance_as_std, "exp(logvar) used as the standard deviation", "exp(logvar) is the variance"),
        (unscaled_noise, "unscaled noise", "multiply the noise by the standard deviation"),
        (logvar_as_std, "log-variance used as the standard deviation", "logvar is the logarithm of the variance"),
        (forgotten_mean, "forgotten mean", "add the mean"),
        (detached, "sample cut off from the gradient", "the ELBO's gradient reaches the encoder"),
        (without_gradient, "sample cut off from the gradient", "the ELBO's gradient reaches the encoder"),
        (through_numpy, "sample cut off from the gradient", "the ELBO's gradient reaches the encoder"),
    ],
)
def test_each_known_wrong_sample_is_named_with_its_hint(sample, name, hint):
    for seed in range(3):
        feedback = exercises.check_reparameterised_sample(sample, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name
        assert "Hint:" in str(feedback) and hint in str(feedback)


def test_the_known_wrong_samples_differ_from_the_reference_and_from_each_other():
    for seed in range(10):
        mean, logvar, noise = standard.gaussian_inputs(seed)
        answers = [reference_sample(mean, logvar, noise)]
        answers += [m.answer for m in standard._sample_mistakes(mean, logvar, noise)]
        for i, a in enumerate(answers):
            for b in answers[i + 1 :]:
                assert not torch.allclose(a, b, rtol=1e-3, atol=1e-2)


def test_an_unfinished_or_crashing_sample_is_not_a_traceback():
    feedback = exercises.check_reparameterised_sample(sample_skeleton)
    assert feedback.status == "not done"
    assert str(feedback) == "… Not done yet: replace the ... in your sample, then run this cell again."
    crashed = exercises.check_reparameterised_sample(lambda mean, logvar, noise: mean @ noise)
    assert crashed.status == "wrong" and "your function raised RuntimeError" in str(crashed)
    assert len(str(crashed).splitlines()) == 1
    in_place = exercises.check_reparameterised_sample(lambda mean, logvar, noise: mean.add_(noise))
    assert in_place.status == "wrong" and "your function raised RuntimeError" in str(in_place)
    shaped = exercises.check_reparameterised_sample(lambda *inputs: reference_sample(*inputs)[:, :1])
    assert "has shape (100, 1) where (100, 3) was expected" in str(shaped)


# ---------------------------------------------------------------------------------------
# The KL to the standard normal
# ---------------------------------------------------------------------------------------
def reference_kl(mean, logvar):
    """The notebook's solution: the closed form, summed over the dimensions."""
    return 0.5 * (mean**2 + torch.exp(logvar) - logvar - 1).sum(-1)


def rent_plus_fee(mean, logvar):
    """Notebook 02's section 4 split: the rent ½‖μ‖² plus the narrowing fee."""
    return 0.5 * (mean**2).sum(-1) + 0.5 * (logvar.exp() - logvar - 1).sum(-1)


def kl_variance_as_std(mean, logvar):
    std = torch.exp(logvar)
    return 0.5 * (mean**2 + std**2 - torch.log(std**2) - 1).sum(-1)


def kl_without_half(mean, logvar):
    return (mean**2 + torch.exp(logvar) - logvar - 1).sum(-1)


def kl_per_dimension(mean, logvar):
    return 0.5 * (mean**2 + torch.exp(logvar) - logvar - 1)


def kl_averaged_over_dimensions(mean, logvar):
    return 0.5 * (mean**2 + torch.exp(logvar) - logvar - 1).mean(-1)


def kl_negated(mean, logvar):
    return -0.5 * (mean**2 + torch.exp(logvar) - logvar - 1).sum(-1)


def kl_without_minus_one(mean, logvar):
    return 0.5 * (mean**2 + torch.exp(logvar) - logvar).sum(-1)


def kl_skeleton(mean, logvar):
    """KL(N(mean, diag exp(logvar)) || N(0, I)) per row: (B, L), (B, L) -> (B,)"""
    ...  # your code here


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("kl", [reference_kl, rent_plus_fee])
def test_the_reference_kl_passes_on_fresh_inputs(kl, seed):
    feedback = exercises.check_kl_to_standard_normal(kl, seed=seed)
    assert feedback and str(feedback).startswith("✓ Correct:")


@pytest.mark.parametrize(
    "kl, name, hint",
    [
        (kl_variance_as_std, "exp(logvar) used as the standard deviation", "exp(logvar) is already the variance"),
        (kl_without_half, "missing 1/2", "a factor ½"),
        (kl_per_dimension, "KL per dimension, not summed", "the SUM of the L one-dimensional KLs"),
        (kl_averaged_over_dimensions, "KL per dimension, not summed", "the SUM of the L one-dimensional KLs"),
        (kl_negated, "KL with the wrong sign", "never negative"),
        (kl_without_minus_one, "forgotten -1", "a −1 inside the bracket"),
    ],
)
def test_each_known_wrong_kl_is_named_with_its_hint(kl, name, hint):
    for seed in range(3):
        feedback = exercises.check_kl_to_standard_normal(kl, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name
        assert "Hint:" in str(feedback) and hint in str(feedback)


def test_the_known_wrong_kls_differ_from_the_reference_and_from_each_other():
    for seed in range(10):
        mean, logvar, _ = standard.gaussian_inputs(seed)
        answers = [standard.reference_kl(mean, logvar)] + [m.answer for m in standard._kl_mistakes(mean, logvar)]
        for i, a in enumerate(answers):
            for b in answers[i + 1 :]:
                assert not torch.allclose(a, b, rtol=1e-3, atol=1e-2)


def test_the_reference_is_torch_distributions_and_the_closed_form_by_hand():
    mean, logvar, _ = standard.gaussian_inputs(0)
    torch.testing.assert_close(standard.reference_kl(mean, logvar), reference_kl(mean, logvar))
    stds = torch.exp(0.5 * logvar)
    assert float(stds.min()) < 0.25 and float(stds.max()) > 2  # narrower and wider than the prior


def test_an_unfinished_or_crashing_kl_is_not_a_traceback():
    feedback = exercises.check_kl_to_standard_normal(kl_skeleton)
    assert feedback.status == "not done"
    assert str(feedback) == "… Not done yet: replace the ... in your KL, then run this cell again."
    crashed = exercises.check_kl_to_standard_normal(lambda mean, logvar: mean @ logvar)
    assert crashed.status == "wrong" and "your function raised RuntimeError" in str(crashed)
    assert len(str(crashed).splitlines()) == 1
    assert "has shape () where (100,) was expected" in str(
        exercises.check_kl_to_standard_normal(lambda *inputs: reference_kl(*inputs).mean())
    )
    assert "should be a tensor or a number" in str(exercises.check_kl_to_standard_normal(lambda *_: "zero"))


@pytest.mark.parametrize(
    "check, answer",
    [(exercises.check_reparameterised_sample, variance_as_std), (exercises.check_kl_to_standard_normal, kl_negated)],
)
def test_the_checks_are_deterministic_and_leave_the_callers_random_stream_alone(check, answer):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = check(answer)
    assert torch.equal(torch.rand(3), expected)
    assert str(check(answer)) == str(first)
