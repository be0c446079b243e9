"""GTM-VampPrior: a 2-D grid mapped by a network to pseudo-inputs, then through the encoder."""

from __future__ import annotations

import torch
from torch import Tensor

from .base import GridPrior, PseudoInputs, share_encoder


class GTMVampPrior(PseudoInputs, GridPrior):
    """p(z) = sum_k w_k q(z | g(u_k)) where g maps grid points u_k to images."""

    def __init__(
        self,
        latent_dim: int = 2,
        *,
        encoder,
        grid_size: int = 4,
        grid_range: float = 10.0,
        hidden_dim: int = 256,
    ):
        super().__init__(latent_dim, grid_size, grid_range, hidden_dim, out_dim=encoder.input_dim)
        share_encoder(self, encoder)
        self.save_hyperparameters(ignore=("encoder",))

    def pseudo_inputs_at(self, points: Tensor) -> Tensor:
        """The images the network maps grid-square points to, pixel values in [0, pixel_max]. (P, 2) -> (P, D)"""
        return self.pixel_max * torch.sigmoid(self.network(points))

    @property
    def pseudo_inputs(self) -> Tensor:
        """The grid's images. -> (K, D)"""
        return self.pseudo_inputs_at(self.grid)

    def components_at(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """Means and log-variances of q(z | image of each point). (P, 2) -> ((P, L), (P, L))"""
        return self.encoder(self.pseudo_inputs_at(points))
