"""Figures a projector can show: no text under 8 pt at the size a notebook shows the figure, contour
labels that neither overlap nor sit on the encoder's dots, a key for the contour levels, tick labels
that never overprint, and a 25 x 25 grid of pseudo-inputs shown as tiles large enough to see.

These check the figures' data and the boxes their texts occupy once laid out, not pixels.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from matplotlib.contour import ContourSet
from matplotlib.text import Text
from matplotlib.transforms import Bbox

import vaelib
from vaelib import plots
from vaelib.plots.contours import _label_positions, mass_key
from vaelib.plots.style import DISPLAY_WIDTH

pytestmark = pytest.mark.usefixtures("single_thread")


def laid_out(figure):
    """The figure drawn (layout done) and its renderer."""
    figure.draw_without_rendering()
    return figure._get_renderer()


def display_scale(figure, renderer) -> float:
    """How much a notebook shrinks the figure: wider than DISPLAY_WIDTH inches, it is scaled to fit."""
    width = figure.get_tightbbox(renderer).width  # inches (bbox_inches="tight", as the inline backend saves)
    return min(1.0, DISPLAY_WIDTH / width)


def shown_texts(figure) -> list[Text]:
    texts = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return [t for t in texts if not t.get_text().startswith("$\\mathdefault") or t.get_visible()]


def drawn_tick_labels(ax) -> list[Text]:
    """The tick labels ``ax`` draws: visible, not empty, at a tick inside the view limits."""
    labels = []
    for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        low, high = min(low, high), max(low, high)
        for tick, loc in zip(axis.get_major_ticks(), axis.get_majorticklocs()):
            if low - 1e-9 <= loc <= high + 1e-9:
                labels += [t for t in (tick.label1, tick.label2) if t.get_visible() and t.get_text().strip()]
    return labels


def overlapping(boxes: list[Bbox], slack: float = 0.5) -> list[tuple[int, int]]:
    """Pairs of boxes that share more than a ``slack``-pixel border."""
    pairs = []
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        width = min(a.x1, b.x1) - max(a.x0, b.x0)
        height = min(a.y1, b.y1) - max(a.y0, b.y0)
        if width > slack and height > slack:
            pairs.append((i, j))
    return pairs


def contour_sets(ax) -> list[ContourSet]:
    return [artist for artist in ax.collections if isinstance(artist, ContourSet)]


@pytest.fixture(scope="module")
def figures(tiny, digits):
    """name -> a figure as the notebooks draw it (default sizes)."""
    torch.manual_seed(0)  # the encoder samples drawn as dots
    x, y = digits.test, digits.test_labels
    flow = tiny["flow"]
    with torch.no_grad():
        codes = flow.posterior(x).sample()
    big_grid = vaelib.make_vae("gtm-vampprior", seed=0, hidden_dim=8, grid_size=25, device="cpu")
    makers = {
        "prior_contours": lambda: plots.prior_contours(tiny["mog"], x, neg_elbo=99.0),
        "prior_contours by digit": lambda: plots.prior_contours(tiny["vampprior"], x, y, neg_elbo=99.0),
        "prior_comparison": lambda: plots.prior_comparison(tiny, x, y, neg_elbos={n: 99.0 for n in tiny}),
        "prior_comparison 2 columns": lambda: plots.prior_comparison(
            tiny, x, y, neg_elbos={n: 99.0 for n in tiny}, ncols=2, panel_size=3.8
        ),
        "posterior_vs_prior": lambda: plots.posterior_vs_prior(tiny["standard"], x, resolution=60),
        "latent_manifold": lambda: plots.latent_manifold(tiny["flow"], x, n=13),
        "mixture_components mog": lambda: plots.mixture_components(tiny["mog"], x),
        "mixture_components gtm sheet": lambda: plots.mixture_components(tiny["gtm"], x, sheet=25),
        "mixture_components vampprior": lambda: plots.mixture_components(tiny["vampprior"], x),
        "flow_stages": lambda: plots.flow_stages(flow, codes, y),
        "flow_stages in two rows": lambda: plots.flow_stages(flow, codes, stages=[0, 1, 2, 3, 3]),
        "reconstructions 12 columns": lambda: plots.reconstructions(tiny["mog"], x, n=24, ncols=12),
        "prior_samples": lambda: plots.prior_samples(tiny["mog"], n=48, ncols=12, seed=0),
        "training_curves": lambda: plots.training_curves({n: m.history for n, m in tiny.items()}, train=True),
        "gtm_grid": lambda: plots.gtm_grid(tiny["gtm"]),
        "pseudo_inputs 25 x 25": lambda: plots.pseudo_inputs(big_grid),
        "image_grid 25 columns": lambda: plots.image_grid(x[:50], ncols=25, title="fifty test images"),
    }
    return {name: make() for name, make in makers.items()}


FIGURES = [
    "prior_contours",
    "prior_contours by digit",
    "prior_comparison",
    "prior_comparison 2 columns",
    "posterior_vs_prior",
    "latent_manifold",
    "mixture_components mog",
    "mixture_components gtm sheet",
    "mixture_components vampprior",
    "flow_stages",
    "flow_stages in two rows",
    "reconstructions 12 columns",
    "prior_samples",
    "training_curves",
    "gtm_grid",
    "pseudo_inputs 25 x 25",
    "image_grid 25 columns",
]
WITH_CONTOURS = [name for name in FIGURES if name.startswith(("prior_c", "latent", "mixture"))]


@pytest.mark.parametrize("name", FIGURES)
def test_no_text_is_smaller_than_8_points_at_the_size_a_notebook_shows_it(figures, name):
    figure = figures[name]
    renderer = laid_out(figure)
    scale = display_scale(figure, renderer)
    texts = shown_texts(figure)
    assert texts, "a figure with no text at all?"
    small = {t.get_text(): round(t.get_fontsize() * scale, 1) for t in texts if t.get_fontsize() * scale < 8}
    assert not small, f"shown below 8 pt (figure scaled by {scale:.2f}): {small}"


@pytest.mark.parametrize("name", FIGURES)
def test_tick_labels_never_overprint_each_other(figures, name):
    """Within a panel and across panels: every drawn tick label has a box of its own."""
    figure = figures[name]
    renderer = laid_out(figure)
    labels = [label for ax in figure.axes for label in drawn_tick_labels(ax)]
    boxes = [label.get_window_extent(renderer) for label in labels]
    clashes = [(labels[i].get_text(), labels[j].get_text()) for i, j in overlapping(boxes)]
    assert not clashes, clashes


@pytest.mark.parametrize("name", WITH_CONTOURS)
def test_contour_labels_are_apart_on_a_halo_above_the_dots_and_a_key_says_what_they_are(figures, name):
    figure = figures[name]
    renderer = laid_out(figure)
    keys = [t.get_text() for t in shown_texts(figure) if "of the prior's mass" in t.get_text()]
    assert keys, "no key for the contour levels"
    for key in keys:  # the key names the levels, innermost first
        assert "innermost: 25%" in key and all(f"{share:.0%}" in key for share in plots.MASS_LEVELS[:-1])
    for ax in figure.axes:
        for contours in contour_sets(ax):
            labels = contours.labelTexts
            assert labels, "contour lines without labels"
            # One label per level, each naming a share the levels enclose.
            assert len({t.get_text() for t in labels}) == len(labels)
            boxes = [t.get_window_extent(renderer) for t in labels]
            assert not overlapping(boxes), [t.get_text() for t in labels]
            dots = [c for c in ax.collections if not isinstance(c, ContourSet)]
            for text in labels:
                assert text.get_zorder() > max([c.get_zorder() for c in dots] + [contours.get_zorder()])
                assert text.get_path_effects(), "a label without its white halo"


def test_labels_sit_where_the_dots_are_sparse(tiny, digits):
    """A label with room to choose (the innermost, placed first, and the two outermost, long lines)
    has no more encoder samples under it than the typical place on its own line."""
    torch.manual_seed(0)
    figure = plots.prior_contours(tiny["standard"], digits.test, neg_elbo=1.0)
    renderer = laid_out(figure)
    ax = figure.axes[0]
    (contours,) = contour_sets(ax)
    dots = [c for c in ax.collections if not isinstance(c, ContourSet)][0]
    pixels = ax.transData.transform(dots.get_offsets())
    for text, level in zip(contours.labelTexts, contours.labelLevelList):
        if text.get_text() not in ("25%", "90%", "99%"):
            continue
        box = text.get_window_extent(renderer)
        line = contours.get_paths()[list(contours.levels).index(level)].vertices
        along = [dots_under(box, ax.transData.transform(v), pixels) for v in line[:: max(1, len(line) // 60)]]
        centre = box.x0 + box.width / 2, box.y0 + box.height / 2
        assert dots_under(box, centre, pixels) <= np.median(along), text.get_text()


def dots_under(box: Bbox, centre, pixels: np.ndarray) -> int:
    """How many of the points ``pixels`` (N, 2) a box of ``box``'s size centred at ``centre`` covers."""
    return int(
        np.sum((np.abs(pixels[:, 0] - centre[0]) < box.width / 2) & (np.abs(pixels[:, 1] - centre[1]) < box.height / 2))
    )


def test_label_positions_avoid_dots_and_each_other():
    """Two concentric circles, dots packed on their right halves: both labels go left, apart."""
    angles = np.linspace(0, 2 * np.pi, 200)
    circles = [r * np.stack([np.cos(angles), np.sin(angles)], 1) for r in (1.0, 2.0)]
    rng = np.random.default_rng(0)
    right = np.cos(angles) > 0
    dots = np.concatenate([c[right] + rng.normal(0, 0.05, (int(right.sum()), 2)) for c in circles])
    positions = _label_positions(circles, (-3, 3, -3, 3), dots, label_size=0.1)
    assert all(p[0] < 0 for p in positions)
    assert np.abs(np.subtract(*positions)).max() >= 1.3 * 0.1 * 6
    assert _label_positions([np.empty((0, 2)), 10 + circles[0]], (-3, 3, -3, 3)) == [None, None]


def test_mass_key_lists_the_shares_innermost_first():
    assert mass_key([0.99, 0.25, 0.5]) == "contour lines enclose 25%, 50%, 99%\nof the prior's mass (innermost: 25%)"


def test_a_25_by_25_grid_of_pseudo_inputs_shows_every_third_point_as_readable_tiles():
    model = vaelib.make_vae("gtm-vampprior", seed=0, hidden_dim=8, grid_size=25, device="cpu")
    prior = model.prior
    figure = plots.pseudo_inputs(model)
    ax = figure.axes[0]
    mosaic = np.ma.getdata(ax.images[0].get_array())
    assert mosaic.shape == (9 * 9 - 1, 9 * 9 - 1)  # 9 x 9 tiles: grid points 0, 3, ..., 24 on each side
    grid, images = prior.grid, prior.pseudo_inputs.detach()
    corners = {  # picture corner -> the grid point there: (u1, u2) at its smallest/largest
        (0, 0): (grid[:, 0].min(), grid[:, 1].max()),
        (0, 8): (grid[:, 0].max(), grid[:, 1].max()),
        (8, 0): (grid[:, 0].min(), grid[:, 1].min()),
        (8, 8): (grid[:, 0].max(), grid[:, 1].min()),
    }
    for (row, col), (u1, u2) in corners.items():
        k = int(torch.argmin((grid[:, 0] - u1).abs() + (grid[:, 1] - u2).abs()))
        tile = mosaic[row * 9 : row * 9 + 8, col * 9 : col * 9 + 8]
        np.testing.assert_allclose(tile, images[k].reshape(8, 8).numpy(), atol=1e-5)
    # The middle tile is the grid's centre (point 12, 12).
    centre = int(torch.argmin(grid.abs().sum(1)))
    np.testing.assert_allclose(mosaic[36:44, 36:44], images[centre].reshape(8, 8).numpy(), atol=1e-5)
    assert "every 3rd point of the 25 x 25 grid" in ax.get_title()
    # Each tile at least 0.3 inch wide as shown (30 pixels for 8: a projector shows the strokes).
    renderer = laid_out(figure)
    tile_inches = ax.get_window_extent(renderer).width / figure.dpi / 9 * display_scale(figure, renderer)
    assert tile_inches >= 0.3
    # Asked for, every point; a small grid is shown whole.
    assert np.ma.getdata(plots.pseudo_inputs(model, step=1).axes[0].images[0].get_array()).shape == (224, 224)
    assert plots.priors.grid_step(4) == 1 and plots.priors.grid_step(25) == 3 and plots.priors.grid_step(10) == 3
