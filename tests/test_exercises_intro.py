"""The check of notebook 01: the reference ELBO passes, each known wrong ELBO is named with its hint,
an unfinished skeleton is "not done yet", a crash is one line, and the caller's random stream is untouched."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vaelib import exercises
from vaelib.exercises import intro


def kl_by_hand(mean, logvar):
    return 0.5 * (mean**2 + torch.exp(logvar) - logvar - 1).sum(-1)


def reference_elbo(x, logits, mean, logvar):
    """The notebook's solution: the Bernoulli log-likelihood summed over pixels, minus the closed-form KL."""
    reconstruction = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
    return reconstruction - kl_by_hand(mean, logvar)


def bernoulli_log_likelihood(x, logits):
    return (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum(-1)


def elbo_by_formula(x, logits, mean, logvar):
    """The same ELBO with the log-sigmoids written out."""
    return bernoulli_log_likelihood(x, logits) - kl_by_hand(mean, logvar)


def loss(x, logits, mean, logvar):
    return -reference_elbo(x, logits, mean, logvar)


def variance_as_std(x, logits, mean, logvar):
    std = torch.exp(logvar)  # the slip: this is the variance
    return bernoulli_log_likelihood(x, logits) - 0.5 * (mean**2 + std**2 - torch.log(std**2) - 1).sum(-1)


def kl_forgotten(x, logits, mean, logvar):
    return bernoulli_log_likelihood(x, logits)


def mean_over_pixels(x, logits, mean, logvar):
    return bernoulli_log_likelihood(x, logits) / x.shape[-1] - kl_by_hand(mean, logvar)


def mean_over_everything(x, logits, mean, logvar):
    reconstruction = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").mean(-1)
    return reconstruction - 0.5 * (mean**2 + torch.exp(logvar) - logvar - 1).mean(-1)


def kl_added(x, logits, mean, logvar):
    return bernoulli_log_likelihood(x, logits) + kl_by_hand(mean, logvar)


def cross_entropy_as_log_likelihood(x, logits, mean, logvar):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1) - kl_by_hand(mean, logvar)


def kl_without_half(x, logits, mean, logvar):
    return bernoulli_log_likelihood(x, logits) - (mean**2 + torch.exp(logvar) - logvar - 1).sum(-1)


def skeleton(x, logits, mean, logvar):
    """The ELBO of each image: (B, D), (B, D), (B, L), (B, L) -> (B,)"""
    ...  # your code here


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("elbo", [reference_elbo, elbo_by_formula])
def test_the_reference_elbo_passes_on_fresh_inputs(elbo, seed):
    feedback = exercises.check_elbo(elbo, seed=seed)
    assert feedback and str(feedback).startswith("✓ Correct:")


@pytest.mark.parametrize(
    "elbo, name, hint",
    [
        (loss, "ELBO with the wrong sign", "that is the loss, −ELBO"),
        (variance_as_std, "exp(logvar) used as the standard deviation", "exp(logvar) is the variance σ²"),
        (kl_forgotten, "KL forgotten", "subtract KL(q(z|x) || N(0, I))"),
        (mean_over_pixels, "mean over pixels instead of a sum", "it is a SUM over pixels"),
        (mean_over_everything, "mean over pixels instead of a sum", "it is a SUM over pixels"),
        (kl_added, "KL added instead of subtracted", "ELBO = reconstruction − KL"),
        (cross_entropy_as_log_likelihood, "binary cross-entropy taken for the log-likelihood", "its negative"),
        (kl_without_half, "KL without its 1/2", "a factor ½"),
    ],
)
def test_each_known_wrong_elbo_is_named_with_its_hint(elbo, name, hint):
    for seed in range(3):
        feedback = exercises.check_elbo(elbo, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name
        assert "Hint:" in str(feedback) and hint in str(feedback)


def test_the_known_wrong_elbos_differ_from_the_reference_and_from_each_other():
    """Else a mistake could pass, or get another's name."""
    for seed in range(10):
        inputs = intro.elbo_inputs(seed)
        reconstruction, kl = intro.reference_parts(*inputs)
        answers = [reconstruction - kl] + [m.answer for m in intro._mistakes(*inputs)]
        for i, a in enumerate(answers):
            for b in answers[i + 1 :]:
                assert not torch.allclose(a, b, rtol=1e-3, atol=1e-2)


def test_the_reference_parts_agree_with_the_closed_forms_by_hand():
    """torch.distributions' KL is the closed form the notebooks write, its Bernoulli the log-sigmoids."""
    x, logits, mean, logvar = intro.elbo_inputs(0)
    reconstruction, kl = intro.reference_parts(x, logits, mean, logvar)
    torch.testing.assert_close(kl, kl_by_hand(mean, logvar))
    torch.testing.assert_close(reconstruction, bernoulli_log_likelihood(x, logits))
    assert set(x.unique().tolist()) == {0.0, 1.0} and bool((reconstruction - kl < 0).all())


def test_an_unfinished_elbo_is_not_done_yet():
    feedback = exercises.check_elbo(skeleton)
    assert feedback.status == "not done"
    assert str(feedback) == "… Not done yet: replace the ... in your ELBO, then run this cell again."


def test_a_crashing_or_misshapen_elbo_is_one_line_not_a_traceback():
    crashed = exercises.check_elbo(lambda x, logits, mean, logvar: x @ mean)
    assert crashed.status == "wrong" and "your function raised RuntimeError" in str(crashed)
    assert len(str(crashed).splitlines()) == 1
    batch_mean = exercises.check_elbo(lambda *inputs: reference_elbo(*inputs).mean())
    assert batch_mean.status == "wrong" and "has shape () where (100,) was expected" in str(batch_mean)
    assert "NaN" in str(exercises.check_elbo(lambda x, *_: torch.full(x.shape[:1], float("nan"))))


def test_the_check_is_deterministic_and_leaves_the_callers_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = exercises.check_elbo(loss)
    assert torch.equal(torch.rand(3), expected)
    assert str(exercises.check_elbo(loss)) == str(first)
