"""Several training seeds of one prior at once: the seed-to-seed spread, cheaply.

A comparison between priors means something only against the spread between seeds of one
prior. ``train_seeds("mog", data, seeds=3)`` builds one model per seed (``make_vae(seed=s)``)
and trains them; ``fit_seeds`` trains models that already exist.

With ``batched=True`` (the default off the CPU, see BATCH_ON_CPU) the seeds train as ONE
batched model: every parameter is stacked along a leading seed dimension and the VAE's own
``elbo`` runs once per step under ``torch.func.vmap``, so the Python and dispatch cost of a
step is paid once for all seeds instead of once per seed.
Each seed replays the random numbers ``fit(model, data, seed=s)`` would draw (its own
generator, the same draws in the same order), keeps its own best weights and History and
leaves the stack when it stops: per seed, the result is the sequential one up to float
rounding (batched matrix products add in another order).
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import asdict, fields

import torch
from torch import Tensor, nn
from torch.distributions import Distribution

from ._checks import check_int, check_seed
from .data import Digits
from .model import VAE, make_vae
from .threads import TrainingThreads
from .train import (
    History,
    Recipe,
    StopReason,
    TrainingDiverged,
    _make_optimizer,
    _say,
    check_data,
    count_trainings,
    fit,
    get_recipe,
)

# Validation runs in chunks of this many images, as fit's validation does (one chunk for Digits).
_VALIDATION_CHUNK = 2048


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


def _check_models(models) -> list[VAE]:
    """The models as a list, checked to be distinct VAEs of one architecture on one device."""
    if isinstance(models, VAE):
        raise TypeError("models must be a list of VAEs (one per seed), got a single VAE: use fit() for one model")
    try:
        models = list(models)
    except TypeError:
        raise TypeError(f"models must be a non-empty list of VAEs, got {models!r}") from None
    if not models:
        raise ValueError("models must hold at least one VAE, got an empty list")
    for i, model in enumerate(models):
        if not isinstance(model, VAE):
            raise TypeError(f"models must be a list of VAEs, but models[{i}] is a {type(model).__name__}")
    if len({id(model) for model in models}) != len(models):
        raise ValueError("models must be distinct VAEs: the same model appears twice in the list")
    first = models[0]
    shapes = {name: (p.shape, p.dtype, p.requires_grad) for name, p in first.named_parameters()}
    for i, model in enumerate(models[1:], 1):
        if model.config != first.config:
            raise ValueError(
                f"the seeds of one batch must share one architecture: models[{i}] is {model.config} "
                f"but models[0] is {first.config}"
            )
        if model.device != first.device:
            raise ValueError(f"models[{i}] is on {model.device} but models[0] on {first.device}: move them together")
        other = {name: (p.shape, p.dtype, p.requires_grad) for name, p in model.named_parameters()}
        if other != shapes:
            raise ValueError(f"models[{i}]'s parameters differ in shape, type or trainability from models[0]'s")
    return models


#: Whether fit_seeds batches on the CPU when not told (batched=None). Measured on 2 cores
#: (benchmarks/seed_batch.py): no gain there, 0.85-0.95x the sequential speed. A training step of
#: these models is compute-bound in its matrix products (the decoder's 256 x 1088 output layer),
#: and a batched product (bmm, under vmap or written by hand) costs as much per seed as one
#: product per seed; the Python overhead that batching saves is a small part of a CPU step.
BATCH_ON_CPU = False


def fit_seeds(models, data, *, seeds=None, recipe=None, progress: bool = True, threads=None, batched=None, **options):
    """Train each model with its own seed, as ``fit(models[i], data, seed=seeds[i])`` would,
    as one batched model (see the module's docstring) or one after another.

    models: a list of VAEs of one architecture (a SeedModels brings its seeds); seeds: one per
    model (default: the SeedModels' seeds, else 0, 1, ...); recipe and options as for ``fit``.
    batched: True trains the seeds as one batched model, False one after another with fit (the
    same results, up to float rounding); None: batched except on the CPU (see BATCH_ON_CPU).
    Each model ends with its best weights and its History (``model.history``); a Ctrl-C keeps
    every seed's best weights so far. -> list of History, one per model
    """
    given = models
    models = _check_models(models)
    if seeds is None:
        seeds = getattr(given, "seeds", None) or tuple(range(len(models)))
    seeds = _seed_list(seeds)
    if len(seeds) != len(models):
        raise ValueError(f"got {len(models)} models but {len(seeds)} seeds: give one seed per model")
    callback = options.pop("callback", None)
    recipe = get_recipe(recipe, **options)
    check_data(data, models[0])
    train = models[0].check_images(data.train, name="data.train")
    val = models[0].check_images(data.val, name="data.val")
    if batched is None:
        batched = BATCH_ON_CPU or models[0].device.type != "cpu"
    # A callback is handed one model object per validation: fit gives it that, so run fit.
    if not batched or callback is not None or not _can_batch(models[0]):
        return [
            fit(model, data, seed=seed, recipe=recipe, callback=callback, progress=progress, threads=threads)
            for model, seed in zip(models, seeds)
        ]
    policy = TrainingThreads() if threads is None else TrainingThreads(threads)
    count_trainings(len(models))
    with policy, _no_argument_validation():
        return _BatchedRun(models, seeds, train, val, recipe, policy).run(progress)


def train_seeds(
    prior: str, data, seeds=3, *, recipe=None, progress: bool = True, threads=None, batched=None, **options
):
    """``make_vaes`` then ``fit_seeds``: one trained model per seed. -> SeedModels

    Options are split: training options (lr, max_epochs, ...) go to fit, the rest to make_vae.
    The models are built for ``data`` (its image size and pixel values) when it is a Digits-like data set.
    """
    training = {f.name for f in fields(Recipe)}
    fit_options = {k: v for k, v in options.items() if k in training}
    model_options = {k: v for k, v in options.items() if k not in training}
    if isinstance(data, Digits):  # also MNIST5k; other objects with .train and .val build Digits models
        model_options.setdefault("data", data)
    models = make_vaes(prior, seeds, **model_options)
    fit_seeds(
        models,
        data,
        seeds=models.seeds,
        recipe=recipe,
        progress=progress,
        threads=threads,
        batched=batched,
        **fit_options,
    )
    return models


@contextmanager
def _no_argument_validation():
    """Switch torch.distributions' argument checks off for the block (they inspect values, which
    vmap cannot do), then restore the caller's setting. The data were checked before training."""
    previous = Distribution._validate_args
    Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        Distribution.set_default_validate_args(previous)


class _ELBOTerms(nn.Module):
    """The VAE's ELBO parts as a plain tuple (what vmap can return), with given noise."""

    def __init__(self, vae: VAE):
        super().__init__()
        self.vae = vae

    def forward(self, x: Tensor, noise: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        parts = self.vae.elbo(x, validate=False, noise=noise)
        return parts.reconstruction, parts.log_prior, parts.entropy


def _elbo_terms(module: _ELBOTerms, params: dict, buffers: dict, x: Tensor, noise: Tensor, shared_x: bool):
    """The ELBO parts of every seed at once: params, buffers and noise are stacked (S, ...),
    x is (S, B, D), or (B, D) for all seeds when ``shared_x``. -> three (S, B) tensors"""

    def one_seed(params, buffers, x, noise):
        return torch.func.functional_call(module, (params, buffers), (x, noise))

    return torch.func.vmap(one_seed, in_dims=(0, 0, None if shared_x else 0, 0))(params, buffers, x, noise)


def _can_batch(model: VAE) -> bool:
    """Whether ``model``'s prior runs under vmap: one tiny batched ELBO, no random numbers drawn.

    All six priors of the chapter do. A prior that cannot (it reads tensor values in Python, or
    draws random numbers inside ``distribution()``) makes fit_seeds fall back to training the
    seeds one after another with fit, which gives the same results, only slower.
    """
    module = _ELBOTerms(model)
    params = {f"vae.{n}": p.detach().unsqueeze(0) for n, p in model.named_parameters()}
    buffers = {f"vae.{n}": b.unsqueeze(0) for n, b in model.named_buffers()}
    x = torch.zeros(1, 2, model.input_dim, dtype=torch.long, device=model.device)
    noise = torch.zeros(1, 2, model.latent_dim, device=model.device)
    try:
        with torch.no_grad(), _no_argument_validation():
            terms = _elbo_terms(module, params, buffers, x, noise, shared_x=False)
        return all(t.shape == (1, 2) for t in terms)
    except Exception:  # noqa: BLE001 - any failure under vmap means: train one seed at a time
        return False


def _standard_normal(generator: torch.Generator, shape, like: Tensor) -> Tensor:
    # What Normal.rsample draws (torch.empty(shape).normal_()), from this seed's generator.
    return torch.empty(shape, dtype=like.dtype, device=like.device).normal_(generator=generator)


class _BatchedRun:
    """One batched training run: the stacked weights, optimizer, weight average and the
    per-seed bookkeeping (generators, histories, best weights) of the seeds still training."""

    def __init__(self, models, seeds, train: Tensor, val: Tensor, recipe: Recipe, policy: TrainingThreads):
        self.models, self.seeds, self.train, self.val, self.recipe, self.policy = (
            models,
            seeds,
            train,
            val,
            recipe,
            policy,
        )
        template = models[0]
        self.module = _ELBOTerms(template)
        self.latent_dim = template.latent_dim
        device = template.device
        self.generators = []
        for seed in seeds:  # each seed's stream, seeded as fit's fixed_seed(seed) seeds the global one
            generator = torch.Generator(device=device)
            generator.manual_seed(seed)
            self.generators.append(generator)
        per_model = [dict(model.named_parameters()) for model in models]
        self.params = {
            name: torch.stack([p[name].detach() for p in per_model]).requires_grad_(template_p.requires_grad)
            for name, template_p in template.named_parameters()
        }
        per_model_buffers = [dict(model.named_buffers()) for model in models]
        self.buffers = {name: torch.stack([b[name] for b in per_model_buffers]) for name, _ in template.named_buffers()}
        # fit's own optimizer for the template model (its groups, options, fused kernel), each
        # parameter then replaced by its stacked (S, ...) twin: Adam's update is elementwise,
        # so one update of the stack is each seed's update.
        self.optimizer = _make_optimizer(recipe.optimizer, template, recipe.lr, recipe.prior_lr_factor)
        names = {id(p): name for name, p in template.named_parameters()}
        for group in self.optimizer.param_groups:
            group["params"] = [self.params[names[id(p)]] for p in group["params"]]
        self.scheduler = None
        if recipe.schedule == "cosine":
            steps = recipe.max_epochs * math.ceil(len(train) / recipe.batch_size)
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=steps)
        # The weight average (fit's WeightAverage) of every seed, stacked the same way.
        self.average = {n: p.detach().clone() for n, p in self.params.items()} if recipe.ema else None
        self.histories = [History(prior=template.prior_name, recipe=asdict(recipe)) for _ in models]
        for model, history in zip(models, self.histories):
            model.history = history
        self.best = [{n: p.detach().clone() for n, p in model.named_parameters()} for model in models]
        self.live = list(range(len(models)))  # the seeds still training, in stack order

    # One epoch --------------------------------------------------------------------------
    def _stacked(self, tensors: dict) -> dict:
        return {f"vae.{n}": t for n, t in tensors.items()}

    def train_epoch(self, kl_weight: float) -> list[float]:
        """One pass over each live seed's shuffled minibatches. -> each live seed's mean training -ELBO"""
        train, batch_size = self.train, self.recipe.batch_size
        generators = [self.generators[i] for i in self.live]
        # Per seed, in fit's order: the epoch's permutation, then one noise draw per batch.
        shuffled = torch.stack(
            [train[torch.randperm(len(train), device=train.device, generator=g)] for g in generators]
        )
        params, buffers = self._stacked(self.params), self._stacked(self.buffers)
        like = next(iter(self.params.values()))
        total = torch.zeros(len(self.live), device=train.device)
        for start in range(0, len(train), batch_size):
            batch = shuffled[:, start : start + batch_size]
            noise = torch.stack([_standard_normal(g, (batch.shape[1], self.latent_dim), like) for g in generators])
            reconstruction, log_prior, entropy = _elbo_terms(self.module, params, buffers, batch, noise, False)
            elbo = reconstruction + log_prior + entropy
            if kl_weight == 1.0:
                loss = -elbo.mean(1)
            else:  # fit's KL warm-up, written as fit writes it (kl = -(log_prior + entropy))
                loss = -(reconstruction - kl_weight * -(log_prior + entropy)).mean(1)
            self.optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()  # the seeds share no weights: each gets its own gradient
            self.optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
            if self.average is not None:
                with torch.no_grad():
                    torch._foreach_lerp_(
                        list(self.average.values()),
                        [p.detach() for p in self.params.values()],
                        1.0 - self.recipe.ema,
                    )
            total += -elbo.detach().sum(1)
        return [float(t) / len(train) for t in total]

    @torch.no_grad()
    def validation_losses(self, weights: dict) -> list[float]:
        """Each live seed's validation -ELBO with ``weights`` (the model or its average)."""
        generators = [self.generators[i] for i in self.live]
        params, buffers = self._stacked(weights), self._stacked(self.buffers)
        like = next(iter(weights.values()))
        total = 0
        for chunk in self.val.split(_VALIDATION_CHUNK):
            noise = torch.stack([_standard_normal(g, (len(chunk), self.latent_dim), like) for g in generators])
            reconstruction, log_prior, entropy = _elbo_terms(self.module, params, buffers, chunk, noise, True)
            total = total + (reconstruction + log_prior + entropy).sum(1)
        return [-float(t) / len(self.val) for t in total]

    def drop(self, stopped: set[int]) -> None:
        """Take stopped seeds out of the stack: they no longer change, nor cost time."""
        keep_positions = [k for k, i in enumerate(self.live) if i not in stopped]
        keep = torch.tensor(keep_positions, device=next(iter(self.params.values())).device)
        old_to_new = {}
        for name, p in self.params.items():
            new = p.detach()[keep].clone().requires_grad_(p.requires_grad)
            old_to_new[p] = new
            self.params[name] = new
        for group in self.optimizer.param_groups:
            group["params"] = [old_to_new[p] for p in group["params"]]
        state = {}
        for old, values in self.optimizer.state.items():
            # Per-element state (moments) follows its seeds; scalars (Adam's step count) are shared.
            state[old_to_new[old]] = {
                k: v[keep].clone() if isinstance(v, Tensor) and v.dim() > 0 else v for k, v in values.items()
            }
        self.optimizer.state.clear()
        self.optimizer.state.update(state)
        self.buffers = {n: b[keep] for n, b in self.buffers.items()}
        if self.average is not None:
            self.average = {n: a[keep].clone() for n, a in self.average.items()}
        self.live = [self.live[k] for k in keep_positions]

    # The run ----------------------------------------------------------------------------
    def run(self, progress: bool) -> list[History]:
        recipe, histories = self.recipe, self.histories
        start = time.perf_counter()
        bar = None
        if progress:
            from tqdm.auto import tqdm

            desc = f"{histories[0].prior} ×{len(self.models)} seeds"
            bar = tqdm(total=recipe.max_epochs, desc=desc, unit="epoch", leave=True)
        diverged = []  # (seed index, message) of seeds whose loss became NaN or infinite
        try:
            for epoch in range(1, recipe.max_epochs + 1):
                epoch_start = time.perf_counter()
                kl_weight = min(1.0, epoch / recipe.kl_warmup) if recipe.kl_warmup else 1.0
                stopped = set()
                for i, train_loss in zip(self.live, self.train_epoch(kl_weight)):
                    histories[i].train_loss.append(train_loss)
                    histories[i].epochs = epoch
                    if not math.isfinite(train_loss):
                        diverged.append((i, self._diverged_message(i, "training loss", train_loss, epoch)))
                        stopped.add(i)
                validate = epoch % recipe.eval_every == 0 or epoch == recipe.max_epochs
                if validate:
                    validated = self.params if self.average is None else self.average
                    losses = self.validation_losses({n: t.detach() for n, t in validated.items()})
                    for k, (i, val_loss) in enumerate(zip(self.live, losses)):
                        if i in stopped:
                            continue
                        history = histories[i]
                        if not math.isfinite(val_loss):
                            diverged.append((i, self._diverged_message(i, "validation loss", val_loss, epoch)))
                            stopped.add(i)
                            continue
                        history.val_epochs.append(epoch)
                        history.val_loss.append(val_loss)
                        if val_loss < history.best_val_loss:
                            history.best_val_loss, history.best_epoch = val_loss, epoch
                            self.best[i] = {n: t[k].detach().clone() for n, t in validated.items()}
                        if epoch - history.best_epoch > recipe.patience and epoch >= recipe.min_epochs:
                            history.stopped = StopReason.EARLY_STOPPING
                            stopped.add(i)
                for i, _ in diverged:
                    histories[i].stopped = StopReason.DIVERGED
                now = time.perf_counter()
                self.policy.after_epoch(now - epoch_start)
                for i in self.live:
                    histories[i].seconds = now - start
                if bar is not None:
                    if validate:
                        best = [histories[i].best_val_loss for i in self.live]
                        bar.set_postfix(training=len(self.live), best=f"{min(best):.2f}", refresh=False)
                    bar.update(1)
                if stopped:
                    if len(stopped) == len(self.live):
                        self.live = []
                        break
                    self.drop(stopped)
            else:
                for i in self.live:
                    histories[i].stopped = StopReason.MAX_EPOCHS
        except KeyboardInterrupt:
            for i in self.live:
                if histories[i].stopped is None:
                    histories[i].stopped = StopReason.INTERRUPTED
            epochs = max(history.epochs for history in histories)
            message = f"Interrupted at epoch {epochs}: keeping each seed's best model."
            _say(bar, message)
        finally:
            if bar is not None:
                bar.close()
            self.restore_best()
            end = time.perf_counter() - start
            for i in self.live:
                histories[i].seconds = end
        if diverged:
            raise TrainingDiverged(diverged[0][1])
        return histories

    def _diverged_message(self, i: int, what: str, value: float, epoch: int) -> str:
        history = self.histories[i]
        return (
            f"training the {history.prior!r} prior with seed {self.seeds[i]} diverged at epoch {epoch}: the {what} "
            f"is {value}. Every model keeps its best weights (this one: epoch {history.best_epoch}); "
            f"try a smaller learning rate than lr={self.recipe.lr}."
        )

    @torch.no_grad()
    def restore_best(self) -> None:
        for model, best in zip(self.models, self.best):
            for name, p in model.named_parameters():
                p.copy_(best[name])
            model.eval()
