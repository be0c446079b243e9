"""Checkpoints: a state_dict and the config that rebuilds the model; never pickled modules.

Files are written whole or not at all (a temporary file renamed into place), so an
interrupted save never leaves a damaged checkpoint under the real name.
"""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from pathlib import Path

import torch

from ._files import written_whole

FORMAT = "vaelib-checkpoint-v2"
#: Older formats that load() still reads.
OLD_FORMATS = ("vaelib-checkpoint-v1",)


class CheckpointError(ValueError):
    """A file could not be loaded as a vaelib checkpoint; the message names the file and why."""


def _where(path: Path) -> str:
    return repr(str(path))


def _as_path(path, what: str) -> Path:
    if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a file path (a str or pathlib.Path), got {type(path).__name__}: {path!r}")
    return Path(path)


#: What ``extra`` may hold: the types ``torch.load(weights_only=True)`` reads back without code.
_PLAIN = (type(None), bool, int, float, complex, str, bytes, torch.Tensor)


def _check_plain(value, where: str) -> None:
    """Raise a TypeError naming the first part of ``value`` that is not plain data."""
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_plain(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise TypeError(f"extra may only use str or int keys; {where} has the key {key!r}")
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"extra must hold plain data (None, numbers, strings, lists, tuples, dicts, tensors) so that it "
        f"loads without running code; {where} is a {type(value).__name__}: {value!r:.80}"
    )


def save(model, path, *, extra: dict | None = None) -> Path:
    """Write ``model``'s weights, architecture config and training history to ``path`` atomically.

    The file is written under a temporary name and renamed into place: an interrupted save
    leaves the previous file (or none), never a damaged one. extra: a dict of plain data
    (numbers, strings, lists, dicts, tensors) stored in the same file, e.g. the settings a
    cache compares; read back by :func:`load_extra`.
    """
    from ._checks import check_model
    from .priors import PRIORS
    from .train import History

    check_model(model)
    path = _as_path(path, "path")
    if extra is not None:
        if not isinstance(extra, dict):
            raise TypeError(f"extra must be a dict of plain data or None, got {type(extra).__name__}: {extra!r:.80}")
        _check_plain(extra, "extra")
    config = model.config
    if config["prior"]["name"] not in PRIORS:
        raise ValueError(
            f"cannot save a model whose prior, {config['prior']['name']!r}, is not in vaelib.PRIORS: load() "
            f"could not rebuild it (register the class in vaelib.priors.PRIORS first)"
        )
    if path.is_dir():
        raise IsADirectoryError(
            f"cannot save the checkpoint to {_where(path)}: it is a directory; "
            f"give a file name, e.g. {str(path / 'model.pt')!r}"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise type(error)(
            error.errno,
            f"cannot save the checkpoint to {_where(path)}: its folder "
            f"{str(path.parent)!r} cannot be made ({error.strerror or error})",
        ) from None
    history = model.history.to_dict() if isinstance(model.history, History) else None
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "config": config, "state_dict": state, "history": history, "extra": extra}
    with written_whole(path) as temporary, open(temporary, "wb") as file:
        torch.save(payload, file)
        file.flush()
        os.fsync(file.fileno())
    return path


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _torch_reason(error: BaseException) -> str:
    """The first line of torch's message, without colour codes and never its weights_only advice."""
    text = _ANSI.sub("", str(error)).strip()
    first = text.splitlines()[0].strip() if text else ""
    if not first or "weights_only" in first.lower() or "weights only" in first.lower():
        return type(error).__name__
    return f"{type(error).__name__}: {first[:200]}"


def _unreadable(path: Path, error: BaseException) -> str:
    """Why torch could not read ``path``, told from the file's first bytes."""
    with open(path, "rb") as file:
        head = file.read(64)
    if head.startswith(b"PK"):  # PyTorch's format is a zip archive
        if not zipfile.is_zipfile(path):
            return (
                "it is cut short: a PyTorch zip archive without its end, as an interrupted write or copy "
                "leaves it; save or copy it again"
            )
        return f"it is a damaged PyTorch archive ({_torch_reason(error)})"
    if head[:1] == b"\x80":  # a pickle: PyTorch's legacy format (or plain pickle)
        return f"it is a damaged or cut-short pickle file ({_torch_reason(error)})"
    text = head.decode("utf-8", errors="ignore")  # a character cut at byte 64 is dropped
    if text and len(text) >= len(head) - 3 and all(c.isprintable() or c.isspace() for c in text):
        return f"it is a text file, not a PyTorch file (it begins {text[:40]!r})"
    return f"it is not a PyTorch file (it begins with the bytes {head[:8]!r})"


def _check_archive(path: Path) -> None:
    """Check every member of a zip-format file against its CRC-32 (torch.load does not), so a
    checkpoint damaged on disk or in a copy is refused instead of loading wrong weights."""
    with open(path, "rb") as file:
        if file.read(2) != b"PK" or not zipfile.is_zipfile(file):
            return  # not a zip archive: torch.load (and _unreadable) tell what it is
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        raise CheckpointError(
            f"{_where(path)} is not a readable checkpoint: it is a damaged PyTorch archive "
            f"({type(error).__name__}: {error})"
        ) from None
    if bad is not None:
        raise CheckpointError(
            f"{_where(path)} is a damaged checkpoint: the stored data of {bad!r} fails its "
            "checksum (the file changed after it was written); save or copy it again"
        )


def _read(path) -> dict:
    """The checkpoint's contents, or a CheckpointError naming ``path`` and the cause."""
    path = _as_path(path, "path")
    where = _where(path)
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {where}: there is no such file")
    if not path.is_file():
        raise CheckpointError(
            f"{where} is not a checkpoint: it is a directory, not a file"
            if path.is_dir()
            else f"{where} is not a checkpoint: it is not a regular file"
        )
    try:
        size = path.stat().st_size
        if size == 0:
            raise CheckpointError(
                f"{where} is empty (0 bytes): not a vaelib checkpoint "
                "(a save that never finished, or a file made by something else)"
            )
        _check_archive(path)
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except CheckpointError:
        raise
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(error))
        if found:
            raise CheckpointError(
                f"{where} is not loaded: it holds pickled Python objects ({found.group(1)}), e.g. a whole "
                f"model saved with torch.save(model), and loading those could run code. vaelib.load reads only what "
                f"vaelib.save writes (weights and config)"
            ) from None
        raise CheckpointError(f"{where} is not a readable checkpoint: {_unreadable(path, error)}") from None
    except PermissionError as error:
        raise CheckpointError(f"cannot read {where}: {error.strerror}") from None
    except Exception as error:  # torch raises many kinds for damaged files (RuntimeError, KeyError, OSError, ...)
        raise CheckpointError(f"{where} is not a readable checkpoint: {_unreadable(path, error)}") from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f"{where} is not a vaelib checkpoint: it holds a {type(checkpoint).__name__}, "
            f"not the dict vaelib.save writes"
        )
    version = checkpoint.get("format")
    if version not in (FORMAT, *OLD_FORMATS):
        if isinstance(version, str) and version.startswith("vaelib-checkpoint-"):
            raise CheckpointError(
                f"{where} was written by another vaelib (format {version!r}); this one reads "
                f"{', '.join(map(repr, (FORMAT, *OLD_FORMATS)))}"
            )
        keys = ", ".join(repr(k) for k in list(checkpoint)[:5]) or "none"
        raise CheckpointError(
            f"{where} is not a vaelib checkpoint: it is a PyTorch file without the format "
            f"entry {FORMAT!r} (its keys: {keys})"
        )
    missing = [key for key in ("config", "state_dict") if not isinstance(checkpoint.get(key), dict)]
    if missing:
        raise CheckpointError(f"{where} is a damaged vaelib checkpoint: it has no {' and no '.join(missing)}")
    if checkpoint.get("extra") is not None and not isinstance(checkpoint["extra"], dict):
        raise CheckpointError(
            f"{where} is a damaged vaelib checkpoint: its extra data is a "
            f"{type(checkpoint['extra']).__name__}, not a dict"
        )
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
        "decoder": dict(
            input_dim=inputs, latent_dim=latent, hidden_dim=hidden, num_values=values, likelihood=likelihood
        ),
        "prior": {"name": prior, "options": options},
    }


def load(path, device=None):
    """Rebuild the VAE saved at ``path`` (read with ``weights_only=True``: no code is unpickled).

    Every problem with the file (or with ``device``) raises :class:`CheckpointError` naming the
    file and the cause; a ``path`` that is not a path at all raises TypeError. The caller's
    random stream is left as it was.
    """
    from ._checks import resolve_device
    from .model import VAE
    from .train import History

    path = _as_path(path, "path")
    where = _where(path)
    try:
        device = resolve_device(device)
    except ValueError as error:
        raise CheckpointError(f"cannot load {where}: {error}") from None
    checkpoint = _read(path)
    try:
        model = VAE.from_config(_config_v2(checkpoint))
    except KeyError as error:
        raise CheckpointError(
            f"{where}: its config does not describe a model vaelib can build (it lacks the entry {error.args[0]!r})"
        ) from None
    except (TypeError, ValueError, AttributeError) as error:
        raise CheckpointError(f"{where}: its config does not describe a model vaelib can build ({error})") from None
    try:
        result = model.load_state_dict(checkpoint["state_dict"], strict=False)
    except (RuntimeError, TypeError, AttributeError, ValueError) as error:  # e.g. a weight of the wrong shape
        detail = str(error).strip().splitlines()[-1].strip()
        raise CheckpointError(f"{where}: the weights do not match the config: {detail}") from None
    if result.missing_keys or result.unexpected_keys:

        def some(keys):
            return ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")

        problems = (
            [f"it lacks weights the {model.prior_name!r} model needs ({some(result.missing_keys)})"]
            if result.missing_keys
            else []
        )
        problems += (
            [f"it has weights the {model.prior_name!r} model does not ({some(result.unexpected_keys)})"]
            if result.unexpected_keys
            else []
        )
        raise CheckpointError(f"{where}: the weights do not match the config: {'; '.join(problems)}")
    if checkpoint.get("history") is not None:
        try:
            model.history = History.from_dict(checkpoint["history"])
        except (TypeError, ValueError, AttributeError) as error:
            raise CheckpointError(f"{where}: its training history is damaged ({error})") from None
    model.eval()
    return model.to(device)


def load_extra(path) -> dict | None:
    """The ``extra`` data saved with the checkpoint at ``path`` (None if there is none).

    Problems with the file raise :class:`CheckpointError`, as :func:`load` does."""
    return _read(path).get("extra")
