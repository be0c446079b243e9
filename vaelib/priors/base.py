"""The prior interface: an ``nn.Module`` that holds parameters and builds a distribution.

Every prior builds a ``torch.distributions.Distribution`` over the latent space with
``event_shape == (latent_dim,)``. ``log_prob`` and ``sample`` delegate to it, so the
density of a latent *point* (not of each coordinate) is what comes back, by construction.

A prior also *declares* what it is, so that plots and widgets ask instead of guessing:
its one size knob (``size_option``), whether it is a mixture (:class:`MixturePrior`:
weights, means and scales of its components), a mixture over a grid (:class:`GridPrior`),
a mixture of the encoder's posteriors at pseudo-inputs (:class:`PseudoInputs`), or a flow
(``FlowPrior.stages()``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.distributions import Categorical, Distribution, Independent, MixtureSameFamily, Normal

from .._checks import check_int, check_latent, check_positive_float
from ..nets import Configurable, mlp


@dataclass(frozen=True)
class SizeOption:
    """The one hyper-parameter that sets a prior's size: what the Playground's slider moves.

    Its default lives in one place, the prior's constructor (see :meth:`Prior.options`).
    """

    name: str  # the constructor's keyword, e.g. "num_components"
    label: str  # what a person reads beside the slider, e.g. "components"
    minimum: int
    maximum: int


class Prior(Configurable, nn.Module):
    """Base class of all priors: subclasses implement :meth:`distribution`.

    Training, evaluation and the plots all go through ``distribution()`` (built once per
    batch or grid), and ``log_prob``/``sample`` are derived from it: to change what a prior
    computes, override ``distribution()``, never only ``log_prob``.

    A subclass calls ``self.save_hyperparameters()`` in its ``__init__`` (after
    ``super().__init__``) so that a model holding it can be saved, and sets ``size_option``
    when it has a size knob.
    """

    #: Set by priors whose components come from the VAE's encoder (VampPrior family): they take encoder=.
    needs_encoder: ClassVar[bool] = False
    #: The prior's one size knob (None: it has none).
    size_option: ClassVar[SizeOption | None] = None

    def __init__(self, latent_dim: int):
        super().__init__()
        self.latent_dim = check_int("latent_dim", latent_dim, 2)
        self.hparams = {"latent_dim": latent_dim}

    @classmethod
    def options(cls) -> dict:
        """The keyword options of this prior with their defaults (latent_dim and encoder aside)."""
        signature = inspect.signature(cls.__init__)
        return {
            key: p.default
            for key, p in signature.parameters.items()
            if key not in ("self", "latent_dim", "encoder") and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }

    @classmethod
    def default_size(cls) -> int | None:
        """The default of the size knob (from the constructor), or None without one."""
        return None if cls.size_option is None else cls.options()[cls.size_option.name]

    @property
    def size(self) -> int | None:
        """The current value of the size knob, or None."""
        return None if self.size_option is None else getattr(self, self.size_option.name)

    @property
    def device(self) -> torch.device:
        """Where the prior's parameters and buffers live (the CPU when it has none)."""
        for tensor in (*self.parameters(), *self.buffers()):
            return tensor.device
        return torch.device("cpu")

    def distribution(self) -> Distribution:
        """The prior p(z) as a distribution with ``event_shape == (latent_dim,)``."""
        raise NotImplementedError

    def log_prob(self, z: Tensor) -> Tensor:
        """log p(z) of each latent point. z: (B, L) -> (B,)"""
        check_latent(z, self.latent_dim)
        return self.distribution().log_prob(z)

    def sample(self, n: int) -> Tensor:
        """Draw ``n`` latent points. -> (n, L)"""
        check_int("n", n, 1)
        with torch.no_grad():
            return self.distribution().sample((n,))

    def num_parameters(self) -> int:
        """Number of learnable parameters that belong to the prior itself."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}"


def gaussian_mixture(mixture_logits: Tensor, means: Tensor, logvars: Tensor) -> MixtureSameFamily:
    """sum_k w_k N(z; mu_k, diag exp(logvar_k)) with w = softmax(mixture_logits).

    mixture_logits: (K,), means: (K, L), logvars: (K, L) -> event_shape (L,)
    """
    # Independent(..., 1) makes each component a density over the whole point z, so the
    # log-sum-exp runs over components after summing over dimensions (never per dimension).
    components = Independent(Normal(means, torch.exp(0.5 * logvars), validate_args=False), 1)
    return MixtureSameFamily(Categorical(logits=mixture_logits, validate_args=False), components, validate_args=False)


@dataclass(frozen=True)
class Components:
    """The components of a Gaussian mixture: weights (K,), means (K, L), standard deviations (K, L)."""

    weights: Tensor
    means: Tensor
    scales: Tensor

    def __len__(self) -> int:
        return len(self.weights)


class MixturePrior(Prior):
    """A Gaussian mixture whose parameters subclasses compute in :meth:`mixture_parameters`."""

    def mixture_parameters(self) -> tuple[Tensor, Tensor, Tensor]:
        """(mixture_logits (K,), means (K, L), logvars (K, L))."""
        raise NotImplementedError

    def distribution(self) -> MixtureSameFamily:
        return gaussian_mixture(*self.mixture_parameters())

    def components(self) -> Components:
        """The mixture's weights, means and standard deviations (with gradients, as computed)."""
        logits, means, logvars = self.mixture_parameters()
        return Components(torch.softmax(logits, 0), means, torch.exp(0.5 * logvars))

    @property
    def num_components(self) -> int:
        return self.mixture_logits.shape[0]


class PseudoInputs:
    """Capability of priors built from the VAE's encoder at pseudo-inputs (images) u_k.

    Such a prior holds the encoder it shares with the VAE (``self.encoder``) and says what its
    pseudo-inputs are; component k is q(z | u_k).
    """

    needs_encoder: ClassVar[bool] = True
    encoder: nn.Module

    @property
    def pseudo_inputs(self) -> Tensor:
        """The pseudo-inputs as images with pixel values in [0, pixel_max]. -> (K, D)"""
        raise NotImplementedError

    @property
    def pixel_max(self) -> int:
        """The top pixel value of the images the encoder reads (16 for Digits)."""
        return self.encoder.num_values - 1


def share_encoder(prior: Prior, encoder: nn.Module) -> None:
    """Give ``prior`` the VAE's encoder without making it the prior's child module.

    The VAE owns and registers the encoder; kept out of the prior's children, its weights
    appear once in ``state_dict`` and in ``parameters()``.
    """
    if encoder.latent_dim != prior.latent_dim:
        raise ValueError(f"encoder.latent_dim is {encoder.latent_dim} but latent_dim is {prior.latent_dim}")
    object.__setattr__(prior, "encoder", encoder)


def grid_points(grid_size: int, grid_range: float) -> Tensor:
    """A regular ``grid_size x grid_size`` grid on [-grid_range, grid_range]^2, row-major. -> (K, 2)"""
    axis = torch.linspace(-grid_range, grid_range, grid_size)
    first, second = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([first.reshape(-1), second.reshape(-1)], dim=1)


class GridPrior(MixturePrior):
    """A mixture over a fixed ``grid_size x grid_size`` grid u_k on [-grid_range, grid_range]^2,
    whose components a tanh network computes from the grid points (the GTM priors).

    Subclasses implement :meth:`components_at` (any points of the grid's square -> component
    means and log-variances); the network maps a 2-D point to ``out_dim`` numbers.
    """

    size_option = SizeOption("grid_size", "grid side", 2, 8)

    def __init__(self, latent_dim: int, grid_size: int, grid_range: float, hidden_dim: int, out_dim: int):
        super().__init__(latent_dim)
        self.grid_size = check_int("grid_size", grid_size, 1)
        self.grid_range = check_positive_float("grid_range", grid_range)
        check_int("hidden_dim", hidden_dim, 1)
        self.register_buffer("grid", grid_points(grid_size, grid_range))
        self.network = mlp(2, hidden_dim, out_dim, activation=nn.Tanh)
        self.mixture_logits = nn.Parameter(torch.zeros(grid_size**2))

    def components_at(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """Means and log-variances of the components at points of the grid's square. (P, 2) -> ((P, L), (P, L))"""
        raise NotImplementedError

    def fine_grid(self, grid_size: int) -> Tensor:
        """A ``grid_size x grid_size`` grid over the same square (same order as ``grid``). -> (grid_size**2, 2)"""
        return grid_points(check_int("grid_size", grid_size, 2), self.grid_range).to(self.grid.device)

    def mixture_parameters(self):
        return (self.mixture_logits, *self.components_at(self.grid))

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, grid={self.grid_size}x{self.grid_size}"
