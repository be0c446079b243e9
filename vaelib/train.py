"""Training: minibatch ELBO ascent with early stopping on validation -ELBO.

``fit`` restores the best weights at the end, on early stopping, on Ctrl-C
(KeyboardInterrupt) and before raising when training diverges.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields, replace

import torch

from ._checks import check_choice, check_int, check_positive_float
from .data import minibatches

OPTIMIZERS = {"adamax": torch.optim.Adamax, "adam": torch.optim.Adam}


@dataclass(frozen=True)
class Recipe:
    """Everything about *how* a model is trained, with the book's settings as defaults."""

    optimizer: str = "adamax"
    lr: float = 1e-3
    batch_size: int = 64
    max_epochs: int = 1000
    patience: int = 20  # stop when validation has not improved for more than this many epochs
    eval_every: int = 1  # validate every this many epochs

    def __post_init__(self):
        check_choice("optimizer", self.optimizer, tuple(OPTIMIZERS))
        check_positive_float("lr", self.lr)
        check_int("batch_size", self.batch_size, 1)
        check_int("max_epochs", self.max_epochs, 1)
        check_int("patience", self.patience, 0)
        check_int("eval_every", self.eval_every, 1)


#: Named recipes. "book": the settings of the book's companion code.
RECIPES: dict[str, Recipe] = {
    "book": Recipe(),
}


#: The recipe fit() uses when none is named.
DEFAULT_RECIPE = "book"


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
    epoch_seconds: list = field(default_factory=list)  # wall time of each epoch, validation included
    epochs: int = 0
    seconds: float = 0.0
    stopped: str = ""  # "early stopping", "max epochs", "interrupted" or "callback"

    def to_dict(self) -> dict:
        """Plain Python types only (safe for ``torch.load(weights_only=True)`` and JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, state: dict) -> "History":
        return cls(**state)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the model holds its best weights so far."""


def _snapshot(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _train_epoch(model, optimizer, train, batch_size: int) -> float:
    """One pass over shuffled minibatches; returns the mean training -ELBO."""
    model.train()
    total = torch.zeros((), device=train.device)  # summed on the device: no sync per step
    for batch in minibatches(train, batch_size):
        loss = model.loss(batch, validate=False)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(batch)
    return float(total) / len(train)


@torch.no_grad()
def _validation_loss(model, x, batch_size: int = 2048) -> float:
    model.eval()
    total = sum(model.elbo(batch, validate=False).elbo.sum() for batch in x.split(batch_size))
    return -float(total) / len(x)


def fit(
    model,
    data,
    *,
    recipe: str | Recipe | None = None,
    seed: int | None = None,
    callback=None,
    progress: bool = True,
    **options,
):
    """Train ``model`` on ``data.train``, early-stopping on ``data.val``; returns a History.

    recipe: a name in RECIPES (default DEFAULT_RECIPE) or a Recipe; keyword options (lr, batch_size, max_epochs, patience,
    optimizer, eval_every) override its fields. seed: makes the run repeatable (same
    thread count). callback(model, history) runs after every validation; a truthy return
    stops training. The best weights are restored before returning.
    """
    recipe = get_recipe(recipe, **options)
    train = model.check_images(data.train, name="data.train")
    val = model.check_images(data.val, name="data.val")
    if seed is not None:
        torch.manual_seed(seed)
    optimizer = OPTIMIZERS[recipe.optimizer](model.parameters(), lr=recipe.lr)
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
        history.stopped = "diverged"
        raise TrainingDiverged(
            f"training the {history.prior!r} prior diverged at epoch {epoch}: the {what} is {value}. "
            f"The model keeps its best weights (epoch {history.best_epoch}); "
            f"try a smaller learning rate than lr={recipe.lr}."
        )

    try:
        for epoch in range(1, recipe.max_epochs + 1):
            epoch_start = time.perf_counter()
            train_loss = _train_epoch(model, optimizer, train, recipe.batch_size)
            history.train_loss.append(train_loss)
            history.epochs = epoch
            if not math.isfinite(train_loss):
                diverged("training loss", train_loss, epoch)

            validate = epoch % recipe.eval_every == 0 or epoch == recipe.max_epochs
            if validate:
                val_loss = _validation_loss(model, val)
                if not math.isfinite(val_loss):
                    diverged("validation loss", val_loss, epoch)
                history.val_epochs.append(epoch)
                history.val_loss.append(val_loss)
                if val_loss < history.best_val_loss:
                    history.best_val_loss, history.best_epoch = val_loss, epoch
                    best_state = _snapshot(model)
            history.epoch_seconds.append(time.perf_counter() - epoch_start)
            history.seconds = time.perf_counter() - start
            if bar is not None:
                if validate:
                    bar.set_postfix(val=f"{val_loss:.2f}", best=f"{history.best_val_loss:.2f}", refresh=False)
                bar.update(1)
            if validate:
                if callback is not None and callback(model, history):
                    history.stopped = "callback"
                    break
                if epoch - history.best_epoch > recipe.patience:
                    history.stopped = "early stopping"
                    break
        else:
            history.stopped = "max epochs"
    except KeyboardInterrupt:
        history.stopped = "interrupted"
        message = f"Interrupted at epoch {history.epochs}: keeping the best model (epoch {history.best_epoch})."
        if bar is not None:
            bar.write(message)
        else:
            print(message)
    finally:
        if bar is not None:
            bar.close()
        if history.stopped != "diverged":
            model.load_state_dict(best_state)
        model.eval()
        history.seconds = time.perf_counter() - start
    return history
