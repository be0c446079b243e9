"""Checkpoints: a state_dict and the config that rebuilds the model; never pickled modules.

Files are written whole or not at all (a temporary file renamed into place), so an
interrupted save never leaves a damaged checkpoint under the real name.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import torch

FORMAT = "vaelib-checkpoint-v2"
#: Older formats that load() still reads.
OLD_FORMATS = ("vaelib-checkpoint-v1",)


class CheckpointError(ValueError):
    """A file could not be loaded as a vaelib checkpoint; the message names the file and why."""


def save(model, path, *, extra: dict | None = None) -> Path:
    """Write ``model``'s weights, architecture config and training history to ``path`` atomically.

    extra: plain data stored beside them (e.g. the settings a cache compares), read back by
    :func:`load_extra`.
    """
    from .train import History

    history = model.history.to_dict() if isinstance(model.history, History) else None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "config": model.config, "state_dict": state, "history": history, "extra": extra}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _read(path) -> dict:
    """The checkpoint's contents, or a CheckpointError naming ``path`` and the cause."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{str(path)!r} is not a file" if path.exists() else f"no checkpoint at {str(path)!r}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{str(path)!r} is empty (0 bytes): not a vaelib checkpoint")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # weights_only refuses pickled code (e.g. a whole module saved with torch.save(model)).
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(
            f"{str(path)!r} holds pickled Python objects, not a vaelib checkpoint (state dict + config), "
            f"and is not loaded for safety: {first}"
        ) from None
    except (RuntimeError, OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as error:
        cause = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise CheckpointError(f"{str(path)!r} is not a readable checkpoint (damaged or another kind of file): "
                              f"{cause}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") not in (FORMAT, *OLD_FORMATS):
        raise CheckpointError(f"{str(path)!r} is not a vaelib checkpoint (expected format {FORMAT!r})")
    missing = [key for key in ("config", "state_dict") if not isinstance(checkpoint.get(key), dict)]
    if missing:
        raise CheckpointError(f"{str(path)!r} is a damaged vaelib checkpoint: it has no {' and no '.join(missing)}")
    return checkpoint


def _config_v2(checkpoint: dict) -> dict:
    """The model config of a checkpoint, in today's format (v1 stored make_vae's arguments)."""
    if checkpoint["format"] == FORMAT:
        return checkpoint["config"]
    from .data import NUM_PIXEL_VALUES
    from .priors import PRIORS

    old = dict(checkpoint["config"])
    prior, likelihood = old.pop("prior"), old.pop("likelihood", "categorical")
    latent, hidden, inputs = old.pop("latent_dim", 2), old.pop("hidden_dim", 256), old.pop("input_dim", 64)
    old.pop("seed", None)
    values = 2 if likelihood == "bernoulli" else NUM_PIXEL_VALUES
    options = {"latent_dim": latent, **old}
    if prior in PRIORS and "hidden_dim" in PRIORS[prior].options():
        options["hidden_dim"] = hidden
    if options.get("init") == "data":
        options["init"] = "random"
    return {
        "encoder": dict(input_dim=inputs, latent_dim=latent, hidden_dim=hidden, num_values=values),
        "decoder": dict(input_dim=inputs, latent_dim=latent, hidden_dim=hidden, num_values=values,
                        likelihood=likelihood),
        "prior": {"name": prior, "options": options},
    }


def load(path, device=None):
    """Rebuild the VAE saved at ``path`` (read with ``weights_only=True``: no code is unpickled).

    Every problem raises :class:`CheckpointError` naming the file and the cause. The caller's
    random stream is left as it was.
    """
    from .model import VAE, resolve_device
    from .train import History

    device = resolve_device(device)
    checkpoint = _read(path)
    where = repr(str(path))
    try:
        model = VAE.from_config(_config_v2(checkpoint))
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{where}: its config does not describe a model vaelib can build ({error})") from None
    try:
        result = model.load_state_dict(checkpoint["state_dict"], strict=False)
    except RuntimeError as error:  # a weight of the wrong shape
        detail = str(error).strip().splitlines()[-1].strip()
        raise CheckpointError(f"{where}: the weights do not match the config: {detail}") from None
    if result.missing_keys or result.unexpected_keys:
        def some(keys):
            return ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")

        problems = ([f"it lacks weights the {model.prior_name!r} model needs ({some(result.missing_keys)})"]
                    if result.missing_keys else [])
        problems += ([f"it has weights the model does not ({some(result.unexpected_keys)})"]
                     if result.unexpected_keys else [])
        raise CheckpointError(f"{where}: the weights do not match the config: {'; '.join(problems)}")
    if checkpoint.get("history") is not None:
        try:
            model.history = History.from_dict(checkpoint["history"])
        except (TypeError, ValueError) as error:
            raise CheckpointError(f"{where}: its training history is damaged ({error})") from None
    model.eval()
    return model.to(device)


def load_extra(path) -> dict | None:
    """The ``extra`` data saved with the checkpoint at ``path`` (None if there is none)."""
    return _read(path).get("extra")
