"""The widgets work without a browser: the playground trains, redraws, tabulates and stops."""

from __future__ import annotations

import time

import pytest
import torch

import vaelib
from vaelib.widgets import LiveTraining, Playground


@pytest.fixture(scope="module")
def playground(digits):
    return Playground(digits)


def test_playground_carries_the_classes_the_browser_test_finds(playground):
    classes = {
        c
        for w in (
            playground.prior,
            playground.train_button,
            playground.stop_button,
            playground.progress,
            playground.contours.image,
            playground.table,
            playground.status,
        )
        for c in w._dom_classes
    }
    assert classes >= {f"vaelib-{n}" for n in ("prior", "train", "stop", "progress", "plot", "results", "status")}
    assert list(playground.prior.options) == list(vaelib.PRIORS)
    assert len(repr(playground)) < 110  # shown whole as the text fallback of the widget


@pytest.mark.parametrize("prior", list(vaelib.PRIORS))
def test_size_slider_follows_the_prior(playground, prior):
    playground.prior.value = prior
    option = vaelib.PRIORS[prior].size_option
    settings = playground.settings()
    if option is None:
        assert playground.size.layout.display == "none" and set(settings) == {"prior", "seed"}
    else:
        # The slider starts at the prior's own default and spans the range the prior declares.
        assert settings[option.name] == vaelib.PRIORS[prior].options()[option.name]
        assert (playground.size.min, playground.size.max) == (option.minimum, option.maximum)
        assert playground.size.description == option.label
        model = vaelib.make_vae(**settings, hidden_dim=8)  # the settings are valid make_vae arguments
        assert model.prior.size == settings[option.name]


def test_playground_starts_at_the_default_recipe(playground):
    recipe = vaelib.get_recipe()
    assert playground.epochs.value == recipe.max_epochs
    assert playground.lr.value == pytest.approx(recipe.lr)


def test_train_redraws_the_plot_and_adds_a_row(playground):
    playground.prior.value = "mog"
    playground.size.value = 4
    playground.epochs.value = 20
    before, frames = playground.contours.image.value, playground.contours.frames
    playground.train(wait=True)
    assert playground.status.value.startswith("Done: mog"), playground.status.value
    assert playground.contours.image.value != before
    assert playground.contours.frames - frames >= 3  # before training, every 5 epochs, at the end
    row = playground.results[-1]
    assert row["prior"] == "mog" and row["setting"] == "components 4" and row["epochs"] <= 20
    assert set(row) >= set(vaelib.widgets.RESULT_COLUMNS)  # plain keys, labels live in analysis.COLUMN_LABELS
    assert playground.table.value == playground.results.to_html(empty="Each finished run adds a row here.")
    assert playground.table.value.count("<tr>") == 1 + len(playground.results)
    assert "test −ELBO" in playground.table.value and f"{row['neg_elbo']:.2f}" in playground.table.value
    assert not playground.train_button.disabled and playground.stop_button.disabled


def test_stop_ends_the_run_early_and_keeps_a_row(playground):
    playground.prior.value = "standard"
    playground.epochs.value = 400
    rows = len(playground.results)
    playground.start()
    time.sleep(0.5)
    playground.stop()
    playground.wait(timeout=60)
    assert not playground.running
    assert playground.status.value.startswith("Stopped: standard")
    assert len(playground.results) == rows + 1 and playground.results[-1]["epochs"] < 400


def test_training_thread_does_not_change_the_notebooks_thread_count(playground):
    threads = torch.get_num_threads()
    playground.prior.value = "standard"
    playground.epochs.value = 10
    playground.train(wait=True)
    assert torch.get_num_threads() == threads


def test_live_training_view_redraws_every_few_epochs(digits):
    model = vaelib.make_vae("standard", hidden_dim=16, seed=0, device="cpu")
    view = LiveTraining(model, digits, every=2)
    history = vaelib.fit(model, digits, recipe="book", max_epochs=6, seed=0, progress=False, callback=view)
    view.finish(model, history)
    assert view.view.frames == 1 + 3 + 1  # before, epochs 2/4/6, the kept model
    assert view.progress.value == 6 and "best val" in view.status.value


def test_live_fit_trains_exactly_what_fit_trains(digits):
    """Redrawing samples the encoder; it must not consume the training run's random numbers."""
    plain = vaelib.make_vae("mog", hidden_dim=16, seed=0, device="cpu")
    live = vaelib.make_vae("mog", hidden_dim=16, seed=0, device="cpu")
    vaelib.fit(plain, digits, max_epochs=6, seed=0, progress=False)
    vaelib.live_fit(live, digits, every=1, max_epochs=6, seed=0)
    for (name, a), b in zip(plain.state_dict().items(), live.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=f"{name} differs")


def test_live_fit_calls_the_users_callback_too(digits):
    model = vaelib.make_vae("standard", hidden_dim=16, seed=0, device="cpu")
    seen = []
    history = vaelib.live_fit(
        model,
        digits,
        max_epochs=10,
        seed=0,
        callback=lambda model, history: seen.append(history.epochs) or history.epochs == 3,
    )
    assert seen == [1, 2, 3] and history.epochs == 3 and history.stopped == "callback"


def test_latent_explorer_decodes_the_sliders_point(digits):
    from vaelib.widgets import LatentExplorer

    model = vaelib.make_vae("standard", hidden_dim=16, seed=0, device="cpu")
    explorer = LatentExplorer(model, digits.test[:100], digits.test_labels[:100])
    before = explorer.image.value
    explorer.z1.value = 1.5  # a slider move redraws
    assert explorer.image.value != before
    expected = model.decode_mean(torch.tensor([[1.5, 0.0]])).view(8, 8)
    torch.testing.assert_close(torch.as_tensor(explorer.picture.get_array()).float(), expected)
    assert (
        "log p(z) = " + f"{float(model.prior.log_prob(torch.tensor([[1.5, 0.0]]))):.2f}"
        in explorer.ax_image.get_title()
    )


def test_latent_explorer_jumps_to_the_middle_of_a_digits_codes(digits):
    from vaelib.widgets import LatentExplorer

    model = vaelib.make_vae("standard", hidden_dim=16, seed=0, device="cpu")
    x, labels = digits.test[:100], digits.test_labels[:100]
    explorer = LatentExplorer(model, x, labels)
    explorer.digit.value = 3
    middle = model.encode(x[labels == 3], sample=False).median(0).values
    assert explorer.z1.value == pytest.approx(float(middle[0]), abs=0.006)
    assert explorer.z2.value == pytest.approx(float(middle[1]), abs=0.006)


def test_prior_menu_redraws_the_chosen_model(digits):
    from vaelib.widgets import PriorMenu

    models = {name: vaelib.make_vae(name, hidden_dim=16, seed=0, device="cpu") for name in ("standard", "mog")}
    menu = PriorMenu(models, digits.test[:100], scores={"standard": 100.0})
    first, frames = menu.view.image.value, menu.view.frames
    menu.menu.value = "mog"
    assert menu.view.frames == frames + 1 and menu.view.image.value != first
    assert menu.view.ax.get_title() == "mog"
    menu.menu.value = "standard"
    assert menu.view.ax.get_title() == "standard: test −ELBO 100.00"
    with pytest.raises(ValueError, match="at least one model"):
        PriorMenu({}, digits.test)


# ---------------------------------------------------------------------------------------
# Fast redraws (ContourView, png_bytes): what a redraw shows is what a fresh drawing shows
# ---------------------------------------------------------------------------------------
def _png_pixels(data: bytes):
    import io

    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return np.asarray(image)


@pytest.mark.parametrize("alpha", [False, True])
def test_png_encoder_round_trips_pixels_exactly(alpha):
    import numpy as np

    from vaelib.widgets import png_bytes

    rgba = np.random.default_rng(0).integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    if not alpha:
        rgba[..., 3] = 255
    pixels = _png_pixels(png_bytes(rgba))
    np.testing.assert_array_equal(pixels, rgba if alpha else rgba[..., :3])  # RGB when opaque


def test_redrawn_png_is_the_canvas_at_the_widgets_size(digits):
    import numpy as np

    from vaelib.widgets import PNG_DPI, ContourView

    model = vaelib.make_vae("mog", hidden_dim=16, seed=0, device="cpu")
    view = ContourView(digits.test[:200], size=(4.4, 4.2))
    view.draw(model, "first")
    pixels = _png_pixels(view.image.value)
    assert pixels.shape == (int(4.2 * PNG_DPI), int(4.4 * PNG_DPI), 3)
    np.testing.assert_array_equal(pixels, np.asarray(view.canvas.buffer_rgba())[..., :3])
    assert view.image.layout.width == f"{pixels.shape[1]}px"  # one image pixel per CSS pixel


def _scatter(ax):
    from matplotlib.collections import PathCollection

    (dots,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    return dots


def test_a_redraw_shows_the_new_model_and_nothing_of_the_old(digits):
    """After the model changed: the dots are the new encoder's samples, the limits and ticks
    are those of a drawing from scratch, and only one plot's artists are left."""
    from matplotlib.contour import ContourSet
    from matplotlib.figure import Figure

    from vaelib.widgets import ContourView

    x = digits.test[:200]
    first = vaelib.make_vae("mog", hidden_dim=16, seed=0, device="cpu")
    second = vaelib.make_vae("mog", hidden_dim=16, seed=1, device="cpu")
    vaelib.fit(second, digits, max_epochs=3, seed=1, progress=False)  # a trained prior, other limits
    view = ContourView(x)
    view.draw(first, "first")
    view.draw(second, "second")

    expected = vaelib.analysis.with_fixed_seed(0, "cpu", lambda: second.posterior(x).sample())
    torch.testing.assert_close(torch.as_tensor(_scatter(view.ax).get_offsets()), expected.double())
    assert view.ax.get_title() == "second"
    assert sum(isinstance(c, ContourSet) for c in view.ax.collections) == 1

    fresh = Figure().add_subplot()
    vaelib.analysis.with_fixed_seed(
        0,
        "cpu",
        lambda: vaelib.plots.prior_contours(
            second, x, ax=fresh, title="second", legend=False, resolution=view.resolution
        ),
    )
    (contours,) = [c for c in fresh.collections if isinstance(c, ContourSet)]
    (ours,) = [c for c in view.ax.collections if isinstance(c, ContourSet)]
    assert list(ours.levels) == list(contours.levels)
    assert len(view.ax.texts) == len(fresh.texts)  # one label per line, the old ones removed
    for axes in (view.ax, view.frame):  # the frame shows the ticks of the new limits
        assert axes.get_xlim() == fresh.get_xlim() and axes.get_ylim() == fresh.get_ylim()
    view.canvas.draw()
    fresh.figure.canvas.draw()
    for ours_axis, theirs in ((view.frame.xaxis, fresh.xaxis), (view.frame.yaxis, fresh.yaxis)):
        assert [t.get_text() for t in ours_axis.get_ticklabels()] == [t.get_text() for t in theirs.get_ticklabels()]
    assert (view.frame.get_xlabel(), view.frame.get_ylabel()) == (fresh.get_xlabel(), fresh.get_ylabel())


def test_layout_is_computed_once_and_the_plot_stays_in_place(digits):
    from vaelib.widgets import ContourView

    x = digits.test[:200]
    models = [vaelib.make_vae("gtm", hidden_dim=16, seed=seed, device="cpu") for seed in (0, 1, 2)]
    view = ContourView(x)
    view.draw(models[0], "a title")
    where = view.ax.get_position().bounds
    for i, model in enumerate(models * 2):
        view.draw(model, f"gtm prior: epoch {5 * i}")
        assert view.frame.get_position().bounds == view.ax.get_position().bounds == where
    assert view.layouts == 1 and view.frames == 7


def test_the_same_model_reuses_the_rendered_ticks(digits):
    from vaelib.widgets import ContourView

    model = vaelib.make_vae("standard", hidden_dim=16, seed=0, device="cpu")
    view = ContourView(digits.test[:200])
    view.draw(model, "once")  # (matplotlib places the contour labels of a first frame elsewhere)
    view.draw(model, "once")
    first = bytes(view.image.value)
    view.draw(model, "once")
    assert view.backgrounds == 1 and bytes(view.image.value) == first  # same picture, ticks not drawn again
    view.draw(model, "twice")
    assert view.backgrounds == 1 and bytes(view.image.value) != first  # the title is redrawn
    view.draw(vaelib.make_vae("standard", hidden_dim=16, seed=1, device="cpu"), "twice")
    assert view.backgrounds == 2  # new limits, new ticks


def test_figure_png_renders_at_the_widget_resolution():
    from matplotlib.figure import Figure

    from vaelib.widgets import PNG_DPI, figure_png

    figure = Figure(figsize=(3.6, 2.5), layout="constrained")
    figure.add_subplot().plot([0, 1], [1, 0])
    pixels = _png_pixels(figure_png(figure))
    assert pixels.shape == (int(2.5 * PNG_DPI), int(3.6 * PNG_DPI), 3)
    assert pixels.min() < 100 < 250 <= pixels.max()  # lines on a white background


def test_a_redraw_uses_no_more_threads_than_its_caller_and_restores_them(digits, monkeypatch):
    from vaelib.threads import scoped_threads
    from vaelib.widgets import ContourView

    seen = []
    original = vaelib.plots.prior_contours
    monkeypatch.setattr(
        vaelib.plots,
        "prior_contours",
        lambda *args, **kwargs: seen.append(torch.get_num_threads()) or original(*args, **kwargs),
    )
    model = vaelib.make_vae("standard", hidden_dim=16, seed=0, device="cpu")
    view = ContourView(digits.test[:100])
    previous = vaelib.get_num_threads()
    try:
        vaelib.set_num_threads("auto")  # the default (the suite's conftest.py fixes 2 for the notebooks)
        with scoped_threads(1):  # e.g. the playground's training thread
            view.draw(model, "one thread")
            assert seen[-1] == 1 and torch.get_num_threads() == 1
        caller = torch.get_num_threads()
        time.sleep(0.15)  # long enough for the policy to look at the load
        view.draw(model, "auto")
        assert 1 <= seen[-1] <= caller and torch.get_num_threads() == caller
        vaelib.set_num_threads(None)  # torch's own setting
        view.draw(model, "torch's")
        assert seen[-1] == caller
    finally:
        vaelib.set_num_threads(previous)


# ---------------------------------------------------------------------------------------
# scale: larger pictures for a projector (apps/prior_explorer.py)
# ---------------------------------------------------------------------------------------
def test_a_scaled_view_draws_its_text_larger_at_one_image_pixel_per_css_pixel(digits):
    from vaelib.widgets import PNG_DPI, ContourView

    model = vaelib.make_vae("standard", hidden_dim=16, seed=0, device="cpu")
    views = {scale: ContourView(digits.test[:100], scale=scale) for scale in (1, 1.5)}
    title_widths = {}
    for scale, view in views.items():
        view.draw(model, "the same title")
        pixels = _png_pixels(view.image.value)
        assert pixels.shape == (int(4.2 * PNG_DPI * scale), int(4.4 * PNG_DPI * scale), 3)
        assert view.image.layout.width == f"{pixels.shape[1]}px"
        title_widths[scale] = view.ax.title.get_window_extent(view.canvas.get_renderer()).width
    # The text is drawn at 1.5 times the pixels, not the same text on a larger canvas.
    assert title_widths[1.5] == pytest.approx(1.5 * title_widths[1], rel=0.05)


def test_a_scaled_playground_enlarges_both_pictures_and_the_label_column(digits):
    from vaelib.widgets import PNG_DPI

    playground = Playground(digits, scale=1.5)
    samples = _png_pixels(playground.samples.value)
    assert samples.shape[:2] == (int(3.6 * PNG_DPI * 1.5),) * 2
    assert playground.samples.layout.width == f"{samples.shape[1]}px"
    contours = _png_pixels(playground.contours.image.value)
    assert playground.contours.image.layout.width == f"{contours.shape[1]}px" == f"{int(4.4 * PNG_DPI * 1.5)}px"
    assert playground.prior.style.description_width == "135px"  # 1.5 x the 90 px of scale 1


@pytest.mark.parametrize("scale", [0, -1.5, float("inf")])
def test_a_scale_that_is_not_a_positive_number_is_refused_with_its_value(digits, scale):
    with pytest.raises(ValueError, match=rf"scale must be a positive finite number, got {scale}"):
        Playground(digits, scale=scale)
