"""Checkpoints hold weights and a config, load with weights_only=True, and refuse pickles."""

from __future__ import annotations

import pytest
import torch

import vaelib


@pytest.mark.parametrize("name", list(vaelib.PRIORS))
def test_checkpoint_round_trip_restores_the_same_model(trained, name, tmp_path):
    model = trained[name][0]
    path = vaelib.save(model, tmp_path / f"{name}.pt")
    loaded = vaelib.load(path, device="cpu")
    z = torch.randn(20, 2)
    assert torch.allclose(loaded.prior.log_prob(z), model.prior.log_prob(z), atol=1e-6)
    x = torch.arange(64).remainder(17)[None].repeat(3, 1)
    assert torch.allclose(loaded.encoder(x)[0], model.encoder(x)[0])
    assert loaded.history.best_val_loss == model.history.best_val_loss
    assert loaded.config == model.config
    # Readable without unpickling code.
    state = torch.load(path, weights_only=True)
    assert set(state) >= {"config", "state_dict", "history"}


def test_prior_options_survive_a_checkpoint(tmp_path):
    model = vaelib.make_vae("gtm", grid_size=3, hidden_dim=16, seed=0, device="cpu")
    loaded = vaelib.load(vaelib.save(model, tmp_path / "gtm.pt"), device="cpu")
    assert loaded.prior.num_components == 9


def test_loading_a_pickled_module_is_refused(tmp_path):
    model = vaelib.make_vae("standard", hidden_dim=8, device="cpu")
    path = tmp_path / "pickled.model"
    torch.save(model, path)  # what the book's code does
    with pytest.raises(Exception, match="(?i)weights.only|unsupported|not a vaelib checkpoint"):
        vaelib.load(path)


def test_a_file_that_is_not_a_checkpoint_gets_a_clear_error(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a vaelib checkpoint"):
        vaelib.load(path)
