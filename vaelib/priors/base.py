"""The prior interface: an ``nn.Module`` that holds parameters and builds a distribution.

Every prior builds a ``torch.distributions.Distribution`` over the latent space with
``event_shape == (latent_dim,)``. ``log_prob`` and ``sample`` delegate to it, so the
density of a latent *point* (not of each coordinate) is what comes back, by construction.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.distributions import Categorical, Distribution, Independent, MixtureSameFamily, Normal

from .._checks import check_int, check_latent


class Prior(nn.Module):
    """Base class of all priors: subclasses implement :meth:`distribution`.

    Training, evaluation and the plots all go through ``distribution()`` (built once per
    batch or grid), and ``log_prob``/``sample`` are derived from it: to change what a prior
    computes, override ``distribution()``, never only ``log_prob``.
    """

    #: Set by priors whose components come from the VAE's encoder (VampPrior family).
    needs_encoder: bool = False

    def __init__(self, latent_dim: int):
        super().__init__()
        self.latent_dim = check_int("latent_dim", latent_dim, 2)

    def distribution(self) -> Distribution:
        """The prior p(z) as a distribution with ``event_shape == (latent_dim,)``."""
        raise NotImplementedError

    def log_prob(self, z: Tensor) -> Tensor:
        """log p(z) of each latent point. z: (B, L) -> (B,)"""
        check_latent(z, self.latent_dim)
        return self.distribution().log_prob(z)

    def sample(self, n: int) -> Tensor:
        """Draw ``n`` latent points. -> (n, L)"""
        check_int("n", n, 1)
        with torch.no_grad():
            return self.distribution().sample((n,))

    def num_parameters(self) -> int:
        """Number of learnable parameters that belong to the prior itself."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}"


def gaussian_mixture(mixture_logits: Tensor, means: Tensor, logvars: Tensor) -> MixtureSameFamily:
    """sum_k w_k N(z; mu_k, diag exp(logvar_k)) with w = softmax(mixture_logits).

    mixture_logits: (K,), means: (K, L), logvars: (K, L) -> event_shape (L,)
    """
    # Independent(..., 1) makes each component a density over the whole point z, so the
    # log-sum-exp runs over components after summing over dimensions (never per dimension).
    components = Independent(Normal(means, torch.exp(0.5 * logvars), validate_args=False), 1)
    return MixtureSameFamily(
        Categorical(logits=mixture_logits, validate_args=False), components, validate_args=False
    )


class MixturePrior(Prior):
    """A Gaussian mixture whose parameters subclasses compute in :meth:`mixture_parameters`."""

    def mixture_parameters(self) -> tuple[Tensor, Tensor, Tensor]:
        """(mixture_logits (K,), means (K, L), logvars (K, L))."""
        raise NotImplementedError

    def distribution(self) -> MixtureSameFamily:
        return gaussian_mixture(*self.mixture_parameters())

    @property
    def num_components(self) -> int:
        return self.mixture_logits.shape[0]


def grid_points(grid_size: int, grid_range: float) -> Tensor:
    """A regular ``grid_size x grid_size`` grid on [-grid_range, grid_range]^2, row-major. -> (K, 2)"""
    axis = torch.linspace(-grid_range, grid_range, grid_size)
    first, second = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([first.reshape(-1), second.reshape(-1)], dim=1)


def tanh_mlp(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Sequential:
    """The small network of the GTM priors: two tanh hidden layers."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim), nn.Tanh(),
        nn.Linear(hidden_dim, hidden_dim), nn.Tanh(),
        nn.Linear(hidden_dim, out_dim),
    )
