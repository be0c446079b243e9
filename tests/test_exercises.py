"""The machinery of the exercise checks: skeletons are "not done yet", a student's crash is
one line, known mistakes are recognised by name, and the caller's random stream is untouched."""

from __future__ import annotations

import pytest
import torch

from vaelib import exercises
from vaelib.exercises import _core


def skeleton(z):
    """A student's unfinished function."""
    ...


def crashing(z):
    return z @ torch.ones(3)  # wrong shapes: raises RuntimeError


def square(z):
    return z**2


def cube(z):
    return z**3


def check_square(function) -> exercises.Feedback:
    """A check written the way the notebook checks are: reference, one known mistake."""

    def body():
        z = torch.randn(5, generator=_core.generator(0))
        mistakes = (_core.Mistake("cube", cube(z), "square means the power 2."),)
        return _core.compare(
            _core.call(function, z), z**2, what="your square", passed="your square is right.", mistakes=mistakes
        )

    return _core.run_check(body, "your square")


def test_the_reference_passes_and_shows_one_line():
    feedback = check_square(square)
    assert feedback and feedback.status == "correct"
    assert str(feedback) == "✓ Correct: your square is right."
    assert repr(feedback) == str(feedback)


@pytest.mark.parametrize(
    "answer", [skeleton, None, ..., lambda z: ..., lambda z: (_ for _ in ()).throw(NotImplementedError)]
)
def test_an_unfinished_answer_is_not_done_yet_never_a_traceback(answer):
    feedback = check_square(answer)
    assert feedback.status == "not done" and not feedback
    assert str(feedback).startswith("… Not done yet: replace the ... in your square")


def test_a_crash_of_the_students_code_is_one_line():
    feedback = check_square(crashing)
    assert feedback.status == "wrong"
    assert "your function raised RuntimeError" in str(feedback)


def test_a_known_mistake_is_named_with_its_hint():
    feedback = check_square(cube)
    assert feedback.status == "wrong" and feedback.mistake == "cube"
    assert "is what the cube gives" in str(feedback) and "Hint: square means the power 2." in str(feedback)


def test_an_unknown_mistake_says_how_far_off_and_a_wrong_shape_says_which_shape():
    assert "differs from the reference by up to" in str(check_square(lambda z: z**2 + 1))
    assert "has shape (5, 1) where (5,) was expected" in str(check_square(lambda z: (z**2)[:, None]))
    assert "NaN" in str(check_square(lambda z: z * float("nan")))
    assert "expected a function, got int" in str(check_square(3))


def test_numbers_compare_within_a_tolerance_and_recognise_mistakes():
    mistakes = (_core.Mistake("wrong sign", -2.0, "flip it."),)
    ok = _core.compare_number(2.05, 2.0, what="your bound", passed="right.", tolerance=0.1, mistakes=mistakes)
    assert ok
    signed = _core.compare_number(-2.0, 2.0, what="your bound", passed="right.", tolerance=0.1, mistakes=mistakes)
    assert signed.mistake == "wrong sign"
    assert "one number" in str(_core.compare_number(torch.ones(2), 2.0, what="x", passed="", tolerance=0.1))


def test_a_check_leaves_the_callers_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_square(square)
    assert torch.equal(torch.rand(3), expected)


def test_feedback_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="status must be one of"):
        exercises.Feedback("maybe", "?")


def test_every_check_is_listed_with_its_description():
    listed = exercises.checks()
    assert all(name.startswith("check_") and description for name, description in listed.items())
