"""The priors are densities over latent *points*: they integrate to one, their samplers
agree with them, and the mixtures are the intended K-component mixture (not a product of
per-dimension mixtures, as in the book's code)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

import vaelib
from vaelib.priors import MixturePrior, MoGPrior

MIXTURES = ["mog", "vampprior", "gtm", "gtm-vampprior"]


def latent_grid(prior, resolution=300, num_samples=20000):
    """A square-cell grid covering the prior's mass (sample range plus 25% on each side)."""
    torch.manual_seed(1)
    z = prior.sample(num_samples)
    lo, hi = z.min(0).values, z.max(0).values
    pad = 0.25 * (hi - lo)
    axes = [torch.linspace(float(a), float(b), resolution) for a, b in zip(lo - pad, hi + pad)]
    points = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 2)
    area = float((axes[0][1] - axes[0][0]) * (axes[1][1] - axes[1][0]))
    return points, area


def grid_density(prior):
    points, area = latent_grid(prior)
    with torch.no_grad():
        density = prior.log_prob(points).exp()
    return points, density * area  # probability mass of each cell


def randomise_flow(prior, scale=0.3):
    """Give the identity-initialised couplings non-trivial weights, so the map bends."""
    torch.manual_seed(3)
    with torch.no_grad():
        for conditioner in prior.conditioners:
            conditioner[-1].weight.normal_(0, scale)
            conditioner[-1].bias.normal_(0, scale)
    return prior


# ---------------------------------------------------------------------------------------
# Densities integrate to one
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(vaelib.PRIORS))
def test_prior_density_integrates_to_one_at_initialisation(untrained, name):
    _, mass = grid_density(untrained[name].prior)
    assert float(mass.sum()) == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("name", list(vaelib.PRIORS))
def test_prior_density_integrates_to_one_after_training(trained, name):
    _, mass = grid_density(trained[name][0].prior)
    assert float(mass.sum()) == pytest.approx(1.0, abs=0.01)


def test_flow_density_with_non_trivial_couplings_integrates_to_one():
    prior = randomise_flow(vaelib.make_prior("flow"))
    points, mass = grid_density(prior)
    assert float(mass.sum()) == pytest.approx(1.0, abs=0.01)
    # ...and the couplings really do move mass: it is not the standard normal any more.
    standard = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
    assert (prior.log_prob(points) - standard.log_prob(points)).abs().max() > 0.5


def test_log_jacobian_counted_per_dimension_breaks_normalisation():
    """The book's flow bug, reproduced on our flow: its density no longer integrates to one,
    which is exactly what the integration tests above would catch."""
    prior = randomise_flow(vaelib.make_prior("flow"))
    points, area = latent_grid(prior)
    with torch.no_grad():
        log_p = prior.log_prob(points)
        dist = prior.distribution()
        x, log_det = points, torch.zeros(len(points))
        for transform in reversed(dist.transforms):
            u = transform.inv(x)
            log_det = log_det + transform.log_abs_det_jacobian(u, x)
            x = u
        buggy = log_p + (prior.latent_dim - 1) * (-log_det)  # the log-det L times instead of once
    assert float((buggy.exp() * area).sum()) > 1.05 or float((buggy.exp() * area).sum()) < 0.95


# ---------------------------------------------------------------------------------------
# Samplers agree with their densities
# ---------------------------------------------------------------------------------------
def grid_moments(points, mass):
    mass = mass / mass.sum()
    mean = (mass[:, None] * points).sum(0)
    centred = points - mean
    cov = torch.einsum("n,ni,nj->ij", mass, centred, centred)
    # E[(z_i - mu_i)^2 (z_j - mu_j)^2]: gives the sampling variance of the covariance estimate.
    fourth = torch.einsum("n,ni,nj->ij", mass, centred**2, centred**2)
    return mean, cov, fourth


@pytest.mark.parametrize("name", list(vaelib.PRIORS))
def test_prior_samples_match_density_moments(trained, name):
    prior = trained[name][0].prior
    points, mass = grid_density(prior)
    mean, cov, fourth = grid_moments(points.double(), mass.double())
    n = 40000
    torch.manual_seed(2)
    z = prior.sample(n).double()
    sample_mean = z.mean(0)
    sample_cov = torch.cov(z.T)
    # Five standard errors, from the central limit theorem with the density's own moments.
    mean_tol = 5 * torch.sqrt(torch.diagonal(cov) / n)
    cov_tol = 5 * torch.sqrt((fourth - cov**2).clamp_min(0) / n)
    assert torch.all((sample_mean - mean).abs() < mean_tol), (sample_mean, mean, mean_tol)
    assert torch.all((sample_cov - cov).abs() < cov_tol + 1e-3 * cov.abs().max()), (sample_cov, cov)


def test_one_component_mixture_samples_have_the_variance_it_was_given():
    prior = MoGPrior(latent_dim=2, num_components=1)
    with torch.no_grad():
        prior.means.copy_(torch.tensor([[1.0, -2.0]]))
        prior.logvars.copy_(torch.log(torch.tensor([[0.25, 4.0]])))
    torch.manual_seed(0)
    n = 100000
    z = prior.sample(n)
    variance = z.var(0)
    # The book's sampler used exp(logvar) as the standard deviation: variances 0.0625 and 16.
    expected = torch.tensor([0.25, 4.0])
    assert torch.allclose(variance, expected, rtol=5 * math.sqrt(2 / n))
    assert torch.allclose(z.mean(0), torch.tensor([1.0, -2.0]), atol=5 * 2 / math.sqrt(n))


@pytest.mark.parametrize("name", list(vaelib.PRIORS))
def test_sample_is_vectorised_and_shaped(untrained, name):
    prior = untrained[name].prior
    z = prior.sample(4096)
    assert z.shape == (4096, 2)
    assert torch.isfinite(z).all()
    assert prior.log_prob(z).shape == (4096,)


# ---------------------------------------------------------------------------------------
# Mixtures are the intended mixture
# ---------------------------------------------------------------------------------------
def reference_mixture_log_prob(z, logits, means, logvars):
    """log sum_k w_k prod_l N(z_l; mu_kl, sigma_kl^2), written out by hand."""
    log_w = torch.log_softmax(logits, 0)  # (K,)
    d = z[:, None, :] - means[None]  # (B, K, L)
    log_normal = -0.5 * (math.log(2 * math.pi) + logvars[None] + d**2 / torch.exp(logvars[None]))
    return torch.logsumexp(log_w[None] + log_normal.sum(-1), dim=1)


def per_dimension_mixture_log_prob(z, logits, means, logvars):
    """The book's version: log-sum-exp over components separately in each dimension."""
    log_w = torch.log_softmax(logits, 0)
    d = z[:, None, :] - means[None]
    log_normal = -0.5 * (math.log(2 * math.pi) + logvars[None] + d**2 / torch.exp(logvars[None]))
    return torch.logsumexp(log_w[None, :, None] + log_normal, dim=1).sum(-1)


@pytest.mark.parametrize("name", MIXTURES)
@pytest.mark.parametrize("stage", ["untrained", "trained"])
def test_mixture_log_prob_equals_mixture_same_family_reference(untrained, trained, name, stage):
    prior = untrained[name].prior if stage == "untrained" else trained[name][0].prior
    assert isinstance(prior, MixturePrior)
    torch.manual_seed(4)
    z = 2 * torch.randn(500, 2)
    with torch.no_grad():
        logits, means, logvars = prior.mixture_parameters()
        reference = MixtureSameFamily(
            Categorical(logits=logits), Independent(Normal(means, torch.exp(0.5 * logvars)), 1)
        ).log_prob(z)
        by_hand = reference_mixture_log_prob(z, logits, means, logvars)
        ours = prior.log_prob(z)
    assert torch.allclose(ours, reference, atol=1e-5)
    assert torch.allclose(ours, by_hand, atol=1e-4)


def test_per_dimension_log_sum_exp_is_a_different_density():
    """A two-component mixture on the diagonal: the per-dimension version also puts mass on
    the off-diagonal corners (it is a product of 1-D mixtures, K^L components)."""
    logits = torch.zeros(2)
    means = torch.tensor([[-2.0, -2.0], [2.0, 2.0]])
    logvars = torch.log(torch.full((2, 2), 0.25))
    corner = torch.tensor([[-2.0, 2.0]])
    prior = MoGPrior(2, num_components=2)
    with torch.no_grad():
        prior.mixture_logits.copy_(logits), prior.means.copy_(means), prior.logvars.copy_(logvars)
        ours = prior.log_prob(corner)
        buggy = per_dimension_mixture_log_prob(corner, logits, means, logvars)
    # Intended mixture: the corner is 4 sigma from both components in both coordinates.
    assert float(ours) < float(buggy) - 10


@pytest.mark.parametrize("optimizer", ["adam", "adamax"])
def test_prior_lr_factor_scales_the_first_step_of_the_priors_parameters_only(optimizer):
    """Adam(ax)'s first step moves every parameter with a gradient by lr in size (m/sqrt(v) = sign
    of the gradient): with prior_lr_factor=10 the mixture's parameters move 10 lr, the networks lr."""
    from vaelib.train import _make_optimizer

    lr, factor = 1e-3, 10.0
    model = vaelib.make_vae("mog", seed=0)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    step = _make_optimizer(optimizer, model, lr, prior_lr_factor=factor)
    torch.manual_seed(0)
    loss = -model.elbo(vaelib.load_digits().train[:64]).elbo.mean()
    loss.backward()
    step.step()
    for name, p in model.named_parameters():
        moved = (p.detach() - before[name]).abs()[p.grad.abs() > 1e-6]  # Adam's eps: |g| >> 1e-8
        expected = lr * factor if name.startswith("prior.") else lr
        assert torch.allclose(moved, torch.full_like(moved, expected), rtol=0.02), name
    assert vaelib.get_recipe("fast", prior_lr_factor=factor).prior_lr_factor == factor


def test_prior_lr_factor_one_keeps_a_single_parameter_group():
    from vaelib.train import _make_optimizer

    assert len(_make_optimizer("adam", vaelib.make_vae("mog", seed=0), 1e-3).param_groups) == 1
    with pytest.raises(ValueError, match="prior_lr_factor must be a positive finite number, got 0"):
        vaelib.Recipe(prior_lr_factor=0)
