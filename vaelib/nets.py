"""The one network shape of the chapter: an MLP with two hidden layers."""

from __future__ import annotations

import inspect

from torch import nn


def mlp(in_dim: int, hidden_dim: int, out_dim: int, activation: type[nn.Module] = nn.LeakyReLU) -> nn.Sequential:
    """in_dim -> hidden_dim -> hidden_dim -> out_dim, ``activation`` after each hidden layer.

    The book uses LeakyReLU in the encoder, decoder and flow couplings and tanh in the GTM maps.
    """
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim),
        activation(),
        nn.Linear(hidden_dim, hidden_dim),
        activation(),
        nn.Linear(hidden_dim, out_dim),
    )


class Configurable:
    """Mixin for modules that record the arguments they were built with (d2l's idea).

    ``self.save_hyperparameters()``, called in ``__init__``, stores the arguments of that
    ``__init__`` in ``self.hparams``: a plain dict that rebuilds the module with
    ``type(module)(**hparams)``, so any model made of such parts can be saved and loaded.
    """

    hparams: dict

    def save_hyperparameters(self, ignore=(), **replace) -> None:
        """Record the calling ``__init__``'s arguments, except ``ignore``; ``replace`` overrides values."""
        frame = inspect.currentframe().f_back
        try:
            code = frame.f_code
            names = code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount]  # without self
            values = {name: frame.f_locals[name] for name in names if name not in ignore}
        finally:
            del frame  # no reference cycle through the frame
        values.update(replace)
        for name, value in values.items():
            if not (value is None or isinstance(value, (bool, int, float, str))):
                raise TypeError(
                    f"{type(self).__name__}: hyper-parameter {name}={value!r} is not a plain number or string; "
                    f"pass replace={{{name!r}: ...}} to save_hyperparameters with a value that rebuilds the module"
                )
        self.hparams = values
