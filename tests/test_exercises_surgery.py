"""The checks of notebook 07: the reference marginal KL and mutual information pass, each known
wrong answer is named with its hint, an unfinished skeleton is "not done yet", a crash is one
line, the caller's random stream is untouched, and the reference is what vaelib.analysis computes."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

import vaelib
from vaelib import exercises
from vaelib.exercises import surgery


def log_posteriors(z, means, logvars):
    """log q(z|x_n) at every grid point, as notebook 07's solution writes it: (P, L), (N, L) -> (P, N)."""
    return Normal(means, torch.exp(0.5 * logvars)).log_prob(z[:, None, :]).sum(-1)


def log_aggregate(z, means, logvars):
    """log q(z) = log (1/N) sum_n q(z|x_n): (P,)."""
    return torch.logsumexp(log_posteriors(z, means, logvars), dim=1) - math.log(len(means))


def marginal_kl(z, cell_area, means, logvars, log_prior):
    """The solution of notebook 07."""
    log_q = log_aggregate(z, means, logvars)
    return float((torch.exp(log_q) * (log_q - log_prior)).sum() * cell_area)


def mutual_information(z, cell_area, means, logvars):
    """The solution of notebook 07: the mean over n of KL(q(z|x_n) || q(z)), all on the grid."""
    log_posterior = log_posteriors(z, means, logvars)  # (P, N)
    log_q = torch.logsumexp(log_posterior, dim=1, keepdim=True) - math.log(len(means))
    return float((torch.exp(log_posterior) * (log_posterior - log_q)).sum() * cell_area / len(means))


def mutual_information_by_entropies(z, cell_area, means, logvars):
    """The other way: H(q(z)) on the grid minus the posteriors' entropies in closed form."""
    log_q = log_aggregate(z, means, logvars)
    posterior_entropy = Independent(Normal(means, torch.exp(0.5 * logvars)), 1).entropy().mean()
    return float(-(torch.exp(log_q) * log_q).sum() * cell_area - posterior_entropy)


def marginal_kl_skeleton(z, cell_area, means, logvars, log_prior):
    """KL(q(z) || p(z)) by quadrature on the grid's cells -> a number"""
    ...  # your code here


def mutual_information_skeleton(z, cell_area, means, logvars):
    """I(x; z) by quadrature on the grid's cells -> a number"""
    ...  # your code here


# The named wrong answers, as a student would write them.
def kl_wrong_direction(z, cell_area, means, logvars, log_prior):
    log_q = log_aggregate(z, means, logvars)
    return float((torch.exp(log_prior) * (log_prior - log_q)).sum() * cell_area)


def kl_without_cell_area(z, cell_area, means, logvars, log_prior):
    log_q = log_aggregate(z, means, logvars)
    return float((torch.exp(log_q) * (log_q - log_prior)).sum())


def kl_without_one_over_n(z, cell_area, means, logvars, log_prior):
    log_q = torch.logsumexp(log_posteriors(z, means, logvars), dim=1)
    return float((torch.exp(log_q) * (log_q - log_prior)).sum() * cell_area)


def kl_without_one_over_n_in_the_log(z, cell_area, means, logvars, log_prior):
    q = torch.exp(log_posteriors(z, means, logvars)).mean(1)
    log_q = torch.logsumexp(log_posteriors(z, means, logvars), dim=1)
    return float((q * (log_q - log_prior)).sum() * cell_area)


def kl_variance_as_std(z, cell_area, means, logvars, log_prior):
    log_posterior = Normal(means, torch.exp(logvars)).log_prob(z[:, None, :]).sum(-1)
    log_q = torch.logsumexp(log_posterior, dim=1) - math.log(len(means))
    return float((torch.exp(log_q) * (log_q - log_prior)).sum() * cell_area)


def mi_without_one_over_n(z, cell_area, means, logvars):
    log_posterior = log_posteriors(z, means, logvars)
    log_q = torch.logsumexp(log_posterior, dim=1, keepdim=True)
    return float((torch.exp(log_posterior) * (log_posterior - log_q)).sum() * cell_area / len(means))


def mi_distance_to_the_bound(z, cell_area, means, logvars):
    return math.log(len(means)) - mutual_information(z, cell_area, means, logvars)


def mi_is_the_bound(z, cell_area, means, logvars):
    return math.log(len(means))


def mi_without_cell_area(z, cell_area, means, logvars):
    return mutual_information(z, cell_area, means, logvars) / cell_area


def mi_entropies_without_cell_area(z, cell_area, means, logvars):
    log_q = log_aggregate(z, means, logvars)
    posterior_entropy = Independent(Normal(means, torch.exp(0.5 * logvars)), 1).entropy().mean()
    return float(-(torch.exp(log_q) * log_q).sum() - posterior_entropy)


def mi_aggregate_entropy_only(z, cell_area, means, logvars):
    log_q = log_aggregate(z, means, logvars)
    return float(-(torch.exp(log_q) * log_q).sum() * cell_area)


def mi_summed_over_posteriors(z, cell_area, means, logvars):
    return len(means) * mutual_information(z, cell_area, means, logvars)


def mi_variance_as_std(z, cell_area, means, logvars):
    return mutual_information(z, cell_area, means, 2 * logvars)


@pytest.mark.parametrize("seed", range(5))
def test_the_reference_answers_pass_on_fresh_inputs(seed):
    for check, function in (
        (exercises.check_marginal_kl, marginal_kl),
        (exercises.check_mutual_information, mutual_information),
        (exercises.check_mutual_information, mutual_information_by_entropies),
    ):
        feedback = check(function, seed=seed)
        assert feedback and str(feedback).startswith("✓ Correct:"), str(feedback)


@pytest.mark.parametrize(
    "function, name, hint",
    [
        (kl_wrong_direction, "KL in the wrong direction", "ELBO surgery needs KL(q(z) || p(z))"),
        (kl_without_cell_area, "cell area forgotten", "multiplied by its area"),
        (kl_without_one_over_n, "1/N forgotten", "the MEAN of the N posterior densities"),
        (kl_without_one_over_n_in_the_log, "1/N forgotten", "minus log N"),
        (kl_variance_as_std, "exp(logvar) used as the standard deviation", "exp(logvar) is the variance"),
    ],
)
def test_each_known_wrong_marginal_kl_is_named_with_its_hint(function, name, hint):
    for seed in range(3):
        feedback = exercises.check_marginal_kl(function, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name, str(feedback)
        assert "Hint:" in str(feedback) and hint in str(feedback)


@pytest.mark.parametrize(
    "function, name, hint",
    [
        (mi_without_one_over_n, "1/N forgotten", "the MEAN of the N posterior densities"),
        (mi_distance_to_the_bound, "log N bound confused", "log N is the most I(x; z) can be"),
        (mi_is_the_bound, "log N bound confused", "not its value"),
        (mi_without_cell_area, "cell area forgotten", "multiplied by its area"),
        (mi_entropies_without_cell_area, "cell area forgotten", "multiplied by its area"),
        (mi_aggregate_entropy_only, "posteriors' entropy forgotten", "subtracting the mean entropy"),
        (mi_summed_over_posteriors, "sum over the posteriors instead of the mean", "not the sum"),
        (mi_variance_as_std, "exp(logvar) used as the standard deviation", "exp(logvar) is the variance"),
    ],
)
def test_each_known_wrong_mutual_information_is_named_with_its_hint(function, name, hint):
    for seed in range(3):
        feedback = exercises.check_mutual_information(function, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name, str(feedback)
        assert "Hint:" in str(feedback) and hint in str(feedback)


def test_the_known_wrong_answers_differ_from_the_reference_and_from_each_other():
    """Else a mistake could pass, or get another's name: every pair is 5 tolerances apart or more."""
    for seed in range(10):
        inputs = surgery.surgery_inputs(seed)
        for answers in (
            [surgery.reference_marginal_kl(*inputs)] + [m.answer for m in surgery._marginal_kl_mistakes(*inputs)],
            [surgery.reference_mutual_information(*inputs[:4])]
            + [m.answer for m in surgery._mutual_information_mistakes(*inputs[:4])],
        ):
            for i, a in enumerate(answers):
                for b in answers[i + 1 :]:
                    assert abs(a - b) > 5 * surgery.TOLERANCE


def test_the_fresh_inputs_make_a_fair_exercise():
    """The grid holds q(z) and p(z) whole, and I(x; z) lies well inside (0, log N)."""
    for seed in range(10):
        z, cell_area, means, logvars, log_prior = surgery.surgery_inputs(seed)
        log_q = surgery._log_q(z, means, logvars)
        assert abs(float(torch.exp(log_q).sum() * cell_area) - 1) < 1e-6
        assert abs(float(torch.exp(log_prior).sum() * cell_area) - 1) < 1e-3
        information = surgery.reference_mutual_information(z, cell_area, means, logvars)
        assert 0.5 < information < math.log(len(means)) - 0.2


def test_the_reference_agrees_with_torch_distributions_and_with_the_other_formula():
    for seed in range(3):
        z, cell_area, means, logvars, log_prior = surgery.surgery_inputs(seed)
        mixture = MixtureSameFamily(
            Categorical(logits=torch.zeros(len(means), dtype=torch.float64)),
            Independent(Normal(means, torch.exp(0.5 * logvars)), 1),
        )
        log_q = mixture.log_prob(z)
        kl = float((torch.exp(log_q) * (log_q - log_prior)).sum() * cell_area)
        assert surgery.reference_marginal_kl(z, cell_area, means, logvars, log_prior) == pytest.approx(kl, abs=1e-9)
        assert surgery.reference_mutual_information(z, cell_area, means, logvars) == pytest.approx(
            mutual_information(z, cell_area, means, logvars), abs=1e-8
        )


def test_the_reference_is_what_elbo_surgery_computes_for_a_model():
    """On a model's own posteriors and grid, the check's formulas give vaelib.elbo_surgery's numbers."""
    model = vaelib.make_vae("mog", seed=0)
    x = vaelib.load_digits().test[:20]
    grid = vaelib.latent_grid(model, x, resolution=60)
    with torch.no_grad():
        means, logvars = model.encoder(x)
        log_prior = model.prior.distribution().log_prob(grid.points)
    expected = vaelib.elbo_surgery(model, x, grid=grid)
    args = (grid.points.double(), grid.cell_area, means.double(), logvars.double())
    assert surgery.reference_marginal_kl(*args, log_prior.double()) == pytest.approx(expected.marginal_kl, abs=1e-4)
    assert surgery.reference_mutual_information(*args) == pytest.approx(expected.mutual_information, abs=1e-4)


def test_an_unfinished_or_crashing_answer_is_not_a_traceback():
    assert str(exercises.check_marginal_kl(marginal_kl_skeleton)) == (
        "… Not done yet: replace the ... in your marginal KL, then run this cell again."
    )
    assert str(exercises.check_mutual_information(mutual_information_skeleton)) == (
        "… Not done yet: replace the ... in your mutual information, then run this cell again."
    )
    crashed = exercises.check_marginal_kl(lambda z, cell_area, means, logvars, log_prior: z @ means)
    assert crashed.status == "wrong" and "your function raised RuntimeError" in str(crashed)
    assert str(crashed).count("\n") == 0
    crashed = exercises.check_mutual_information(lambda z, cell_area, means, logvars: means[10])
    assert crashed.status == "wrong" and "your function raised IndexError" in str(crashed)
    several = exercises.check_mutual_information(lambda z, cell_area, means, logvars: means.sum(1))
    assert several.status == "wrong" and "should be one number" in str(several)
    unknown = exercises.check_marginal_kl(lambda *inputs: 42.0)
    assert unknown.status == "wrong" and unknown.mistake is None and "Hint:" in str(unknown)


def test_the_checks_leave_the_callers_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    exercises.check_marginal_kl(marginal_kl)
    exercises.check_mutual_information(mutual_information)
    assert torch.equal(torch.rand(3), expected)
