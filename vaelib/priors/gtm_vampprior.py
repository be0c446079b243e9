"""GTM-VampPrior: a 2-D grid mapped by a network to pseudo-inputs, then through the encoder."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import check_int, check_positive_float
from .base import MixturePrior, grid_points, tanh_mlp


class GTMVampPrior(MixturePrior):
    """p(z) = sum_k w_k q(z | g(u_k)) where g maps grid points u_k to images."""

    needs_encoder = True

    def __init__(
        self,
        latent_dim: int = 2,
        *,
        encoder,
        grid_size: int = 4,
        grid_range: float = 10.0,
        hidden_dim: int = 256,
    ):
        super().__init__(latent_dim)
        if encoder.latent_dim != latent_dim:
            raise ValueError(f"encoder.latent_dim is {encoder.latent_dim} but latent_dim is {latent_dim}")
        check_int("grid_size", grid_size, 1)
        check_positive_float("grid_range", grid_range)
        check_int("hidden_dim", hidden_dim, 1)
        # Shared with the VAE, which owns it (see VampPrior).
        object.__setattr__(self, "encoder", encoder)
        self.grid_size = grid_size
        self.register_buffer("grid", grid_points(grid_size, grid_range))
        self.network = tanh_mlp(2, hidden_dim, encoder.input_dim)
        self.mixture_logits = nn.Parameter(torch.zeros(grid_size**2))

    def pseudo_inputs_at(self, points: Tensor) -> Tensor:
        """The images the network maps grid-square points to, pixel values in [0, num_values - 1]. (P, 2) -> (P, D)"""
        return (self.encoder.num_values - 1) * torch.sigmoid(self.network(points))

    @property
    def pseudo_inputs(self) -> Tensor:
        """The grid's images. -> (K, D)"""
        return self.pseudo_inputs_at(self.grid)

    def components_at(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """Means and log-variances of q(z | image of each point). (P, 2) -> ((P, L), (P, L))"""
        return self.encoder(self.pseudo_inputs_at(points))

    def mixture_parameters(self):
        return (self.mixture_logits, *self.components_at(self.grid))

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, grid={self.grid_size}x{self.grid_size}"
