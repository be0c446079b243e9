"""Checkpoints hold weights and a config, load with weights_only=True, refuse pickles, are written
atomically, and every bad file gets one error type that names the file and the cause."""

from __future__ import annotations

import io
import os
import re

import pytest
import torch

import vaelib
from vaelib.checkpoint import FORMAT, CheckpointError, load_extra


@pytest.fixture(scope="module")
def small():
    """A small MoG VAE (the prior has weights of its own) and its config."""
    return vaelib.make_vae("mog", hidden_dim=8, seed=0, device="cpu")


@pytest.mark.parametrize("name", list(vaelib.PRIORS))
def test_checkpoint_round_trip_restores_the_same_model(tiny, name, tmp_path):
    model = tiny[name]
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


def test_a_version_1_checkpoint_still_loads(small, tmp_path):
    path = tmp_path / "v1.pt"
    config = dict(prior="mog", latent_dim=2, hidden_dim=8, likelihood="categorical", input_dim=64, seed=0)
    torch.save({"format": "vaelib-checkpoint-v1", "config": config, "state_dict": small.state_dict()}, path)
    loaded = vaelib.load(path, device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), small.state_dict().values()))


def test_extra_data_is_stored_in_the_same_file(small, tmp_path):
    settings = {"seed": 3, "recipe": {"lr": 1e-3, "optimizer": "adam"}, "shape": (2, 3), "note": None}
    path = vaelib.save(small, tmp_path / "m.pt", extra={"settings": settings})
    assert load_extra(path) == {"settings": settings}
    assert load_extra(vaelib.save(small, tmp_path / "plain.pt")) is None
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file is left behind


def test_saved_files_get_the_usual_permissions(small, tmp_path):
    # The temporary file starts private (0600); the checkpoint must not stay so.
    mask = os.umask(0o022)
    os.umask(mask)
    path = vaelib.save(small, tmp_path / "m.pt")
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_an_interrupted_save_leaves_the_previous_file_whole(small, tmp_path, killed_mid_save):
    path = vaelib.save(small, tmp_path / "m.pt", extra={"settings": {"seed": 0}})
    before = path.read_bytes()
    other = vaelib.make_vae("mog", hidden_dim=8, seed=1, device="cpu")
    with killed_mid_save():
        vaelib.save(other, path, extra={"settings": {"seed": 1}})
    assert path.read_bytes() == before
    assert load_extra(path) == {"settings": {"seed": 0}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]  # the half-written temporary file is gone


def test_loading_a_pickled_module_is_refused(small, tmp_path):
    path = tmp_path / "pickled.model"
    torch.save(small, path)  # what the book's code does
    with pytest.raises(CheckpointError) as caught:
        vaelib.load(path)
    message = str(caught.value)
    assert "pickled.model" in message and "pickled Python objects (vaelib.model.VAE)" in message
    assert "torch.save(model)" in message and "vaelib.save" in message
    # torch's own advice to switch the safety off is never passed on.
    assert "weights_only" not in message and "trust" not in message and "\x1b" not in message


def _damaged(good: bytes, small) -> dict:
    """name -> (bytes or a function that writes the file, regex of the cause)."""
    mog = small.state_dict()
    standard = vaelib.make_vae("standard", hidden_dim=8, seed=0, device="cpu")
    wrong_shape = dict(mog, **{"prior.means": torch.zeros(5, 2)})
    flipped = bytearray(good)
    # Overwrite bytes inside the stored weights: the zip's CRC catches it (torch.load does not).
    data_at = good.index(b"data/0") + 200
    flipped[data_at : data_at + 64] = bytes(64)

    def saved(obj, **kwargs):
        return lambda path: torch.save(obj, path, **kwargs)

    legacy = io.BytesIO()
    torch.save({"a": torch.zeros(3)}, legacy, _use_new_zipfile_serialization=False)
    base = {"format": FORMAT, "config": small.config, "state_dict": mog}
    return {
        "empty": (b"", r"is empty \(0 bytes\)"),
        "text": (b"hello world\n", r"is a text file, not a PyTorch file \(it begins 'hello world"),
        "random-bytes": (b"\x07\x99" * 50, r"is not a PyTorch file \(it begins with the bytes"),
        "truncated": (good[: len(good) // 2], r"cut short: a PyTorch zip archive without its end"),
        "bytes-changed": (bytes(flipped), r"damaged checkpoint: the stored data of '.*' fails its checksum"),
        "truncated-legacy-pickle": (legacy.getvalue()[:40], r"damaged or cut-short pickle"),
        "a-tensor": (saved(torch.zeros(3)), r"it holds a Tensor, not the dict vaelib.save writes"),
        "other-dict": (
            saved({"weights": torch.zeros(3)}),
            r"not a vaelib checkpoint.*without the format entry.*'weights'",
        ),
        "newer-format": (
            saved({**base, "format": "vaelib-checkpoint-v9"}),
            r"another vaelib \(format 'vaelib-checkpoint-v9'\)",
        ),
        "no-state-dict": (
            saved({"format": FORMAT, "config": small.config}),
            r"damaged vaelib checkpoint: it has no state_dict",
        ),
        "no-config": (saved({"format": FORMAT, "state_dict": mog}), r"it has no config"),
        "config-with-device": (
            saved({**base, "config": {**small.config, "encoder": {**small.config["encoder"], "device": "cpu"}}}),
            r"config does not describe a model vaelib can build.*'device'",
        ),
        "v1-config-with-device": (
            saved({**base, "format": "vaelib-checkpoint-v1", "config": dict(prior="mog", hidden_dim=8, device="cpu")}),
            r"config does not describe a model.*no option 'device'",
        ),
        "config-without-prior": (
            saved({**base, "config": {k: v for k, v in small.config.items() if k != "prior"}}),
            r"config does not describe a model.*lacks the entry 'prior'",
        ),
        "weights-of-another-prior": (
            saved({**base, "state_dict": standard.state_dict()}),
            r"weights do not match the config: it lacks weights the 'mog' model needs "
            r"\(prior.means, prior.logvars, prior.mixture_logits\)",
        ),
        "weight-of-another-shape": (
            saved({**base, "state_dict": wrong_shape}),
            r"weights do not match the config: size mismatch for prior.means",
        ),
        "damaged-history": (saved({**base, "history": {"epochs": 3, "bogus": 1}}), r"training history is damaged"),
        "extra-not-a-dict": (saved({**base, "extra": [1, 2]}), r"its extra data is a list, not a dict"),
    }


def test_every_bad_file_gets_a_checkpoint_error_naming_it(small, tmp_path):
    good = vaelib.save(small, tmp_path / "good.pt").read_bytes()
    (tmp_path / "a-folder.pt").mkdir()
    cases = _damaged(good, small)
    cases["a-folder"] = (None, r"is not a checkpoint: it is a directory")
    cases["missing"] = (None, r"no checkpoint at .*: there is no such file")
    for name, (content, cause) in cases.items():
        path = tmp_path / f"{name}.pt"
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif content is not None:
            content(path)
        state = torch.get_rng_state()
        with pytest.raises(CheckpointError) as caught:
            vaelib.load(path, device="cpu")
        message = str(caught.value)
        assert f"'{path}'" in message, (name, message)  # the file, quoted
        assert re.search(cause, message), (name, message)
        assert "\n" not in message and "weights_only" not in message, (name, message)
        assert torch.equal(torch.get_rng_state(), state), name  # the caller's random stream is untouched
        if name in ("empty", "text", "truncated", "bytes-changed", "extra-not-a-dict"):  # the cache reads these
            with pytest.raises(CheckpointError, match=re.escape(f"'{path}'")):
                load_extra(path)


def test_loading_leaves_the_global_random_stream_alone(small, tmp_path):
    path = vaelib.save(small, tmp_path / "m.pt")
    torch.manual_seed(123)
    expected = torch.rand(5)
    torch.manual_seed(123)
    vaelib.load(path, device="cpu")
    assert torch.equal(torch.rand(5), expected)


def test_a_bad_device_is_a_checkpoint_error_naming_the_file(small, tmp_path):
    path = vaelib.save(small, tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match=r"cannot load '.*m\.pt': unknown device 'gpu'; use 'cpu', 'cuda'"):
        vaelib.load(path, device="gpu")
    if not torch.cuda.is_available():
        with pytest.raises(CheckpointError, match=r"cannot load '.*m\.pt': device='cuda' but PyTorch sees no CUDA"):
            vaelib.load(path, device="cuda")


def test_save_refuses_what_load_could_not_read_back(small, tmp_path):
    with pytest.raises(TypeError, match=r"extra\['settings'\]\['fn'\] is a builtin_function_or_method"):
        vaelib.save(small, tmp_path / "m.pt", extra={"settings": {"fn": print}})
    with pytest.raises(TypeError, match=r"extra must be a dict of plain data or None, got list"):
        vaelib.save(small, tmp_path / "m.pt", extra=[1])

    class Custom(vaelib.priors.StandardPrior):
        pass

    custom = vaelib.VAE(small.encoder, small.decoder, Custom(2))
    with pytest.raises(ValueError, match=r"prior, 'Custom', is not in vaelib.PRIORS"):
        vaelib.save(custom, tmp_path / "m.pt")
    assert not any(tmp_path.iterdir())  # nothing was written
