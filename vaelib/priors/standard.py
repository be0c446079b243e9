"""The standard Gaussian prior N(0, I): fixed, no parameters."""

from __future__ import annotations

import torch
from torch.distributions import Independent, Normal

from .base import Prior


class StandardPrior(Prior):
    """p(z) = N(z; 0, I)."""

    def __init__(self, latent_dim: int = 2):
        super().__init__(latent_dim)
        self.save_hyperparameters()
        # Buffers, not parameters: they follow the model to its device but are not learned.
        self.register_buffer("loc", torch.zeros(latent_dim), persistent=False)
        self.register_buffer("scale", torch.ones(latent_dim), persistent=False)

    def distribution(self) -> Independent:
        return Independent(Normal(self.loc, self.scale, validate_args=False), 1)
