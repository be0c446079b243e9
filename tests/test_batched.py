"""Several seeds trained as one batched model give each seed what fit(seed=s) gives it."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Independent, Normal

import vaelib
from vaelib.batched import _BatchedRun, _can_batch, fit_seeds, make_vaes
from vaelib.model import VAE, Decoder, Encoder
from vaelib.priors import Prior
from vaelib.train import StopReason, TrainingDiverged, trainings_run

pytestmark = pytest.mark.usefixtures("single_thread")

#: Small networks keep the tests fast; the batched code path is the same at any width.
HIDDEN = 32

#: Batched matrix products add in another order than one seed's: float32 rounding (about 1e-7
#: per operation) differs, and training amplifies it step by step. Over a few epochs the losses
#: stay within 1e-4 relative (measured: at most 2e-5 after 3 epochs of the 256-unit models).
LOSS_RTOL = 1e-4
#: Adam normalises each step, so a weight whose gradient is near zero can move by up to the
#: learning rate in a direction that rounding decides: single weights may differ by ~lr, while
#: each tensor as a whole stays within this relative (Frobenius) distance of the sequential one.
WEIGHT_RTOL = 1e-2


def sequential(prior, seeds, data, **options):
    models = make_vaes(prior, seeds, hidden_dim=HIDDEN)
    histories = [vaelib.fit(m, data, seed=s, progress=False, **options) for m, s in zip(models, seeds)]
    return models, histories


def batched(prior, seeds, data, **options):
    models = make_vaes(prior, seeds, hidden_dim=HIDDEN)
    histories = fit_seeds(models, data, progress=False, batched=True, **options)
    return models, histories


def assert_same_run(seq_model, seq_history, bat_model, bat_history):
    """One seed's batched run is its sequential run: same bookkeeping, losses and weights within float noise."""
    for field in ("epochs", "best_epoch", "stopped", "val_epochs", "prior", "recipe"):
        assert getattr(bat_history, field) == getattr(seq_history, field), field
    torch.testing.assert_close(bat_history.train_loss, seq_history.train_loss, rtol=LOSS_RTOL, atol=0)
    torch.testing.assert_close(bat_history.val_loss, seq_history.val_loss, rtol=LOSS_RTOL, atol=0)
    for (name, p), q in zip(seq_model.named_parameters(), bat_model.parameters()):
        distance = (p - q).norm() / p.norm().clamp_min(1e-12)
        assert distance <= WEIGHT_RTOL, f"{name}: relative distance {distance:.2e}"


@pytest.mark.parametrize("prior", list(vaelib.PRIORS))
def test_each_seed_of_a_batch_trains_as_fit_with_that_seed_would(prior, digits):
    seeds = (0, 3)
    seq_models, seq_histories = sequential(prior, seeds, digits, max_epochs=3)
    bat_models, bat_histories = batched(prior, seeds, digits, max_epochs=3)
    assert _can_batch(bat_models[0]), f"the {prior!r} prior should run under vmap"
    for args in zip(seq_models, seq_histories, bat_models, bat_histories):
        assert_same_run(*args)
    assert [m.history for m in bat_models] == bat_histories


@pytest.mark.parametrize(
    "options",
    [
        dict(recipe="book", max_epochs=2),
        dict(recipe="book", max_epochs=3, schedule="cosine", kl_warmup=2, eval_every=2),
    ],
    ids=["book", "cosine-warmup-every2"],
)
@pytest.mark.parametrize("prior", ["mog", "flow"])
def test_the_book_recipe_and_the_recipe_options_batch_alike(prior, options, digits):
    seq_models, seq_histories = sequential(prior, (1, 2), digits, **options)
    bat_models, bat_histories = batched(prior, (1, 2), digits, **options)
    for args in zip(seq_models, seq_histories, bat_models, bat_histories):
        assert_same_run(*args)


def test_a_seed_that_stops_early_keeps_its_best_weights_while_the_others_go_on(digits):
    # The book recipe (no weight average) with a large step and patience 0: each seed stops at
    # its first epoch without improvement, and these two seeds reach it at different epochs.
    options = dict(recipe="book", lr=0.05, patience=0, max_epochs=5)
    seeds = (0, 3)
    seq_models, seq_histories = sequential("standard", seeds, digits, **options)
    stops = [h.epochs for h in seq_histories]
    assert len(set(stops)) > 1, f"the seeds should stop at different epochs, got {stops}"
    assert min(stops) < options["max_epochs"]
    bat_models, bat_histories = batched("standard", seeds, digits, **options)
    for args in zip(seq_models, seq_histories, bat_models, bat_histories):
        assert_same_run(*args)
    early = min(range(len(seeds)), key=lambda i: stops[i])
    assert bat_histories[early].stopped == StopReason.EARLY_STOPPING
    assert bat_histories[early].best_epoch < bat_histories[early].epochs
    # Its weights are those of its best epoch: a run that ends at that epoch ends with them.
    (at_best,), _ = sequential(
        "standard", (seeds[early],), digits, **dict(options, max_epochs=seq_histories[early].best_epoch)
    )
    for p, q in zip(at_best.parameters(), bat_models[early].parameters()):
        assert (p - q).norm() <= WEIGHT_RTOL * p.norm()


def test_ctrl_c_keeps_every_seeds_best_weights(digits, monkeypatch, capsys):
    real = _BatchedRun.validation_losses
    calls = []

    def interrupted_at_the_second_validation(self, weights):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, weights)

    monkeypatch.setattr(_BatchedRun, "validation_losses", interrupted_at_the_second_validation)
    models, histories = batched("mog", (0, 1), digits, recipe="book", max_epochs=5)
    assert "Interrupted at epoch 2" in capsys.readouterr().out
    assert all(h.stopped == StopReason.INTERRUPTED and h.best_epoch == 1 for h in histories)
    monkeypatch.undo()
    seq_models, _ = sequential("mog", (0, 1), digits, recipe="book", max_epochs=1)
    for seq, bat in zip(seq_models, models):
        for p, q in zip(seq.parameters(), bat.parameters()):
            assert (p - q).norm() <= WEIGHT_RTOL * p.norm()


def test_a_diverging_seed_raises_after_every_model_got_its_best_weights(digits, monkeypatch):
    real = _BatchedRun.train_epoch

    def seed_one_blows_up_in_epoch_two(self, kl_weight):
        losses = real(self, kl_weight)
        if self.histories[0].epochs == 1:
            losses[self.live.index(1)] = float("nan")
        return losses

    monkeypatch.setattr(_BatchedRun, "train_epoch", seed_one_blows_up_in_epoch_two)
    models = make_vaes("standard", (0, 1), hidden_dim=HIDDEN)
    with pytest.raises(TrainingDiverged, match="seed 1 diverged at epoch 2"):
        fit_seeds(models, digits, max_epochs=3, progress=False, batched=True)
    assert models[1].history.stopped == StopReason.DIVERGED and models[1].history.epochs == 2
    assert models[0].history.stopped == StopReason.MAX_EPOCHS and models[0].history.epochs == 3


def test_batched_training_leaves_the_callers_random_stream_alone(digits):
    torch.manual_seed(123)
    expected = torch.rand(5)
    models = make_vaes("mog", 2, hidden_dim=HIDDEN)
    torch.manual_seed(123)
    fit_seeds(models, digits, max_epochs=1, progress=False, batched=True)
    assert torch.equal(torch.rand(5), expected)


def test_a_batch_counts_one_training_per_seed(digits):
    before = trainings_run()
    vaelib.train_seeds("standard", digits, seeds=3, hidden_dim=HIDDEN, max_epochs=1, progress=False, batched=True)
    assert trainings_run() == before + 3


def test_the_batch_shows_one_progress_bar_or_nothing(digits, capsys):
    vaelib.train_seeds("mog", digits, seeds=2, hidden_dim=HIDDEN, max_epochs=1, progress=False, batched=True)
    quiet = capsys.readouterr()
    assert quiet.out == "" and quiet.err == ""
    vaelib.train_seeds("mog", digits, seeds=2, hidden_dim=HIDDEN, max_epochs=1, progress=True, batched=True)
    shown = capsys.readouterr().err
    assert "mog ×2 seeds" in shown and shown.count("\n") == 1  # one bar (redrawn in place)


@pytest.mark.parametrize(
    "models, seeds, error, match",
    [
        ("empty", None, ValueError, "at least one VAE"),
        ("one", None, TypeError, "list of VAEs"),
        ("two-architectures", None, ValueError, "share one architecture"),
        ("same-model-twice", None, ValueError, "distinct"),
        ("two", (1, 1), ValueError, "differ from each other"),
        ("two", (1, 2, 3), ValueError, "one seed per model"),
        ("not-a-vae", None, TypeError, r"models\[1\] is a str"),
    ],
)
def test_bad_batches_are_refused_with_a_clear_message(models, seeds, error, match, digits):
    model = vaelib.make_vae("mog", seed=0, hidden_dim=HIDDEN)
    other = vaelib.make_vae("mog", seed=1, hidden_dim=HIDDEN)
    models = {
        "empty": [],
        "one": model,
        "two-architectures": [model, vaelib.make_vae("mog", seed=1, hidden_dim=HIDDEN, num_components=4)],
        "same-model-twice": [model, model],
        "two": [model, other],
        "not-a-vae": [model, "mog"],
    }[models]
    with pytest.raises(error, match=match):
        fit_seeds(models, digits, seeds=seeds, max_epochs=1, progress=False)


class ValueDependentPrior(Prior):
    """A standard normal prior that reads a tensor's value in Python: vmap cannot run it."""

    def __init__(self, latent_dim: int = 2):
        super().__init__(latent_dim)
        self.save_hyperparameters()
        self.shift = torch.nn.Parameter(torch.zeros(latent_dim))

    def distribution(self):
        scale = 2.0 if float(self.shift.detach().sum()) > 1e3 else 1.0  # data-dependent control flow
        return Independent(Normal(self.shift, torch.full_like(self.shift, scale), validate_args=False), 1)


def test_a_prior_that_cannot_be_vmapped_trains_one_seed_after_another(digits):
    def build(seed):
        torch.manual_seed(seed)
        encoder = Encoder(64, 2, HIDDEN, 17)
        return VAE(encoder, Decoder(64, 2, HIDDEN, 17, "categorical"), ValueDependentPrior(2))

    models = [build(s) for s in (0, 1)]
    assert not _can_batch(models[0])
    histories = fit_seeds(models, digits, seeds=(0, 1), max_epochs=2, progress=False, batched=True)
    for seed, history in zip((0, 1), histories):
        alone = build(seed)
        vaelib.fit(alone, digits, seed=seed, max_epochs=2, progress=False)
        assert history.train_loss == alone.history.train_loss  # fit itself ran: bit for bit


def test_on_the_cpu_seeds_train_one_after_another_unless_told_to_batch(digits):
    # Batching buys no time on the CPU (benchmarks/seed_batch.py), so the default there is fit per seed.
    assert not vaelib.batched.BATCH_ON_CPU
    models = make_vaes("mog", (0, 1), hidden_dim=HIDDEN)
    histories = fit_seeds(models, digits, max_epochs=2, progress=False)
    for seed, history in zip((0, 1), histories):
        alone = vaelib.make_vae("mog", seed=seed, hidden_dim=HIDDEN)
        vaelib.fit(alone, digits, seed=seed, max_epochs=2, progress=False)
        assert history.train_loss == alone.history.train_loss  # fit itself ran: bit for bit
