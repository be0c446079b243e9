"""The VAE's parts: the decoder's likelihood, the ELBO and its decomposition, odd latent sizes."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Categorical, Independent

import vaelib


def test_decoder_log_prob_equals_categorical_distribution(untrained, digits):
    model = untrained["standard"]
    z = torch.randn(3, 10, 2)  # leading sample dimension, as the IWAE uses
    x = digits.test[:10]
    fast = model.decoder.log_prob(x, z)
    reference = Independent(Categorical(logits=model.decoder(z)), 1).log_prob(x)
    assert fast.shape == (3, 10)
    assert torch.allclose(fast, reference, atol=1e-4)


def test_untrained_model_likelihood_is_near_uniform(untrained, digits):
    """An untrained decoder spreads mass over 17 values: about 64 log 17 nats per image."""
    with torch.no_grad():
        parts = untrained["standard"].elbo(digits.val)
    assert float(-parts.reconstruction.mean()) == pytest.approx(64 * math.log(17), rel=0.05)


def test_elbo_parts_add_up_and_entropy_is_the_gaussian_entropy(trained, digits):
    model = trained["mog"][0]
    x = digits.test[:32]
    parts = model.elbo(x)
    assert torch.allclose(parts.elbo, parts.reconstruction + parts.log_prior + parts.entropy)
    assert torch.allclose(parts.kl, -(parts.log_prior + parts.entropy))
    _, logvar = model.encoder(x)
    entropy = 0.5 * (2 * (1 + math.log(2 * math.pi)) + logvar.sum(-1))
    assert torch.allclose(parts.entropy, entropy, atol=1e-4)


def test_standard_prior_kl_estimate_is_unbiased(trained, digits):
    """With a N(0, I) prior, E[KL estimate] equals the closed-form KL of the posterior."""
    model = trained["standard"][0]
    x = digits.test[:16]
    torch.manual_seed(0)
    with torch.no_grad():
        estimates = torch.stack([model.elbo(x).kl for _ in range(4000)])
        q = model.posterior(x)
        exact = torch.distributions.kl_divergence(q, model.prior.distribution())
    standard_error = estimates.std(0) / math.sqrt(len(estimates))
    assert torch.all((estimates.mean(0) - exact).abs() < 5 * standard_error + 1e-4)


@pytest.mark.parametrize("name", list(vaelib.PRIORS))
@pytest.mark.parametrize("latent_dim", [3, 4])
def test_every_prior_supports_larger_latent_spaces(name, latent_dim, digits):
    model = vaelib.make_vae(name, latent_dim=latent_dim, hidden_dim=32, seed=0, device="cpu")
    z = model.prior.sample(7)
    assert z.shape == (7, latent_dim)
    assert model.prior.log_prob(z).shape == (7,)
    loss = model.loss(digits.train[:16])
    loss.backward()
    assert torch.isfinite(loss)


def test_bernoulli_likelihood_on_binarised_digits():
    binary = vaelib.load_digits(binarize=True)
    assert set(binary.train.unique().tolist()) == {0, 1}
    model = vaelib.make_vae("mog", likelihood="bernoulli", hidden_dim=32, seed=0, device="cpu")
    history = vaelib.fit(model, binary, max_epochs=3, progress=False, seed=0)
    assert history.val_loss[-1] < 64 * math.log(2)  # better than a coin per pixel
    images = model.sample(5)
    assert images.shape == (5, 64) and set(images.unique().tolist()) <= {0, 1}


def test_sampled_images_are_valid_pixels(trained):
    images = trained["vampprior"][0].sample(50)
    assert images.shape == (50, 64) and images.dtype == torch.long
    assert int(images.min()) >= 0 and int(images.max()) <= 16


def test_vampprior_initialised_from_data_starts_at_those_images(digits):
    images = digits.train[10:26]
    model = vaelib.make_vae("vampprior", init=images, seed=0, device="cpu")
    assert torch.allclose(model.prior.pseudo_inputs, images.float(), atol=0.02)
    # "data" picks real training images.
    model = vaelib.make_vae("vampprior", init="data", seed=0, device="cpu")
    pseudo = model.prior.pseudo_inputs
    distance = torch.cdist(pseudo, digits.train.float()).min(1).values
    assert torch.all(distance < 0.02 * 8)  # each within 0.02 per pixel of some training image
    random = vaelib.make_vae("vampprior", seed=0, device="cpu").prior.pseudo_inputs
    assert torch.cdist(random, digits.train.float()).min(1).values.min() > 10


def test_prior_shares_the_encoder_without_duplicating_its_weights():
    model = vaelib.make_vae("vampprior", device="cpu")
    assert model.prior.encoder is model.encoder
    keys = list(model.state_dict())
    assert not any(k.startswith("prior.encoder") for k in keys)
    assert len(list(model.parameters())) == len({id(p) for p in model.parameters()})
