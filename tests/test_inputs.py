"""Images: every image function rejects bad pixels and shapes; whole numbers of any dtype are images.

The one-row-per-bad-input catalogue of the whole public API is tests/test_bad_inputs.py.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

import vaelib
from vaelib.seeding import fixed_seed


@pytest.fixture(scope="module")
def model():
    return vaelib.make_vae("vampprior", hidden_dim=16, seed=0, device="cpu")


@pytest.mark.parametrize(
    "x, message",
    [
        (torch.full((2, 64), 17), r"integer pixel values in 0\.\.16; found 17 at index \(0, 0\)"),
        (torch.full((2, 64), -1), r"found -1 at index \(0, 0\)"),
        (torch.full((2, 64), 3.5), r"found 3\.5 at index"),
        (torch.full((2, 64), float("nan")), "found nan"),
        (torch.zeros(2, 8, 8), r"shape \(B, 64\).*got \(2, 8, 8\)"),
        (torch.zeros(0, 64), "no images"),
    ],
)
def test_image_functions_reject_bad_pixels_and_shapes(model, x, message):
    for function in (
        model.elbo,
        model.loss,
        model.encode,
        lambda x: vaelib.negative_elbo(model, x),
        lambda x: vaelib.iwae_bound(model, x, num_samples=2),
        lambda x: vaelib.negative_log_likelihood(model, x, num_samples=2),
        lambda x: vaelib.elbo_parts(model, x),
    ):
        with pytest.raises(ValueError, match=message):
            function(x)


#: Whole-number pixels in dtypes other than int64: documented as allowed by check_images and the encoder.
WHOLE_NUMBER_DTYPES = [torch.float32, torch.float64, torch.int32, torch.int16, torch.uint8]


@pytest.mark.parametrize("dtype", WHOLE_NUMBER_DTYPES, ids=str)
def test_whole_number_images_of_any_dtype_give_the_int64_results(digits, model, dtype):
    """These crashed inside F.cross_entropy (float or int32 targets); now they are the same images."""
    x = digits.test[:40]
    assert x.dtype == torch.int64 and torch.equal(x.to(dtype).long(), x)  # the same values, another dtype
    evaluations = {
        "negative_elbo": lambda x: vaelib.negative_elbo(model, x, num_samples=2),
        "negative_log_likelihood": lambda x: vaelib.negative_log_likelihood(model, x, num_samples=5),
        "iwae_bound": lambda x: vaelib.iwae_bound(model, x, num_samples=5, max_points=32),
        "elbo_parts": lambda x: vaelib.elbo_parts(model, x, batch_size=16),
        "loss": lambda x: model.loss(x).detach(),
        "encode": lambda x: model.encode(x),
        "reconstruct": lambda x: model.reconstruct(x),
    }
    for name, evaluate in evaluations.items():
        with fixed_seed(0):
            expected = evaluate(x)
        with fixed_seed(0):
            got = evaluate(x.to(dtype))
        if isinstance(expected, torch.Tensor):
            assert torch.equal(got, expected), name
        else:
            assert got == expected, name


def test_fit_on_float_and_int32_images_trains_exactly_as_on_int64(digits):
    as_int64 = vaelib.make_vae("mog", hidden_dim=16, seed=0, device="cpu")
    as_other = vaelib.make_vae("mog", hidden_dim=16, seed=0, device="cpu")
    other = dataclasses.replace(digits, train=digits.train.to(torch.float32), val=digits.val.to(torch.int32))
    expected = vaelib.fit(as_int64, digits, seed=0, max_epochs=2, progress=False)
    got = vaelib.fit(as_other, other, seed=0, max_epochs=2, progress=False)
    assert got.train_loss == expected.train_loss and got.val_loss == expected.val_loss
    assert all(torch.equal(a, b) for a, b in zip(as_other.state_dict().values(), as_int64.state_dict().values()))


def test_a_bernoulli_vae_takes_binary_images_as_floats(digits):
    binary = vaelib.load_digits(binarize=True, device="cpu")
    model = vaelib.make_vae("standard", likelihood="bernoulli", hidden_dim=8, seed=0, device="cpu")
    with fixed_seed(0):
        expected = vaelib.negative_elbo(model, binary.test)
    with fixed_seed(0):
        assert vaelib.negative_elbo(model, binary.test.float()) == expected
    floats = dataclasses.replace(binary, train=binary.train.float(), val=binary.val.double())
    assert vaelib.fit(model, floats, seed=0, max_epochs=1, progress=False).epochs == 1
