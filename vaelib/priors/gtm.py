"""GTM prior: a fixed 2-D grid mapped by a small tanh network to Gaussian components."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import check_int, check_positive_float
from .base import MixturePrior, grid_points, tanh_mlp


class GTMPrior(MixturePrior):
    """p(z) = sum_k w_k N(z; mu(u_k), diag sigma^2(u_k)) over grid points u_k in [-r, r]^2."""

    def __init__(
        self,
        latent_dim: int = 2,
        grid_size: int = 4,
        grid_range: float = 10.0,
        hidden_dim: int = 256,
    ):
        super().__init__(latent_dim)
        check_int("grid_size", grid_size, 1)
        check_positive_float("grid_range", grid_range)
        check_int("hidden_dim", hidden_dim, 1)
        self.grid_size = grid_size
        self.register_buffer("grid", grid_points(grid_size, grid_range))
        self.network = tanh_mlp(2, hidden_dim, 2 * latent_dim)
        self.mixture_logits = nn.Parameter(torch.zeros(grid_size**2))

    def components_at(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """Means and log-variances the network maps grid-square points to. (P, 2) -> ((P, L), (P, L))"""
        means, logvars = self.network(points).chunk(2, dim=-1)
        return means, logvars

    def mixture_parameters(self):
        return (self.mixture_logits, *self.components_at(self.grid))

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, grid={self.grid_size}x{self.grid_size}"
