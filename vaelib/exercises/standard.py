"""Exercise checks for notebook 02: the standard Gaussian prior.

``check_reparameterised_sample`` checks the reparameterisation trick, z = mean + std * noise with
std = exp(logvar / 2), given the encoder's mean and log-variance and the standard normal noise:
the values against the formula (the noise is given, so the answer is exact), then the gradients,
which must reach mean and logvar (the whole point of the trick). It recognises by name
``exp(logvar)`` used as the standard deviation, the noise left unscaled, the log-variance used as
the standard deviation, the mean forgotten, and a sample cut off from the gradient.

``check_kl_to_standard_normal`` checks the closed-form KL(N(mean, diag exp(logvar)) || N(0, I)),
one number per row, against ``torch.distributions.kl_divergence``. It recognises by name
``exp(logvar)`` used as the standard deviation, the missing 1/2, a KL per dimension instead of
summed over the dimensions (as a (B, L) tensor or averaged), the wrong sign, and the -1 forgotten.

Both run on fresh inputs: B = 100 rows, L = 3 dimensions, log-variances from -3 to 1.5, so
that every known mistake changes the answer.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.distributions import Independent, Normal, kl_divergence

from ._core import (
    Feedback,
    Mistake,
    _StudentError,
    as_tensor,
    call,
    close,
    compare,
    correct,
    generator,
    run_check,
    wrong,
)

__all__ = ["check_reparameterised_sample", "check_kl_to_standard_normal"]

ROWS, LATENT_DIM = 100, 3


def gaussian_inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fresh mean (B, L), logvar (B, L) and standard normal noise (B, L), float64.

    The log-variances lie between -3 and 1.5: standard deviations from 0.22 to 2.1, narrower
    and wider than the prior's 1, so exp(logvar) and exp(logvar / 2) never agree.
    """
    g = generator(seed)
    mean = 1.5 * torch.randn(ROWS, LATENT_DIM, generator=g, dtype=torch.float64)
    logvar = 4.5 * torch.rand(ROWS, LATENT_DIM, generator=g, dtype=torch.float64) - 3
    noise = torch.randn(ROWS, LATENT_DIM, generator=g, dtype=torch.float64)
    return mean, logvar, noise


# ---------------------------------------------------------------------------------------
# The reparameterised sample
# ---------------------------------------------------------------------------------------
_STD_HINT = "the standard deviation is exp(0.5 * logvar), the square root of the variance exp(logvar)"


def _sample_mistakes(mean, logvar, noise) -> tuple[Mistake, ...]:
    return (
        Mistake(
            "exp(logvar) used as the standard deviation",
            mean + torch.exp(logvar) * noise,
            f"exp(logvar) is the variance; {_STD_HINT}: z = mean + exp(0.5 * logvar) * noise.",
        ),
        Mistake(
            "unscaled noise",
            mean + noise,
            "every dimension has its own spread: multiply the noise by the standard deviation "
            "exp(0.5 * logvar) before adding the mean.",
        ),
        Mistake(
            "log-variance used as the standard deviation",
            mean + logvar * noise,
            f"logvar is the logarithm of the variance, and it can be negative; {_STD_HINT}.",
        ),
        Mistake(
            "forgotten mean",
            torch.exp(0.5 * logvar) * noise,
            "the noise scaled by the standard deviation is centred on 0: add the mean.",
        ),
    )


def _gradients_reach(sample: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor) -> bool:
    """True when d(sum z)/d mean = 1 and d(sum z)/d logvar = noise * std / 2, as for z = mean + std * noise."""
    if not isinstance(sample, torch.Tensor) or not sample.requires_grad:
        return False
    try:
        gradients = torch.autograd.grad(sample.sum(), (mean, logvar), allow_unused=True)
    except RuntimeError as error:
        raise _StudentError(f"computing the gradient of your sample raised RuntimeError: {error}") from error
    if any(g is None for g in gradients):
        return False
    expected = (torch.ones_like(mean), 0.5 * noise * torch.exp(0.5 * logvar))
    return all(close(g, e.detach(), rtol=1e-4, atol=1e-4) for g, e in zip(gradients, expected))


def check_reparameterised_sample(function: Callable, seed: int = 0) -> Feedback:
    """Your reparameterised sample: my_sample(mean, logvar, noise) -> (B, L), z = mean + std * noise.

    noise (B, L) is standard normal; the check compares z with the formula on 100 fresh rows
    (L = 3), then checks that gradients flow back to mean and logvar.
    """

    def body() -> Feedback:
        mean, logvar, noise = gaussian_inputs(seed)
        reference = mean + torch.exp(0.5 * logvar) * noise
        student_mean = mean.float().requires_grad_()
        student_logvar = logvar.float().requires_grad_()
        answer = call(function, student_mean, student_logvar, noise.float())
        feedback = compare(
            answer,
            reference,
            what="your sample",
            passed="",
            mistakes=_sample_mistakes(mean, logvar, noise),
            hint=f"z = mean + std * noise, where {_STD_HINT}; one row per row of mean.",
            rtol=1e-4,
            atol=1e-4,
        )
        if not feedback:
            return feedback
        if not _gradients_reach(answer, student_mean, student_logvar, noise.float()):
            return wrong(
                "your sample has the right values, but no gradient flows through it back to mean and logvar.",
                "compute z from mean and logvar with torch operations (no .detach(), torch.no_grad(), "
                ".item() or NumPy): the trick exists so that the ELBO's gradient reaches the encoder through z.",
                "sample cut off from the gradient",
            )
        return correct(
            f"your sample matches mean + exp(0.5 * logvar) * noise on {ROWS} fresh rows "
            f"(L = {LATENT_DIM}), and gradients reach mean and logvar."
        )

    return run_check(body, "your sample")


# ---------------------------------------------------------------------------------------
# The KL to the standard normal, in closed form
# ---------------------------------------------------------------------------------------
def reference_kl(mean, logvar) -> torch.Tensor:
    """KL(N(mean, diag exp(logvar)) || N(0, I)) per row, by torch.distributions: (B, L) -> (B,)"""
    posterior = Independent(Normal(mean, torch.exp(0.5 * logvar)), 1)
    prior = Independent(Normal(torch.zeros_like(mean), torch.ones_like(mean)), 1)
    return kl_divergence(posterior, prior)


_PER_DIMENSION_HINT = (
    "the Gaussians are diagonal, so the KL of the L-dimensional Gaussian is the SUM of the L "
    "one-dimensional KLs: .sum(-1), one number per row."
)


def _kl_mistakes(mean, logvar) -> tuple[Mistake, ...]:
    kl = reference_kl(mean, logvar)
    per_dimension = 0.5 * (mean**2 + torch.exp(logvar) - logvar - 1)
    return (
        Mistake(
            "exp(logvar) used as the standard deviation",
            0.5 * (mean**2 + torch.exp(2 * logvar) - 2 * logvar - 1).sum(-1),
            "exp(logvar) is already the variance σ²: KL = ½ Σ (μ² + exp(logvar) − logvar − 1), with "
            "log σ² = logvar (not 2·logvar).",
        ),
        Mistake(
            "missing 1/2",
            2 * kl,
            "the closed form has a factor ½ in front: ½ Σ_l (μ_l² + σ_l² − log σ_l² − 1).",
        ),
        Mistake("KL per dimension, not summed", per_dimension.mean(-1), _PER_DIMENSION_HINT),
        Mistake(
            "KL with the wrong sign",
            -kl,
            "a KL divergence is never negative: it is ½ Σ (μ² + σ² − log σ² − 1), each term ≥ 0 "
            "(σ² − log σ² − 1 ≥ 0, zero at σ = 1).",
        ),
        Mistake(
            "forgotten -1",
            kl + 0.5 * mean.shape[-1],
            "each dimension has a −1 inside the bracket, so that the KL is 0 when q = N(0, I): "
            "½ Σ (μ² + σ² − log σ² − 1).",
        ),
    )


def check_kl_to_standard_normal(function: Callable, seed: int = 0) -> Feedback:
    """Your closed-form KL: my_kl(mean, logvar) -> (B,), KL(N(mean, diag exp(logvar)) || N(0, I)) per row.

    Compares with torch.distributions.kl_divergence on 100 fresh rows (L = 3 dimensions).
    """

    def body() -> Feedback:
        mean, logvar, _ = gaussian_inputs(seed)
        answer = call(function, mean.float(), logvar.float())
        per_dimension = 0.5 * (mean**2 + torch.exp(logvar) - logvar - 1)
        value = as_tensor(answer, "your KL")
        if value.shape == per_dimension.shape and close(value, per_dimension, rtol=1e-4, atol=1e-4):
            return wrong(
                f"your KL has shape {tuple(value.shape)}, one number per dimension: the per-dimension KLs.",
                _PER_DIMENSION_HINT,
                "KL per dimension, not summed",
            )
        return compare(
            value,
            reference_kl(mean, logvar),
            what="your KL",
            passed=f"your KL matches torch.distributions.kl_divergence on {ROWS} fresh rows (L = {LATENT_DIM}).",
            mistakes=_kl_mistakes(mean, logvar),
            hint="KL = ½ Σ_l (mean_l² + exp(logvar_l) − logvar_l − 1), summed over the L dimensions, "
            "one number per row.",
            rtol=1e-4,
            atol=1e-4,
        )

    return run_check(body, "your KL")
