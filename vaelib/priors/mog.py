"""Mixture of Gaussians with learnable means, log-variances and mixing logits."""

from __future__ import annotations

import math

import torch
from torch import nn

from .._checks import check_int
from .base import MixturePrior, SizeOption


class MoGPrior(MixturePrior):
    """p(z) = sum_k w_k N(z; mu_k, diag sigma_k^2), everything learned.

    init_scale: the standard deviation of the initial means (drawn from N(0, init_scale^2 I)).
    """

    size_option = SizeOption("num_components", "components", 1, 64)

    def __init__(self, latent_dim: int = 2, num_components: int = 16, init_scale: float = 1.0):
        super().__init__(latent_dim)
        check_int("num_components", num_components, 1)
        if (
            isinstance(init_scale, bool)
            or not isinstance(init_scale, (int, float))
            or not (math.isfinite(init_scale) and init_scale >= 0)
        ):
            raise ValueError(f"init_scale must be a finite number >= 0, got {init_scale!r}")
        self.save_hyperparameters()
        self.means = nn.Parameter(init_scale * torch.randn(num_components, latent_dim))
        self.logvars = nn.Parameter(torch.zeros(num_components, latent_dim))
        self.mixture_logits = nn.Parameter(torch.zeros(num_components))

    def mixture_parameters(self):
        return self.mixture_logits, self.means, self.logvars
