"""The six priors of the chapter, and a registry to build them by name."""

from __future__ import annotations

from .._checks import check_choice, check_int
from .base import Components, GridPrior, MixturePrior, Prior, PseudoInputs, SizeOption, gaussian_mixture
from .flow import AffineCoupling, Flip, FlowPrior
from .gtm import GTMPrior
from .gtm_vampprior import GTMVampPrior
from .mog import MoGPrior
from .standard import StandardPrior
from .vampprior import VampPrior

#: Prior name -> class. Adding a prior: write its module (a Prior subclass), add one line here.
PRIORS: dict[str, type[Prior]] = {
    "standard": StandardPrior,
    "mog": MoGPrior,
    "vampprior": VampPrior,
    "gtm": GTMPrior,
    "gtm-vampprior": GTMVampPrior,
    "flow": FlowPrior,
}


def prior_options(name: str) -> dict:
    """The keyword options of prior ``name`` with their defaults."""
    return PRIORS[check_choice("prior", name, tuple(PRIORS))].options()


def prior_name(prior: Prior) -> str:
    """The registry name of ``prior``'s class (its class name when it is not registered)."""
    for name, cls in PRIORS.items():
        if type(prior) is cls:
            return name
    return type(prior).__name__


def make_prior(name: str, latent_dim: int = 2, *, encoder=None, **options) -> Prior:
    """Build the prior called ``name`` (one of ``PRIORS``) with the book's defaults.

    encoder: the VAE's encoder, required by priors that need one (``needs_encoder``:
    "vampprior" and "gtm-vampprior").
    """
    check_choice("prior", name, tuple(PRIORS))
    check_int("latent_dim", latent_dim, 2)
    valid = prior_options(name)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise TypeError(
            f"the {name!r} prior has no option {', '.join(map(repr, unknown))}; "
            f"its options are: {', '.join(valid) or 'none'}"
        )
    cls = PRIORS[name]
    if cls.needs_encoder:
        if encoder is None:
            raise ValueError(f"the {name!r} prior passes pseudo-inputs through the VAE's encoder: pass encoder=")
        return cls(latent_dim, encoder=encoder, **options)
    return cls(latent_dim, **options)


__all__ = [
    "PRIORS",
    "Prior",
    "SizeOption",
    "Components",
    "MixturePrior",
    "GridPrior",
    "PseudoInputs",
    "StandardPrior",
    "MoGPrior",
    "VampPrior",
    "GTMPrior",
    "GTMVampPrior",
    "FlowPrior",
    "AffineCoupling",
    "Flip",
    "gaussian_mixture",
    "make_prior",
    "prior_name",
    "prior_options",
]
