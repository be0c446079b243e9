"""The machinery every exercise check shares: calling the student's code safely, comparing
its answer with the reference, and recognising the known wrong answers by name.

A check never raises because of the student's answer: it returns a :class:`Feedback`, whose
one line shows as the cell's output ::

    ✓ Correct: your mixture log-density matches the reference on 200 fresh points.
    ✗ Not yet: ... Hint: ...
    … Not done yet: replace the ... in your function, then run this cell again.

An unfinished skeleton (the ``...`` still in place: the function returns None or Ellipsis,
or raises NotImplementedError) is "not done yet", never a traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

CORRECT, WRONG, NOT_DONE = "correct", "wrong", "not done"
_SYMBOLS = {CORRECT: "✓ Correct:", WRONG: "✗ Not yet:", NOT_DONE: "… Not done yet:"}


@dataclass(frozen=True)
class Feedback:
    """The answer to one exercise check: a status and one friendly line.

    status: "correct", "wrong" or "not done"; truthy only when correct.
    mistake: the name of the known wrong answer recognised (e.g. "per-dimension log-sum-exp"), or None.
    """

    status: str
    message: str
    mistake: str | None = None

    def __post_init__(self):
        if self.status not in _SYMBOLS:
            raise ValueError(f"status must be one of {sorted(_SYMBOLS)}, got {self.status!r}")

    def __bool__(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        return f"{_SYMBOLS[self.status]} {self.message}"

    __repr__ = __str__


def correct(message: str) -> Feedback:
    return Feedback(CORRECT, message)


def wrong(message: str, hint: str | None = None, mistake: str | None = None) -> Feedback:
    return Feedback(WRONG, message if hint is None else f"{message} Hint: {hint}", mistake)


def not_done(what: str = "your answer") -> Feedback:
    return Feedback(NOT_DONE, f"replace the ... in {what}, then run this cell again.")


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: its name, what it computes, and the hint that sets it right.

    answer: the wrong answer's value on the check's inputs (a tensor or number), or a
    function taking the same arguments as the student's function.
    """

    name: str
    answer: object
    hint: str


class _NotDone(Exception):
    """The student's answer is still the skeleton."""


class _StudentError(Exception):
    """The student's function raised: carries a one-line description."""


def is_skeleton(answer) -> bool:
    """True for an answer that is still the exercise's placeholder (``...`` or None)."""
    return answer is None or answer is Ellipsis


def call(function: Callable, *args, **kwargs):
    """Call the student's function; NOT_DONE on a skeleton, one-line error on an exception.

    Raises _NotDone or _StudentError (both caught by :func:`run_check`).
    """
    if is_skeleton(function):
        raise _NotDone
    if not callable(function):
        raise _StudentError(f"expected a function, got {type(function).__name__} {function!r:.60}")
    try:
        result = function(*args, **kwargs)
    except NotImplementedError as error:
        raise _NotDone from error
    except Exception as error:  # the student's bug: report it in one line, never a traceback
        raise _StudentError(f"your function raised {type(error).__name__}: {error}") from error
    if is_skeleton(result):
        raise _NotDone
    return result


def run_check(body: Callable[[], Feedback], what: str = "your function") -> Feedback:
    """Run a check's body, turning a skeleton into "not done yet" and a crash of the student's
    code into "not yet" with the error's one line."""
    try:
        return body()
    except _NotDone:
        return not_done(what)
    except _StudentError as error:
        return wrong(str(error))


def as_tensor(value, name: str = "your answer") -> torch.Tensor:
    """The student's answer as a float64 tensor, or _StudentError saying what it was."""
    if is_skeleton(value):
        raise _NotDone
    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float64)
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as error:
        raise _StudentError(f"{name} should be a tensor or a number, got {type(value).__name__}") from error


def close(a: torch.Tensor, b: torch.Tensor, *, rtol: float, atol: float) -> bool:
    """Same shape and all entries within tolerance (NaN never matches)."""
    a, b = as_tensor(a), as_tensor(b)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def compare(
    answer,
    reference,
    *,
    what: str,
    passed: str,
    mistakes: tuple[Mistake, ...] = (),
    hint: str | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-4,
) -> Feedback:
    """Compare the student's value with the reference and the known mistakes.

    what: the quantity in words, for messages ("your log-density"); passed: the sentence of a
    correct answer; mistakes: known wrong answers, recognised by value; hint: the hint for a
    wrong answer that matches no known mistake.
    """
    value, expected = as_tensor(answer, what), as_tensor(reference)
    if value.shape != expected.shape:
        return wrong(
            f"{what} has shape {tuple(value.shape)} where {tuple(expected.shape)} was expected.",
            hint,
        )
    if not bool(torch.isfinite(value).all()):
        return wrong(f"{what} contains NaN or infinite values.", hint)
    if close(value, expected, rtol=rtol, atol=atol):
        return correct(passed)
    for mistake in mistakes:
        if close(value, mistake.answer, rtol=rtol, atol=atol):
            return wrong(f"{what} is what the {mistake.name} gives.", mistake.hint, mistake.name)
    gap = float((value - expected).abs().max())
    return wrong(f"{what} differs from the reference by up to {gap:.3g}.", hint)


def compare_number(
    answer,
    reference: float,
    *,
    what: str,
    passed: str,
    tolerance: float,
    mistakes: tuple[Mistake, ...] = (),
    hint: str | None = None,
) -> Feedback:
    """Compare a number the student computed with the reference, within ``tolerance``."""
    value = as_tensor(answer, what)
    if value.numel() != 1:
        return wrong(f"{what} should be one number, got a tensor of shape {tuple(value.shape)}.", hint)
    value = float(value)
    if not math.isfinite(value):
        return wrong(f"{what} is {value}.", hint)
    if abs(value - reference) <= tolerance:
        return correct(passed)
    for mistake in mistakes:
        if abs(value - float(mistake.answer)) <= tolerance:
            return wrong(f"{what} ({value:.4g}) is what the {mistake.name} gives.", mistake.hint, mistake.name)
    return wrong(f"{what} is {value:.4g}, which is not within {tolerance:g} of the answer.", hint)


def generator(seed: int) -> torch.Generator:
    """A private random stream for a check's fresh inputs: the caller's stream stays untouched."""
    return torch.Generator().manual_seed(seed)
