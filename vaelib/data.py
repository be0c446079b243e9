"""scikit-learn's Digits (8x8 images, pixels 0..16), split as the book does.

The whole data set is 1797 x 64 integers: it lives in one tensor, and a minibatch is a
slice of a shuffled copy. A DataLoader would only add Python overhead per step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterator

import numpy as np
import torch
from torch import Tensor

from ._checks import check_int, resolve_device

#: The book's split: first 1000 images train, next 350 validation, the rest test.
TRAIN_SIZE = 1000
VAL_SIZE = 350
IMAGE_SHAPE = (8, 8)
NUM_PIXEL_VALUES = 17  # Digits pixels are integers 0..16


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
            f"Digits(train={len(self.train)}, val={len(self.val)}, test={len(self.test)}, "
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


def minibatches(x: Tensor, batch_size: int, shuffle: bool = True, generator=None) -> Iterator[Tensor]:
    """Yield consecutive slices of (a shuffled copy of) ``x``; the last one may be smaller.

    x: (N, ...) -> batches (<= batch_size, ...)
    """
    check_int("batch_size", batch_size, 1)
    if shuffle:
        x = x[torch.randperm(x.shape[0], device=x.device, generator=generator)]
    for start in range(0, x.shape[0], batch_size):
        yield x[start : start + batch_size]
