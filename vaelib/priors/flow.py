"""Flow-based prior: a RealNVP flow that turns N(0, I) into p(z).

p(z) = N(f(z); 0, I) |det df/dz|. Built as a ``TransformedDistribution`` whose transforms
map base noise to z, so the log-determinant is added once per latent point by
torch.distributions (the book's code added it once per latent dimension).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.distributions import Independent, Normal, Transform, TransformedDistribution, constraints

from .._checks import check_int
from ..nets import mlp
from .base import Prior, SizeOption


class AffineCoupling(Transform):
    """y_a = x_a, y_b = x_b * exp(s(x_a)) + t(x_a), with s bounded by tanh.

    The first ``split`` coordinates condition the rest; works for any latent_dim >= 2.
    """

    domain = constraints.independent(constraints.real, 1)
    codomain = constraints.independent(constraints.real, 1)
    bijective = True

    def __init__(self, conditioner: nn.Module, split: int):
        super().__init__(cache_size=1)
        self.conditioner = conditioner
        self.split = split
        self._memo = None  # (x, log_scale) of the last call, to reuse in log_abs_det_jacobian

    def _scale_shift(self, x_a: Tensor) -> tuple[Tensor, Tensor]:
        log_scale, shift = self.conditioner(x_a).chunk(2, dim=-1)
        return torch.tanh(log_scale), shift

    def _call(self, x: Tensor) -> Tensor:
        x_a, x_b = x[..., : self.split], x[..., self.split :]
        log_scale, shift = self._scale_shift(x_a)
        self._memo = (x, log_scale)
        return torch.cat([x_a, x_b * torch.exp(log_scale) + shift], dim=-1)

    def _inverse(self, y: Tensor) -> Tensor:
        y_a, y_b = y[..., : self.split], y[..., self.split :]
        log_scale, shift = self._scale_shift(y_a)
        x = torch.cat([y_a, (y_b - shift) * torch.exp(-log_scale)], dim=-1)
        self._memo = (x, log_scale)
        return x

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log|det dy/dx| per point: the sum of the log-scales. -> (...,)"""
        # The conditioner already ran on x_a in _call or _inverse; reuse it when x is that input.
        if self._memo is not None and self._memo[0] is x:
            log_scale = self._memo[1]
        else:
            log_scale = self._scale_shift(x[..., : self.split])[0]
        return log_scale.sum(-1)


class Flip(Transform):
    """Reverse the order of the coordinates, so every coordinate gets transformed."""

    domain = constraints.independent(constraints.real, 1)
    codomain = constraints.independent(constraints.real, 1)
    bijective = True
    volume_preserving = True

    def __eq__(self, other):
        return isinstance(other, Flip)

    def _call(self, x: Tensor) -> Tensor:
        return x.flip(-1)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.flip(-1)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x.new_zeros(x.shape[:-1])


def conditioner_mlp(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Sequential:
    """The coupling network: log-scales and shifts (2 * out_dim), zero at the start."""
    net = mlp(in_dim, hidden_dim, 2 * out_dim)
    # Start as the identity map, so the untrained prior is exactly N(0, I).
    nn.init.zeros_(net[-1].weight)
    nn.init.zeros_(net[-1].bias)
    return net


class FlowPrior(Prior):
    """RealNVP prior: ``num_flows`` affine couplings with a flip between them."""

    size_option = SizeOption("num_flows", "couplings", 1, 8)

    def __init__(self, latent_dim: int = 2, num_flows: int = 3, hidden_dim: int = 256):
        super().__init__(latent_dim)
        check_int("num_flows", num_flows, 1)
        check_int("hidden_dim", hidden_dim, 1)
        self.save_hyperparameters()
        self.split = latent_dim // 2
        self.conditioners = nn.ModuleList(
            conditioner_mlp(self.split, hidden_dim, latent_dim - self.split) for _ in range(num_flows)
        )
        self.register_buffer("loc", torch.zeros(latent_dim), persistent=False)
        self.register_buffer("scale", torch.ones(latent_dim), persistent=False)

    @property
    def num_flows(self) -> int:
        return len(self.conditioners)

    def stages(self) -> list[list[Transform]]:
        """The maps from base noise to z, one stage per coupling: stage k (from 0) is the flip
        before coupling k (none before the first) and the coupling itself."""
        return [
            ([Flip()] if i > 0 else []) + [AffineCoupling(conditioner, self.split)]
            for i, conditioner in enumerate(self.conditioners)
        ]

    def transforms(self) -> list[Transform]:
        """The maps from base noise to z, in the order they are applied (the stages, flattened)."""
        return [transform for stage in self.stages() for transform in stage]

    def distribution(self) -> TransformedDistribution:
        base = Independent(Normal(self.loc, self.scale, validate_args=False), 1)
        return TransformedDistribution(base, self.transforms(), validate_args=False)

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, num_flows={self.num_flows}"
