"""Figures of a trained VAE: prior contours (the book's Fig. 4.13), q(z) against p(z), samples,
reconstructions, the latent manifold, training curves and a side-by-side comparison.

Every function returns a matplotlib Figure and can draw into axes you pass (``ax=`` or
``axes=``), clearing them first, so a widget can redraw in place. Figures are built with
the object-oriented API only: no pyplot state, no backend chosen here.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import torch
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from torch import Tensor

from . import analysis
from .data import IMAGE_SHAPE
from .evaluate import negative_elbo
from .train import History

#: Contour lines enclose these shares of the prior's mass (highest-density regions).
MASS_LEVELS = (0.25, 0.5, 0.75, 0.9, 0.99)

#: Latent grid resolution of the contour plots: smooth lines, and fast enough to redraw live.
CONTOUR_RESOLUTION = 80

#: The plots frame each posterior out to this many standard deviations (quadrature uses 4):
#: wide enough for every encoder sample, without the empty border of the quadrature grid.
PLOT_REACH = 3.0

# Black ink on white paper, as the digits print in the book; light grey between tiles.
IMAGE_CMAP = matplotlib.colormaps["gray_r"].with_extremes(bad="#e6e6e6")
# Densities below the colour scale (or underflowing to 0) take its darkest colour.
DENSITY_CMAP = matplotlib.colormaps["magma"].with_extremes(under="black", bad="black")
LABEL_COLORS = matplotlib.colormaps["tab10"].colors  # digit d is drawn in colour d
LEGEND_STYLE = dict(title="digit", fontsize=7, title_fontsize=8, frameon=False, handletextpad=0.1)


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------
def _figure_and_axes(ax, figsize):
    """The Figure of ``ax`` (cleared, to redraw in place), or a new Figure with one Axes."""
    if ax is not None:
        ax.clear()
        return ax.figure, ax
    figure = Figure(figsize=figsize, layout="constrained")
    return figure, figure.add_subplot()


def _figure_and_axes_row(axes, count: int, figsize, **subplot_options):
    """The Figure of ``axes`` (``count`` Axes, cleared), or a new Figure with ``count`` in a row."""
    if axes is not None:
        axes = list(np.ravel(axes))
        if len(axes) != count:
            raise ValueError(f"expected {count} axes, got {len(axes)}")
        for ax in axes:
            ax.clear()
        return axes[0].figure, axes
    figure = Figure(figsize=figsize, layout="constrained")
    return figure, list(np.ravel(figure.subplots(1, count, squeeze=False, **subplot_options)))


def _label_latent_axes(ax, extent) -> None:
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")


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


def _draw_prior_contours(ax, grid, log_density: Tensor, masses, colors=None, linewidths=0.9, alpha=1.0):
    """Contour lines of the density at the mass levels, each labelled with the share it encloses."""
    density = torch.exp(log_density)
    levels, shares = mass_levels(density, grid.cell_area, masses)
    if len(levels) == 0:
        return None
    if colors is None:
        # Dark inside, lighter outside; stop short of viridis' yellow, which vanishes on white.
        colors = [matplotlib.colormaps["viridis"](t) for t in np.linspace(0.8, 0.0, len(levels))]
    contours = ax.contour(
        grid.z1.numpy(), grid.z2.numpy(), grid.image(density).numpy(),
        levels=levels, colors=colors, linewidths=linewidths, alpha=alpha,
    )
    ax.clabel(contours, fmt=dict(zip(contours.levels, (f"{s:.0%}" for s in shares))), fontsize=6, inline_spacing=2)
    return contours


def _mosaic(images: Tensor, ncols: int, pad: int = 1) -> np.ndarray:
    """Images (n, 64) tiled into rows of ``ncols``, separated by ``pad`` NaN pixels. -> (H, W)"""
    height, width = IMAGE_SHAPE
    n = images.shape[0]
    nrows = math.ceil(n / ncols)
    canvas = np.full((nrows * (height + pad) - pad, ncols * (width + pad) - pad), np.nan)
    for i, image in enumerate(images.detach().float().cpu().numpy()):
        row, col = divmod(i, ncols)
        top, left = row * (height + pad), col * (width + pad)
        canvas[top : top + height, left : left + width] = image.reshape(height, width)
    return canvas


def _digit_legend(labels: Tensor) -> tuple[list, list]:
    """Legend handles and texts for the digits present in ``labels``."""
    digits = sorted(set(labels.tolist()))
    handles = [Line2D([], [], linestyle="", marker="o", markersize=4, color=LABEL_COLORS[d % 10]) for d in digits]
    return handles, [str(d) for d in digits]


def _decode(model, z: Tensor, decode: str) -> Tensor:
    """Images for latent points: "mean" (grey levels), "mode" (crisp) or "sample" (noisy)."""
    if decode == "mean":
        return model.decode_mean(z)
    if decode == "mode":
        return model.decode_mode(z)
    if decode == "sample":
        with torch.no_grad():
            return model.decoder.distribution(z.to(model.device)).sample()
    raise ValueError(f"unknown decode {decode!r}; choose 'mean', 'mode' or 'sample'")


def _show_images(ax, images: Tensor, ncols: int, top: float, title: str) -> None:
    ax.imshow(_mosaic(images, ncols), cmap=IMAGE_CMAP, vmin=0, vmax=top, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)


# ---------------------------------------------------------------------------------------
# 1. Prior contours with the encoder's samples (the book's Fig. 4.13)
# ---------------------------------------------------------------------------------------
def prior_contours(
    model,
    x: Tensor,
    labels: Tensor | None = None,
    *,
    ax=None,
    grid: analysis.LatentGrid | None = None,
    resolution: int = CONTOUR_RESOLUTION,
    masses=MASS_LEVELS,
    neg_elbo: float | None = None,
    title: str | None = None,
    sample: bool = True,
    legend: bool = True,
):
    """Contours of the prior p(z) with one encoder sample z ~ q(z|x) per image as a dot.

    Each contour line encloses a share of the prior's mass (``masses``). labels: colour the
    dots by digit (with a legend unless legend=False). neg_elbo: the test -ELBO for the title
    (computed on ``x`` when not given). sample=False plots posterior means. ax: redraw into it.
    x: (N, D) images, labels: (N,) or None -> Figure
    """
    analysis.require_2d(model, "prior_contours")
    figure, ax = _figure_and_axes(ax, (5.4, 4.2) if labels is not None else (4.4, 4.2))
    x = model.check_images(x)
    with torch.no_grad():
        posterior = model.posterior(x)
        z = (posterior.sample() if sample else posterior.mean).cpu().numpy()
    if grid is None:
        extent = analysis.latent_extent(model, posterior=posterior, posterior_stds=PLOT_REACH)
        grid = analysis.LatentGrid.over(extent, resolution)
    _draw_prior_contours(
        ax, grid, analysis.prior_log_density(model, grid), masses,
        # Neutral lines under coloured dots (tab10 has a grey of its own, for the 7s).
        colors="black" if labels is not None else None, alpha=0.55 if labels is not None else 1.0,
    )
    if labels is None:
        ax.scatter(z[:, 0], z[:, 1], s=3, c="black", linewidths=0)
    else:
        labels = labels.cpu().numpy()
        ax.scatter(z[:, 0], z[:, 1], s=5, c=[LABEL_COLORS[d % 10] for d in labels.tolist()], linewidths=0)
        if legend:
            ax.legend(*_digit_legend(labels), loc="center left", bbox_to_anchor=(1.01, 0.5), borderaxespad=0.0,
                      **LEGEND_STYLE)
    _label_latent_axes(ax, grid.extent)
    if title is None:
        if neg_elbo is None:
            neg_elbo = negative_elbo(model, x)
        title = f"{model.prior_name} prior: test −ELBO {neg_elbo:.2f}"
    ax.set_title(title, fontsize=10)
    return figure


# ---------------------------------------------------------------------------------------
# 2. Aggregated posterior q(z) against the prior p(z)
# ---------------------------------------------------------------------------------------
def posterior_vs_prior(
    model,
    x: Tensor,
    *,
    axes=None,
    grid: analysis.LatentGrid | None = None,
    resolution: int = 150,
    ratio: float = analysis.HOLE_RATIO,
    floor: float = 1e-3,
):
    """Heat maps of the aggregated posterior q(z) and the prior p(z) on one grid and colour scale.

    Hatched: the holes, where q(z) < ratio * p(z) inside the region holding 99% of the prior's
    mass; the prior's title gives the share of prior mass in holes (analysis.holes). Colours
    are logarithmic down to ``floor`` times the highest density. axes: two Axes to redraw into.
    x: (N, D) -> Figure (two panels and a colour bar)
    """
    analysis.require_2d(model, "posterior_vs_prior")
    figure, axes = _figure_and_axes_row(axes, 2, (8.2, 3.9), sharex=True, sharey=True)
    x = model.check_images(x)
    if grid is None:
        grid = analysis.latent_grid(model, x, resolution)
    log_q = analysis.aggregate_posterior_log_density(model, x, grid)
    log_p = analysis.prior_log_density(model, grid)
    top = float(torch.exp(torch.maximum(log_q.max(), log_p.max())))
    norm = LogNorm(vmin=floor * top, vmax=top)
    prior_99 = mass_levels(torch.exp(log_p), grid.cell_area, (0.99,))[0]
    in_holes = (log_q - log_p < math.log(ratio)) & (torch.exp(log_p) >= (prior_99[0] if len(prior_99) else 0))
    share = analysis.holes(model, x, ratio)
    titles = ("aggregated posterior $q(z)$", f"prior $p(z)$: {share:.1%} of its mass in holes")
    for ax, log_density, title in zip(axes, (log_q, log_p), titles):
        image = ax.imshow(grid.image(torch.exp(log_density)).numpy(), origin="lower", extent=grid.extent,
                          cmap=DENSITY_CMAP, norm=norm, interpolation="bilinear")
        if bool(in_holes.any()):
            ax.contourf(grid.z1.numpy(), grid.z2.numpy(), grid.image(in_holes.float()).numpy(),
                        levels=[0.5, 1.5], colors="none", hatches=["////"])
            ax.contour(grid.z1.numpy(), grid.z2.numpy(), grid.image(in_holes.float()).numpy(),
                       levels=[0.5], colors="#4fc3f7", linewidths=0.8)
        _label_latent_axes(ax, grid.extent)
        ax.set_title(title, fontsize=10)
    axes[1].set_ylabel("")
    figure.colorbar(image, ax=axes, shrink=0.85, label="density")
    figure.suptitle(f"{model.prior_name} prior: where the data's codes live, and where the prior puts mass",
                    fontsize=10)
    return figure


# ---------------------------------------------------------------------------------------
# 3. Samples and reconstructions
# ---------------------------------------------------------------------------------------
def prior_samples(model, n: int = 64, *, ax=None, ncols: int = 8, decode: str = "mean", seed: int | None = None):
    """Images decoded from ``n`` prior samples z ~ p(z), in a grid.

    decode: "mean" (expected pixel values), "mode" or "sample". seed: repeatable samples. -> Figure
    """
    figure, ax = _figure_and_axes(ax, (0.45 * ncols + 0.4, 0.45 * math.ceil(n / ncols) + 0.5))
    z = model.prior.sample(n) if seed is None else analysis.with_fixed_seed(seed, model.device, lambda: model.prior.sample(n))
    _show_images(ax, _decode(model, z, decode), ncols, model.num_values - 1, f"{model.prior_name} prior: samples")
    return figure


def reconstructions(model, x: Tensor, n: int = 32, *, axes=None, ncols: int = 8, decode: str = "mean"):
    """The first ``n`` images of ``x`` beside their reconstructions (decoded posterior means).

    x: (N, D) -> Figure (two panels, same positions)
    """
    x = model.check_images(x)[:n]
    nrows = math.ceil(len(x) / ncols)
    figure, axes = _figure_and_axes_row(axes, 2, (0.9 * ncols + 0.6, 0.45 * nrows + 0.6))
    recon = _decode(model, model.encode(x, sample=False), decode)
    top = model.num_values - 1
    _show_images(axes[0], x, ncols, top, "test images")
    _show_images(axes[1], recon, ncols, top, f"reconstructions ({model.prior_name} prior)")
    return figure


# ---------------------------------------------------------------------------------------
# 4. The latent manifold
# ---------------------------------------------------------------------------------------
def latent_manifold(
    model,
    x: Tensor | None = None,
    *,
    n: int = 15,
    extent=None,
    contours: bool = True,
    ax=None,
    decode: str = "mean",
    masses=MASS_LEVELS,
):
    """Images decoded on a regular n x n grid of latent points, at their places in the plane.

    The region is ``extent`` (z1 min, z1 max, z2 min, z2 max) or where the posteriors of ``x``
    and the prior live. contours: the prior's contour lines on top. x: (N, D) or None -> Figure
    """
    analysis.require_2d(model, "latent_manifold")
    figure, ax = _figure_and_axes(ax, (5.0, 5.0))
    if extent is None:
        # Where the codes are dense: the posterior means' reach and the prior's central 98%.
        extent = analysis.latent_extent(model, x, posterior_stds=1.0, prior_tail=0.01, margin=0.0)
    tiles = analysis.LatentGrid.over(extent, n)
    # Rows of the picture run top to bottom, so the highest z2 comes first.
    second, first = torch.meshgrid(tiles.z2.flip(0), tiles.z1, indexing="ij")
    z = torch.stack([first.reshape(-1), second.reshape(-1)], dim=1)
    images = _decode(model, z, decode)
    # Place the picture so that each tile's centre sits exactly at its latent point.
    height, width = IMAGE_SHAPE
    pixel = (tiles.z1[1] - tiles.z1[0]).item() / (width + 1), (tiles.z2[1] - tiles.z2[0]).item() / (height + 1)
    picture = _mosaic(images, n, pad=1)
    left, bottom = tiles.z1[0].item() - width / 2 * pixel[0], tiles.z2[0].item() - height / 2 * pixel[1]
    ax.imshow(picture, cmap=IMAGE_CMAP, vmin=0, vmax=model.num_values - 1, origin="upper",
              extent=(left, left + picture.shape[1] * pixel[0], bottom, bottom + picture.shape[0] * pixel[1]),
              interpolation="nearest")
    if contours:
        grid = analysis.LatentGrid.over(tiles.extent, CONTOUR_RESOLUTION)
        _draw_prior_contours(ax, grid, analysis.prior_log_density(model, grid), masses, linewidths=1.1)
    _label_latent_axes(ax, tiles.extent)
    ax.set_title(f"{model.prior_name} prior: decoded latent grid", fontsize=10)
    return figure


# ---------------------------------------------------------------------------------------
# 5. Training curves
# ---------------------------------------------------------------------------------------
def training_curves(runs, *, ax=None, train: bool = False, ylim=None):
    """Validation -ELBO per epoch of several runs on one plot, the best epoch marked.

    runs: dict name -> History (or trained VAE), or a list of them (named by their prior).
    train: also draw the training loss (thin). ylim: (bottom, top), default: the end of training.
    """
    figure, ax = _figure_and_axes(ax, (6.0, 3.8))
    if not isinstance(runs, dict):
        runs = {run.prior if isinstance(run, History) else run.prior_name: run for run in runs}
    colors = matplotlib.colormaps["tab10"].colors
    tops, bottoms = [], []
    for i, (name, run) in enumerate(runs.items()):
        history = getattr(run, "history", run)
        if history is None or not history.val_loss:
            continue
        color = colors[i % len(colors)]
        ax.plot(history.val_epochs, history.val_loss, color=color, linewidth=1.4,
                label=f"{name}: best {history.best_val_loss:.2f} (epoch {history.best_epoch})")
        ax.plot([history.best_epoch], [history.best_val_loss], "o", color=color, markersize=4)
        if train:
            ax.plot(range(1, len(history.train_loss) + 1), history.train_loss, color=color, linewidth=0.7,
                    alpha=0.6)
        bottoms.append(min(history.val_loss + (history.train_loss if train else [])))
        # The first epochs drop by hundreds of nats; frame the part where the priors differ.
        tops.append(history.val_loss[min(len(history.val_loss) - 1, max(1, len(history.val_loss) // 10))])
    if ylim is None and bottoms:
        low, high = min(bottoms), max(tops)
        pad = 0.08 * max(high - low, 1.0)
        ylim = (low - pad, high + pad)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation −ELBO (nats per image)")
    ax.grid(True, linewidth=0.4, alpha=0.5)
    if train:
        ax.plot([], [], color="0.4", linewidth=0.7, alpha=0.6, label="thin: training loss")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("training curves", fontsize=10)
    return figure


# ---------------------------------------------------------------------------------------
# 6. One panel per prior
# ---------------------------------------------------------------------------------------
def prior_comparison(
    models,
    x: Tensor,
    labels: Tensor | None = None,
    *,
    ncols: int = 3,
    neg_elbos: dict | None = None,
    resolution: int = CONTOUR_RESOLUTION,
    panel_size: float = 3.3,
):
    """Prior contours and encoder samples (as in prior_contours) for several models, same axes limits.

    models: dict name -> VAE or a list; neg_elbos: dict name -> test -ELBO for the titles.
    x: (N, D), labels: (N,) or None -> Figure with one panel per model
    """
    models = analysis.named_models(models)
    if not models:
        raise ValueError("prior_comparison needs at least one model")
    ncols = min(ncols, len(models))
    nrows = math.ceil(len(models) / ncols)
    extents = (analysis.latent_extent(model, x, posterior_stds=PLOT_REACH) for model in models.values())
    extent = analysis.square_extent(analysis.union_extent(extents))
    grid = analysis.LatentGrid.over(extent, resolution)
    figure = Figure(figsize=(panel_size * ncols, panel_size * nrows + 0.3), layout="constrained")
    axes = np.ravel(figure.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True))
    for i, (ax, (name, model)) in enumerate(zip(axes, models.items())):
        neg_elbo = (neg_elbos or {}).get(name)
        if neg_elbo is None:
            neg_elbo = negative_elbo(model, x)
        prior_contours(model, x, labels, ax=ax, grid=grid, title=f"{name}: −ELBO {neg_elbo:.2f}", legend=False)
        # Axis labels on the outer panels only; tick labels wherever no panel sits below.
        ax.xaxis.set_tick_params(labelbottom=i + ncols >= len(models))
        if i + ncols < len(models):
            ax.set_xlabel("")
        if i % ncols:
            ax.set_ylabel("")
    for ax in axes[len(models):]:
        figure.delaxes(ax)
    if labels is not None:
        figure.legend(*_digit_legend(labels), loc="outside right center", **LEGEND_STYLE)
    figure.suptitle("prior contours and encoder samples of the test images", fontsize=11)
    return figure


# ---------------------------------------------------------------------------------------
# 7. Inside the priors: pseudo-inputs, mixture components and the GTM grid, flow layers
# ---------------------------------------------------------------------------------------
def _prior_of(source):
    """The prior of a VAE, or ``source`` itself when it is a prior."""
    return getattr(source, "prior", source)


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


def image_grid(images: Tensor, *, ax=None, ncols: int = 8, vmax: float = 16.0, title: str = ""):
    """Images (n, 64) as a mosaic of 8x8 tiles, white (0) to black (vmax). -> Figure"""
    images = images.detach().float().cpu()
    if images.dim() != 2 or images.shape[1] != IMAGE_SHAPE[0] * IMAGE_SHAPE[1]:
        raise ValueError(f"images must have shape (n, {IMAGE_SHAPE[0] * IMAGE_SHAPE[1]}), got {tuple(images.shape)}")
    nrows = math.ceil(len(images) / ncols)
    figure, ax = _figure_and_axes(ax, (max(0.45 * ncols + 0.5, 3.0), 0.45 * nrows + 0.5))
    _show_images(ax, images, ncols, vmax, title)
    return figure


def _grid_colors(grid: Tensor) -> np.ndarray:
    """One colour per grid point, blended from four corner colours, so a point can be found
    again after the map has moved it. grid: (K, 2) -> (K, 3) RGB"""
    g = grid.detach().double().cpu()
    low, high = g.min(0).values, g.max(0).values
    t = ((g - low) / (high - low).clamp_min(1e-12)).numpy()
    corners = np.array([  # (u1 low, u2 low), (high, low), (low, high), (high, high)
        matplotlib.colors.to_rgb(c) for c in ("#2166ac", "#b2182b", "#1b7837", "#e08214")
    ])
    a, b = t[:, :1], t[:, 1:]
    return (1 - a) * (1 - b) * corners[0] + a * (1 - b) * corners[1] + (1 - a) * b * corners[2] + a * b * corners[3]


#: The mesh's lines: of constant u2 (along u1), and of constant u1 (along u2).
MESH_COLORS = ("#4c72b0", "#dd8452")


def pseudo_inputs(source, *, ax=None, ncols: int | None = None, title: str | None = None, vmax: float | None = None):
    """Pseudo-inputs as a grid of images; a GTM-VampPrior's are laid out on its grid (u1 right, u2 up).

    source: a VAE, a prior with ``pseudo_inputs`` (VampPrior, GTM-VampPrior) or images (K, D).
    vmax: the white-to-black scale's top (default: the prior's top pixel value, 16 for Digits).
    -> Figure
    """
    prior = None if isinstance(source, Tensor) else _prior_of(source)
    if prior is None:
        images = source
    elif hasattr(prior, "pseudo_inputs"):
        with torch.no_grad():
            images = prior.pseudo_inputs
    else:
        raise ValueError(f"{type(prior).__name__} has no pseudo-inputs; pass a VampPrior or GTM-VampPrior model")
    images = images.detach().float().cpu()
    if images.dim() != 2 or images.shape[1] != IMAGE_SHAPE[0] * IMAGE_SHAPE[1]:
        raise ValueError(f"pseudo-inputs must have shape (K, {IMAGE_SHAPE[0] * IMAGE_SHAPE[1]}), got {tuple(images.shape)}")
    laid_out = ncols is None and prior is not None and hasattr(prior, "grid")
    if laid_out:
        ncols = prior.grid_size
        images = on_grid(images, prior.grid_size)
    elif ncols is None:
        ncols = min(len(images), 8)
    if vmax is None:
        encoder = getattr(prior, "encoder", None)
        vmax = encoder.num_values - 1 if encoder is not None else (1.0 if float(images.max()) <= 1 else 16.0)
    if title is None:
        title = "pseudo-inputs on the grid ($u_1$ →, $u_2$ ↑)" if laid_out else f"{len(images)} pseudo-inputs"
    return image_grid(images, ax=ax, ncols=ncols, vmax=vmax, title=title)


def gtm_grid(source, *, ax=None):
    """The GTM priors' grid u_k in its own square, neighbours joined, each point in its own colour.

    source: a VAE with a GTM or GTM-VampPrior prior, or the prior. -> Figure
    """
    prior = _prior_of(source)
    if not hasattr(prior, "grid"):
        raise ValueError(f"{type(prior).__name__} has no grid; pass a GTM or GTM-VampPrior model")
    figure, ax = _figure_and_axes(ax, (3.4, 3.4))
    grid = prior.grid.detach().cpu()
    _draw_mesh(ax, grid.numpy(), prior.grid_size, _grid_colors(grid), sizes=np.full(len(grid), 30.0))
    reach = float(grid.abs().max())
    ax.set_xlim(-1.15 * reach, 1.15 * reach)
    ax.set_ylim(-1.15 * reach, 1.15 * reach)
    ax.set_aspect("equal")
    ax.set_xlabel("$u_1$")
    ax.set_ylabel("$u_2$")
    size = prior.grid_size
    ax.set_title(f"the grid: {size} x {size} points $u_k$", fontsize=10)
    return figure


def _draw_mesh(ax, points: np.ndarray, grid_size: int, colors, sizes, linewidth: float = 1.0) -> None:
    """Grid points (K, 2), row-major as grid_points makes them, joined to their grid neighbours."""
    lattice = points.reshape(grid_size, grid_size, 2)  # [i, j]: u1 = i-th value, u2 = j-th value
    for i in range(grid_size):
        ax.plot(lattice[:, i, 0], lattice[:, i, 1], color=MESH_COLORS[0], linewidth=linewidth, zorder=3)
        ax.plot(lattice[i, :, 0], lattice[i, :, 1], color=MESH_COLORS[1], linewidth=linewidth, zorder=3)
    if colors is not None:
        ax.scatter(points[:, 0], points[:, 1], s=sizes, c=colors, edgecolors="white", linewidths=0.6, zorder=4)


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
    analysis.require_2d(model, "mixture_components")
    prior = model.prior
    if not hasattr(prior, "mixture_parameters"):
        raise ValueError(f"{type(prior).__name__} is not a mixture; mixture_components needs MoG, VampPrior or a GTM prior")
    has_grid = hasattr(prior, "grid")
    mesh = has_grid if mesh is None else mesh
    images = (hasattr(prior, "pseudo_inputs") and not mesh) if images is None else images
    if mesh and not has_grid:
        raise ValueError(f"{type(prior).__name__} has no grid to draw as a mesh; use mesh=False")
    if images and not hasattr(prior, "pseudo_inputs"):
        raise ValueError(f"{type(prior).__name__} has no pseudo-inputs to draw; use images=False")
    figure, ax = _figure_and_axes(ax, (4.6, 4.4))
    with torch.no_grad():
        logits, means, _ = prior.mixture_parameters()
        weights = torch.softmax(logits, 0).cpu().numpy()
        means = means.cpu().numpy()
        posterior = model.posterior(model.check_images(x)) if x is not None else None
    extent = analysis.latent_extent(model, posterior=posterior, posterior_stds=PLOT_REACH)
    # Every component's mean in the frame, also one with little weight far from the data.
    low, high = means.min(0), means.max(0)
    pad = 0.08 * max(float(high[0] - low[0]), float(high[1] - low[1]), 1.0)
    extent = analysis.square_extent(analysis.union_extent(
        [extent, (low[0] - pad, high[0] + pad, low[1] - pad, high[1] + pad)]))
    grid = analysis.LatentGrid.over(extent, resolution)
    _draw_prior_contours(ax, grid, analysis.prior_log_density(model, grid), masses, colors="0.55", linewidths=0.8)
    if posterior is not None:
        z = posterior.sample().cpu().numpy()
        ax.scatter(z[:, 0], z[:, 1], s=3, c="0.25", alpha=0.5, linewidths=0, zorder=2)
    # Marker area proportional to weight: the uniform weight 1/K draws at 30 points^2.
    sizes = 30.0 * weights * len(weights)
    if mesh and sheet:
        from .priors.base import grid_points

        reach = float(prior.grid.abs().max())
        fine = grid_points(sheet, reach).to(prior.grid.device)
        with torch.no_grad():
            surface = prior.components_at(fine)[0].cpu().numpy()
        _draw_mesh(ax, surface, sheet, None, None, linewidth=0.35)
    if mesh:
        _draw_mesh(ax, means, prior.grid_size, _grid_colors(prior.grid), sizes)
    if images:
        from matplotlib.offsetbox import AnnotationBbox, OffsetImage

        top = prior.encoder.num_values - 1
        with torch.no_grad():
            pictures = prior.pseudo_inputs.detach().float().cpu().numpy().reshape(-1, *IMAGE_SHAPE)
        for picture, mean in zip(pictures, means):
            box = OffsetImage(picture, cmap=IMAGE_CMAP, norm=matplotlib.colors.Normalize(0, top), zoom=zoom,
                              interpolation="nearest")
            ax.add_artist(AnnotationBbox(box, (mean[0], mean[1]), frameon=True, pad=0.1,
                                         bboxprops=dict(edgecolor="#d62728", linewidth=0.8), zorder=5))
    elif not mesh:
        ax.scatter(means[:, 0], means[:, 1], s=sizes, c="#d62728", edgecolors="white", linewidths=0.6, zorder=4)
    _label_latent_axes(ax, grid.extent)
    if title is None:
        what = "the grid's image" if mesh else ("pseudo-inputs at their components" if images else "component means")
        title = f"{model.prior_name} prior: {what}"
    ax.set_title(title, fontsize=10)
    return figure


def _flow_prior(source):
    prior = _prior_of(source)
    if not hasattr(prior, "transforms") or not callable(prior.transforms):
        raise ValueError(f"{type(prior).__name__} is not a flow prior; pass a model with the 'flow' prior")
    if prior.latent_dim != 2:
        raise ValueError(f"flow_stages draws a 2-D latent space; this prior has latent_dim={prior.latent_dim}")
    return prior


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
    prior = _flow_prior(source)
    transforms = prior.distribution().transforms
    couplings = [i for i, t in enumerate(transforms) if not getattr(t, "volume_preserving", False)]
    num_stages = len(couplings) + 1
    stages = list(range(num_stages)) if stages is None else [int(s) for s in stages]
    for s in stages:
        if not 0 <= s < num_stages:
            raise ValueError(f"stage {s} out of range: this flow has stages 0..{num_stages - 1}")
    device = prior.loc.device
    # Base-space lines: `lines` of constant u2 (first half) and of constant u1 (second half).
    t = torch.linspace(-reach, reach, 200)
    levels = torch.linspace(-reach, reach, lines)
    paths = torch.cat([
        torch.stack([t.expand(lines, -1), levels[:, None].expand(-1, len(t))], -1),
        torch.stack([levels[:, None].expand(-1, len(t)), t.expand(lines, -1)], -1),
    ]).to(device)  # (2 * lines, 200, 2)
    with torch.no_grad():
        base_points = None
        if z is not None:
            base_points = z.detach().to(device=device, dtype=paths.dtype)
            for transform in reversed(transforms):
                base_points = transform.inv(base_points)
        pictures = []  # per stage: (paths, points), in z's orientation
        current_paths, current_points, flips = paths, base_points, 0
        ends = [0] + [i + 1 for i in couplings]
        for stage in range(num_stages):
            if stage > 0:
                for transform in transforms[ends[stage - 1]:ends[stage]]:
                    current_paths = transform(current_paths)
                    if current_points is not None:
                        current_points = transform(current_points)
                    flips += bool(getattr(transform, "volume_preserving", False))

            def oriented(values):
                if values is None:
                    return None
                values = values.flip(-1) if flips % 2 else values
                return values.cpu().numpy()

            pictures.append((oriented(current_paths), oriented(current_points)))
    stacked = np.concatenate([p.reshape(-1, 2) for p, _ in pictures]
                             + [q for _, q in pictures if q is not None])
    low, high = stacked.min(0), stacked.max(0)
    extent = analysis.square_extent((low[0], high[0], low[1], high[1]), margin=0.03)
    figure, axes = _figure_and_axes_row(axes, len(stages), (panel_size * len(stages) + 0.3, panel_size + 0.3))
    colors = {0: "#4c72b0", 1: "#dd8452"}  # lines of constant u2, of constant u1
    for ax, stage in zip(axes, stages):
        stage_paths, stage_points = pictures[stage]
        for i, path in enumerate(stage_paths):
            ax.plot(path[:, 0], path[:, 1], color=colors[i >= lines], linewidth=0.6, alpha=0.8)
        if stage_points is not None:
            dot_colors = "black" if labels is None else [LABEL_COLORS[d % 10] for d in labels.tolist()]
            ax.scatter(stage_points[:, 0], stage_points[:, 1], s=3, c=dot_colors, linewidths=0, zorder=3)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_aspect("equal")
        if stage == 0:
            ax.set_title("base space: $u \\sim \\mathcal{N}(0, I)$", fontsize=9)
        elif stage == num_stages - 1:
            ax.set_title(f"after coupling {stage}: $z$", fontsize=9)
        else:
            ax.set_title(f"after coupling {stage}", fontsize=9)
        ax.tick_params(labelsize=7)
    return figure
