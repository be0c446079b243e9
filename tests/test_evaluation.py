"""The importance-sampled bound orders correctly and is stable enough to report."""

from __future__ import annotations

import math

import pytest
import torch

import vaelib


def repeated(fn, repeats):
    return torch.stack([fn() for _ in range(repeats)])


def test_iwae_with_one_sample_equals_the_elbo_in_expectation(trained, digits):
    model = trained["vampprior"][0]
    x = digits.test[:20]
    torch.manual_seed(0)
    iwae1 = repeated(lambda: vaelib.iwae_bound(model, x, num_samples=1), 3000)  # (R, B)
    with torch.no_grad():
        elbo = repeated(lambda: model.elbo(x).elbo, 3000)
    # Both are unbiased for the ELBO; compare the means with their standard errors.
    diff = iwae1.mean(0) - elbo.mean(0)
    standard_error = torch.sqrt(iwae1.var(0) / len(iwae1) + elbo.var(0) / len(elbo))
    assert torch.all(diff.abs() < 5 * standard_error), (diff, standard_error)


@pytest.mark.parametrize("name", ["standard", "flow"])
def test_elbo_below_iwae_and_iwae_increases_with_k(trained, digits, name):
    model = trained[name][0]
    x = digits.test[:50]
    torch.manual_seed(1)
    with torch.no_grad():
        elbo = float(repeated(lambda: model.elbo(x).elbo.mean(), 200).mean())
    # Fewer repeats for larger K: the estimate's variance shrinks as K grows.
    repeats = {1: 200, 10: 40, 100: 10, 1000: 3}
    bounds = {
        k: float(repeated(lambda k=k: vaelib.iwae_bound(model, x, num_samples=k).mean(), r).mean())
        for k, r in repeats.items()
    }
    assert bounds[1] == pytest.approx(elbo, abs=0.3)
    assert elbo < bounds[10] < bounds[100] < bounds[1000]


def test_iwae_chunking_gives_the_same_estimate_as_one_pass(trained, digits):
    model = trained["gtm"][0]
    x = digits.test[:30]
    torch.manual_seed(2)
    one_pass = vaelib.iwae_bound(model, x, num_samples=400, max_points=10**6)
    torch.manual_seed(2)
    # Same random numbers in a different order would differ, so compare in distribution:
    chunked = torch.stack([vaelib.iwae_bound(model, x, num_samples=400, max_points=97) for _ in range(5)])
    assert chunked.shape == (5, 30)
    assert (chunked.mean(0) - one_pass).abs().mean() < 0.1


def test_test_set_estimate_with_5000_samples_is_stable(digits):
    """Two independent runs with K = 5000 on the whole test set agree to 0.1 nat."""
    model = vaelib.make_vae("mog", hidden_dim=64, seed=0, device="cpu")
    vaelib.fit(model, digits, max_epochs=15, seed=0, progress=False)
    torch.manual_seed(3)
    first = vaelib.negative_log_likelihood(model, digits.test, num_samples=5000)
    torch.manual_seed(4)
    second = vaelib.negative_log_likelihood(model, digits.test, num_samples=5000)
    assert abs(first - second) < 0.1
    assert first < vaelib.negative_elbo(model, digits.test, num_samples=20)


def test_negative_elbo_reports_nats_per_image(trained, digits):
    model = trained["standard"][0]
    torch.manual_seed(0)
    parts = vaelib.elbo_parts(model, digits.test, num_samples=5)
    assert parts["elbo"] == pytest.approx(parts["reconstruction"] + parts["log_prior"] + parts["entropy"], abs=1e-3)
    assert parts["kl"] == pytest.approx(-(parts["log_prior"] + parts["entropy"]), abs=1e-3)
    nelbo = vaelib.negative_elbo(model, digits.test, num_samples=5)
    assert nelbo == pytest.approx(-parts["elbo"], abs=0.5)
    assert 60 < nelbo < 64 * math.log(17)


def test_log_importance_weights_are_the_terms_of_the_iwae_bound(trained, digits):
    model, x = trained["mog"][0], digits.test[:30]
    torch.manual_seed(5)
    log_w = vaelib.evaluate.log_importance_weights(model, x, 100)
    torch.manual_seed(5)
    bound = vaelib.iwae_bound(model, x, num_samples=100)  # one chunk: the same draws in the same order
    assert log_w.shape == (100, 30)
    assert torch.allclose(torch.logsumexp(log_w, 0) - math.log(100), bound, atol=1e-4)


def test_elbo_per_image_averages_to_the_one_estimate(trained, digits):
    model, x = trained["standard"][0], digits.test
    per_image = vaelib.evaluate.elbo_per_image(model, x)
    assert per_image.shape == (len(x),)
    assert -float(per_image.double().mean()) == pytest.approx(vaelib.negative_elbo(model, x), abs=1e-4)
