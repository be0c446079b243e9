"""GTM prior: a fixed 2-D grid mapped by a small tanh network to Gaussian components."""

from __future__ import annotations

from torch import Tensor

from .base import GridPrior


class GTMPrior(GridPrior):
    """p(z) = sum_k w_k N(z; mu(u_k), diag sigma^2(u_k)) over grid points u_k in [-r, r]^2."""

    def __init__(self, latent_dim: int = 2, grid_size: int = 4, grid_range: float = 10.0, hidden_dim: int = 256):
        super().__init__(latent_dim, grid_size, grid_range, hidden_dim, out_dim=2 * latent_dim)
        self.save_hyperparameters()

    def components_at(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """Means and log-variances the network maps grid-square points to. (P, 2) -> ((P, L), (P, L))"""
        means, logvars = self.network(points).chunk(2, dim=-1)
        return means, logvars
