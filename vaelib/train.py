"""Training: minibatch ELBO ascent with early stopping on validation -ELBO.

``fit`` restores the best weights at the end, on early stopping, on Ctrl-C
(KeyboardInterrupt) and before raising when training diverges.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field, fields, replace
from enum import Enum

import torch

from ._checks import check_choice, check_int, check_model, check_positive_float, check_seed
from .data import minibatches
from .seeding import fixed_seed
from .threads import TrainingThreads

OPTIMIZERS = {"adamax": torch.optim.Adamax, "adam": torch.optim.Adam}
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class Recipe:
    """Everything about *how* a model is trained, with the book's settings as defaults."""

    optimizer: str = "adamax"
    lr: float = 1e-3
    batch_size: int = 64
    max_epochs: int = 1000
    patience: int = 20  # stop when validation has not improved for more than this many epochs
    # ... but never before this epoch: a model whose validation loss crosses a long plateau
    # (e.g. all latent units collapsed at first, at large latent sizes) is not stopped on it.
    min_epochs: int = 0
    eval_every: int = 1  # validate every this many epochs
    schedule: str = "constant"  # learning rate: "constant", or "cosine" decay to 0 over max_epochs
    kl_warmup: int = 0  # epochs over which the prior's term ramps in from 0 to 1
    ema: float = 0.0  # if > 0: validate and keep an exponential moving average of the weights
    # The prior's own parameters learn at lr * prior_lr_factor. With Adam(ax) a parameter moves
    # at most about lr per step, so in a short training a mixture's means can hardly leave
    # their start: a factor > 1 lets the prior keep up with the encoder.
    prior_lr_factor: float = 1.0

    def __post_init__(self):
        check_choice("optimizer", self.optimizer, tuple(OPTIMIZERS))
        check_positive_float("lr", self.lr)
        check_int("batch_size", self.batch_size, 1)
        check_int("max_epochs", self.max_epochs, 1)
        check_int("patience", self.patience, 0)
        check_int("min_epochs", self.min_epochs, 0)
        check_int("eval_every", self.eval_every, 1)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_int("kl_warmup", self.kl_warmup, 0)
        check_positive_float("prior_lr_factor", self.prior_lr_factor)
        if isinstance(self.ema, (bool, str)) or not hasattr(self.ema, "__float__"):
            raise TypeError(f"ema must be a number in [0, 1), got {self.ema!r}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {self.ema}")


#: Named recipes. "book": the settings of the book's companion code. "fast": the same
#: quality or better in about a third of the time (benchmarks/train_speed.py measures it):
#: Adam with a 3x learning rate on batches of 128 (half the steps per epoch), weights
#: averaged (EMA), and early stopping as soon as the averaged model stops improving.
RECIPES: dict[str, Recipe] = {
    "book": Recipe(),
    "fast": Recipe(optimizer="adam", lr=3e-3, batch_size=128, max_epochs=200, patience=3, ema=0.98),
}


#: The recipe fit() uses when none is named.
DEFAULT_RECIPE = "fast"

# How many models fit() (and fit_seeds, one per seed) has trained in this process: the
# notebook build reads it to write "N trainings" into each notebook's header.
_trainings = 0


def trainings_run() -> int:
    """How many models this process has trained so far (fit and fit_seeds count one per model)."""
    return _trainings


def count_trainings(n: int = 1) -> None:
    """Add ``n`` to :func:`trainings_run` (fit does it; a batched trainer counts its models)."""
    global _trainings
    _trainings += n


def get_recipe(recipe: str | Recipe | None = None, **overrides) -> Recipe:
    """A recipe by name (or as given; None: DEFAULT_RECIPE) with some of its fields replaced."""
    if recipe is None:
        recipe = DEFAULT_RECIPE
    if not isinstance(recipe, Recipe):
        recipe = RECIPES[check_choice("recipe", recipe, tuple(RECIPES))]
    names = {f.name for f in fields(Recipe)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError(f"unknown training option(s) {unknown}; options are: {', '.join(sorted(names))}")
    return replace(recipe, **{k: v for k, v in overrides.items() if v is not None})


class StopReason(str, Enum):
    """Why a call of :func:`fit` ended. Compares equal to its text, e.g. ``"early stopping"``."""

    EARLY_STOPPING = "early stopping"  # validation had not improved for more than `patience` epochs (after min_epochs)
    MAX_EPOCHS = "max epochs"  # the recipe's max_epochs ran out
    INTERRUPTED = "interrupted"  # Ctrl-C (KeyboardInterrupt): the best model so far is kept
    CALLBACK = "callback"  # the callback returned a truthy value
    DIVERGED = "diverged"  # the loss became NaN or infinite (fit raised TrainingDiverged)

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


@dataclass
class History:
    """What happened during one call of :func:`fit`. Losses are -ELBO in nats per image."""

    prior: str
    recipe: dict
    train_loss: list = field(default_factory=list)  # one per epoch
    val_epochs: list = field(default_factory=list)  # the epochs (1-based) that were validated
    val_loss: list = field(default_factory=list)  # one per validated epoch
    best_epoch: int = 0
    best_val_loss: float = math.inf
    epochs: int = 0
    seconds: float = 0.0  # wall time of the whole run, validation included
    stopped: StopReason | None = None  # why the run ended (None while it runs)

    def to_dict(self) -> dict:
        """Plain Python types only (safe for ``torch.load(weights_only=True)`` and JSON)."""
        state = asdict(self)
        state["stopped"] = None if self.stopped is None else StopReason(self.stopped).value
        return state

    @classmethod
    def from_dict(cls, state: dict) -> "History":
        state = {k: v for k, v in state.items() if k != "epoch_seconds"}  # a field of older checkpoints
        stopped = state.get("stopped") or None
        return cls(**{**state, "stopped": None if stopped is None else StopReason(stopped)})


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the model holds its best weights so far."""


class WeightAverage:
    """An exponential moving average of a model's weights, kept in a copy of the model.

    Averaging the noisy late iterates generalises better than any single one of them:
    the fast recipe reaches a lower validation -ELBO in fewer epochs with it.
    """

    def __init__(self, model, decay: float):
        self.model = copy.deepcopy(model)
        self.model.history = None
        self.decay = decay
        self._source = list(model.parameters())
        self._target = [p.detach() for p in self.model.parameters()]

    @torch.no_grad()
    def update(self) -> None:
        # One fused call over all tensors (AveragedModel's per-step bookkeeping costs ~7x more here).
        torch._foreach_lerp_(self._target, [p.detach() for p in self._source], 1.0 - self.decay)


def _make_optimizer(name: str, model, lr: float, prior_lr_factor: float = 1.0) -> torch.optim.Optimizer:
    cls = OPTIMIZERS[name]
    params = [p for p in model.parameters() if p.requires_grad]
    if prior_lr_factor != 1.0:  # two groups: the prior's own parameters at their own rate
        prior_ids = {id(p) for p in model.prior.parameters()}
        params = [
            {"params": [p for p in params if id(p) not in prior_ids]},
            {"params": [p for p in params if id(p) in prior_ids], "lr": lr * prior_lr_factor},
        ]
    if cls is torch.optim.Adam and model.device.type in ("cpu", "cuda"):
        # The fused kernel updates every tensor in one call: ~20% less time per step here.
        return cls(params, lr=lr, fused=True)
    return cls(params, lr=lr)


def _say(bar, message: str) -> None:
    """Print a line under the progress bar (or plainly when there is none)."""
    if bar is not None:
        bar.write(message)
    else:
        print(message)


def _snapshot(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _train_epoch(model, optimizer, scheduler, train, batch_size: int, kl_weight: float, average=None) -> float:
    """One pass over shuffled minibatches; returns the mean training -ELBO."""
    model.train()
    total = torch.zeros((), device=train.device)  # summed on the device: no sync per step
    for batch in minibatches(train, batch_size):
        parts = model.elbo(batch, validate=False)
        if kl_weight == 1.0:
            loss = -parts.elbo.mean()
        else:  # KL warm-up: the prior's term weighted by kl_weight < 1
            loss = -(parts.reconstruction - kl_weight * parts.kl).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if average is not None:
            average.update()
        total += -parts.elbo.detach().sum()
    return float(total) / len(train)


@torch.no_grad()
def _validation_loss(model, x, batch_size: int = 2048) -> float:
    model.eval()
    total = sum(model.elbo(batch, validate=False).elbo.sum() for batch in x.split(batch_size))
    return -float(total) / len(x)


def check_data(data, model) -> None:
    """Check that ``data`` is a data set (with .train and .val images) that suits ``model``."""
    if not (hasattr(data, "train") and hasattr(data, "val")):
        raise TypeError(
            f"data must be a data set with .train and .val images, e.g. vaelib.load_digits(); got "
            f"{type(data).__name__}"
            + (" (a tensor: pass the whole data set, not one split)" if isinstance(data, torch.Tensor) else "")
        )
    pixels = getattr(data, "input_dim", None)
    if pixels is not None and pixels != model.input_dim:
        raise ValueError(
            f"the data's images have {pixels} pixels but the model reads {model.input_dim}: "
            "build the model for the data with make_vae(..., data=data)"
        )
    values = getattr(data, "num_values", None)
    if values is not None and values != model.num_values:
        raise ValueError(
            f"the data's pixels take {values} values (0..{values - 1}) but the model's "
            f"{model.decoder.likelihood} likelihood expects {model.num_values}: build the model with "
            + ("likelihood='bernoulli'" if values == 2 else "likelihood='categorical'")
            + " or load the matching data (load_digits(binarize=...))"
        )


def fit(
    model,
    data,
    *,
    recipe: str | Recipe | None = None,
    seed: int | None = None,
    callback=None,
    progress: bool = True,
    threads=None,
    **options,
):
    """Train ``model`` on ``data.train``, early-stopping on ``data.val``; returns a History.

    recipe: a name in RECIPES (default DEFAULT_RECIPE) or a Recipe; keyword options (lr, batch_size, max_epochs,
    patience, min_epochs, optimizer, eval_every, schedule, kl_warmup, ema, prior_lr_factor) override its fields.
    seed: makes the run repeatable, with random numbers of its own (the caller's random stream is left as
    it was); None draws from the caller's stream. callback(model, history) runs after every
    validation with the model that was validated (the weight average when the recipe
    averages weights); a truthy return stops training. threads: CPU threads for this run (a
    positive integer or "auto"; default: vaelib.threads' policy). The best weights are
    restored into ``model`` before returning; ``history.stopped`` says why it ended.
    """
    check_model(model)
    recipe = get_recipe(recipe, **options)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a function callback(model, history) or None, got {callback!r}")
    check_data(data, model)
    train = model.check_images(data.train, name="data.train")
    val = model.check_images(data.val, name="data.val")
    if seed is not None:
        check_seed(seed)
    policy = TrainingThreads() if threads is None else TrainingThreads(threads)
    count_trainings()
    with fixed_seed(seed, model.device), policy:
        return _fit(model, train, val, recipe, callback, progress, policy)


def _fit(model, train, val, recipe: Recipe, callback, progress: bool, policy: TrainingThreads) -> History:
    optimizer = _make_optimizer(recipe.optimizer, model, recipe.lr, recipe.prior_lr_factor)
    scheduler = None
    if recipe.schedule == "cosine":
        steps = recipe.max_epochs * math.ceil(len(train) / recipe.batch_size)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    average = WeightAverage(model, recipe.ema) if recipe.ema else None
    history = History(prior=model.prior_name, recipe=asdict(recipe))
    model.history = history
    best_state = _snapshot(model)
    start = time.perf_counter()

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=recipe.max_epochs, desc=f"{history.prior}", unit="epoch", leave=True)

    def diverged(what: str, value: float, epoch: int):
        model.load_state_dict(best_state)
        history.stopped = StopReason.DIVERGED
        raise TrainingDiverged(
            f"training the {history.prior!r} prior diverged at epoch {epoch}: the {what} is {value}. "
            f"The model keeps its best weights (epoch {history.best_epoch}); "
            f"try a smaller learning rate than lr={recipe.lr}."
        )

    try:
        for epoch in range(1, recipe.max_epochs + 1):
            epoch_start = time.perf_counter()
            kl_weight = min(1.0, epoch / recipe.kl_warmup) if recipe.kl_warmup else 1.0
            train_loss = _train_epoch(model, optimizer, scheduler, train, recipe.batch_size, kl_weight, average)
            history.train_loss.append(train_loss)
            history.epochs = epoch
            if not math.isfinite(train_loss):
                diverged("training loss", train_loss, epoch)

            validate = epoch % recipe.eval_every == 0 or epoch == recipe.max_epochs
            if validate:
                validated = model if average is None else average.model
                val_loss = _validation_loss(validated, val)
                if not math.isfinite(val_loss):
                    diverged("validation loss", val_loss, epoch)
                history.val_epochs.append(epoch)
                history.val_loss.append(val_loss)
                if val_loss < history.best_val_loss:
                    history.best_val_loss, history.best_epoch = val_loss, epoch
                    best_state = _snapshot(validated)
            policy.after_epoch(time.perf_counter() - epoch_start)
            history.seconds = time.perf_counter() - start
            if bar is not None:
                if validate:
                    bar.set_postfix(val=f"{val_loss:.2f}", best=f"{history.best_val_loss:.2f}", refresh=False)
                bar.update(1)
            if validate:
                if callback is not None and callback(validated, history):
                    history.stopped = StopReason.CALLBACK
                    break
                if epoch - history.best_epoch > recipe.patience and epoch >= recipe.min_epochs:
                    history.stopped = StopReason.EARLY_STOPPING
                    break
        else:
            history.stopped = StopReason.MAX_EPOCHS
    except KeyboardInterrupt:
        history.stopped = StopReason.INTERRUPTED
        message = f"Interrupted at epoch {history.epochs}: keeping the best model (epoch {history.best_epoch})."
        _say(bar, message)
    finally:
        if bar is not None:
            bar.close()
        if history.stopped != StopReason.DIVERGED:
            model.load_state_dict(best_state)
        model.eval()
        history.seconds = time.perf_counter() - start
    return history
