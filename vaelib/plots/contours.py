"""Contour lines that enclose given shares of a density's mass (the lines of the book's Fig. 4.13)."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import numpy as np
import torch
from torch import Tensor

from ..analysis import prior_log_density
from ..latent import LatentGrid
from .style import MASS_LEVELS


def mass_levels(density: Tensor, cell_area: float, masses=MASS_LEVELS) -> tuple[np.ndarray, list]:
    """Density levels whose superlevel sets hold the given shares of the mass (highest first).

    density: (P,) values of a normalised density on a grid with cells of ``cell_area`` ->
    (levels increasing, as contour wants them; the share each level encloses). Shares the grid
    cannot reach (mass outside it) are dropped.
    """
    values = torch.sort(density.double().flatten(), descending=True).values
    enclosed = torch.cumsum(values, 0) * cell_area
    levels, shares = [], []
    for share in sorted(masses, reverse=True):  # the lowest density (largest share) first
        index = int(torch.searchsorted(enclosed, torch.tensor(share, dtype=enclosed.dtype)))
        if index < len(values) and float(values[index]) > 0:
            level = float(values[index])
            if not levels or level > levels[-1]:
                levels.append(level)
                shares.append(share)
    return np.array(levels), shares


@dataclass(frozen=True)
class MassContours:
    """A density on a latent grid and the levels that enclose shares of its mass."""

    grid: LatentGrid
    density: Tensor  # (R * R,) at grid.points, on the CPU
    levels: np.ndarray  # (M,) increasing, as contour wants them
    shares: list  # (M,) the share of the mass inside each level


def prior_mass_contours(model, grid: LatentGrid, masses=MASS_LEVELS) -> MassContours:
    """The prior p(z) of ``model`` on ``grid`` with the levels that enclose ``masses`` of it."""
    density = torch.exp(prior_log_density(model, grid))
    return MassContours(grid, density, *mass_levels(density, grid.cell_area, masses))


def _draw_mass_contours(ax, contours: MassContours, colors=None, linewidths=0.9, alpha=1.0):
    """Contour lines at the mass levels, each labelled with the share it encloses (None without levels)."""
    if len(contours.levels) == 0:
        return None
    if colors is None:
        # Dark inside, lighter outside; stop short of viridis' yellow, which vanishes on white.
        colors = [matplotlib.colormaps["viridis"](t) for t in np.linspace(0.8, 0.0, len(contours.levels))]
    grid = contours.grid
    lines = ax.contour(
        grid.z1.numpy(),
        grid.z2.numpy(),
        grid.image(contours.density).numpy(),
        levels=contours.levels,
        colors=colors,
        linewidths=linewidths,
        alpha=alpha,
    )
    ax.clabel(lines, fmt=dict(zip(lines.levels, (f"{s:.0%}" for s in contours.shares))), fontsize=6, inline_spacing=2)
    return lines
