"""Exercise checks for notebook 07: ELBO surgery by quadrature.

Both checks hand the student's function fresh, small inputs: the cell centres of a grid over
the 2-D latent plane and their cell area, the means and log-variances of N = 6 Gaussian
posteriors q(z|x_n), and (for the marginal KL) the log-density of a Gaussian prior at the
grid's points. The reference is what ``vaelib.analysis`` computes for a trained model
(``_surgery_by_quadrature``): log q(z) by ``uniform_diagonal_mixture_log_prob`` in float64,
sums over the cells times the cell area, and the posteriors' entropies in closed form.

``check_marginal_kl`` compares KL(q(z) || p(z)) = sum over cells of q(z) [log q(z) - log p(z)] dA
and names the KL in the wrong direction, the cell area forgotten, q(z) not normalised over the
N posteriors (the 1/N forgotten) and ``exp(logvar)`` used as the standard deviation.

``check_mutual_information`` compares I(x; z) = H(q(z)) - (1/N) sum_n H(q(z|x_n)) (equal, on a
grid this fine, to the mean over n of KL(q(z|x_n) || q(z))) and names the 1/N forgotten in q(z)
(which gives I - log N), I confused with its bound log N (log N - I, or log N itself), the
cell area forgotten, the posteriors' entropies forgotten, a sum over the posteriors where the
mean was asked, and ``exp(logvar)`` used as the standard deviation.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from ..analysis import uniform_diagonal_mixture_log_prob
from ._core import Feedback, Mistake, call, compare_number, generator, run_check

__all__ = ["check_marginal_kl", "check_mutual_information"]

POSTERIORS = 6
EXTENT = 7.0  # the grid covers [-7, 7]^2: every posterior's mass to 6 standard deviations and more
RESOLUTION = 140  # cells of width 0.1 per axis: under a quarter of the narrowest std (0.45), and of the
# narrowest exp(logvar) (0.2), so the midpoint rule is exact far below the tolerance for right and wrong answers
TOLERANCE = 1e-3  # nats: float32 arithmetic on 19,600 cells is good to about 1e-5
LOG_2PI_E = math.log(2 * math.pi * math.e)


def grid_points(extent: float = EXTENT, resolution: int = RESOLUTION) -> tuple[torch.Tensor, float]:
    """The cell centres of a square grid over [-extent, extent]^2 and the cell area: (P, 2), float."""
    step = 2 * extent / resolution
    centres = -extent + step * (torch.arange(resolution, dtype=torch.float64) + 0.5)
    z2, z1 = torch.meshgrid(centres, centres, indexing="ij")
    return torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1), step * step


def surgery_inputs(seed: int = 0):
    """Fresh inputs: z (P, 2), cell_area, means (N, 2), logvars (N, 2), log_prior (P,), all float64.

    The N = 6 posteriors' means lie around a ring (radius 1.2 to 2.2, angles evenly spread
    and jittered; they overlap a little: I(x; z) stays well inside (0, log N)); their
    standard deviations are between 0.45 and 0.75. The prior is a Gaussian N(c, diag s^2)
    with c within 0.5 of the origin and s between 1.2 and 1.8: wider than q(z), so the two
    directions of the KL differ.
    """
    g = generator(seed)
    z, cell_area = grid_points()
    jitter = 0.3 * torch.rand(POSTERIORS, generator=g, dtype=torch.float64)
    angles = 2 * math.pi * (torch.arange(POSTERIORS, dtype=torch.float64) + jitter) / POSTERIORS
    radii = 1.2 + torch.rand(POSTERIORS, generator=g, dtype=torch.float64)
    means = torch.stack([radii * torch.cos(angles), radii * torch.sin(angles)], dim=1)
    stds = 0.45 + 0.3 * torch.rand(POSTERIORS, 2, generator=g, dtype=torch.float64)
    centre = torch.rand(2, generator=g, dtype=torch.float64) - 0.5
    scale = 1.2 + 0.6 * torch.rand(2, generator=g, dtype=torch.float64)
    log_prior = torch.distributions.Normal(centre, scale).log_prob(z).sum(1)
    return z, cell_area, means, 2 * torch.log(stds), log_prior


def _log_q(z, means, logvars):
    """log q(z) = log (1/N) sum_n N(z; means[n], diag exp(logvars[n])), as vaelib.analysis computes it."""
    return uniform_diagonal_mixture_log_prob(z, means, logvars)


def _expect(mass, values):
    """Sum over cells of mass * values, 0 * log 0 = 0 where a density underflows."""
    return float(torch.where(mass > 0, mass * values, 0.0).sum())


def reference_marginal_kl(z, cell_area, means, logvars, log_prior) -> float:
    """KL(q(z) || p(z)) by the midpoint rule, as vaelib.analysis.elbo_surgery computes it."""
    return _marginal_kl(_log_q(z, means, logvars), cell_area, log_prior)


def _marginal_kl(log_q, cell_area, log_prior) -> float:
    return _expect(torch.exp(log_q) * cell_area, log_q - log_prior)


def _entropy(log_q, cell_area) -> float:
    """H(q) = -sum over cells of q log q times the cell area."""
    return _expect(torch.exp(log_q) * cell_area, -log_q)


def _posterior_entropy(logvars) -> float:
    """(1/N) sum_n H(q(z|x_n)) of diagonal Gaussians, in closed form."""
    return float(0.5 * (LOG_2PI_E + logvars).sum(1).mean())


def reference_mutual_information(z, cell_area, means, logvars) -> float:
    """I(x; z) = H(q(z)) - (1/N) sum_n H(q(z|x_n)): the aggregate's entropy on the grid, the posteriors' exact."""
    return _entropy(_log_q(z, means, logvars), cell_area) - _posterior_entropy(logvars)


_VARIANCE_HINT = (
    "exp(logvar) is the variance; the standard deviation is exp(0.5 * logvar) "
    "(Normal(mean, exp(0.5 * logvar)), or -0.5 * (log 2 pi + logvar + (z - mean)^2 / exp(logvar)) per dimension)."
)
_AREA_HINT = (
    "a sum over the grid's cells is an integral only once each cell's value is multiplied by its "
    "area: sum of q(z) * (...) * cell_area."
)
_ONE_OVER_N_HINT = (
    "q(z) is the MEAN of the N posterior densities, (1/N) sum_n q(z|x_n): in logs, "
    "logsumexp over n of log q(z|x_n), minus log N. Without the 1/N, q(z) integrates to N, not 1."
)


def _marginal_kl_mistakes(z, cell_area, means, logvars, log_prior) -> tuple[Mistake, ...]:
    log_q = _log_q(z, means, logvars)
    count = len(means)
    log_q_unnormalised = log_q + math.log(count)
    kl = _marginal_kl(log_q, cell_area, log_prior)
    return (
        Mistake(
            "KL in the wrong direction",
            _expect(torch.exp(log_prior) * cell_area, log_prior - log_q),
            "ELBO surgery needs KL(q(z) || p(z)): the average under q(z), the codes' density, of "
            "log q(z) - log p(z). Weighting by p(z) gives KL(p(z) || q(z)), another number.",
        ),
        Mistake("cell area forgotten", kl / cell_area, _AREA_HINT),
        Mistake(
            "1/N forgotten",
            _expect(torch.exp(log_q_unnormalised) * cell_area, log_q_unnormalised - log_prior),
            _ONE_OVER_N_HINT,
        ),
        Mistake(
            "1/N forgotten", _expect(torch.exp(log_q) * cell_area, log_q_unnormalised - log_prior), _ONE_OVER_N_HINT
        ),
        Mistake(
            "exp(logvar) used as the standard deviation",
            _marginal_kl(_log_q(z, means, 2 * logvars), cell_area, log_prior),
            _VARIANCE_HINT,
        ),
    )


def _mutual_information_mistakes(z, cell_area, means, logvars) -> tuple[Mistake, ...]:
    log_q = _log_q(z, means, logvars)
    count = len(means)
    log_n = math.log(count)
    aggregate_entropy = _entropy(log_q, cell_area)
    posterior_entropy = _posterior_entropy(logvars)
    information = aggregate_entropy - posterior_entropy
    wide_entropy = _entropy(_log_q(z, means, 2 * logvars), cell_area)  # exp(logvar) as the std
    bound_hint = (
        "log N is the most I(x; z) can be (a code cannot tell more than which of the N inputs it "
        "came from), not its value: compute H(q(z)) - (1/N) sum_n H(q(z|x_n)), or the mean over n "
        "of KL(q(z|x_n) || q(z))."
    )
    return (
        # Mean over n of KL(q(z|x_n) || N q(z)), or the entropy of N q(z): both with q(z) unnormalised.
        Mistake("1/N forgotten", information - log_n, _ONE_OVER_N_HINT),
        Mistake("1/N forgotten", count * (aggregate_entropy - log_n) - posterior_entropy, _ONE_OVER_N_HINT),
        Mistake("log N bound confused", log_n - information, bound_hint),
        Mistake("log N bound confused", log_n, bound_hint),
        Mistake("cell area forgotten", information / cell_area, _AREA_HINT),
        Mistake("cell area forgotten", aggregate_entropy / cell_area - posterior_entropy, _AREA_HINT),
        Mistake(
            "posteriors' entropy forgotten",
            aggregate_entropy,
            "H(q(z)) alone is the entropy of the codes; the information about x is what is left after "
            "subtracting the mean entropy of the posteriors, (1/N) sum_n H(q(z|x_n)), where "
            "H(N(m, diag v)) = 0.5 * sum over dimensions of log(2 pi e v).",
        ),
        Mistake(
            "sum over the posteriors instead of the mean",
            count * information,
            "I(x; z) averages over the N inputs (each has probability 1/N): take the mean over n of "
            "KL(q(z|x_n) || q(z)), not the sum.",
        ),
        Mistake(
            "exp(logvar) used as the standard deviation",
            wide_entropy - _posterior_entropy(2 * logvars),
            _VARIANCE_HINT,
        ),
        Mistake("exp(logvar) used as the standard deviation", wide_entropy - posterior_entropy, _VARIANCE_HINT),
    )


def _student_inputs(inputs):
    """The inputs as the student gets them: tensors in float32, the cell area a float."""
    return tuple(x.float() if isinstance(x, torch.Tensor) else x for x in inputs)


def check_marginal_kl(function: Callable, seed: int = 0) -> Feedback:
    """Your marginal KL by quadrature: my_marginal_kl(z, cell_area, means, logvars, log_prior) -> a number.

    z: (P, 2) the grid's cell centres, cell_area: a float, means, logvars: (N, 2) of the N
    posteriors q(z|x_n), log_prior: (P,) log p(z) at the cell centres. Compares with
    KL(q(z) || p(z)) as vaelib.analysis.elbo_surgery computes it, on fresh inputs (N = 6).
    """

    def body() -> Feedback:
        inputs = surgery_inputs(seed)
        reference = reference_marginal_kl(*inputs)
        answer = call(function, *_student_inputs(inputs))
        return compare_number(
            answer,
            reference,
            what="your KL(q(z) || p(z))",
            passed=f"your marginal KL matches ELBO surgery's ({reference:.4f} nats) on fresh inputs "
            f"({len(inputs[2])} posteriors, a {RESOLUTION} x {RESOLUTION} grid).",
            tolerance=TOLERANCE,
            mistakes=_marginal_kl_mistakes(*inputs),
            hint="KL(q(z) || p(z)) = sum over the cells of q(z) * (log q(z) - log p(z)) * cell_area, with "
            "log q(z) = logsumexp over n of log N(z; means[n], diag exp(logvars[n])) - log N.",
        )

    return run_check(body, "your marginal KL")


def check_mutual_information(function: Callable, seed: int = 0) -> Feedback:
    """Your mutual information by quadrature: my_mutual_information(z, cell_area, means, logvars) -> a number.

    z: (P, 2) the grid's cell centres, cell_area: a float, means, logvars: (N, 2) of the N
    posteriors q(z|x_n). Compares with I(x; z) as vaelib.analysis.elbo_surgery computes it,
    on fresh inputs (N = 6).
    """

    def body() -> Feedback:
        inputs = surgery_inputs(seed)[:4]
        reference = reference_mutual_information(*inputs)
        answer = call(function, *_student_inputs(inputs))
        return compare_number(
            answer,
            reference,
            what="your I(x; z)",
            passed=f"your mutual information matches ELBO surgery's ({reference:.4f} nats, below "
            f"log N = {math.log(len(inputs[2])):.4f}) on fresh inputs ({len(inputs[2])} posteriors, "
            f"a {RESOLUTION} x {RESOLUTION} grid).",
            tolerance=TOLERANCE,
            mistakes=_mutual_information_mistakes(*inputs),
            hint="I(x; z) = H(q(z)) - (1/N) sum_n H(q(z|x_n)): the entropy of the aggregated posterior on "
            "the grid (minus the sum of q log q times the cell area), minus the posteriors' mean entropy.",
        )

    return run_check(body, "your mutual information")
