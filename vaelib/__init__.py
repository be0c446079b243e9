"""vaelib: VAEs with the priors of Chapter 4 of Tomczak's *Deep Generative Modeling*."""

from .data import Digits, load_digits, minibatches
from .model import ELBOParts, VAE, Decoder, Encoder, default_device, make_vae
from .priors import PRIORS, Prior, make_prior, prior_options

__version__ = "0.1.0"

__all__ = [
    "Digits", "load_digits", "minibatches",
    "VAE", "Encoder", "Decoder", "ELBOParts", "default_device", "make_vae",
    "PRIORS", "Prior", "make_prior", "prior_options",
]

from .checkpoint import load, save
from .evaluate import elbo_parts, iwae_bound, negative_elbo, negative_log_likelihood
from .train import RECIPES, History, Recipe, TrainingDiverged, fit, get_recipe

__all__ += [
    "save", "load", "elbo_parts", "iwae_bound", "negative_elbo", "negative_log_likelihood",
    "fit", "History", "Recipe", "RECIPES", "TrainingDiverged", "get_recipe",
]

from . import analysis, plots  # noqa: E402
from .analysis import ComparisonTable, compare_priors, elbo_surgery, holes, latent_grid  # noqa: E402
from .plots import posterior_vs_prior, prior_comparison, prior_contours, training_curves  # noqa: E402

__all__ += [
    "analysis", "plots", "ComparisonTable", "compare_priors", "elbo_surgery", "holes", "latent_grid",
    "posterior_vs_prior", "prior_comparison", "prior_contours", "training_curves",
]

from . import widgets  # noqa: E402
from .widgets import Playground, live_fit  # noqa: E402

__all__ += ["widgets", "Playground", "live_fit"]
