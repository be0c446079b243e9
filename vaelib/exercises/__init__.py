"""Checks a student calls on their own answer to a notebook's exercise.

Each check takes the student's answer, better their *function*, runs it against the
reference on fresh inputs and answers in one line (:class:`Feedback`): correct; or what is
wrong, with a hint that names the known mistake when it recognises one (the book companion
code's per-dimension log-sum-exp, the log-Jacobian counted L times, ``exp(logvar)`` used as
the standard deviation, forgotten mixture weights, the ELBO with the wrong sign); or "not
done yet" while the exercise's ``...`` is still in place. A check never raises because of
the student's answer.

    from vaelib import exercises
    exercises.check_mixture_log_prob(my_mixture_log_prob)

One module per notebook; every check is also importable from here.
"""

from __future__ import annotations

from . import flow, gtm, intro, mixture, playground, standard, surgery, vampprior
from ._core import Feedback, Mistake

_MODULES = (intro, standard, mixture, vampprior, gtm, flow, surgery, playground)

__all__ = ["Feedback", "Mistake", "checks"]
for _module in _MODULES:
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)


def checks() -> dict[str, str]:
    """Every exercise check, by name, with the first line of its docstring."""
    return {
        name: (globals()[name].__doc__ or "").strip().splitlines()[0] for name in __all__ if name.startswith("check_")
    }
