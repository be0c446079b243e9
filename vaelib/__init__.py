"""vaelib: VAEs with the priors of Chapter 4 of Tomczak's *Deep Generative Modeling*.

What a notebook author uses is here; the parts (Encoder, Decoder, minibatches, ...) stay
importable from their modules. The widgets load on first use (``vaelib.widgets``,
``vaelib.live_fit``, ``vaelib.Playground``), so the command line never imports ipywidgets.
"""

from . import analysis, plots, priors
from ._version import __version__
from .analysis import ComparisonTable, compare_priors, compare_seeds, elbo_surgery, holes, latent_grid
from .batched import SeedModels, fit_seeds, make_vaes, train_seeds
from .checkpoint import load, save
from .claims import SeedStats, check, expect_between, expect_lower, expect_within_noise
from .data import Digits, MNIST5k, load_digits, load_mnist5k
from .evaluate import elbo_parts, iwae_bound, negative_elbo, negative_log_likelihood
from .model import VAE, ELBOParts, make_vae
from .plots import posterior_vs_prior, prior_comparison, prior_contours, training_curves
from .priors import PRIORS, Prior, make_prior, prior_options
from .threads import get_num_threads, set_num_threads
from .train import RECIPES, History, Recipe, StopReason, TrainingDiverged, fit, get_recipe

#: Names loaded from vaelib.widgets on first use (it imports ipywidgets).
_WIDGETS = ("widgets", "Playground", "live_fit")

__all__ = [
    "__version__",
    # data and model
    "Digits",
    "load_digits",
    "MNIST5k",
    "load_mnist5k",
    "VAE",
    "ELBOParts",
    "make_vae",
    "PRIORS",
    "Prior",
    "make_prior",
    "prior_options",
    # training, evaluation, checkpoints
    "fit",
    "fit_seeds",
    "make_vaes",
    "train_seeds",
    "SeedModels",
    "History",
    "Recipe",
    "RECIPES",
    "StopReason",
    "TrainingDiverged",
    "get_recipe",
    "elbo_parts",
    "iwae_bound",
    "negative_elbo",
    "negative_log_likelihood",
    "save",
    "load",
    "get_num_threads",
    "set_num_threads",
    # looking inside, drawing, widgets
    "analysis",
    "ComparisonTable",
    "compare_priors",
    "compare_seeds",
    # claims a notebook checks
    "check",
    "expect_lower",
    "expect_within_noise",
    "expect_between",
    "SeedStats",
    "elbo_surgery",
    "holes",
    "latent_grid",
    "plots",
    "posterior_vs_prior",
    "prior_comparison",
    "prior_contours",
    "training_curves",
    "priors",
    *_WIDGETS,
]


def __getattr__(name: str):
    if name in _WIDGETS:
        # The first use imports vaelib.widgets (and ipywidgets); later ones find it imported.
        from .widgets import Playground, live_fit

        return {"Playground": Playground, "live_fit": live_fit}.get(name) or globals()["widgets"]
    raise AttributeError(f"module 'vaelib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
