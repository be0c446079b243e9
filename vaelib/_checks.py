"""Input validation shared by the public functions: clear errors that name the bad value."""

from __future__ import annotations

import torch
from torch import Tensor


def check_int(name: str, value, minimum: int) -> int:
    """Return ``value`` if it is an int >= ``minimum``, else raise a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


#: The largest seed torch's generators accept (seeds are 64-bit unsigned integers).
MAX_SEED = 2**64 - 1


def check_seed(value, name: str = "seed") -> int:
    """Return ``value`` if it is a usable seed: an int in 0..MAX_SEED (torch's 64-bit range)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer in 0..2**64-1 (or None), got {value!r}")
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"{name} must be an integer in 0..2**64-1 (or None), got {value}")
    return value


def check_model(model, name: str = "model"):
    """Return ``model`` if it is a vaelib VAE (anything with the VAE's image check and parts)."""
    if not all(hasattr(model, part) for part in ("check_images", "encoder", "decoder", "prior")):
        raise TypeError(f"{name} must be a vaelib VAE (e.g. vaelib.make_vae(...)), got {type(model).__name__}")
    return model


def check_positive_float(name: str, value) -> float:
    """Return ``value`` as a float if it is a finite number > 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a positive number, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else list the allowed ones."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"unknown {name} {value!r}; choose one of: {allowed}")
    return value


def check_latent(z, latent_dim: int, name: str = "z") -> Tensor:
    """Check that ``z`` is a floating tensor of latent points, shape ``(B, latent_dim)``."""
    if not isinstance(z, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, {latent_dim}), got {type(z).__name__}")
    if z.dim() != 2 or z.shape[-1] != latent_dim:
        raise ValueError(f"{name} must have shape (B, {latent_dim}), got {tuple(z.shape)}")
    if not z.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {z.dtype}")
    return z


def check_images(x, input_dim: int, num_values: int, name: str = "x") -> Tensor:
    """Check that ``x`` holds images as rows of integer pixel values in ``0..num_values-1``.

    x: (B, input_dim), any integer or float dtype whose values are whole numbers.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, {input_dim}), got {type(x).__name__}")
    if x.dim() != 2 or x.shape[-1] != input_dim:
        raise ValueError(f"{name} must have shape (B, {input_dim}) (one flattened image per row), got {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} holds no images (shape {tuple(x.shape)})")
    top = num_values - 1
    if x.is_floating_point() or x.is_complex():
        bad = ~torch.isfinite(x) | (x != torch.round(x)) | (x < 0) | (x > top)
    else:
        bad = (x < 0) | (x > top)
    if bool(bad.any()):
        index = tuple(int(i) for i in bad.nonzero()[0])
        value = x[index].item()
        raise ValueError(f"{name} must hold integer pixel values in 0..{top}; found {value!r} at index {index}")
    return x


def default_device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device) -> torch.device:
    """``device`` as a torch.device (None: :func:`default_device`), or a clear error if unusable here."""
    if device is None:
        return default_device()
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"unknown device {device!r}; use 'cpu', 'cuda', 'cuda:0', ... or None") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but PyTorch sees no CUDA GPU on this machine; use 'cpu' (or None)")
    if resolved.type == "cuda" and resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ValueError(f"device={device!r} but this machine has {torch.cuda.device_count()} CUDA device(s)")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} but the MPS backend is not available on this machine; use 'cpu'")
    return resolved
