"""Mixture of Gaussians with learnable means, log-variances and mixing logits."""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int
from .base import MixturePrior


class MoGPrior(MixturePrior):
    """p(z) = sum_k w_k N(z; mu_k, diag sigma_k^2), everything learned."""

    def __init__(self, latent_dim: int = 2, num_components: int = 16, init_scale: float = 1.0):
        super().__init__(latent_dim)
        check_int("num_components", num_components, 1)
        self.means = nn.Parameter(init_scale * torch.randn(num_components, latent_dim))
        self.logvars = nn.Parameter(torch.zeros(num_components, latent_dim))
        self.mixture_logits = nn.Parameter(torch.zeros(num_components))

    def mixture_parameters(self):
        return self.mixture_logits, self.means, self.logvars
