"""The RealNVP prior is a bijection whose log-determinant is right, for any latent_dim >= 2."""

from __future__ import annotations

import pytest
import torch
from test_priors import randomise_flow
from torch.autograd.functional import jacobian
from torch.distributions import ComposeTransform

import vaelib


def flow_map(latent_dim):
    prior = randomise_flow(vaelib.make_prior("flow", latent_dim=latent_dim))
    return prior, ComposeTransform(prior.distribution().transforms)


@pytest.mark.parametrize("latent_dim", [2, 3, 4, 5])
def test_flow_inverse_undoes_forward(latent_dim):
    _, transform = flow_map(latent_dim)
    torch.manual_seed(0)
    u = torch.randn(256, latent_dim)
    z = transform(u)
    assert not torch.allclose(z, u, atol=1e-2)  # the map is not the identity
    assert torch.allclose(transform.inv(z), u, atol=1e-5)
    assert torch.allclose(transform(transform.inv(z)), z, atol=1e-5)


@pytest.mark.parametrize("latent_dim", [2, 3, 4])
def test_flow_log_det_matches_autograd_jacobian(latent_dim):
    _, transform = flow_map(latent_dim)
    torch.manual_seed(1)
    for u in torch.randn(5, latent_dim, dtype=torch.float64).float():
        J = jacobian(lambda v: transform(v[None])[0], u)
        expected = torch.linalg.slogdet(J.double()).logabsdet
        ours = transform.log_abs_det_jacobian(u[None], transform(u[None])).detach()
        assert ours.shape == (1,)
        assert float(ours) == pytest.approx(float(expected), abs=1e-5)


@pytest.mark.parametrize("latent_dim", [2, 3])
def test_flow_log_prob_is_change_of_variables(latent_dim):
    """log p(z) = log N(f(z); 0, I) + log|det df/dz|, the log-determinant once per point.

    In float64: the cross-check through autograd's Jacobian is about the math, and in float32
    its rounding (about 2e-4 on a log-density near -84, depending on the random flow) would
    eat the tolerance."""
    prior, _ = flow_map(latent_dim)
    prior = prior.double()
    transform = ComposeTransform(prior.distribution().transforms)
    torch.manual_seed(2)
    z = torch.randn(64, latent_dim, dtype=torch.float64)
    u = transform.inv(z)
    base = torch.distributions.Normal(0.0, 1.0).log_prob(u).sum(-1).detach()
    expected = base - transform.log_abs_det_jacobian(u, z)
    assert torch.allclose(prior.log_prob(z), expected, atol=1e-5)
    # f's Jacobian (z -> u) directly, as a cross-check of the sign.
    for i in range(3):
        J = jacobian(lambda v: transform.inv(v[None])[0], z[i])
        expected = float(base[i] + torch.linalg.slogdet(J).logabsdet)
        assert expected == pytest.approx(float(prior.log_prob(z[i : i + 1]).detach()), abs=1e-4)


def test_untrained_flow_prior_is_the_standard_normal():
    prior = vaelib.make_prior("flow")
    z = torch.randn(100, 2)
    standard = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    assert torch.allclose(prior.log_prob(z), standard, atol=1e-6)
