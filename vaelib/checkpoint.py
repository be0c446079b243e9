"""Checkpoints: a state_dict and the small config that rebuilds the model; never pickled modules."""

from __future__ import annotations

from pathlib import Path

import torch

FORMAT = "vaelib-checkpoint-v1"


def save(model, path) -> Path:
    """Write ``model``'s weights, config and training history to ``path``."""
    if model.config is None:
        raise ValueError("this VAE was not built by make_vae, so it has no config to rebuild it from")
    from .train import History

    history = model.history.to_dict() if isinstance(model.history, History) else None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": FORMAT, "config": model.config, "state_dict": state, "history": history}, path)
    return path


def load(path, device=None):
    """Rebuild the VAE saved at ``path`` (loaded with ``weights_only=True``)."""
    from .model import default_device, make_vae
    from .train import History

    checkpoint = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise ValueError(f"{path} is not a vaelib checkpoint (expected format {FORMAT!r})")
    config = dict(checkpoint["config"])
    # The weights come from the file: no need to re-seed (and reset the global RNG) to build.
    model = make_vae(**{k: v for k, v in config.items() if k != "seed"}, device="cpu")
    model.config = config
    model.load_state_dict(checkpoint["state_dict"])
    if checkpoint.get("history") is not None:
        model.history = History.from_dict(checkpoint["history"])
    model.eval()
    return model.to(device if device is not None else default_device())
