"""Several training seeds of one prior at once: the seed-to-seed spread, cheaply.

A comparison between priors means something only against the spread between seeds of one
prior. ``train_seeds("mog", data, seeds=3)`` builds one model per seed (``make_vae(seed=s)``)
and trains each with ``fit(seed=s)``; ``fit_seeds`` trains models that already exist.
"""

from __future__ import annotations

from ._checks import check_int, check_seed
from .model import VAE, make_vae
from .train import History, fit


class SeedModels(list):
    """The trained models of one prior, one per seed (a list), with ``.seeds`` and ``.prior``."""

    def __init__(self, models, seeds):
        super().__init__(models)
        self.seeds = tuple(seeds)

    @property
    def prior(self) -> str:
        return self[0].prior_name if self else ""

    @property
    def histories(self) -> list[History]:
        return [model.history for model in self]

    def __repr__(self) -> str:
        return f"SeedModels({self.prior!r}, seeds={list(self.seeds)})"


def _seed_list(seeds) -> tuple[int, ...]:
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        return tuple(range(check_int("seeds", seeds, 1)))
    try:
        seeds = tuple(seeds)
    except TypeError:
        raise TypeError(f"seeds must be a count (e.g. 3) or a list of seeds, got {seeds!r}") from None
    if not seeds:
        raise ValueError("seeds must name at least one seed, got an empty list")
    for seed in seeds:
        check_seed(seed)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must differ from each other, got {list(seeds)}")
    return seeds


def make_vaes(prior: str = "standard", seeds=3, **options) -> SeedModels:
    """One untrained ``make_vae(prior, seed=s, **options)`` per seed (seeds: a count or a list)."""
    seeds = _seed_list(seeds)
    return SeedModels([make_vae(prior, seed=seed, **options) for seed in seeds], seeds)


def fit_seeds(models, data, *, seeds=None, recipe=None, progress: bool = True, threads=None, **options):
    """Train each model with its own seed, as ``fit(models[i], data, seed=seeds[i])`` would.

    models: a list of VAEs (a SeedModels brings its seeds). -> list of History, one per model
    """
    models = list(models)
    if not models or not all(isinstance(m, VAE) for m in models):
        raise TypeError(f"models must be a non-empty list of VAEs, got {models!r}")
    if seeds is None:
        seeds = getattr(models, "seeds", None) or tuple(range(len(models)))
    seeds = _seed_list(seeds)
    if len(seeds) != len(models):
        raise ValueError(f"got {len(models)} models but {len(seeds)} seeds: give one seed per model")
    return [
        fit(model, data, seed=seed, recipe=recipe, progress=progress, threads=threads, **options)
        for model, seed in zip(models, seeds)
    ]


def train_seeds(prior: str, data, seeds=3, *, recipe=None, progress: bool = True, threads=None, **options):
    """``make_vaes`` then ``fit_seeds``: one trained model per seed. -> SeedModels

    Options are split: training options (lr, max_epochs, ...) go to fit, the rest to make_vae.
    """
    from dataclasses import fields

    from .train import Recipe

    training = {f.name for f in fields(Recipe)}
    fit_options = {k: v for k, v in options.items() if k in training}
    model_options = {k: v for k, v in options.items() if k not in training}
    models = make_vaes(prior, seeds, **model_options)
    fit_seeds(models, data, seeds=models.seeds, recipe=recipe, progress=progress, threads=threads, **fit_options)
    return models
