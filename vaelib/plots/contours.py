"""Contour lines that enclose given shares of a density's mass (the lines of the book's Fig. 4.13)."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import numpy as np
import torch
from matplotlib import patheffects
from torch import Tensor

from ..analysis import prior_log_density
from ..latent import LatentGrid
from .style import MASS_LEVELS, SMALL_TEXT

#: A white outline around each contour label: readable over lines, dots and images alike.
LABEL_HALO = (patheffects.withStroke(linewidth=2.5, foreground="white"),)
#: Contour labels one point above the smallest text: still 8 pt in a figure a notebook shrinks to 90%.
LABEL_SIZE = SMALL_TEXT + 1
#: The box a contour label ("99%", turned along its line) takes, in points: at most about this wide and tall.
LABEL_POINTS = 2.6 * LABEL_SIZE


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


def mass_key(shares) -> str:
    """The words that say what the contour lines are, for the shares they enclose (any order)."""
    shares = sorted(shares)
    if not shares:
        return ""
    listed = ", ".join(f"{s:.0%}" for s in shares)
    return f"contour lines enclose {listed}\nof the prior's mass (innermost: {shares[0]:.0%})"


def _label_positions(paths, extent, avoid=None, label_size=0.1, margin=0.07) -> list:
    """One label position per contour level, in order: on the level's line, inside the frame,
    clear of the labels placed before it, and where fewest of the points ``avoid`` (N, 2) lie
    under the label.
    label_size: a label's width and height, as a share of the frame.
    paths: one vertex array (P, 2) per level -> (x, y) or None per level (no room inside the frame)
    """
    left, right, bottom, top = extent
    scale = np.array([right - left, top - bottom])
    origin = np.array([left, bottom])
    dots = None if avoid is None or len(avoid) == 0 else (np.asarray(avoid, dtype=float) - origin) / scale
    separation = 1.3 * label_size  # box to box, with room for the halo and the line's gap
    chosen, positions = [], []
    for vertices in paths:
        points = (np.asarray(vertices, dtype=float).reshape(-1, 2) - origin) / scale
        inside = np.all((points > margin) & (points < 1 - margin), axis=1)
        if not inside.any():
            positions.append(None)
            continue
        candidates = points[inside][:: max(1, int(inside.sum()) // 300)]
        score = np.zeros(len(candidates))
        if dots is not None:
            under = np.abs(candidates[:, None, :] - dots[None, :, :]).max(-1) < 0.6 * label_size
            score += under.sum(1)
        for other in chosen:  # a clash outweighs any number of dots; a smaller clash is better
            gap = np.abs(candidates - other).max(-1)
            score += 1e6 * np.clip(separation - gap, 0, None) / separation
        best = candidates[int(np.argmin(score))]
        chosen.append(best)
        positions.append(tuple(best * scale + origin))
    return positions


def _draw_mass_contours(ax, contours: MassContours, colors=None, linewidths=0.9, alpha=1.0, avoid=None):
    """Contour lines at the mass levels, each labelled once with the share it encloses (None without
    levels). Labels sit where fewest of the points ``avoid`` (N, 2) lie, on a white halo above
    everything. The words for what the levels are: mass_key(contours.shares)."""
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
    # From the innermost level out: the small central lines have the fewest places to choose from.
    order = list(range(len(lines.levels)))[::-1]
    vertices = [lines.get_paths()[i].vertices for i in order]
    # A label's size as a share of the frame, from the Axes' size now (the layout shrinks it a little).
    frame_points = min(ax.bbox.width, ax.bbox.height) * 72 / ax.figure.dpi
    label_size = LABEL_POINTS / max(frame_points, 1.0)
    positions = dict(zip(order, _label_positions(vertices, grid.extent, avoid, label_size=label_size)))
    manual = [positions[i] for i in range(len(lines.levels)) if positions[i] is not None]
    if manual:
        names = dict(zip(lines.levels, (f"{s:.0%}" for s in contours.shares)))
        texts = ax.clabel(lines, fmt=names, fontsize=LABEL_SIZE, inline_spacing=2, manual=manual)
        for text in texts:
            # Darker than its line (a light grey or translucent line would give a faint label).
            text.set_color(0.6 * np.array(matplotlib.colors.to_rgb(text.get_color())))
            text.set_path_effects(LABEL_HALO)
            text.set_zorder(6)
            text.set_alpha(1.0)
    return lines
