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
    classes = {c for w in (playground.prior, playground.train_button, playground.stop_button, playground.progress,
                           playground.contours.image, playground.table, playground.status) for c in w._dom_classes}
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
    history = vaelib.live_fit(model, digits, max_epochs=10, seed=0,
                              callback=lambda model, history: seen.append(history.epochs) or history.epochs == 3)
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
    assert "log p(z) = " + f"{float(model.prior.log_prob(torch.tensor([[1.5, 0.0]]))):.2f}" in explorer.ax_image.get_title()


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
