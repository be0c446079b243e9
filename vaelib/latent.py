"""The 2-D latent plane: a grid of cells over it, and the boxes (extents) that plots and integrals use.

Quadrature (ELBO surgery) and every picture of the latent plane need a 2-D latent space:
they call :func:`require_2d` first, which names what was asked for and the latent size.
An extent is (z1 min, z1 max, z2 min, z2 max), the order matplotlib's ``imshow`` takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ._checks import check_int
from .seeding import with_fixed_seed


def require_2d(source, what: str, alternative: str | None = None) -> None:
    """Raise a ValueError naming ``what`` and the latent size unless ``source`` (a VAE or a prior) is 2-D.

    alternative: what to use instead, appended to the message (e.g. "use method='monte-carlo'").
    """
    if source.latent_dim != 2:
        raise ValueError(
            f"{what} needs a 2-D latent space (a grid over the plane), but latent_dim={source.latent_dim}"
            + (f"; {alternative}" if alternative else "")
        )


@dataclass(frozen=True)
class LatentGrid:
    """A regular grid of cell centres over a rectangle of the 2-D latent space.

    Sums over ``points`` times ``cell_area`` are midpoint-rule integrals. Values at the points
    reshape to an image whose rows run along z2 (bottom to top) and columns along z1.
    """

    z1: Tensor  # (R,) cell centres along the first latent coordinate
    z2: Tensor  # (R,) cell centres along the second
    extent: tuple[float, float, float, float]  # (z1 min, z1 max, z2 min, z2 max): the outer cell edges

    @classmethod
    def over(cls, extent, resolution: int) -> "LatentGrid":
        """The grid of ``resolution x resolution`` equal cells covering ``extent``."""
        check_int("resolution", resolution, 2)
        left, right, bottom, top = (float(v) for v in extent)
        if not (right > left and top > bottom):
            raise ValueError(
                f"extent must be (left, right, bottom, top) with right > left and top > bottom, got {extent}"
            )

        def centres(lo, hi):
            step = (hi - lo) / resolution
            return lo + step * (torch.arange(resolution, dtype=torch.float64) + 0.5)

        return cls(centres(left, right).float(), centres(bottom, top).float(), (left, right, bottom, top))

    @property
    def resolution(self) -> int:
        return len(self.z1)

    @property
    def points(self) -> Tensor:
        """All cell centres, z1 varying fastest. -> (R * R, 2)"""
        second, first = torch.meshgrid(self.z2, self.z1, indexing="ij")
        return torch.stack([first.reshape(-1), second.reshape(-1)], dim=1)

    @property
    def cell_width(self) -> float:
        return (self.extent[1] - self.extent[0]) / self.resolution

    @property
    def cell_area(self) -> float:
        return self.cell_width * (self.extent[3] - self.extent[2]) / self.resolution

    def image(self, values: Tensor) -> Tensor:
        """Values at ``points`` as an image for imshow(origin="lower") or contour. (R * R,) -> (R, R)"""
        return values.reshape(self.resolution, self.resolution)

    def integrate(self, log_density: Tensor) -> float:
        """The midpoint-rule integral of exp(log_density) over the grid. (R * R,) -> float"""
        return float(torch.exp(log_density.double()).sum() * self.cell_area)


@torch.no_grad()
def latent_extent(
    model,
    x: Tensor | None = None,
    *,
    posterior=None,
    posterior_stds: float = 4.0,
    prior_tail: float = 1e-3,
    num_prior_samples: int = 4000,
    margin: float = 0.05,
) -> tuple[float, float, float, float]:
    """A square box that holds the encoder's posteriors for ``x`` and nearly all the prior's mass.

    Posteriors count out to ``posterior_stds`` standard deviations from their means; the prior
    from its ``prior_tail`` to its 1 - ``prior_tail`` quantile per coordinate (from samples drawn
    with a fixed seed, so repeated calls give the same box). A ``margin`` is added on each side.
    posterior: q(z|x) when the caller has it already (saves an encoder pass; x is then unused).
    x: (N, D) or None -> (z1 min, z1 max, z2 min, z2 max)
    """
    require_2d(model, "a latent grid")
    samples = with_fixed_seed(0, model.device, lambda: model.prior.sample(num_prior_samples))
    tail = torch.tensor([prior_tail, 1 - prior_tail], device=samples.device)
    quantiles = torch.quantile(samples, tail, dim=0)  # (2, L): low and high per coordinate
    low, high = quantiles[0], quantiles[1]
    if posterior is None and x is not None:
        posterior = model.posterior(model.check_images(x))
    if posterior is not None:
        reach = posterior_stds * posterior.stddev
        low = torch.minimum(low, (posterior.mean - reach).min(0).values)
        high = torch.maximum(high, (posterior.mean + reach).max(0).values)
    return square_extent((float(low[0]), float(high[0]), float(low[1]), float(high[1])), margin)


def square_extent(extent, margin: float = 0.0) -> tuple[float, float, float, float]:
    """The smallest square around ``extent`` (same centre), widened by ``margin`` of its side on each side."""
    left, right, bottom, top = extent
    half = max(right - left, top - bottom) / 2 * (1 + 2 * margin)
    centre1, centre2 = (left + right) / 2, (bottom + top) / 2
    return (centre1 - half, centre1 + half, centre2 - half, centre2 + half)


def union_extent(extents) -> tuple[float, float, float, float]:
    """The smallest box holding every extent in ``extents``."""
    extents = list(extents)
    return (
        min(e[0] for e in extents),
        max(e[1] for e in extents),
        min(e[2] for e in extents),
        max(e[3] for e in extents),
    )


def latent_grid(model, x: Tensor | None = None, resolution: int = 200, **extent_options) -> LatentGrid:
    """A grid over the region where the posteriors of ``x`` and the prior live (see latent_extent).

    x: (N, D) or None -> LatentGrid with resolution**2 points
    """
    return LatentGrid.over(latent_extent(model, x, **extent_options), resolution)


def bounding_extent(points: Tensor, pad: float = 0.0) -> tuple[float, float, float, float]:
    """The smallest box holding every point, widened by ``pad`` on each side. points: (N, 2) -> extent"""
    low, high = points.min(0).values, points.max(0).values
    return (float(low[0]) - pad, float(high[0]) + pad, float(low[1]) - pad, float(high[1]) + pad)
