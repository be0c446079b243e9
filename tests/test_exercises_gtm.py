"""The checks of notebook 05: the reference grid and GTM log-density pass, each known wrong answer
is named with its hint, an unfinished skeleton is "not done yet", a crash is one line, and the
caller's random stream is untouched."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal

from vaelib import exercises
from vaelib.exercises import gtm

LOG_2PI = math.log(2 * math.pi)


def reference_grid(grid_size, grid_range):
    """The solution of notebook 05's exercise: every pair of linspace(-r, r, k) values."""
    axis = torch.linspace(-grid_range, grid_range, grid_size)
    first, second = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([first.reshape(-1), second.reshape(-1)], dim=1)


def shuffled_grid(grid_size, grid_range):
    """Another order (columns first, reversed): the same grid for a uniform mixture."""
    axis = torch.linspace(grid_range, -grid_range, grid_size)
    first, second = torch.meshgrid(axis, axis, indexing="xy")
    return torch.stack([first.reshape(-1), second.reshape(-1)], dim=1).tolist()


def k_plus_one_grid(grid_size, grid_range):
    return reference_grid(grid_size + 1, grid_range)


def arange_grid(grid_size, grid_range):
    axis = torch.arange(-grid_range, grid_range, 2 * grid_range / grid_size)
    first, second = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([first.reshape(-1), second.reshape(-1)], dim=1)


def unit_square_grid(grid_size, grid_range):
    return reference_grid(grid_size, 1.0)


def positive_quarter_grid(grid_size, grid_range):
    return reference_grid(grid_size, grid_range / 2) + grid_range / 2  # [0, r]^2


def diagonal_grid(grid_size, grid_range):
    axis = torch.linspace(-grid_range, grid_range, grid_size)
    return torch.stack([axis, axis], dim=1)


def grid_skeleton(grid_size, grid_range):
    """The grid_size ** 2 points of [-grid_range, grid_range]^2: -> (grid_size ** 2, 2)"""
    ...  # your code here


def test_the_reference_grid_passes_in_any_order():
    for function in (reference_grid, shuffled_grid):
        feedback = exercises.check_gtm_grid(function)
        assert feedback and str(feedback).startswith("✓ Correct:")


def test_the_reference_grid_is_vaelibs_grid():
    from vaelib.priors.base import grid_points

    for k, r in [*gtm.GRID_CHECKS, (4, 10.0)]:
        torch.testing.assert_close(gtm.grid_points(k, r), grid_points(k, r).double())


@pytest.mark.parametrize(
    "grid, name, hint",
    [
        (k_plus_one_grid, "grid with k + 1 points per side", "takes the number of POINTS"),
        (arange_grid, "grid that stops short of +r", "torch.arange leaves out its end point"),
        (unit_square_grid, "grid on the wrong square", "the grid fills the square"),
        (positive_quarter_grid, "grid on the wrong square", "the grid fills the square"),
        (diagonal_grid, "diagonal instead of a grid", "EVERY pair"),
    ],
)
def test_each_known_wrong_grid_is_named_with_its_hint(grid, name, hint):
    feedback = exercises.check_gtm_grid(grid)
    assert feedback.status == "wrong" and feedback.mistake == name
    assert "Hint:" in str(feedback) and hint in str(feedback)


def test_other_wrong_grids_say_what_is_off():
    transposed = exercises.check_gtm_grid(lambda k, r: reference_grid(k, r).T)
    assert "has shape (2, 25) where (25, 2) was expected" in str(transposed)
    missing = exercises.check_gtm_grid(lambda k, r: reference_grid(k, r)[1:])
    assert "has 24 points where 5 x 5 = 25 were expected" in str(missing)
    shifted = exercises.check_gtm_grid(lambda k, r: reference_grid(k, r) + torch.tensor([0.0, 0.1]))
    assert "25 of the 25 points of my_grid(5, 2.5) are not on the grid" in str(shifted)
    nan = exercises.check_gtm_grid(lambda k, r: reference_grid(k, r) * float("nan"))
    assert "NaN" in str(nan)
    for feedback in (transposed, missing, shifted, nan):
        assert feedback.status == "wrong" and feedback.mistake is None and "Hint:" in str(feedback)


def test_an_unfinished_or_crashing_grid_is_not_a_traceback():
    assert str(exercises.check_gtm_grid(grid_skeleton)) == (
        "… Not done yet: replace the ... in your grid, then run this cell again."
    )
    crashed = exercises.check_gtm_grid(lambda k, r: torch.linspace(-r, r, k) @ torch.ones(2))
    assert crashed.status == "wrong" and "your function raised RuntimeError" in str(crashed)
    assert len(str(crashed).splitlines()) == 1
    words = exercises.check_gtm_grid(lambda k, r: "a grid")
    assert words.status == "wrong" and "should be a tensor or a number" in str(words)


def log_prob_with(grid):
    """The GTM log-density built on ``grid`` (a function like reference_grid)."""

    def log_prob(z, network, grid_size, grid_range):
        points = torch.as_tensor(grid(grid_size, grid_range))
        means, logvars = network(points).chunk(2, dim=-1)
        log_components = (-0.5 * (LOG_2PI + logvars + (z[:, None, :] - means) ** 2 * torch.exp(-logvars))).sum(-1)
        return torch.logsumexp(log_components, dim=1) - math.log(len(points))

    return log_prob


reference_log_prob = log_prob_with(reference_grid)


def per_dimension_log_prob(z, network, grid_size, grid_range):
    """The book companion code's GTMPrior.log_prob with uniform weights, summed over dimensions."""
    means, logvars = network(reference_grid(grid_size, grid_range)).chunk(2, dim=-1)
    per_dimension = Normal(means, torch.exp(0.5 * logvars)).log_prob(z[:, None, :])
    return (torch.logsumexp(per_dimension, dim=1) - math.log(grid_size**2)).sum(-1)


def no_log_k(z, network, grid_size, grid_range):
    return reference_log_prob(z, network, grid_size, grid_range) + math.log(grid_size**2)


def variance_as_std(z, network, grid_size, grid_range):
    means, logvars = network(reference_grid(grid_size, grid_range)).chunk(2, dim=-1)
    log_components = Normal(means, torch.exp(logvars)).log_prob(z[:, None, :]).sum(-1)
    return torch.logsumexp(log_components, dim=1) - math.log(grid_size**2)


def log_prob_skeleton(z, network, grid_size, grid_range):
    """log p(z) of the GTM prior with uniform weights; z: (N, L) -> (N,)"""
    ...  # your code here


@pytest.mark.parametrize("seed", range(5))
def test_the_reference_log_density_passes_on_fresh_inputs(seed):
    for log_prob in (reference_log_prob, log_prob_with(shuffled_grid)):
        feedback = exercises.check_gtm_log_prob(log_prob, seed=seed)
        assert feedback and str(feedback).startswith("✓ Correct:")


@pytest.mark.parametrize(
    "log_prob, name, hint",
    [
        (per_dimension_log_prob, "per-dimension log-sum-exp", "sum the log-densities over the L dimensions FIRST"),
        (no_log_k, "forgotten log K", "subtract log K"),
        (variance_as_std, "exp(logvar) used as the standard deviation", "exp(logvar) is the variance"),
        (log_prob_with(k_plus_one_grid), "grid with k + 1 points per side", "takes the number of POINTS"),
        (log_prob_with(arange_grid), "grid that stops short of +r", "torch.arange leaves out its end point"),
        (log_prob_with(unit_square_grid), "grid on the wrong square", "the grid fills the square"),
        (log_prob_with(positive_quarter_grid), "grid on the wrong square", "the grid fills the square"),
        (log_prob_with(diagonal_grid), "diagonal instead of a grid", "EVERY pair"),
    ],
)
def test_each_known_wrong_log_density_is_named_with_its_hint(log_prob, name, hint):
    for seed in range(3):
        feedback = exercises.check_gtm_log_prob(log_prob, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name
        assert "Hint:" in str(feedback) and hint in str(feedback)


def test_the_known_wrong_log_densities_differ_from_the_reference_and_from_each_other():
    """Else a mistake could pass, or get another's name; two wrong squares may share a name, not a value."""
    for seed in range(10):
        z, network = gtm.log_prob_inputs(seed)
        means, logvars = network(gtm.grid_points(gtm.GRID_SIZE, gtm.GRID_RANGE)).chunk(2, dim=-1)
        answers = [gtm.uniform_mixture_log_prob(z, means, logvars)]
        answers += [m.answer for m in gtm._log_prob_mistakes(z, network)]
        for i, a in enumerate(answers):
            for b in answers[i + 1 :]:
                assert not torch.allclose(a, b, rtol=1e-3, atol=1e-2)


def test_the_fresh_map_keeps_grid_points_apart():
    """Every grid point gets its own component: the map is not saturated on the grid's square."""
    for seed in range(5):
        _, network = gtm.log_prob_inputs(seed)
        out = network(gtm.grid_points(gtm.GRID_SIZE, gtm.GRID_RANGE))
        means, logvars = out.chunk(2, dim=-1)
        assert out.shape == (gtm.GRID_SIZE**2, 2 * gtm.LATENT_DIM)
        gaps = torch.cdist(means, means) + 1e9 * torch.eye(len(means))
        assert float(gaps.min()) > 0.1
        assert bool((logvars > -1.7).all() and (logvars < 0.7).all())
        assert network(torch.zeros(3, 2)).dtype == torch.float32


def test_the_check_agrees_with_vaelibs_untrained_gtm_prior():
    """Before training the GTM prior's logits are 0: its density is the uniform mixture of the exercise."""
    import vaelib

    prior = vaelib.make_vae("gtm", seed=0).prior
    z = 3 * torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(
            reference_log_prob(z, prior.network, prior.grid_size, prior.grid_range),
            prior.log_prob(z),
            atol=1e-4,
            rtol=1e-4,
        )


def test_an_unfinished_or_crashing_log_density_is_not_a_traceback():
    assert str(exercises.check_gtm_log_prob(log_prob_skeleton)) == (
        "… Not done yet: replace the ... in your log-density, then run this cell again."
    )
    crashed = exercises.check_gtm_log_prob(lambda z, network, grid_size, grid_range: network(z))
    assert crashed.status == "wrong" and "your function raised RuntimeError" in str(crashed)
    assert len(str(crashed).splitlines()) == 1
    shaped = exercises.check_gtm_log_prob(lambda *inputs: reference_log_prob(*inputs)[:, None])
    assert "has shape (200, 1) where (200,) was expected" in str(shaped)


def test_the_checks_leave_the_callers_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    exercises.check_gtm_log_prob(reference_log_prob)
    exercises.check_gtm_grid(reference_grid)
    assert torch.equal(torch.rand(3), expected)
