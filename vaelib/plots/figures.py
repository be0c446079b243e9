"""Figures of any trained VAE: prior contours (the book's Fig. 4.13), q(z) against p(z), samples,
reconstructions, the latent manifold, training curves and a side-by-side comparison.

Where a figure shows computed data, a ``*_data`` function returns that data and the figure
function draws it: tests check the data, not pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib
import torch
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from torch import Tensor

from .. import analysis
from ..evaluate import negative_elbo
from ..latent import LatentGrid, latent_extent, latent_grid, require_2d, square_extent, union_extent
from ..seeding import with_fixed_seed
from ..threads import uses_threads
from ..train import History
from .contours import MassContours, _draw_mass_contours, mass_key, prior_mass_contours
from .style import (
    CONTOUR_RESOLUTION,
    DENSITY_CMAP,
    DISPLAY_WIDTH,
    IMAGE_CMAP,
    LEGEND_STYLE,
    MASS_LEVELS,
    PLOT_REACH,
    SMALL_TEXT,
    TITLE_SIZE,
    _digit_colors,
    _digit_legend,
    _few_ticks,
    _figure_and_axes,
    _figure_and_axes_row,
    _label_latent_axes,
    _mosaic,
    _show_images,
    _square_images,
)


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


# ---------------------------------------------------------------------------------------
# 1. Prior contours with the encoder's samples (the book's Fig. 4.13)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PriorContours:
    """What prior_contours draws: the prior's mass contours, and one code per image."""

    contours: MassContours
    codes: Tensor  # (N, 2) one z ~ q(z|x_n) (or the posterior mean) per image, on the CPU


@uses_threads
def prior_contours_data(
    model,
    x: Tensor,
    *,
    grid: LatentGrid | None = None,
    resolution: int = CONTOUR_RESOLUTION,
    masses=MASS_LEVELS,
    sample: bool = True,
) -> PriorContours:
    """The prior's density and mass levels on ``grid`` (default: framing the posteriors of ``x``
    and the prior) and one encoder sample (sample=False: the mean) per image. x: (N, D) -> PriorContours
    """
    require_2d(model, "prior_contours")
    with torch.no_grad():
        posterior = model.posterior(model.check_images(x))
        codes = (posterior.sample() if sample else posterior.mean).cpu()
    if grid is None:
        grid = LatentGrid.over(latent_extent(model, posterior=posterior, posterior_stds=PLOT_REACH), resolution)
    return PriorContours(prior_mass_contours(model, grid, masses), codes)


@uses_threads
def prior_contours(
    model,
    x: Tensor,
    labels: Tensor | None = None,
    *,
    ax=None,
    grid: LatentGrid | None = None,
    resolution: int = CONTOUR_RESOLUTION,
    masses=MASS_LEVELS,
    neg_elbo: float | None = None,
    title: str | None = None,
    sample: bool = True,
    legend: bool = True,
    key: bool = True,
):
    """Contours of the prior p(z) with one encoder sample z ~ q(z|x) per image as a dot.

    Each contour line encloses a share of the prior's mass (``masses``), labelled where the dots
    are sparse; key: say so under the plot. labels: colour the dots by digit (with a legend
    unless legend=False). neg_elbo: the test -ELBO for the title (computed on ``x`` when not
    given). sample=False plots posterior means. ax: redraw into it.
    x: (N, D) images, labels: (N,) or None -> Figure
    """
    data = prior_contours_data(model, x, grid=grid, resolution=resolution, masses=masses, sample=sample)
    figure, ax = _figure_and_axes(ax, (5.4, 4.6) if labels is not None else (4.4, 4.6))
    z = data.codes.numpy()
    _draw_mass_contours(
        ax,
        data.contours,
        # Neutral lines under coloured dots (tab10 has a grey of its own, for the 7s).
        colors="black" if labels is not None else None,
        alpha=0.55 if labels is not None else 1.0,
        avoid=z,
    )
    if labels is None:
        ax.scatter(z[:, 0], z[:, 1], s=3, c="black", linewidths=0)
    else:
        labels = labels.cpu()
        ax.scatter(z[:, 0], z[:, 1], s=5, c=_digit_colors(labels), linewidths=0)
        if legend:
            ax.legend(
                *_digit_legend(labels), loc="center left", bbox_to_anchor=(1.01, 0.5), borderaxespad=0.0, **LEGEND_STYLE
            )
    _label_latent_axes(ax, data.contours.grid.extent, mass_key(data.contours.shares) if key else "")
    if title is None:
        if neg_elbo is None:
            neg_elbo = negative_elbo(model, x)
        title = f"{model.prior_name} prior: test −ELBO {neg_elbo:.2f}"
    ax.set_title(title, fontsize=TITLE_SIZE)
    return figure


# ---------------------------------------------------------------------------------------
# 2. Aggregated posterior q(z) against the prior p(z)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HolesMap:
    """What posterior_vs_prior draws: q(z) and p(z) on one grid, and the holes among them."""

    grid: LatentGrid
    log_q: Tensor  # (R * R,) log q(z) of the aggregated posterior at grid.points
    log_p: Tensor  # (R * R,) log p(z)
    in_holes: Tensor  # (R * R,) bool: q(z) < ratio * p(z), the definition analysis.holes counts
    share: float  # the share of the prior's mass in holes (analysis.holes)


@uses_threads
def posterior_vs_prior_data(
    model,
    x: Tensor,
    *,
    grid: LatentGrid | None = None,
    resolution: int = 150,
    ratio: float = analysis.HOLE_RATIO,
) -> HolesMap:
    """q(z) and p(z) on ``grid`` (default: latent_grid at ``resolution``) and where q(z) < ratio * p(z).

    x: (N, D) -> HolesMap
    """
    require_2d(model, "posterior_vs_prior")
    x = model.check_images(x)
    if grid is None:
        grid = latent_grid(model, x, resolution)
    log_q = analysis.aggregate_posterior_log_density(model, x, grid)
    log_p = analysis.prior_log_density(model, grid)
    # The same definition as the share in the title (analysis.holes), everywhere on the grid: far out
    # in the prior's tails a hatched region holds little of its mass, which the share weighs.
    in_holes = log_q - log_p < math.log(ratio)
    return HolesMap(grid, log_q, log_p, in_holes, analysis.holes(model, x, ratio))


@uses_threads
def posterior_vs_prior(
    model,
    x: Tensor,
    *,
    axes=None,
    grid: LatentGrid | None = None,
    resolution: int = 150,
    ratio: float = analysis.HOLE_RATIO,
    floor: float = 1e-3,
):
    """Heat maps of the aggregated posterior q(z) and the prior p(z) on one grid and colour scale.

    Hatched: the holes, where q(z) < ratio * p(z) (analysis.holes' definition); the prior's title
    gives the share of the prior's mass that lies in them (analysis.holes). Colours
    are logarithmic down to ``floor`` times the highest density. axes: two Axes to redraw into.
    x: (N, D) -> Figure (two panels and a colour bar)
    """
    data = posterior_vs_prior_data(model, x, grid=grid, resolution=resolution, ratio=ratio)
    grid = data.grid
    figure, axes = _figure_and_axes_row(axes, 2, (8.2, 3.9), sharex=True, sharey=True)
    top = float(torch.exp(torch.maximum(data.log_q.max(), data.log_p.max())))
    norm = LogNorm(vmin=floor * top, vmax=top)
    holes = grid.image(data.in_holes.float()).numpy()
    titles = ("aggregated posterior $q(z)$", f"prior $p(z)$: {data.share:.1%} of its mass in holes")
    for ax, log_density, title in zip(axes, (data.log_q, data.log_p), titles):
        image = ax.imshow(
            grid.image(torch.exp(log_density)).numpy(),
            origin="lower",
            extent=grid.extent,
            cmap=DENSITY_CMAP,
            norm=norm,
            interpolation="bilinear",
        )
        if bool(data.in_holes.any()):
            ax.contourf(grid.z1.numpy(), grid.z2.numpy(), holes, levels=[0.5, 1.5], colors="none", hatches=["////"])
            ax.contour(grid.z1.numpy(), grid.z2.numpy(), holes, levels=[0.5], colors="#4fc3f7", linewidths=0.8)
        _label_latent_axes(ax, grid.extent)
        ax.set_title(title, fontsize=TITLE_SIZE)
    axes[1].set_ylabel("")
    bar = figure.colorbar(image, ax=axes, shrink=0.85)
    bar.set_label("density", fontsize=SMALL_TEXT + 1)
    bar.ax.tick_params(labelsize=SMALL_TEXT)
    figure.suptitle(
        f"{model.prior_name} prior: where the data's codes live, and where the prior puts mass", fontsize=TITLE_SIZE
    )
    return figure


# ---------------------------------------------------------------------------------------
# 3. Samples and reconstructions (any latent dimension)
# ---------------------------------------------------------------------------------------
@uses_threads
def prior_samples(model, n: int = 64, *, ax=None, ncols: int = 8, decode: str = "mean", seed: int | None = None):
    """Images decoded from ``n`` prior samples z ~ p(z), in a grid.

    decode: "mean" (expected pixel values), "mode" or "sample". seed: repeatable samples. -> Figure
    """
    figure, ax = _figure_and_axes(ax, (0.45 * ncols + 0.4, 0.45 * math.ceil(n / ncols) + 0.5))
    z = with_fixed_seed(seed, model.device, lambda: model.prior.sample(n))
    title = f"{model.prior_name} prior: samples"
    _show_images(ax, _decode(model, z, decode), ncols, model.num_values - 1, title, what="prior_samples")
    return figure


@uses_threads
def reconstructions(model, x: Tensor, n: int = 32, *, axes=None, ncols: int = 8, decode: str = "mean"):
    """The first ``n`` images of ``x`` beside their reconstructions (decoded posterior means).

    x: (N, D) -> Figure (two panels, same positions)
    """
    x = model.check_images(x)[:n]
    nrows = math.ceil(len(x) / ncols)
    # At most the display width: wider, a notebook would shrink the titles below SMALL_TEXT.
    shrink = min(1.0, DISPLAY_WIDTH / (0.9 * ncols + 0.6))
    figure, axes = _figure_and_axes_row(axes, 2, ((0.9 * ncols + 0.6) * shrink, 0.45 * nrows * shrink + 0.6))
    recon = _decode(model, model.encode(x, sample=False), decode)
    top = model.num_values - 1
    _show_images(axes[0], x, ncols, top, "test images", what="reconstructions")
    _show_images(axes[1], recon, ncols, top, f"reconstructions ({model.prior_name} prior)", what="reconstructions")
    return figure


# ---------------------------------------------------------------------------------------
# 4. The latent manifold
# ---------------------------------------------------------------------------------------
@uses_threads
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
    require_2d(model, "latent_manifold")
    figure, ax = _figure_and_axes(ax, (5.0, 5.4))
    if extent is None:
        # Where the codes are dense: the posterior means' reach and the prior's central 98%.
        extent = latent_extent(model, x, posterior_stds=1.0, prior_tail=0.01, margin=0.0)
    tiles = LatentGrid.over(extent, n)
    # Rows of the picture run top to bottom, so the highest z2 comes first.
    second, first = torch.meshgrid(tiles.z2.flip(0), tiles.z1, indexing="ij")
    z = torch.stack([first.reshape(-1), second.reshape(-1)], dim=1)
    images = _decode(model, z, decode)
    # Place the picture so that each tile's centre sits exactly at its latent point.
    height, width = _square_images(images, "latent_manifold")
    pixel = (tiles.z1[1] - tiles.z1[0]).item() / (width + 1), (tiles.z2[1] - tiles.z2[0]).item() / (height + 1)
    picture = _mosaic(images, n, pad=1, what="latent_manifold")
    left, bottom = tiles.z1[0].item() - width / 2 * pixel[0], tiles.z2[0].item() - height / 2 * pixel[1]
    ax.imshow(
        picture,
        cmap=IMAGE_CMAP,
        vmin=0,
        vmax=model.num_values - 1,
        origin="upper",
        extent=(left, left + picture.shape[1] * pixel[0], bottom, bottom + picture.shape[0] * pixel[1]),
        interpolation="nearest",
    )
    if contours:
        grid = LatentGrid.over(tiles.extent, CONTOUR_RESOLUTION)
        drawn = prior_mass_contours(model, grid, masses)
        _draw_mass_contours(ax, drawn, linewidths=1.1)
    _label_latent_axes(ax, tiles.extent, mass_key(drawn.shares) if contours else "")
    ax.set_title(f"{model.prior_name} prior: decoded latent grid", fontsize=TITLE_SIZE)
    return figure


# ---------------------------------------------------------------------------------------
# 5. Training curves
# ---------------------------------------------------------------------------------------
@uses_threads
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
        history = run if isinstance(run, History) else run.history
        if history is None or not history.val_loss:
            continue
        color = colors[i % len(colors)]
        ax.plot(
            history.val_epochs,
            history.val_loss,
            color=color,
            linewidth=1.4,
            label=f"{name}: best {history.best_val_loss:.2f} (epoch {history.best_epoch})",
        )
        ax.plot([history.best_epoch], [history.best_val_loss], "o", color=color, markersize=4)
        if train:
            ax.plot(range(1, len(history.train_loss) + 1), history.train_loss, color=color, linewidth=0.7, alpha=0.6)
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
    ax.tick_params(labelsize=SMALL_TEXT + 1)
    ax.grid(True, linewidth=0.4, alpha=0.5)
    if train:
        ax.plot([], [], color="0.4", linewidth=0.7, alpha=0.6, label="thin: training loss")
    ax.legend(fontsize=SMALL_TEXT, frameon=False)
    ax.set_title("training curves", fontsize=TITLE_SIZE)
    return figure


# ---------------------------------------------------------------------------------------
# 6. One panel per prior
# ---------------------------------------------------------------------------------------
@uses_threads
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
    for name, model in models.items():
        require_2d(model, f"prior_comparison (model {name!r})")
    ncols = min(ncols, len(models))
    nrows = math.ceil(len(models) / ncols)
    extents = (latent_extent(model, x, posterior_stds=PLOT_REACH) for model in models.values())
    grid = LatentGrid.over(square_extent(union_extent(extents)), resolution)
    # Panels narrow enough that the figure, legend included, is shown at full size (fonts stay readable).
    panel_size = min(panel_size, (DISPLAY_WIDTH - (0.7 if labels is not None else 0.1)) / ncols)
    figure = Figure(figsize=(panel_size * ncols + 0.1, panel_size * nrows + 0.7), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True).ravel()
    for i, (ax, (name, model)) in enumerate(zip(axes, models.items())):
        neg_elbo = (neg_elbos or {}).get(name)
        if neg_elbo is None:
            neg_elbo = negative_elbo(model, x)
        prior_contours(
            model, x, labels, ax=ax, grid=grid, title=f"{name}: −ELBO {neg_elbo:.2f}", legend=False, key=False
        )
        _few_ticks(ax)
        # Axis labels on the outer panels only; tick labels wherever no panel sits below.
        ax.xaxis.set_tick_params(labelbottom=i + ncols >= len(models))
        if i + ncols < len(models):
            ax.set_xlabel("")
        if i % ncols:
            ax.set_ylabel("")
    for ax in axes[len(models) :]:
        figure.delaxes(ax)
    if labels is not None:
        figure.legend(*_digit_legend(labels), loc="outside right center", **LEGEND_STYLE)
    key = mass_key(MASS_LEVELS)
    figure.supxlabel(key if ncols == 1 else key.replace("\n", " "), fontsize=SMALL_TEXT, color="0.3")
    figure.suptitle("prior contours and encoder samples of the test images", fontsize=TITLE_SIZE + 1)
    return figure


# ---------------------------------------------------------------------------------------
# 7. The bounds: ELBO <= IWAE(K) <= log p(x)
# ---------------------------------------------------------------------------------------
@uses_threads
def bound_curve(data_or_model, x: Tensor | None = None, *, ks=analysis.BOUND_KS, seed: int | None = 0, ax=None):
    """IWAE(K) against K (log axis) rising towards the exact log p(x) (quadrature), the ELBO below.

    data_or_model: an analysis.BoundCurve, or a trained 2-D VAE (then ``x``, the images, is
    needed and analysis.bound_curve(model, x, ks, seed) computes the data). Error bars: the
    standard error of each IWAE(K)'s gap to log p(x) over the images. -> Figure
    """
    if isinstance(data_or_model, analysis.BoundCurve):
        data, name = data_or_model, None
    else:
        if x is None:
            raise ValueError("bound_curve of a model needs the images x (or pass an analysis.BoundCurve)")
        data, name = analysis.bound_curve(data_or_model, x, ks, seed), data_or_model.prior_name
    figure, ax = _figure_and_axes(ax, (6.0, 3.8))
    ax.axhline(data.exact, color="black", linewidth=1.2, label=f"exact log p(x), by quadrature: {data.exact:.2f}")
    ax.errorbar(
        data.ks,
        data.iwae,
        yerr=data.gap_se,
        color="#1f77b4",
        marker="o",
        markersize=4,
        linewidth=1.4,
        capsize=2,
        label=f"IWAE(K): {data.iwae[-1]:.2f} at K = {data.ks[-1]}",
    )
    ax.axhline(
        data.elbo,
        color="#d62728",
        linestyle="--",
        linewidth=1.2,
        label=f"ELBO: {data.elbo:.2f} (the book's “nll” is −ELBO = {-data.elbo:.2f})",
    )
    ax.set_xscale("log")
    ax.set_xlabel("K, importance samples per image")
    ax.set_ylabel(f"nats per image (mean of {data.num_images})")
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    title = "ELBO ≤ IWAE(K) ≤ log p(x)"
    ax.set_title(f"{name} prior: {title}" if name else title, fontsize=10)
    return figure
