"""The aggregated posterior, ELBO surgery, holes and the comparison table compute what they claim."""

from __future__ import annotations

import copy
import csv
import html
import math

import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence

import vaelib
from vaelib import analysis, latent
from vaelib.priors import gaussian_mixture

# Tiny models trained for a few epochs barely use their latent space (I(x; z) ~ 0.01
# nats), which would make ELBO surgery a weak test. The identity holds for any encoder, so
# we sharpen theirs: posterior means spread 3x wider, standard deviations e^1.5 ~ 4.5x smaller.
SPREAD, SHRINK = 3.0, 3.0
GRID = 200  # quadrature resolution of these tests

pytestmark = pytest.mark.usefixtures("single_thread")


def sharpened(model):
    """A copy of ``model`` whose encoder is confident and spread out (the prior is unchanged)."""
    model = copy.deepcopy(model)  # deepcopy keeps the VampPrior's shared encoder shared
    out, latent_dim = model.encoder.net[-1], model.latent_dim
    with torch.no_grad():
        out.weight[:latent_dim] *= SPREAD
        out.bias[:latent_dim] *= SPREAD
        out.bias[latent_dim:] -= SHRINK  # the log-variances
    return model


@pytest.fixture(scope="module")
def sharp(tiny):
    return {name: sharpened(model) for name, model in tiny.items()}


class FixedMixturePrior(vaelib.Prior):
    """A prior that is a given Gaussian mixture (uniform weights), e.g. the aggregated posterior."""

    def __init__(self, means, logvars):
        super().__init__(means.shape[1])
        self.register_buffer("means", means.detach().clone())
        self.register_buffer("logvars", logvars.detach().clone())

    def distribution(self):
        return gaussian_mixture(torch.zeros(len(self.means)), self.means, self.logvars)


def with_prior(model, prior):
    return vaelib.VAE(model.encoder, model.decoder, prior)


# ---------------------------------------------------------------------------------------
# Grid and densities
# ---------------------------------------------------------------------------------------
def test_latent_grid_cells_tile_the_extent_and_reshape_with_z2_along_rows():
    grid = analysis.LatentGrid.over((-2.0, 4.0, -1.0, 1.0), 50)
    assert grid.points.shape == (2500, 2)
    assert grid.cell_area * 2500 == pytest.approx(6.0 * 2.0)
    assert grid.z1[0] == pytest.approx(-2.0 + 0.06) and grid.z1[-1] == pytest.approx(4.0 - 0.06)
    image_z1, image_z2 = grid.image(grid.points[:, 0]), grid.image(grid.points[:, 1])
    assert torch.all(image_z1[0] == grid.z1) and torch.all(image_z2[:, 0] == grid.z2)
    # The midpoint rule integrates a density that fits inside the box to 1.
    normal = Independent(Normal(torch.tensor([1.0, 0.0]), torch.tensor([0.3, 0.2])), 1)
    assert grid.integrate(normal.log_prob(grid.points)) == pytest.approx(1.0, abs=1e-6)


def test_extents_are_the_smallest_boxes_that_hold_what_they_are_given():
    square = analysis.square_extent((0.0, 4.0, 1.0, 2.0), margin=0.25)
    assert square == pytest.approx((-1.0, 5.0, -1.5, 4.5))  # side 4, widened by 1 on each side; same centre
    assert analysis.union_extent([(0, 1, 0, 1), (-2, 0.5, 0.5, 3)]) == (-2, 1, 0, 3)
    points = torch.tensor([[1.0, -1.0], [3.0, 2.0], [2.0, 0.0]])
    assert latent.bounding_extent(points, pad=0.5) == pytest.approx((0.5, 3.5, -1.5, 2.5))


def test_the_latent_plane_lives_in_vaelib_latent_and_analysis_keeps_its_names():
    for name in ("LatentGrid", "latent_extent", "latent_grid", "require_2d", "square_extent", "union_extent"):
        assert getattr(analysis, name) is getattr(latent, name), name
    assert analysis.with_fixed_seed is vaelib.seeding.with_fixed_seed
    model = vaelib.make_vae("standard", latent_dim=3, hidden_dim=8, seed=0, device="cpu")
    with pytest.raises(ValueError, match=r"^my plot needs a 2-D latent space .* latent_dim=3; use another$"):
        latent.require_2d(model, "my plot", "use another")
    with pytest.raises(ValueError, match=r"flow_stages needs a 2-D latent space .* latent_dim=3$"):
        latent.require_2d(model.prior, "flow_stages")
    latent.require_2d(vaelib.make_vae("standard", hidden_dim=8, seed=0, device="cpu"), "a 2-D model passes")


def test_aggregate_posterior_is_the_average_of_the_posterior_densities(tiny, digits):
    model, x = tiny["mog"], digits.test[:25]
    z = torch.randn(40, 2) * 2
    with torch.no_grad():
        mean, logvar = model.encoder(x)
    by_hand = (
        torch.stack(
            [Independent(Normal(mean[n], torch.exp(0.5 * logvar[n])), 1).log_prob(z).exp() for n in range(len(x))]
        )
        .mean(0)
        .log()
    )
    assert torch.allclose(analysis.aggregate_posterior_log_density(model, x, z), by_hand, atol=1e-5)


@pytest.mark.parametrize("name", list(vaelib.PRIORS))
def test_prior_and_aggregate_posterior_integrate_to_one_on_the_latent_grid(sharp, digits, name):
    model = sharp[name]
    grid = analysis.latent_grid(model, digits.test, GRID)
    # The grid holds each posterior out to 4 standard deviations and the prior's central
    # 99.8% per coordinate plus a margin: the mass left outside is far below 1%.
    assert grid.integrate(analysis.aggregate_posterior_log_density(model, digits.test, grid)) == pytest.approx(
        1, abs=1e-3
    )
    assert grid.integrate(analysis.prior_log_density(model, grid)) == pytest.approx(1, abs=1e-2)


# ---------------------------------------------------------------------------------------
# ELBO surgery
# ---------------------------------------------------------------------------------------
def test_elbo_surgery_identity_holds_against_the_closed_form_kl_of_the_standard_prior(sharp, digits):
    model, x = sharp["standard"], digits.test
    # Left side, exactly: KL between diagonal Gaussians in closed form, averaged over images.
    with torch.no_grad():
        posterior = model.posterior(x)
    standard = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
    left = float(kl_divergence(posterior, standard).double().mean())
    # Right side, independently: I(x; z) and KL(q(z) || p(z)) by quadrature on the grid.
    grid = analysis.latent_grid(model, x, GRID)
    surgery = analysis.elbo_surgery(model, x, grid=grid)
    # The tolerance: the midpoint rule's error on a Gaussian of std sigma with cells of width
    # h is ~exp(-2 pi^2 sigma^2 / h^2): nothing once h < sigma / 3. The grid misses less than
    # 1e-5 of q(z)'s mass, where the integrands are a few tens of nats: < 1e-3 nats in all.
    assert grid.cell_width < float(posterior.stddev.min()) / 3
    assert surgery.grid_mass == pytest.approx(1, abs=1e-5)
    assert surgery.mutual_information > 0.5 and surgery.marginal_kl > 1  # a real test: both terms matter
    assert surgery.mutual_information + surgery.marginal_kl == pytest.approx(left, abs=1e-3)


@pytest.mark.parametrize("name", list(vaelib.PRIORS))
def test_quadrature_and_monte_carlo_agree_on_every_term(sharp, digits, name):
    model, x = sharp[name], digits.test
    quadrature = analysis.elbo_surgery(model, x, "quadrature", resolution=GRID)
    monte_carlo = analysis.elbo_surgery(model, x, "monte-carlo", num_samples=64, seed=0)
    # Monte Carlo with its own samples: within 4 standard errors (plus 1e-3 for the quadrature).
    errors = monte_carlo.standard_errors
    assert monte_carlo.mutual_information == pytest.approx(
        quadrature.mutual_information, abs=4 * errors["mutual_information"] + 1e-3
    )
    assert monte_carlo.marginal_kl == pytest.approx(quadrature.marginal_kl, abs=4 * errors["marginal_kl"] + 1e-3)
    # The identity across methods: the left side by Monte Carlo, the right side by quadrature.
    assert monte_carlo.average_kl == pytest.approx(
        quadrature.mutual_information + quadrature.marginal_kl, abs=4 * errors["average_kl"] + 1e-3
    )
    # Mutual information of N images can never exceed log N.
    assert 0 < quadrature.mutual_information < math.log(len(x))


def test_quadrature_needs_a_2d_latent_space_but_monte_carlo_does_not(digits):
    model = vaelib.make_vae("mog", latent_dim=3, hidden_dim=8, seed=0, device="cpu")
    with pytest.raises(ValueError, match="2-D latent space.*latent_dim=3"):
        analysis.elbo_surgery(model, digits.test[:50])
    surgery = analysis.elbo_surgery(model, digits.test[:50], "monte-carlo", num_samples=8)
    assert math.isfinite(surgery.average_kl) and abs(surgery.residual) < 1e-9


# ---------------------------------------------------------------------------------------
# Holes
# ---------------------------------------------------------------------------------------
def test_holes_are_zero_when_the_prior_is_the_aggregated_posterior(tiny, digits):
    model, x = tiny["standard"], digits.test
    with torch.no_grad():
        means, logvars = model.encoder(x)
    matched = with_prior(model, FixedMixturePrior(means, logvars))
    assert analysis.holes(matched, x) == 0.0
    assert analysis.elbo_surgery(matched, x, resolution=60).marginal_kl == pytest.approx(0, abs=1e-6)


def test_holes_are_almost_all_the_mass_of_a_prior_away_from_the_data(tiny, digits):
    model, x = tiny["standard"], digits.test
    far = FixedMixturePrior(torch.tensor([[50.0, 50.0]]), torch.zeros(1, 2))
    assert analysis.holes(with_prior(model, far), x) > 0.999


def test_holes_estimate_matches_the_prior_mass_in_thin_regions_by_quadrature(sharp, digits):
    """A prior with half its mass on q(z) and half far from the data has holes = 1/2."""
    model, x = sharp["standard"], digits.test
    with torch.no_grad():
        means, logvars = model.encoder(x)
    shifted = means + torch.tensor([12.0, 0.0])
    half_away = FixedMixturePrior(torch.cat([means, shifted]), torch.cat([logvars, logvars]))
    model = with_prior(model, half_away)
    estimate = analysis.holes(model, x, ratio=0.1, num_samples=10_000)
    grid = analysis.latent_grid(model, x, GRID)
    log_q = analysis.aggregate_posterior_log_density(model, x, grid)
    log_p = analysis.prior_log_density(model, grid)
    thin = log_q < math.log(0.1) + log_p
    by_quadrature = float((torch.exp(log_p) * thin).sum() * grid.cell_area)
    assert by_quadrature == pytest.approx(0.5, abs=0.02)
    # Binomial standard error of 10,000 samples, 4 of them, plus cells cut by the boundary.
    assert estimate == pytest.approx(by_quadrature, abs=4 * math.sqrt(0.25 / 10_000) + 0.01)


def test_the_title_of_posterior_vs_prior_shows_the_number_analysis_holes_returns(tiny, digits):
    import matplotlib.pyplot as plt

    model, x = tiny["mog"], digits.test
    share = analysis.holes(model, x)
    figure = vaelib.plots.posterior_vs_prior(model, x, resolution=40)
    titles = [ax.get_title() for ax in figure.axes]
    assert f"{share:.1%} of its mass in holes" in " ".join(titles), titles
    assert vaelib.plots.posterior_vs_prior_data(model, x, resolution=40).share == share
    plt.close(figure)


# ---------------------------------------------------------------------------------------
# The exact log-likelihood and the bounds below it
# ---------------------------------------------------------------------------------------
def constant_decoder(model):
    """A copy of ``model`` whose decoder ignores z: p(x|z) = p(x), so log p(x) is known exactly."""
    model = copy.deepcopy(model)
    with torch.no_grad():
        model.decoder.net[-1].weight.zero_()
    return model


@pytest.mark.parametrize("name", ["standard", "mog", "flow"])
def test_quadrature_integrates_a_decoder_that_ignores_z_to_the_closed_form(tiny, digits, name):
    """With p(x|z) = c(x), log p(x) = log c(x) + log ∫ p(z) dz = log c(x): the prior, not q, sets the
    region, so the scouting box must widen from q's few standard deviations to the prior's mass."""
    model, x = constant_decoder(tiny[name]), digits.test[:20]
    with torch.no_grad():
        exact = model.decoder.log_prob(x, torch.zeros(len(x), 2))
    assert torch.allclose(analysis.exact_log_likelihood(model, x), exact.double(), atol=1e-3)


def test_quadrature_agrees_with_one_fine_grid_over_the_whole_plane(sharp, digits):
    """Independently: the midpoint rule on a single fine grid holding every posterior and the prior."""
    model, x = sharp["mog"], digits.test[:4]
    grid = analysis.latent_grid(model, x, 400)
    with torch.no_grad():
        log_f = torch.cat(
            [model.decoder.log_prob(x, part[:, None, :].expand(-1, len(x), -1)) for part in grid.points.split(8192)]
        )
    log_f = log_f.double() + analysis.prior_log_density(model, grid).double()[:, None]
    by_one_grid = torch.logsumexp(log_f, 0) + math.log(grid.cell_area)
    with torch.no_grad():
        assert grid.cell_width < 0.5 * float(model.posterior(x).stddev.min())  # fine enough for midpoints
    assert torch.allclose(analysis.exact_log_likelihood(model, x), by_one_grid, atol=0.01)


@pytest.mark.parametrize("name", ["standard", "vampprior"])
def test_exact_log_likelihood_has_converged_finer_grids_and_wider_boxes_change_it_by_under_001_nat(sharp, digits, name):
    model, x = sharp[name], digits.test[:40]
    default = analysis.exact_log_likelihood(model, x)
    finer = analysis.exact_log_likelihood(model, x, resolution=61, scout=41)
    wider = analysis.exact_log_likelihood(model, x, reach=24.0, depth=45.0)
    assert abs(float((finer - default).mean())) < 0.01 and abs(float((wider - default).mean())) < 0.01
    assert float((finer - default).abs().max()) < 0.05 and float((wider - default).abs().max()) < 0.05


def test_exact_log_likelihood_needs_a_2d_latent_space(digits):
    model = vaelib.make_vae("standard", latent_dim=3, hidden_dim=8, seed=0, device="cpu")
    with pytest.raises(ValueError, match="exact log-likelihood by quadrature needs a 2-D latent space.*latent_dim=3"):
        analysis.exact_log_likelihood(model, digits.test[:5])


@pytest.fixture(scope="module")
def trained_standard(digits):
    """A standard-prior VAE trained long enough that its posteriors are sharp (std ~0.1-0.3)."""
    model = vaelib.make_vae("standard", hidden_dim=64, seed=0, device="cpu")
    vaelib.fit(model, digits, max_epochs=15, seed=0, progress=False)
    return model


@pytest.fixture(scope="module")
def bounds(trained_standard, digits):
    return analysis.bound_curve(trained_standard, digits.test[:100], ks=(1, 10, 100, 1000, 5000), seed=0)


def test_elbo_below_iwae_below_the_exact_log_likelihood_and_iwae_5000_within_01_nat(bounds, trained_standard, digits):
    iwae = dict(zip(bounds.ks, bounds.iwae))
    gap_se = dict(zip(bounds.ks, bounds.gap_se))
    # IWAE(1) is another unbiased estimate of the ELBO: the two agree within their noise.
    assert iwae[1] == pytest.approx(bounds.elbo, abs=4 * gap_se[1])
    assert bounds.elbo < iwae[10] < iwae[100] < iwae[1000] <= iwae[5000] + 2 * gap_se[5000]
    assert iwae[5000] <= bounds.exact + 3 * gap_se[5000]  # a lower bound, up to Monte Carlo error
    assert bounds.exact - iwae[5000] < 0.1
    assert bounds.exact - bounds.elbo > 0.5  # a real test: the ELBO is well below log p(x)
    # The ELBO is the one estimate: its negative is vaelib.negative_elbo, the book's "nll".
    assert -bounds.elbo == pytest.approx(vaelib.negative_elbo(trained_standard, digits.test[:100]), abs=1e-4)


def test_bound_curve_figure_draws_the_data_and_says_which_number_is_the_books_nll(bounds, tiny, digits):
    import matplotlib.pyplot as plt

    figure = vaelib.plots.bound_curve(bounds)
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    labels = ax.get_legend_handles_labels()[1]
    assert any("the book's “nll” is −ELBO" in label and f"{-bounds.elbo:.2f}" in label for label in labels)
    assert any(f"{bounds.exact:.2f}" in label for label in labels)
    plt.close(figure)
    with pytest.raises(ValueError, match="needs the images x"):
        vaelib.plots.bound_curve(tiny["standard"])


# ---------------------------------------------------------------------------------------
# The comparison table
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table(tiny, digits):
    return analysis.compare_priors(tiny, digits.test, iwae_samples=10, resolution=100)


@pytest.mark.parametrize("name", list(vaelib.PRIORS))
def test_the_tables_automatic_surgery_grid_gives_the_numbers_of_a_fine_grid(sharp, digits, name):
    """The table's cheap grid (cells as wide as the narrowest posterior std) loses nothing against 300 cells."""
    model, x = sharp[name], digits.test
    resolution = analysis.surgery_resolution(model, x)
    cheap = analysis.elbo_surgery(model, x, resolution=resolution)
    fine = analysis.elbo_surgery(model, x, resolution=max(300, 2 * resolution))
    assert cheap.grid_mass == pytest.approx(1, abs=1e-4)
    assert cheap.mutual_information == pytest.approx(fine.mutual_information, abs=0.005)
    assert cheap.marginal_kl == pytest.approx(fine.marginal_kl, abs=0.005)


def test_comparison_table_has_one_row_per_prior_with_finite_values(table, tiny):
    assert [row["prior"] for row in table] == list(tiny)
    for row in table:
        assert set(row) == {key for key, _, _ in analysis.COLUMNS}
        assert all(math.isfinite(value) for key, value in row.items() if key != "prior"), row
        assert 0 <= row["holes"] <= 1
    assert table["standard"]["prior_parameters"] == 0 and table["mog"]["prior_parameters"] == 16 * 5


def test_the_tables_holes_are_the_number_analysis_holes_returns(table, tiny, digits):
    for name, model in tiny.items():
        assert table[name]["holes"] == analysis.holes(model, digits.test), name


def test_comparison_table_columns_add_up_to_the_elbo(table):
    for row in table:
        # -ELBO = -E log p(x|z) + I + KL(q(z)||p(z)); -ELBO and the reconstruction share their
        # Monte Carlo draws, so only the prior term's noise (well below 0.1 nats) remains.
        parts = row["neg_reconstruction"] + row["mutual_information"] + row["marginal_kl"]
        assert row["neg_elbo"] == pytest.approx(parts, abs=0.1), row["prior"]


def test_comparison_table_prints_as_markdown_and_round_trips_through_csv(table, tmp_path):
    markdown = str(table)
    lines = markdown.splitlines()
    assert lines[0].startswith("| prior | test −ELBO |") and lines[1].startswith("|:---|")
    assert len([line for line in lines if line.startswith("| ")]) == 1 + len(table)
    assert table._repr_markdown_() == markdown
    with open(table.to_csv(tmp_path / "table.csv"), newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["prior"] for row in rows] == [row["prior"] for row in table]
    assert float(rows[0]["neg_elbo"]) == table.rows[0]["neg_elbo"]


def test_comparison_table_shows_as_html_with_the_one_set_of_labels(table):
    page = table._repr_html_()
    assert page.count("<tr>") == 1 + len(table)
    for key, label, _ in table.columns:
        assert label == analysis.COLUMN_LABELS[key][0]
        assert f">{html.escape(label)}</th>" in page
    first = table.rows[0]
    assert f">{first['neg_elbo']:.2f}</td>" in page and f">{first['holes']:.1%}</td>" in page


def test_comparison_table_picks_columns_by_key_and_indexes_rows_by_position_or_prior():
    rows = [dict(prior="mog", seed=0, neg_elbo=99.123), dict(prior="flow", seed=1, neg_elbo=98.5)]
    table = analysis.ComparisonTable(rows, columns=("prior", "seed", "neg_elbo"))
    assert [key for key, _, _ in table.columns] == ["prior", "seed", "neg_elbo"]
    assert str(table).splitlines()[0] == "| prior | seed | test −ELBO |"
    assert "| flow | 1 | 98.50 |" in str(table)
    assert table[-1] is table.rows[-1] and table["mog"]["neg_elbo"] == 99.123
    table.append(dict(prior="standard", seed=2, neg_elbo=float("nan")))
    assert str(table).splitlines()[-1] == "| standard | 2 | – |"  # a missing number shows as a dash
    with pytest.raises(ValueError, match="unknown column.*'test −ELBO'.*neg_elbo"):
        analysis.ComparisonTable(columns=("prior", "test −ELBO"))
    with pytest.raises(KeyError, match="no row for prior 'gtm'"):
        table["gtm"]


@pytest.mark.parametrize("latent_dim", [2, 16])
def test_the_aggregated_posterior_density_matches_an_independent_float64_computation(latent_dim):
    generator = torch.Generator().manual_seed(0)
    means = 2 * torch.randn(300, latent_dim, generator=generator)
    logvars = torch.randn(300, latent_dim, generator=generator) - 4  # narrow posteriors: the hard case
    z = torch.cat([means[:50] + 0.01, 4 * torch.randn(500, latent_dim, generator=generator)])
    components = torch.distributions.Normal(means.double(), torch.exp(0.5 * logvars.double()))
    expected = torch.logsumexp(components.log_prob(z.double()[:, None]).sum(-1), dim=1) - math.log(300)
    found = analysis.uniform_diagonal_mixture_log_prob(z, means, logvars)
    assert found.dtype == torch.float32 and found.shape == (550,)
    assert torch.allclose(found.double(), expected, rtol=1e-6, atol=1e-3)


def test_aggregate_posterior_log_density_is_the_aggregate_posteriors_log_prob(digits):
    model = vaelib.make_vae("standard", seed=0)
    z = torch.randn(200, 2, generator=torch.Generator().manual_seed(1)) * 3
    expected = analysis.aggregate_posterior(model, digits.test).log_prob(z)
    assert torch.allclose(analysis.aggregate_posterior_log_density(model, digits.test, z), expected, atol=1e-4)
