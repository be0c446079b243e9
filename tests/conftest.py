"""Shared fixtures: the data and one short training run per prior, made once per session."""

from __future__ import annotations

import io
import os
from contextlib import contextmanager

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest
import torch

import vaelib

#: Epochs of the shared short training runs (the issue asks for checks "after 20 epochs").
SHORT_EPOCHS = 20


@pytest.fixture(scope="session")
def digits():
    return vaelib.load_digits(device="cpu")


@pytest.fixture(scope="session")
def trained(digits):
    """prior name -> (model trained for SHORT_EPOCHS with the book recipe, val -ELBO before training)."""
    runs = {}
    for name in vaelib.PRIORS:
        model = vaelib.make_vae(name, seed=0, device="cpu")
        torch.manual_seed(0)
        before = vaelib.negative_elbo(model, digits.val)
        vaelib.fit(model, digits, recipe="book", seed=0, max_epochs=SHORT_EPOCHS, progress=False)
        runs[name] = (model, before)
    return runs


@pytest.fixture(scope="session")
def untrained():
    """prior name -> freshly initialised model (seed 0)."""
    return {name: vaelib.make_vae(name, seed=0, device="cpu") for name in vaelib.PRIORS}


#: Epochs of the tiny models that the plot, analysis and CLI tests draw and dissect.
TINY_EPOCHS = 4


@contextmanager
def one_thread():
    """Run tensor work on one thread, then restore the thread count.

    Tiny models gain nothing from a second thread, and two threads on a busy two-core
    machine wait on each other: training the tiny models took 20x longer that way.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def single_thread():
    """The whole test module on one thread (see one_thread)."""
    with one_thread():
        yield


@pytest.fixture(scope="session")
def tiny(digits):
    """prior name -> a small VAE (32 hidden units) trained TINY_EPOCHS epochs with the book recipe."""
    runs = {}
    with one_thread():
        for name in vaelib.PRIORS:
            model = vaelib.make_vae(name, seed=0, hidden_dim=32, device="cpu")
            vaelib.fit(model, digits, recipe="book", seed=0, max_epochs=TINY_EPOCHS, progress=False)
            runs[name] = model
    return runs


@pytest.fixture
def killed_mid_save(monkeypatch):
    """A context manager: inside it, torch.save writes half of its file and then the run is
    killed (KeyboardInterrupt), as a Ctrl-C or a crash in the middle of a save would leave it.
    The block must be killed that way (it fails otherwise); afterwards torch.save is whole again."""

    @contextmanager
    def killed():
        real_save = torch.save

        def half_then_killed(payload, file, *args, **kwargs):
            buffer = io.BytesIO()
            real_save(payload, buffer)
            file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
            raise KeyboardInterrupt

        with monkeypatch.context() as patch:
            patch.setattr(torch, "save", half_then_killed)
            with pytest.raises(KeyboardInterrupt):
                yield

    return killed
