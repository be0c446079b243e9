"""The figures that look inside a prior: pseudo-inputs, the GTM grid, mixture components, flow stages.

Each check compares what is drawn with what the prior computes, so a wrong layout, a wrong
mapping or a flow drawn with the wrong direction fails here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.collections import PathCollection
from matplotlib.offsetbox import AnnotationBbox

import vaelib
from vaelib import plots
from vaelib.priors import StandardPrior
from vaelib.priors.base import grid_points

pytestmark = pytest.mark.usefixtures("single_thread")


def scatter_offsets(ax) -> list[np.ndarray]:
    return [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]


def test_pseudo_inputs_show_every_pseudo_input_on_the_prior_scale(tiny):
    model = tiny["vampprior"]
    figure = plots.pseudo_inputs(model)
    ax = figure.axes[0]
    mosaic = np.ma.getdata(ax.images[0].get_array())
    k = model.prior.pseudo_inputs.shape[0]
    columns = min(k, 8)
    rows = -(-k // columns)
    assert mosaic.shape == (rows * 9 - 1, columns * 9 - 1)  # 8x8 tiles with 1-pixel gaps
    first = mosaic[:8, :8]
    expected = model.prior.pseudo_inputs[0].detach().reshape(8, 8).numpy()
    np.testing.assert_allclose(first, expected, atol=1e-5)
    assert ax.images[0].norm.vmax == pytest.approx(16.0)


def test_gtm_vampprior_pseudo_inputs_are_laid_out_as_their_grid_points(tiny):
    """Top-left tile: the grid point with the smallest u1 and the largest u2; bottom-right: the reverse."""
    model = tiny["gtm-vampprior"]
    prior = model.prior
    figure = plots.pseudo_inputs(model)
    mosaic = np.ma.getdata(figure.axes[0].images[0].get_array())
    grid = prior.grid
    images = prior.pseudo_inputs.detach()
    top_left = int(torch.argmin(grid[:, 0] - grid[:, 1]))
    bottom_right = int(torch.argmax(grid[:, 0] - grid[:, 1]))
    g = prior.grid_size
    np.testing.assert_allclose(mosaic[:8, :8], images[top_left].reshape(8, 8).numpy(), atol=1e-5)
    last = slice((g - 1) * 9, g * 9 - 1)
    np.testing.assert_allclose(mosaic[last, last], images[bottom_right].reshape(8, 8).numpy(), atol=1e-5)


def test_pseudo_inputs_name_the_prior_that_has_none(tiny):
    with pytest.raises(ValueError, match="StandardPrior|Standard.*no pseudo-inputs"):
        plots.pseudo_inputs(tiny["standard"])
    with pytest.raises(ValueError, match=r"shape \(K, 64\)"):
        plots.pseudo_inputs(torch.zeros(3, 10))


def test_gtm_grid_draws_the_grid_points(tiny):
    prior = tiny["gtm"].prior
    figure = plots.gtm_grid(tiny["gtm"])
    (points,) = scatter_offsets(figure.axes[0])
    np.testing.assert_allclose(points, prior.grid.numpy())
    with pytest.raises(ValueError, match="no grid"):
        plots.gtm_grid(tiny["mog"])


@pytest.mark.parametrize("name", ["gtm", "gtm-vampprior"])
def test_the_mesh_is_the_component_means_and_the_sheet_passes_through_them(tiny, name):
    """The mesh's points are the component means on the grid's lattice; with a sheet as fine as the
    grid itself, the sheet's vertices are exactly the component means."""
    model = tiny[name]
    prior = model.prior
    g = prior.grid_size
    layout = plots.mixture_components_data(model, sheet=g)
    with torch.no_grad():
        means = prior.components().means
    np.testing.assert_array_equal(layout.mesh.reshape(-1, 2).numpy(), means.numpy())
    lattice = layout.mesh.numpy()  # [i, j]: the image of grid point (u1_i, u2_j), so neighbours are one step apart
    np.testing.assert_array_equal(lattice[1, 0], means[g].numpy())
    np.testing.assert_array_equal(lattice[0, 1], means[1].numpy())
    assert layout.sheet.shape == (g, g, 2)
    sheet_points = layout.sheet.reshape(-1, 2).numpy()
    # Every mean is a vertex of the sheet, and every vertex is a mean.
    distances = np.linalg.norm(sheet_points[:, None, :] - means.numpy()[None, :, :], axis=-1)
    assert distances.min(axis=1).max() < 1e-4 and distances.min(axis=0).max() < 1e-4
    # And the figure draws the sheet: 2 * g thin lines through those vertices.
    figure = plots.mixture_components(model, sheet=g)
    thin = [line for line in figure.axes[0].lines if line.get_linewidth() == pytest.approx(0.35)]
    assert len(thin) == 2 * g
    np.testing.assert_allclose(
        np.concatenate([line.get_xydata() for line in thin[::2]]), layout.sheet.transpose(0, 1).reshape(-1, 2).numpy()
    )


def test_a_finer_sheet_is_the_prior_mapping_its_fine_grid(tiny):
    prior = tiny["gtm"].prior
    layout = plots.mixture_components_data(tiny["gtm"], sheet=7)
    with torch.no_grad():
        expected = prior.components_at(prior.fine_grid(7))[0]
    np.testing.assert_array_equal(layout.sheet.reshape(-1, 2).numpy(), expected.numpy())


def test_mixture_components_marks_each_mean(tiny, digits):
    model = tiny["mog"]
    figure = plots.mixture_components(model, digits.test[:100])
    offsets = scatter_offsets(figure.axes[0])
    with torch.no_grad():
        _, means, _ = model.prior.mixture_parameters()
    means = means.detach()
    assert len(offsets) == 2  # encoder samples, component means
    np.testing.assert_allclose(offsets[-1], means.numpy(), rtol=1e-5)
    # Every mean is inside the frame, even one far from the data.
    (left, right), (bottom, top) = figure.axes[0].get_xlim(), figure.axes[0].get_ylim()
    assert (means[:, 0] > left).all() and (means[:, 0] < right).all()
    assert (means[:, 1] > bottom).all() and (means[:, 1] < top).all()


def test_vampprior_components_carry_their_pseudo_inputs(tiny):
    model = tiny["vampprior"]
    figure = plots.mixture_components(model)
    boxes = [a for a in figure.axes[0].artists if isinstance(a, AnnotationBbox)]
    assert len(boxes) == model.prior.pseudo_inputs.shape[0]
    with pytest.raises(ValueError, match="not a mixture"):
        plots.mixture_components(tiny["flow"])


def test_flow_stages_end_at_the_points_they_were_given(tiny, digits):
    """The points are pulled back to N(0, I) and pushed through every coupling: the last stage
    must be z itself, which fails if the inverse, the order or the flips were wrong."""
    model = tiny["flow"]
    torch.manual_seed(0)
    with torch.no_grad():
        z = model.posterior(digits.test[:50]).sample()
    data = plots.flow_stages_data(model, z)
    couplings = len(model.prior.conditioners)
    assert data.num_stages == couplings + 1
    np.testing.assert_allclose(data.points[-1], z.numpy(), rtol=1e-4, atol=1e-4)
    with torch.no_grad():
        base = z
        for transform in reversed(model.prior.distribution().transforms):
            base = transform.inv(base)
    np.testing.assert_allclose(data.points[0], base.numpy(), rtol=1e-4, atol=1e-4)
    # Stage 0's lines are the base space's own: 13 of constant u2 over [-3, 3], then 13 of constant u1.
    lines = data.paths[0]
    assert lines.shape == (26, 200, 2)
    assert torch.equal(lines[:13, :, 1], torch.linspace(-3, 3, 13)[:, None].expand(-1, 200))
    assert torch.equal(lines[13:, :, 0], torch.linspace(-3, 3, 13)[:, None].expand(-1, 200))
    # One frame holds every stage.
    left, right, bottom, top = data.extent
    for stage in range(data.num_stages):
        for values in (data.paths[stage].reshape(-1, 2), data.points[stage]):
            assert values[:, 0].min() >= left and values[:, 0].max() <= right
            assert values[:, 1].min() >= bottom and values[:, 1].max() <= top
    # The figure draws one panel per stage, the stage's points in each, in that frame.
    figure = plots.flow_stages(model, z)
    assert len(figure.axes) == couplings + 1
    for ax, points in zip(figure.axes, data.points):
        (dots,) = scatter_offsets(ax)
        np.testing.assert_array_equal(dots, points.numpy())
        assert ax.get_xlim() == pytest.approx(data.extent[:2]) and ax.get_ylim() == pytest.approx(data.extent[2:])
    with pytest.raises(ValueError, match="stage 9 out of range"):
        plots.flow_stages(model, stages=[9])
    with pytest.raises(ValueError, match="not a flow prior"):
        plots.flow_stages(tiny["standard"])


class LookAlikePrior(StandardPrior):
    """A standard normal prior carrying attributes with the names of other priors' capabilities."""

    def __init__(self):
        super().__init__(2)
        self.grid, self.grid_size = grid_points(3, 1.0), 3
        self.pseudo_inputs = torch.zeros(9, 64)
        self.mixture_parameters = self.components = self.stages = self.transforms = lambda: None


def test_figures_ask_what_a_prior_is_instead_of_guessing_from_its_attributes(tiny):
    model = vaelib.VAE(tiny["standard"].encoder, tiny["standard"].decoder, LookAlikePrior())
    with pytest.raises(ValueError, match="LookAlikePrior has no grid"):
        plots.gtm_grid(model)
    with pytest.raises(ValueError, match="LookAlikePrior has no pseudo-inputs"):
        plots.pseudo_inputs(model)
    with pytest.raises(ValueError, match="LookAlikePrior is not a mixture"):
        plots.mixture_components(model)
    with pytest.raises(ValueError, match="LookAlikePrior is not a flow prior"):
        plots.flow_stages(model)
    with pytest.raises(TypeError, match="flow_stages takes a VAE or a prior, got str"):
        plots.flow_stages("flow")


def test_grid_points_layout_matches_the_helper():
    """_grid_layout assumes grid_points is row-major with u1 varying slowest."""
    g = 3
    grid = grid_points(g, 1.0)
    order = plots._grid_layout(g)
    pictured = grid[order].reshape(g, g, 2)  # [row, col]
    assert torch.all(pictured[:, 0, 0] == -1.0) and torch.all(pictured[0, :, 1] == 1.0)
    assert torch.all(pictured[-1, :, 1] == -1.0) and torch.all(pictured[:, -1, 0] == 1.0)


def test_image_grid_tiles_images_row_by_row():
    images = torch.arange(5 * 64, dtype=torch.float32).reshape(5, 64) % 17
    figure = plots.image_grid(images, ncols=3, title="five")
    mosaic = np.ma.getdata(figure.axes[0].images[0].get_array())
    assert mosaic.shape == (2 * 9 - 1, 3 * 9 - 1)
    np.testing.assert_allclose(mosaic[9:17, 9:17], images[4].reshape(8, 8).numpy())  # row 2, column 2
    assert np.isnan(mosaic[9:17, 18:]).all()  # the sixth tile is empty
    with pytest.raises(ValueError, match=r"shape \(n, 64\)"):
        plots.image_grid(torch.zeros(2, 8, 8))


def test_on_grid_puts_each_image_at_its_grid_point():
    g = 3
    grid = grid_points(g, 1.0)
    images = grid.repeat(1, 32)  # image k carries its grid point (u1, u2) in its first two pixels
    arranged = plots.on_grid(images, g).reshape(g, g, 64)  # [row, col]
    assert torch.all(arranged[0, :, 1] == 1.0) and torch.all(arranged[:, 0, 0] == -1.0)  # top row u2 = 1, left u1 = -1
    with pytest.raises(ValueError, match="needs 3x3 = 9 images, got 4"):
        plots.on_grid(images[:4], g)
