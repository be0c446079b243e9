"""Exercise checks for notebook 01: the ELBO.

``check_elbo`` checks the per-image ELBO of a VAE with a Bernoulli decoder (0/1 pixels) and the
standard normal prior, written from the data x, the decoder's logits at one sample z ~ q(z|x),
and the encoder's mean and log-variance: the reconstruction log p(x|z) summed over the pixels,
minus the closed-form KL(q(z|x) || N(0, I)). The reference is computed independently with
``torch.distributions`` (``Independent(Bernoulli)`` and ``kl_divergence``), on fresh inputs
(B = 100 images of D = 64 pixels, L = 3 latent dimensions, log-variances from -3 to 1, so that
every known mistake changes the number). It recognises by name the ELBO with the wrong sign (the
loss), ``exp(logvar)`` used as the standard deviation in the KL, the KL forgotten or added
instead of subtracted, a mean over pixels instead of a sum, the binary cross-entropy taken for
the log-likelihood, and the KL without its 1/2.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from ._core import Feedback, Mistake, call, compare, generator, run_check

__all__ = ["check_elbo"]

IMAGES, PIXELS, LATENT_DIM = 100, 64, 3


def elbo_inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fresh inputs: x (B, D) of 0s and 1s, logits (B, D), mean (B, L), logvar (B, L), float64.

    The logits are drawn near the pixels' values (a decoder that has learned something), the
    log-variances between -3 and 1: posteriors narrower and wider than the prior.
    """
    g = generator(seed)
    x = (torch.rand(IMAGES, PIXELS, generator=g, dtype=torch.float64) < 0.4).to(torch.float64)
    logits = 3 * (2 * x - 1) + 2 * torch.randn(IMAGES, PIXELS, generator=g, dtype=torch.float64)
    mean = 1.5 * torch.randn(IMAGES, LATENT_DIM, generator=g, dtype=torch.float64)
    logvar = 4 * torch.rand(IMAGES, LATENT_DIM, generator=g, dtype=torch.float64) - 3
    return x, logits, mean, logvar


def reference_parts(x, logits, mean, logvar) -> tuple[torch.Tensor, torch.Tensor]:
    """(reconstruction, KL), each (B,), from torch.distributions: log p(x|z) and KL(q(z|x) || N(0, I))."""
    reconstruction = Independent(Bernoulli(logits=logits), 1).log_prob(x)
    posterior = Independent(Normal(mean, torch.exp(0.5 * logvar)), 1)
    prior = Independent(Normal(torch.zeros_like(mean), torch.ones_like(mean)), 1)
    return reconstruction, kl_divergence(posterior, prior)


def _mistakes(x, logits, mean, logvar) -> tuple[Mistake, ...]:
    """The known wrong ELBOs on these inputs, each with the hint that sets it right."""
    reconstruction, kl = reference_parts(x, logits, mean, logvar)
    kl_variance_as_std = 0.5 * (mean**2 + torch.exp(2 * logvar) - 2 * logvar - 1).sum(-1)
    kl_per_dimension = 0.5 * (mean**2 + torch.exp(logvar) - logvar - 1)
    mean_hint = (
        "log p(x|z) is the log of a product over the D pixels, so it is a SUM over pixels (and the KL a "
        "sum over the L latent dimensions): a mean divides the reconstruction by D and tips the balance "
        "towards the KL."
    )
    return (
        Mistake(
            "ELBO with the wrong sign",
            kl - reconstruction,
            "that is the loss, −ELBO, which training minimises; the ELBO itself is reconstruction − KL, "
            "a number to maximise (negative for images: a log-probability of discrete pixels is below 0).",
        ),
        Mistake(
            "exp(logvar) used as the standard deviation",
            reconstruction - kl_variance_as_std,
            "exp(logvar) is the variance σ², so the KL is ½ Σ (μ² + exp(logvar) − logvar − 1); with "
            "exp(logvar) as σ you squared it once too often (σ² = exp(2·logvar)).",
        ),
        Mistake(
            "KL forgotten",
            reconstruction,
            "the ELBO has two terms: subtract KL(q(z|x) || N(0, I)) = ½ Σ_l (μ_l² + exp(logvar_l) − logvar_l − 1) "
            "from the reconstruction.",
        ),
        Mistake("mean over pixels instead of a sum", reconstruction / PIXELS - kl, mean_hint),
        Mistake("mean over pixels instead of a sum", reconstruction / PIXELS - kl_per_dimension.mean(-1), mean_hint),
        Mistake(
            "KL added instead of subtracted",
            reconstruction + kl,
            "KL(q || p) ≥ 0 is a cost: ELBO = reconstruction − KL, so the bound stays below log p(x).",
        ),
        Mistake(
            "binary cross-entropy taken for the log-likelihood",
            -reconstruction - kl,
            "F.binary_cross_entropy_with_logits returns −log p(x|z): the reconstruction term is its negative, "
            "−BCE(logits, x) summed over the pixels.",
        ),
        Mistake(
            "KL without its 1/2",
            reconstruction - 2 * kl,
            "the closed-form KL has a factor ½: ½ Σ_l (μ_l² + exp(logvar_l) − logvar_l − 1).",
        ),
    )


def check_elbo(function: Callable, seed: int = 0) -> Feedback:
    """Your ELBO: my_elbo(x, logits, mean, logvar) -> (B,), Bernoulli pixels, closed-form KL to N(0, I).

    x (B, D) holds 0s and 1s, logits (B, D) are the decoder's at one sample z ~ q(z|x), mean and
    logvar (B, L) the encoder's. Compares with torch.distributions on 100 fresh images
    (D = 64 pixels, L = 3 latent dimensions).
    """

    def body() -> Feedback:
        inputs = elbo_inputs(seed)
        reconstruction, kl = reference_parts(*inputs)
        answer = call(function, *(t.float() for t in inputs))
        return compare(
            answer,
            reconstruction - kl,
            what="your ELBO",
            passed=f"your ELBO matches torch.distributions on {IMAGES} fresh images "
            f"(D = {PIXELS} pixels, L = {LATENT_DIM} latent dimensions).",
            mistakes=_mistakes(*inputs),
            hint="ELBO(x) = Σ_d [x_d log σ(logits_d) + (1 − x_d) log(1 − σ(logits_d))] "
            "− ½ Σ_l (mean_l² + exp(logvar_l) − logvar_l − 1), one number per image.",
            rtol=1e-4,
            atol=1e-3,
        )

    return run_check(body, "your ELBO")
