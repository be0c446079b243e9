"""What every figure shares: colours, mass levels and sizes, and small helpers for axes and image mosaics.

Figures are built with matplotlib's object-oriented API only: no pyplot state, no backend
chosen here. A figure function draws into axes it is given (clearing them first, so a widget
can redraw in place) or makes a new Figure.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from torch import Tensor

from ..data import image_shape

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

#: Font sizes in points. Nothing is smaller than SMALL_TEXT at the size a notebook shows the figure,
#: so a projector can show it; figures are at most DISPLAY_WIDTH inches wide, which a notebook
#: shows unscaled (100 pixels per inch, about the width of JupyterLab's output area on a laptop).
TITLE_SIZE = 10
SMALL_TEXT = 8
DISPLAY_WIDTH = 9.0

LEGEND_STYLE = dict(title="digit", fontsize=SMALL_TEXT, title_fontsize=SMALL_TEXT + 1, frameon=False, handletextpad=0.1)

#: The lines of a mapped grid (GTM mesh, flow stages): of constant u2 (along u1), and of constant u1 (along u2).
MESH_COLORS = ("#4c72b0", "#dd8452")


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


def _few_ticks(ax) -> None:
    """At most about 4 ticks per axis at round steps (no 2.5s): short labels that stay apart
    in the narrow panels of a multi-panel figure."""
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))


def _label_latent_axes(ax, extent, key: str = "") -> None:
    """Limits, equal aspect and axis labels of a latent-plane plot; ``key`` goes under the z1 label
    (where a widget that copies the axis labels onto its own frame keeps it too)."""
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$" + (f"\n{key}" if key else ""))
    ax.set_ylabel("$z_2$")


def _digit_colors(labels: Tensor) -> list:
    """One colour per label (LABEL_COLORS). labels: (N,) -> N colours"""
    return [LABEL_COLORS[d % 10] for d in labels.tolist()]


def _digit_legend(labels: Tensor) -> tuple[list, list]:
    """Legend handles and texts for the digits present in ``labels``."""
    digits = sorted(set(labels.tolist()))
    handles = [Line2D([], [], linestyle="", marker="o", markersize=4, color=LABEL_COLORS[d % 10]) for d in digits]
    return handles, [str(d) for d in digits]


def _square_images(images: Tensor, what: str, noun: str = "images", rows: str = "n") -> tuple[int, int]:
    """(height, width) of flattened square images (n, H*H), or a ValueError naming ``what`` and the shape."""
    if images.dim() == 2:
        try:
            return image_shape(images.shape[1])
        except ValueError:
            pass
    raise ValueError(
        f"{what}: {noun} must have shape ({rows}, 64) for Digits or ({rows}, 784) for MNIST-5k "
        f"(one flattened square image per row), got {tuple(images.shape)}"
    )


def _mosaic(images: Tensor, ncols: int, pad: int = 1, what: str = "an image mosaic") -> np.ndarray:
    """Images (n, H*H) tiled into rows of ``ncols``, separated by ``pad`` NaN pixels. -> (rows, columns)"""
    height, width = _square_images(images, what)
    n = images.shape[0]
    nrows = math.ceil(n / ncols)
    canvas = np.full((nrows * (height + pad) - pad, ncols * (width + pad) - pad), np.nan)
    for i, image in enumerate(images.detach().float().cpu().numpy()):
        row, col = divmod(i, ncols)
        top, left = row * (height + pad), col * (width + pad)
        canvas[top : top + height, left : left + width] = image.reshape(height, width)
    return canvas


def _show_images(ax, images: Tensor, ncols: int, top: float, title: str, what: str = "an image mosaic") -> None:
    ax.imshow(_mosaic(images, ncols, what=what), cmap=IMAGE_CMAP, vmin=0, vmax=top, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=TITLE_SIZE)
