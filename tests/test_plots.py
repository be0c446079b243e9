"""Every figure draws on a tiny trained model, shows the real densities, and can redraw in place."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from matplotlib._pylab_helpers import Gcf
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

import vaelib
from vaelib import analysis, plots

pytestmark = pytest.mark.usefixtures("single_thread")


def contour_sets(ax) -> list:
    return [artist for artist in ax.collections if isinstance(artist, ContourSet)]


def fine_grid_over(ax, resolution=250):
    """Cell centres and cell area of a fine grid over the axes' limits, built here from scratch."""
    (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
    h1, h2 = (right - left) / resolution, (top - bottom) / resolution
    z1 = left + h1 * (torch.arange(resolution) + 0.5)
    z2 = bottom + h2 * (torch.arange(resolution) + 0.5)
    points = torch.stack(torch.meshgrid(z1, z2, indexing="ij"), -1).reshape(-1, 2)
    return points, h1 * h2


# ---------------------------------------------------------------------------------------
# 1. Prior contours
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["standard", "vampprior", "flow"])
def test_each_contour_encloses_the_share_of_prior_mass_its_label_states(tiny, digits, name):
    model = tiny[name]
    figure = plots.prior_contours(model, digits.test, neg_elbo=123.456)
    assert isinstance(figure, Figure) and len(figure.axes) == 1
    ax = figure.axes[0]
    (contours,) = contour_sets(ax)
    # The prior's own density on a fine grid over the plotted region, independent of vaelib.
    points, area = fine_grid_over(ax)
    with torch.no_grad():
        density = model.prior.log_prob(points).exp()
    assert float(density.sum() * area) == pytest.approx(1.0, abs=0.01)  # the plot frames the prior's mass
    labels = {level: text.get_text() for level, text in zip(contours.labelLevelList, contours.labelTexts)}
    assert set(labels.values()) == {f"{share:.0%}" for share in plots.MASS_LEVELS}
    for level, text in labels.items():
        enclosed = float(density[density >= level].sum() * area)
        # The plot found its levels on an 80 x 80 grid: within 2% of the mass.
        assert enclosed == pytest.approx(float(text.rstrip("%")) / 100, abs=0.02), text
    assert ax.get_xlabel().startswith("$z_1$\ncontour lines enclose 25%") and ax.get_ylabel() == "$z_2$"
    assert ax.get_aspect() == 1.0
    assert name in ax.get_title() and "123.46" in ax.get_title()


def test_title_computes_the_test_elbo_when_not_given(tiny, digits):
    model = tiny["mog"]
    # The title's -ELBO takes one posterior draw per image, which on these tiny models spreads by
    # ~0.5 nats from draw to draw. With the dots at the posterior means (no random numbers), it takes
    # the same draws as a call made here from the same seed, so the numbers agree exactly.
    torch.manual_seed(0)
    title = plots.prior_contours(model, digits.test, sample=False).axes[0].get_title()
    torch.manual_seed(0)
    expected = vaelib.negative_elbo(model, digits.test)
    assert title == f"mog prior: test −ELBO {expected:.2f}"


def test_encoder_samples_are_drawn_one_per_test_image(tiny, digits):
    ax = plots.prior_contours(tiny["gtm"], digits.test, neg_elbo=0.0).axes[0]
    (dots,) = [c for c in ax.collections if not isinstance(c, ContourSet)]
    assert dots.get_offsets().shape == (len(digits.test), 2)


def test_prior_contours_redraw_into_the_same_axes_without_a_new_figure(tiny, digits):
    figures_before = Gcf.get_num_fig_managers()
    figure = plots.prior_contours(tiny["standard"], digits.test, neg_elbo=1.0)
    ax = figure.axes[0]
    artists = len(ax.collections), len(ax.texts)
    again = plots.prior_contours(tiny["mog"], digits.test, ax=ax, neg_elbo=2.0)
    assert again is figure and figure.axes == [ax]
    assert (len(ax.collections), len(ax.texts)) == artists  # cleared, not drawn on top
    assert "mog" in ax.get_title()
    assert Gcf.get_num_fig_managers() == figures_before  # pyplot never got involved


def test_dots_coloured_by_digit_come_with_a_legend_of_the_digits(tiny, digits):
    figure = plots.prior_contours(tiny["vampprior"], digits.test, digits.test_labels, neg_elbo=1.0)
    assert len(figure.axes) == 1
    legend = figure.axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == [str(d) for d in range(10)]
    (dots,) = [c for c in figure.axes[0].collections if not isinstance(c, ContourSet)]
    assert len(np.unique(dots.get_facecolors(), axis=0)) == 10


def test_contour_levels_are_where_the_enclosed_mass_reaches_each_share(tiny, digits):
    """On the data's own grid, the mass above each level is just under its share, at or above it just over."""
    model = tiny["mog"]
    data = plots.prior_contours_data(model, digits.test, sample=False)
    contours, grid = data.contours, data.contours.grid
    with torch.no_grad():
        assert torch.allclose(data.codes, model.posterior(digits.test).mean)  # sample=False: the means
        assert torch.allclose(contours.density, model.prior.log_prob(grid.points).exp(), rtol=1e-4, atol=1e-12)
    assert contours.shares == sorted(plots.MASS_LEVELS, reverse=True) and np.all(np.diff(contours.levels) > 0)
    density = contours.density.double()
    for level, share in zip(contours.levels, contours.shares):
        assert float(density[density > level].sum()) * grid.cell_area < share
        assert float(density[density >= level].sum()) * grid.cell_area >= share


# ---------------------------------------------------------------------------------------
# 2. Aggregated posterior against the prior
# ---------------------------------------------------------------------------------------
def test_posterior_and_prior_heat_maps_share_grid_and_colour_scale(tiny, digits):
    model = tiny["standard"]
    figure = plots.posterior_vs_prior(model, digits.test, resolution=60)
    assert len(figure.axes) == 3  # q(z), p(z) and the colour bar
    q_image, p_image = figure.axes[0].images[0], figure.axes[1].images[0]
    assert q_image.get_extent() == p_image.get_extent()
    assert (q_image.norm.vmin, q_image.norm.vmax) == (p_image.norm.vmin, p_image.norm.vmax)
    # The maps are densities: q(z) and p(z) integrate to ~1 over the plotted grid.
    left, right, bottom, top = q_image.get_extent()
    area = (right - left) * (top - bottom) / q_image.get_array().size
    assert float(q_image.get_array().sum() * area) == pytest.approx(1.0, abs=0.01)
    assert float(p_image.get_array().sum() * area) == pytest.approx(1.0, abs=0.01)
    assert f"{analysis.holes(model, digits.test):.1%} of its mass in holes" in figure.axes[1].get_title()


@pytest.mark.parametrize("name", ["standard", "mog"])
def test_hatched_holes_hold_the_share_of_prior_mass_the_title_states(tiny, digits, name):
    model = tiny[name]
    data = plots.posterior_vs_prior_data(model, digits.test, resolution=60)
    p = torch.exp(data.log_p)
    assert torch.all(data.log_q[data.in_holes] - data.log_p[data.in_holes] < math.log(analysis.HOLE_RATIO))
    assert torch.all(data.log_q[~data.in_holes] - data.log_p[~data.in_holes] >= math.log(analysis.HOLE_RATIO))
    marked = float((p * data.in_holes).sum() * data.grid.cell_area)
    outside = 1 - float(p.sum() * data.grid.cell_area)  # the prior's mass beyond the grid: not drawn
    # The title's share (10,000 prior samples: 4 standard errors are 0.02) counts holes everywhere, the
    # hatching those on the grid (the prior's mass beyond it is missing); cells cut by a hole's edge: 0.01.
    assert data.share - outside - 0.03 <= marked <= data.share + 0.03
    assert data.share > 0.05  # a real test: these models have holes


# ---------------------------------------------------------------------------------------
# 3. Samples and reconstructions
# ---------------------------------------------------------------------------------------
def test_prior_samples_are_a_grid_of_decoded_images(tiny):
    figure = plots.prior_samples(tiny["gtm-vampprior"], n=12, ncols=4, seed=0)
    assert len(figure.axes) == 1
    picture = figure.axes[0].images[0].get_array()
    assert picture.shape == (3 * 9 - 1, 4 * 9 - 1)  # 3 x 4 tiles of 8 x 8, 1-pixel gaps
    assert 0 <= picture.min() and picture.max() <= 16


def test_reconstructions_sit_beside_the_originals(tiny, digits):
    figure = plots.reconstructions(tiny["mog"], digits.test, n=8, ncols=4)
    assert len(figure.axes) == 2
    originals = figure.axes[0].images[0].get_array()
    assert np.array_equal(originals[:8, :8], digits.test[0].reshape(8, 8).numpy())
    assert figure.axes[1].images[0].get_array().shape == originals.shape


# ---------------------------------------------------------------------------------------
# 4. Latent manifold
# ---------------------------------------------------------------------------------------
def test_latent_manifold_puts_each_decoded_image_at_its_latent_point(tiny):
    model = tiny["flow"]
    figure = plots.latent_manifold(model, n=5, extent=(-2, 2, -2, 2))
    assert len(figure.axes) == 1
    image = figure.axes[0].images[0]
    picture = image.get_array()
    left, right, bottom, top = image.get_extent()
    pixel = (right - left) / picture.shape[1]
    # Top-left tile: the smallest z1 and the largest z2 of the 5 x 5 cell centres (+-1.6).
    expected = model.decode_mean(torch.tensor([[-1.6, 1.6]]))[0].reshape(8, 8).numpy()
    assert np.allclose(picture[:8, :8], expected, atol=1e-5)
    assert (left + 4 * pixel, top - 4 * pixel) == pytest.approx((-1.6, 1.6))
    expected = model.decode_mean(torch.tensor([[1.6, -1.6]]))[0].reshape(8, 8).numpy()
    assert np.allclose(picture[-8:, -8:], expected, atol=1e-5)
    assert len(contour_sets(figure.axes[0])) == 1


# ---------------------------------------------------------------------------------------
# 5. Training curves and 6. the comparison figure
# ---------------------------------------------------------------------------------------
def test_training_curves_draw_one_validation_curve_per_run(tiny):
    histories = {name: model.history for name, model in tiny.items()}
    figure = plots.training_curves(histories)
    ax = figure.axes[0]
    assert len(figure.axes) == 1
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) > 1]
    assert len(curves) == len(tiny)
    assert np.array_equal(curves[0].get_ydata(), tiny["standard"].history.val_loss)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert all(any(text.startswith(name + ":") for text in legend) for name in tiny)
    # A list of models works too, named by their priors.
    assert len(plots.training_curves(list(tiny.values())[:2]).axes[0].get_legend().get_texts()) == 2


def test_comparison_has_one_panel_per_prior_with_the_same_limits(tiny, digits):
    figure = plots.prior_comparison(
        tiny, digits.test, digits.test_labels, resolution=40, neg_elbos={name: 100.0 for name in tiny}
    )
    assert len(figure.axes) == len(tiny)
    assert len({ax.get_xlim() for ax in figure.axes}) == 1 and len({ax.get_ylim() for ax in figure.axes}) == 1
    assert [ax.get_title().split(":")[0] for ax in figure.axes] == list(tiny)
    assert len(figure.legends) == 1  # one digit legend for all panels


# ---------------------------------------------------------------------------------------
# 7. Figures of the latent plane need a 2-D latent space; the others work in any dimension
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def three_dim():
    """prior name -> an untrained VAE with a 3-D latent space."""
    names = ("standard", "mog", "vampprior", "gtm", "flow")
    return {name: vaelib.make_vae(name, latent_dim=3, hidden_dim=8, seed=0, device="cpu") for name in names}


PLANE_FIGURES = {
    "prior_contours": lambda models, x: plots.prior_contours(models["standard"], x),
    "posterior_vs_prior": lambda models, x: plots.posterior_vs_prior(models["standard"], x),
    "latent_manifold": lambda models, x: plots.latent_manifold(models["standard"], x),
    "prior_comparison": lambda models, x: plots.prior_comparison({"mog": models["mog"]}, x),
    "mixture_components": lambda models, x: plots.mixture_components(models["gtm"], x),
    "flow_stages": lambda models, x: plots.flow_stages(models["flow"]),
}


@pytest.mark.parametrize("figure", list(PLANE_FIGURES))
def test_latent_plots_explain_that_they_need_two_latent_dimensions(three_dim, digits, figure):
    """A 3-D model gets an error naming the figure and its latent size, never a picture of two of its axes."""
    with pytest.raises(ValueError, match=rf"{figure}.*2-D latent space.*latent_dim=3"):
        PLANE_FIGURES[figure](three_dim, digits.test[:10])


def test_figures_of_images_work_in_any_latent_dimension(three_dim, digits):
    model = three_dim["vampprior"]
    assert plots.prior_samples(model, n=4, ncols=2, seed=0).axes[0].images[0].get_array().shape == (17, 17)
    assert len(plots.reconstructions(model, digits.test, n=4, ncols=2).axes) == 2
    k = model.prior.num_components
    assert plots.pseudo_inputs(model).axes[0].images[0].get_array().shape == (-(-k // 8) * 9 - 1, 8 * 9 - 1)
    assert len(plots.gtm_grid(three_dim["gtm"]).axes[0].lines) == 2 * three_dim["gtm"].prior.grid_size
    trained = vaelib.make_vae("standard", latent_dim=3, hidden_dim=8, seed=0, device="cpu")
    history = vaelib.fit(trained, digits, recipe="book", seed=0, max_epochs=2, progress=False)
    assert len(plots.training_curves({"3-D": history}).axes[0].get_legend().get_texts()) == 1
