"""Figures of particular priors' insides: pseudo-inputs, the GTM grid and its image, mixture
components, the stages of a flow; and image mosaics.

A prior declares what it is (vaelib.priors.base): these figures ask with isinstance
(MixturePrior, GridPrior, PseudoInputs, FlowPrior) and read the declared attributes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.offsetbox import AnnotationBbox, OffsetImage
from torch import Tensor

from ..data import NUM_PIXEL_VALUES
from ..latent import LatentGrid, bounding_extent, latent_extent, require_2d, square_extent, union_extent
from ..model import VAE
from ..priors import Flip, FlowPrior, GridPrior, MixturePrior, Prior, PseudoInputs
from ..threads import uses_threads
from .contours import MassContours, _draw_mass_contours, mass_key, prior_mass_contours
from .style import (
    CONTOUR_RESOLUTION,
    DISPLAY_WIDTH,
    IMAGE_CMAP,
    MASS_LEVELS,
    MESH_COLORS,
    PLOT_REACH,
    SMALL_TEXT,
    TITLE_SIZE,
    _digit_colors,
    _few_ticks,
    _figure_and_axes,
    _label_latent_axes,
    _show_images,
    _square_images,
)

#: A GTM-VampPrior's pseudo-inputs show at most this many grid points per side (every k-th row and
#: column of a larger grid): 25 x 25 tiles in a notebook's panel are a few pixels each.
MAX_GRID_SIDE = 9
#: flow_stages puts at most this many panels in a row.
MAX_STAGE_COLUMNS = 4


def _prior_of(source, what: str) -> Prior:
    """The prior of a VAE, or ``source`` itself when it is a prior."""
    if isinstance(source, VAE):
        return source.prior
    if isinstance(source, Prior):
        return source
    raise TypeError(f"{what} takes a VAE or a prior, got {type(source).__name__}")


# ---------------------------------------------------------------------------------------
# Image mosaics, and images laid out as a GTM grid
# ---------------------------------------------------------------------------------------
def _grid_layout(grid_size: int) -> list[int]:
    """Component indices in picture order (rows top to bottom, columns left to right) that put
    grid point (u1, u2) at column u1 and row u2 counted from the top, as in a plot of the grid."""
    # grid_points is row-major with u1 varying slowest: component k sits at (i, j) = divmod(k, G).
    return [col * grid_size + (grid_size - 1 - row) for row in range(grid_size) for col in range(grid_size)]


def on_grid(images: Tensor, grid_size: int) -> Tensor:
    """Reorder one image per GTM grid point so that image_grid(..., ncols=grid_size) lays them
    out like the grid: u1 to the right, u2 up. images: (K, D) in grid_points order -> (K, D)"""
    if len(images) != grid_size * grid_size:
        raise ValueError(f"on_grid needs {grid_size}x{grid_size} = {grid_size * grid_size} images, got {len(images)}")
    return images[_grid_layout(grid_size)]


def grid_step(grid_size: int, max_side: int = MAX_GRID_SIDE) -> int:
    """The smallest step k that shows at most ``max_side`` points per side of a grid, both ends
    included when k divides grid_size - 1 (25 points: every 3rd, 9 of them)."""
    if grid_size <= max_side:
        return 1
    step = -(-(grid_size - 1) // (max_side - 1))
    # Prefer a step that lands on the last point, if one no more than twice as coarse exists.
    for k in range(step, 2 * step + 1):
        if (grid_size - 1) % k == 0:
            return k
    return step


def every_kth(images: Tensor, grid_size: int, step: int) -> Tensor:
    """The images of every ``step``-th grid point along u1 and u2 (both from the first), in
    grid_points order of the smaller grid. images: (G * G, D) in grid_points order -> (g * g, D)"""
    kept = torch.arange(0, grid_size, step)
    index = (kept[:, None] * grid_size + kept[None, :]).reshape(-1)  # u1 slowest, as grid_points
    return images[index]


@uses_threads
def image_grid(images: Tensor, *, ax=None, ncols: int = 8, vmax: float = 16.0, title: str = ""):
    """Images (n, H*H) as a mosaic of H x H tiles (8 x 8 for Digits), white (0) to black (vmax). -> Figure"""
    images = images.detach().float().cpu()
    _square_images(images, "image_grid")
    nrows = math.ceil(len(images) / ncols)
    tile = min(0.45, (DISPLAY_WIDTH - 0.5) / ncols)  # at most the display width: titles stay readable
    figure, ax = _figure_and_axes(ax, (max(tile * ncols + 0.5, 3.0), tile * nrows + 0.5))
    _show_images(ax, images, ncols, vmax, title, what="image_grid")
    return figure


@uses_threads
def pseudo_inputs(
    source,
    *,
    ax=None,
    ncols: int | None = None,
    title: str | None = None,
    vmax: float | None = None,
    step: int | None = None,
):
    """Pseudo-inputs as a grid of images; a GTM-VampPrior's are laid out on its grid (u1 right, u2 up).

    source: a VAE, a prior with pseudo-inputs (VampPrior, GTM-VampPrior) or images (K, D); any latent dimension.
    vmax: the white-to-black scale's top (default: the prior's top pixel value, 16 for Digits).
    step: on a grid, show every step-th row and column (default: the smallest step that shows at
    most MAX_GRID_SIDE per side, so a 25 x 25 grid shows every 3rd point: 9 x 9). -> Figure
    """
    prior = None if isinstance(source, Tensor) else _prior_of(source, "pseudo_inputs")
    if prior is None:
        images = source
    elif isinstance(prior, PseudoInputs):
        with torch.no_grad():
            images = prior.pseudo_inputs
    else:
        raise ValueError(f"{type(prior).__name__} has no pseudo-inputs; pass a VampPrior or GTM-VampPrior model")
    images = images.detach().float().cpu()
    _square_images(images, "pseudo_inputs", noun="pseudo-inputs", rows="K")
    laid_out = ncols is None and isinstance(prior, GridPrior)
    if laid_out:
        size = prior.grid_size
        step = grid_step(size) if step is None else int(step)
        if step > 1:
            images = every_kth(images, size, step)
            size = len(range(0, size, step))
        ncols = size
        images = on_grid(images, size)
    elif ncols is None:
        ncols = min(len(images), 8)
    if vmax is None:
        if prior is not None:
            vmax = prior.pixel_max
        else:  # images in [0, 1] (binarised) or Digits' pixel values
            vmax = 1.0 if float(images.max()) <= 1 else float(NUM_PIXEL_VALUES - 1)
    if title is None:
        title = "pseudo-inputs on the grid ($u_1$ →, $u_2$ ↑)" if laid_out else f"{len(images)} pseudo-inputs"
        if laid_out and step > 1:
            grid = prior.grid_size
            title += f"\nevery {_ordinal(step)} point of the {grid} x {grid} grid: {ncols} x {ncols}"
    return image_grid(images, ax=ax, ncols=ncols, vmax=vmax, title=title)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


# ---------------------------------------------------------------------------------------
# The GTM grid, and mixture components (with the grid's image as a mesh)
# ---------------------------------------------------------------------------------------
def _grid_colors(grid: Tensor) -> np.ndarray:
    """One colour per grid point, blended from four corner colours, so a point can be found
    again after the map has moved it. grid: (K, 2) -> (K, 3) RGB"""
    g = grid.detach().double().cpu()
    low, high = g.min(0).values, g.max(0).values
    t = ((g - low) / (high - low).clamp_min(1e-12)).numpy()
    corners = np.array(
        [  # (u1 low, u2 low), (high, low), (low, high), (high, high)
            matplotlib.colors.to_rgb(c) for c in ("#2166ac", "#b2182b", "#1b7837", "#e08214")
        ]
    )
    a, b = t[:, :1], t[:, 1:]
    return (1 - a) * (1 - b) * corners[0] + a * (1 - b) * corners[1] + (1 - a) * b * corners[2] + a * b * corners[3]


def _draw_mesh(ax, lattice: Tensor, colors=None, sizes=None, linewidth: float = 1.0) -> None:
    """A lattice (G, G, 2) of points ([i, j]: the image of grid point (u1_i, u2_j)), joined to their
    grid neighbours; with ``colors`` (G * G, 3), the points as dots of area ``sizes``."""
    lattice = lattice.numpy()
    for i in range(lattice.shape[0]):
        ax.plot(lattice[:, i, 0], lattice[:, i, 1], color=MESH_COLORS[0], linewidth=linewidth, zorder=3)
        ax.plot(lattice[i, :, 0], lattice[i, :, 1], color=MESH_COLORS[1], linewidth=linewidth, zorder=3)
    if colors is not None:
        points = lattice.reshape(-1, 2)
        ax.scatter(points[:, 0], points[:, 1], s=sizes, c=colors, edgecolors="white", linewidths=0.6, zorder=4)


@uses_threads
def gtm_grid(source, *, ax=None):
    """The GTM priors' grid u_k in its own square, neighbours joined, each point in its own colour.

    source: a VAE with a GTM or GTM-VampPrior prior, or the prior (any latent dimension: the grid is 2-D). -> Figure
    """
    prior = _prior_of(source, "gtm_grid")
    if not isinstance(prior, GridPrior):
        raise ValueError(f"{type(prior).__name__} has no grid; pass a GTM or GTM-VampPrior model")
    figure, ax = _figure_and_axes(ax, (3.4, 3.4))
    grid, size = prior.grid.detach().cpu(), prior.grid_size
    _draw_mesh(ax, grid.reshape(size, size, 2), _grid_colors(grid), sizes=np.full(len(grid), 30.0))
    reach = 1.15 * prior.grid_range
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-reach, reach)
    ax.set_aspect("equal")
    ax.set_xlabel("$u_1$")
    ax.set_ylabel("$u_2$")
    ax.set_title(f"the grid: {size} x {size} points $u_k$", fontsize=TITLE_SIZE)
    return figure


@dataclass(frozen=True)
class MixtureLayout:
    """What mixture_components draws, on the CPU: the prior's contours over a frame that holds every
    component mean, the components, and what goes with them (None where not drawn)."""

    contours: MassContours  # the prior's density and mass levels; contours.grid.extent is the frame
    weights: Tensor  # (K,) mixture weights
    means: Tensor  # (K, 2) component means
    codes: Tensor | None  # (N, 2) one z ~ q(z|x_n) per image of x
    mesh: Tensor | None  # (G, G, 2) the means as the grid's lattice (K = G * G): [i, j] is the image of (u1_i, u2_j)
    mesh_colors: np.ndarray | None  # (K, 3) each grid point's colour, as in gtm_grid
    sheet: Tensor | None  # (S, S, 2) the component means at a finer S x S grid over the same square
    pictures: Tensor | None  # (K, H, H) the pseudo-inputs, each drawn at its component's mean
    pixel_max: int | None  # the top of the pictures' grey scale

    @property
    def extent(self) -> tuple[float, float, float, float]:
        return self.contours.grid.extent


@uses_threads
def mixture_components_data(
    model,
    x: Tensor | None = None,
    *,
    mesh: bool | None = None,
    images: bool | None = None,
    sheet: int = 0,
    resolution: int = CONTOUR_RESOLUTION,
    masses=MASS_LEVELS,
) -> MixtureLayout:
    """The components of a mixture prior, its contours over a frame holding them all, and (mesh) the
    grid's lattice, (sheet) a finer one, (images) the pseudo-inputs; see mixture_components.

    x: (N, D) images whose encoder samples come along, or None -> MixtureLayout
    """
    require_2d(model, "mixture_components")
    prior = model.prior
    if not isinstance(prior, MixturePrior):
        raise ValueError(
            f"{type(prior).__name__} is not a mixture; mixture_components needs MoG, VampPrior or a GTM prior"
        )
    mesh = isinstance(prior, GridPrior) if mesh is None else mesh
    images = (isinstance(prior, PseudoInputs) and not mesh) if images is None else images
    if mesh and not isinstance(prior, GridPrior):
        raise ValueError(f"{type(prior).__name__} has no grid to draw as a mesh; use mesh=False")
    if images and not isinstance(prior, PseudoInputs):
        raise ValueError(f"{type(prior).__name__} has no pseudo-inputs to draw; use images=False")
    with torch.no_grad():
        components = prior.components()
        weights, means = components.weights.detach().cpu(), components.means.detach().cpu()
        posterior = model.posterior(model.check_images(x)) if x is not None else None
    extent = latent_extent(model, posterior=posterior, posterior_stds=PLOT_REACH)
    # Every component's mean in the frame, also one with little weight far from the data.
    spread = float((means.max(0).values - means.min(0).values).max())
    box = bounding_extent(means, pad=0.08 * max(spread, 1.0))
    grid = LatentGrid.over(square_extent(union_extent([extent, box])), resolution)
    contours = prior_mass_contours(model, grid, masses)
    lattice = surface = pictures = None
    with torch.no_grad():
        codes = posterior.sample().cpu() if posterior is not None else None
        if mesh:
            size = prior.grid_size
            lattice = means.reshape(size, size, 2)
            if sheet:
                surface = prior.components_at(prior.fine_grid(sheet))[0].cpu().reshape(sheet, sheet, 2)
        if images:
            pictures = prior.pseudo_inputs.detach().float().cpu()
            pictures = pictures.reshape(-1, *_square_images(pictures, "mixture_components", noun="pseudo-inputs"))
    return MixtureLayout(
        contours=contours,
        weights=weights,
        means=means,
        codes=codes,
        mesh=lattice,
        mesh_colors=_grid_colors(prior.grid) if mesh else None,
        sheet=surface,
        pictures=pictures,
        pixel_max=prior.pixel_max if images else None,
    )


@uses_threads
def mixture_components(
    model,
    x: Tensor | None = None,
    *,
    ax=None,
    mesh: bool | None = None,
    images: bool | None = None,
    sheet: int = 0,
    zoom: float = 1.6,
    resolution: int = CONTOUR_RESOLUTION,
    masses=MASS_LEVELS,
    title: str | None = None,
):
    """A mixture prior's contours with its component means: on the GTM grid's mesh and/or as pseudo-inputs.

    mesh: join the means of grid neighbours (default: when the prior has a grid), coloured as in
    gtm_grid, dots sized by mixture weight. sheet: with a mesh, also map a finer ``sheet x sheet``
    grid over the same square (thin lines): the continuous surface the components sit on.
    images: draw each pseudo-input at its component's mean (default: when the prior has
    pseudo-inputs and no mesh is drawn). x: (N, D) images whose encoder samples are drawn as grey
    dots, or None -> Figure
    """
    layout = mixture_components_data(
        model, x, mesh=mesh, images=images, sheet=sheet, resolution=resolution, masses=masses
    )
    figure, ax = _figure_and_axes(ax, (4.6, 4.8))
    # Labels where neither encoder samples nor component means are.
    avoid = [layout.means.numpy()] + ([layout.codes.numpy()] if layout.codes is not None else [])
    _draw_mass_contours(ax, layout.contours, colors="0.55", linewidths=0.8, avoid=np.concatenate(avoid))
    if layout.codes is not None:
        ax.scatter(
            layout.codes[:, 0].numpy(), layout.codes[:, 1].numpy(), s=3, c="0.25", alpha=0.5, linewidths=0, zorder=2
        )
    means = layout.means.numpy()
    # Marker area proportional to weight: the uniform weight 1/K draws at 30 points^2.
    sizes = 30.0 * layout.weights.numpy() * len(means)
    if layout.sheet is not None:
        _draw_mesh(ax, layout.sheet, linewidth=0.35)
    if layout.mesh is not None:
        _draw_mesh(ax, layout.mesh, layout.mesh_colors, sizes)
    if layout.pictures is not None:
        for picture, mean in zip(layout.pictures.numpy(), means):
            box = OffsetImage(
                picture,
                cmap=IMAGE_CMAP,
                norm=matplotlib.colors.Normalize(0, layout.pixel_max),
                zoom=zoom,
                interpolation="nearest",
            )
            ax.add_artist(
                AnnotationBbox(
                    box,
                    (mean[0], mean[1]),
                    frameon=True,
                    pad=0.1,
                    bboxprops=dict(edgecolor="#d62728", linewidth=0.8),
                    zorder=5,
                )
            )
    elif layout.mesh is None:
        ax.scatter(means[:, 0], means[:, 1], s=sizes, c="#d62728", edgecolors="white", linewidths=0.6, zorder=4)
    _label_latent_axes(ax, layout.extent, mass_key(layout.contours.shares))
    if title is None:
        if layout.mesh is not None:
            what = "the grid's image"
        else:
            what = "pseudo-inputs at their components" if layout.pictures is not None else "component means"
        title = f"{model.prior_name} prior: {what}"
    ax.set_title(title, fontsize=TITLE_SIZE)
    return figure


# ---------------------------------------------------------------------------------------
# The stages of a flow
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlowStages:
    """What flow_stages draws, per stage (0: the base space; k: after the k-th coupling), on the CPU
    and in z's orientation (the flips between couplings undone)."""

    paths: list  # per stage (2 * lines, P, 2): the images of base-space lines of constant u2, then of constant u1
    points: list | None  # per stage (N, 2): z pulled back to the base space, then pushed through; None without z
    extent: tuple[float, float, float, float]  # one square frame around every stage's paths and points

    @property
    def num_stages(self) -> int:
        return len(self.paths)


@uses_threads
def flow_stages_data(source, z: Tensor | None = None, *, reach: float = 3.0, lines: int = 13) -> FlowStages:
    """A square of ``lines`` x ``lines`` lines over [-reach, reach]^2 in the base space and the points
    ``z`` pulled back there, pushed through the flow's stages one at a time.

    source: a VAE with the flow prior, or the prior. z: (N, 2) latent points or None -> FlowStages
    """
    prior = _prior_of(source, "flow_stages")
    if not isinstance(prior, FlowPrior):
        raise ValueError(f"{type(prior).__name__} is not a flow prior; pass a model with the 'flow' prior")
    require_2d(prior, "flow_stages")
    stages = prior.stages()
    # Base-space lines: `lines` of constant u2 (first half) and of constant u1 (second half).
    t = torch.linspace(-reach, reach, 200)
    levels = torch.linspace(-reach, reach, lines)
    paths = torch.cat(
        [
            torch.stack([t.expand(lines, -1), levels[:, None].expand(-1, len(t))], -1),
            torch.stack([levels[:, None].expand(-1, len(t)), t.expand(lines, -1)], -1),
        ]
    ).to(prior.device)  # (2 * lines, 200, 2)
    points = None
    with torch.no_grad():
        if z is not None:
            points = z.detach().to(device=prior.device, dtype=paths.dtype)
            for transform in reversed([transform for stage in stages for transform in stage]):
                points = transform.inv(points)
        all_paths, all_points, flipped = [_oriented(paths, False)], [_oriented(points, False)], False
        for stage in stages:
            for transform in stage:
                paths = transform(paths)
                points = None if points is None else transform(points)
                flipped ^= isinstance(transform, Flip)
            all_paths.append(_oriented(paths, flipped))
            all_points.append(_oriented(points, flipped))
    everything = [p.reshape(-1, 2) for p in all_paths] + (all_points if z is not None else [])
    extent = square_extent(bounding_extent(torch.cat(everything)), margin=0.03)
    return FlowStages(all_paths, all_points if z is not None else None, extent)


def _oriented(values: Tensor | None, flipped: bool) -> Tensor | None:
    """``values`` (..., 2) on the CPU, the coordinates swapped back after an odd number of flips."""
    return None if values is None else (values.flip(-1) if flipped else values).cpu()


@uses_threads
def flow_stages(
    source,
    z: Tensor | None = None,
    labels: Tensor | None = None,
    *,
    stages=None,
    axes=None,
    reach: float = 3.0,
    lines: int = 13,
    panel_size: float = 2.7,
):
    """How a flow prior turns N(0, I) into p(z), one coupling at a time: a square grid of lines in
    the base space and the points ``z`` (pulled back to the base space) pushed through the layers.

    Stage 0 is the base space, stage k the space after the k-th coupling (flips undone so that
    every panel keeps the orientation of z), the last stage is z itself. stages: which to draw
    (default all); axes: as many Axes to redraw into; all panels share one frame.
    source: a VAE with the flow prior, or the prior. z: (N, 2) latent points, labels: (N,) or None
    -> Figure with one panel per stage
    """
    data = flow_stages_data(source, z, reach=reach, lines=lines)
    last = data.num_stages - 1
    stages = list(range(data.num_stages)) if stages is None else [int(s) for s in stages]
    for s in stages:
        if not 0 <= s <= last:
            raise ValueError(f"stage {s} out of range: this flow has stages 0..{last}")
    if axes is not None:
        axes = list(np.ravel(axes))
        if len(axes) != len(stages):
            raise ValueError(f"expected {len(stages)} axes, got {len(axes)}")
        for ax in axes:
            ax.clear()
        figure = axes[0].figure
    else:
        # Rows of at most MAX_STAGE_COLUMNS panels, no wider than the display: the fonts stay readable.
        ncols = min(len(stages), MAX_STAGE_COLUMNS)
        nrows = math.ceil(len(stages) / ncols)
        panel_size = min(panel_size, (DISPLAY_WIDTH - 0.3) / ncols)
        figure = Figure(figsize=(panel_size * ncols + 0.3, (panel_size + 0.2) * nrows + 0.1), layout="constrained")
        grid = figure.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True).ravel()
        for ax in grid[len(stages) :]:
            figure.delaxes(ax)
        axes = list(grid[: len(stages)])
    for ax, stage in zip(axes, stages):
        for i, path in enumerate(data.paths[stage].numpy()):
            ax.plot(path[:, 0], path[:, 1], color=MESH_COLORS[i >= lines], linewidth=0.6, alpha=0.8)
        if data.points is not None:
            points = data.points[stage].numpy()
            colors = "black" if labels is None else _digit_colors(labels)
            ax.scatter(points[:, 0], points[:, 1], s=3, c=colors, linewidths=0, zorder=3)
        ax.set_xlim(data.extent[0], data.extent[1])
        ax.set_ylim(data.extent[2], data.extent[3])
        ax.set_aspect("equal")
        if stage == 0:
            ax.set_title("base space: $u \\sim \\mathcal{N}(0, I)$", fontsize=SMALL_TEXT + 1)
        elif stage == last:
            ax.set_title(f"after coupling {stage}: $z$", fontsize=SMALL_TEXT + 1)
        else:
            ax.set_title(f"after coupling {stage}", fontsize=SMALL_TEXT + 1)
        _few_ticks(ax)
    return figure
