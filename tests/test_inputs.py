"""Every public function rejects bad input with a message naming the value and what is allowed."""

from __future__ import annotations

import pytest
import torch

import vaelib


@pytest.fixture(scope="module")
def model():
    return vaelib.make_vae("vampprior", hidden_dim=16, seed=0, device="cpu")


def test_unknown_prior_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown prior 'vamp'.*'standard', 'mog', 'vampprior', 'gtm', 'gtm-vampprior', 'flow'"):
        vaelib.make_vae("vamp")
    with pytest.raises(ValueError, match="unknown prior 'gaussian'"):
        vaelib.make_prior("gaussian")


@pytest.mark.parametrize("latent_dim", [1, 0, -3])
def test_latent_dim_below_two_is_rejected(latent_dim):
    with pytest.raises(ValueError, match=f"latent_dim must be an integer >= 2, got {latent_dim}"):
        vaelib.make_vae("flow", latent_dim=latent_dim)
    with pytest.raises(ValueError, match="latent_dim"):
        vaelib.make_prior("mog", latent_dim=latent_dim)


def test_non_integer_sizes_are_rejected():
    with pytest.raises(TypeError, match="latent_dim must be an integer >= 2, got 2.5"):
        vaelib.make_vae("standard", latent_dim=2.5)
    with pytest.raises(ValueError, match="num_components must be an integer >= 1, got 0"):
        vaelib.make_vae("mog", num_components=0)
    with pytest.raises(ValueError, match="grid_size must be an integer >= 1, got 0"):
        vaelib.make_vae("gtm", grid_size=0)


def test_unknown_prior_option_lists_the_valid_options():
    with pytest.raises(TypeError, match="no option 'num_flows'.*num_components"):
        vaelib.make_vae("mog", num_flows=3)


def test_vampprior_needs_the_encoder():
    with pytest.raises(ValueError, match="encoder"):
        vaelib.make_prior("vampprior")


def test_unknown_likelihood_is_rejected():
    with pytest.raises(ValueError, match="unknown likelihood 'gaussian'.*'categorical', 'bernoulli'"):
        vaelib.make_vae("standard", likelihood="gaussian")


@pytest.mark.parametrize(
    "z, message",
    [
        (torch.zeros(5, 3), r"z must have shape \(B, 2\), got \(5, 3\)"),
        (torch.zeros(2), r"z must have shape \(B, 2\), got \(2,\)"),
        (torch.zeros(5, 2, dtype=torch.long), "floating-point"),
        ([[0.0, 0.0]], "torch.Tensor"),
    ],
)
def test_prior_log_prob_rejects_bad_latents(model, z, message):
    with pytest.raises((ValueError, TypeError), match=message):
        model.prior.log_prob(z)


@pytest.mark.parametrize("n", [0, -1, 2.0])
def test_prior_sample_rejects_bad_counts(model, n):
    with pytest.raises((ValueError, TypeError), match=f"n must be an integer >= 1, got {n}"):
        model.prior.sample(n)


@pytest.mark.parametrize(
    "x, message",
    [
        (torch.full((2, 64), 17), r"integer pixel values in 0\.\.16; found 17 at index \(0, 0\)"),
        (torch.full((2, 64), -1), r"found -1 at index \(0, 0\)"),
        (torch.full((2, 64), 3.5), r"found 3\.5 at index"),
        (torch.full((2, 64), float("nan")), "found nan"),
        (torch.zeros(2, 8, 8), r"shape \(B, 64\).*got \(2, 8, 8\)"),
        (torch.zeros(0, 64), "no images"),
    ],
)
def test_image_functions_reject_bad_pixels_and_shapes(model, x, message):
    for function in (
        model.elbo,
        model.loss,
        model.encode,
        lambda x: vaelib.negative_elbo(model, x),
        lambda x: vaelib.iwae_bound(model, x, num_samples=2),
        lambda x: vaelib.negative_log_likelihood(model, x, num_samples=2),
        lambda x: vaelib.elbo_parts(model, x),
    ):
        with pytest.raises(ValueError, match=message):
            function(x)


def test_fit_rejects_data_outside_the_likelihood_range(digits):
    model = vaelib.make_vae("standard", likelihood="bernoulli", hidden_dim=8, device="cpu")
    with pytest.raises(ValueError, match=r"pixels take 17 values \(0\.\.16\) but the model's bernoulli likelihood "
                                         r"expects 2.*likelihood='categorical'.*binarize"):
        vaelib.fit(model, digits, max_epochs=1, progress=False)
    # Images alone (no data set around them) still get the pixel-range error.
    with pytest.raises(ValueError, match=r"data.train must hold integer pixel values in 0\.\.1; found 5 .*binarize=True"):
        model.check_images(digits.train, name="data.train")


def test_binarised_data_is_refused_by_a_categorical_vae():
    model = vaelib.make_vae("standard", hidden_dim=8, device="cpu")
    with pytest.raises(ValueError, match=r"pixels take 2 values \(0\.\.1\) but the model's categorical likelihood "
                                         r"expects 17.*likelihood='bernoulli'"):
        vaelib.fit(model, vaelib.load_digits(binarize=True), max_epochs=1, progress=False)


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"recipe": "quick"}, ValueError, "unknown recipe 'quick'; choose one of: 'book', 'fast'"),
        ({"lr": -1.0}, ValueError, "lr must be a positive finite number, got -1.0"),
        ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1, got 0"),
        ({"optimizer": "sgd"}, ValueError, "unknown optimizer 'sgd'; choose one of: 'adamax', 'adam'"),
        ({"max_epochs": 0}, ValueError, "max_epochs must be an integer >= 1, got 0"),
        ({"momentum": 0.9}, TypeError, "unknown training option.*momentum"),
    ],
)
def test_fit_rejects_bad_options(digits, model, options, error, message):
    with pytest.raises(error, match=message):
        vaelib.fit(model, digits, progress=False, **options)


def test_evaluation_rejects_bad_sample_counts(digits, model):
    with pytest.raises(ValueError, match="num_samples must be an integer >= 1, got 0"):
        vaelib.negative_log_likelihood(model, digits.test[:2], num_samples=0)


def test_decoding_rejects_bad_latents(model):
    with pytest.raises(ValueError, match=r"z must have shape \(B, 2\)"):
        model.decode_mode(torch.zeros(3, 4))


def test_minibatches_rejects_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        list(vaelib.data.minibatches(torch.zeros(4, 2), 0))
