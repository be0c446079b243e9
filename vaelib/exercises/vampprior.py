"""Exercise checks for notebook 04: the VampPrior.

``check_vampprior_log_prob`` checks the VampPrior's log-density with uniform weights, as in
the VampPrior paper (``learn_weights=False``):

    log p(z) = logsumexp_k [log N(z; mu_k, diag exp(logvar_k))] - log K,

where (mu_k, logvar_k) = encoder(pseudo_inputs)[k]. The student's function receives the
points, an encoder and the K pseudo-inputs, exactly what a vaelib model holds
(``model.encoder``, ``model.prior.pseudo_inputs``). The check gives it a fresh encoder (a
small fixed random network from images to means and log-variances) and fresh pseudo-inputs
(K = 5, L = 3, so that every known mistake changes the number) and compares the answer with
``torch.distributions.MixtureSameFamily``. It recognises by name the book companion code's
per-dimension log-sum-exp, a forgotten 1/K (no - log K), ``exp(logvar)`` used as the
standard deviation, and the mean of the components' log-densities taken for the log of their
mean density.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from ._core import Feedback, Mistake, call, compare, generator, run_check

__all__ = ["check_vampprior_log_prob"]

POINTS = 200
COMPONENTS = 5
LATENT_DIM = 3
PIXELS = 8
PIXEL_MAX = 16.0


class FreshEncoder:
    """A small fixed random encoder: images (P, D) -> (means (P, L), logvars (P, L)).

    Computes in float64 and answers in the dtype of the images it is given; log-variances lie
    in (-1.7, 0.7), so that standard deviations and variances differ by a visible factor.
    """

    def __init__(self, g: torch.Generator, pixels: int = PIXELS, latent_dim: int = LATENT_DIM, hidden: int = 16):
        self.hidden_weight = (
            3 * torch.randn(pixels, hidden, generator=g, dtype=torch.float64) / (PIXEL_MAX * math.sqrt(pixels))
        )
        self.hidden_bias = torch.randn(hidden, generator=g, dtype=torch.float64)
        self.mean_weight = 3 * torch.randn(hidden, latent_dim, generator=g, dtype=torch.float64) / math.sqrt(hidden)
        self.logvar_weight = torch.randn(hidden, latent_dim, generator=g, dtype=torch.float64) / math.sqrt(hidden)

    def __call__(self, images: Tensor) -> tuple[Tensor, Tensor]:
        centred = torch.as_tensor(images, dtype=torch.float64) - PIXEL_MAX / 2
        hidden = torch.tanh(centred @ self.hidden_weight + self.hidden_bias)
        means = hidden @ self.mean_weight
        logvars = -0.5 + 1.2 * torch.tanh(hidden @ self.logvar_weight)
        dtype = images.dtype if isinstance(images, Tensor) else torch.float64
        return means.to(dtype), logvars.to(dtype)


def log_prob_inputs(seed: int = 0) -> tuple[Tensor, FreshEncoder, Tensor]:
    """Fresh points, encoder and pseudo-inputs: z (N, L), encoder, pseudo_inputs (K, D) in [0, 16].

    Half of the points lie near a component (the mean plus its standard deviation times noise),
    half anywhere around the components.
    """
    g = generator(seed)
    encoder = FreshEncoder(g)
    pseudo_inputs = PIXEL_MAX * torch.rand(COMPONENTS, PIXELS, generator=g, dtype=torch.float64)
    means, logvars = encoder(pseudo_inputs)
    picked = torch.randint(COMPONENTS, (POINTS // 2,), generator=g)
    near = means[picked] + torch.exp(0.5 * logvars[picked]) * torch.randn(
        POINTS // 2, LATENT_DIM, generator=g, dtype=torch.float64
    )
    anywhere = means.mean(0) + 3 * torch.randn(POINTS - POINTS // 2, LATENT_DIM, generator=g, dtype=torch.float64)
    return torch.cat([near, anywhere]), encoder, pseudo_inputs


def reference_vampprior(means: Tensor, logvars: Tensor) -> MixtureSameFamily:
    """The VampPrior with uniform weights, as torch.distributions builds it (as vaelib does)."""
    uniform = Categorical(logits=torch.zeros(means.shape[0], dtype=means.dtype))
    return MixtureSameFamily(uniform, Independent(Normal(means, torch.exp(0.5 * logvars)), 1))


def _log_prob_mistakes(z: Tensor, means: Tensor, logvars: Tensor) -> tuple[Mistake, ...]:
    """The known wrong log-densities on these inputs, each with the hint that sets it right."""
    log_k = math.log(means.shape[0])
    per_dimension = Normal(means, torch.exp(0.5 * logvars)).log_prob(z[:, None, :])  # (N, K, L)
    log_components = per_dimension.sum(-1)  # (N, K)
    per_dimension_hint = (
        "sum the log-densities over the L dimensions FIRST (one log q(z | u_k) per pseudo-input), then "
        "take the log-sum-exp over the K components. The other order (the book's VampPrior.log_prob) mixes "
        "each dimension on its own: a product of L one-dimensional mixtures, not the mixture of K posteriors."
    )
    return (
        Mistake(
            "per-dimension log-sum-exp",
            (torch.logsumexp(per_dimension, dim=1) - log_k).sum(-1),
            per_dimension_hint,
        ),
        Mistake("per-dimension log-sum-exp", torch.logsumexp(per_dimension, dim=1).sum(-1) - log_k, per_dimension_hint),
        Mistake(
            "forgotten 1/K",
            torch.logsumexp(log_components, dim=1),
            "each pseudo-input's posterior has weight 1/K: subtract log K (math.log(K)) after the log-sum-exp, "
            "else the density integrates to K, not 1.",
        ),
        Mistake(
            "exp(logvar) used as the standard deviation",
            torch.logsumexp(Normal(means, torch.exp(logvars)).log_prob(z[:, None, :]).sum(-1), dim=1) - log_k,
            "exp(logvar) is the variance; the standard deviation is exp(0.5 * logvar) "
            "(Normal(mean, exp(0.5 * logvar)), or -0.5 * (log 2 pi + logvar + (z - mean)^2 / exp(logvar)) by hand).",
        ),
        Mistake(
            "mean of log-densities",
            log_components.mean(dim=1),
            "the mixture averages the densities, not their logarithms: log p(z) = log((1/K) sum_k q(z | u_k)) "
            "= logsumexp_k log q(z | u_k) - log K. The mean of the log-densities is smaller (Jensen) and is "
            "no density at all.",
        ),
    )


def check_vampprior_log_prob(function: Callable, seed: int = 0) -> Feedback:
    """Your VampPrior log-density, uniform weights: my_log_prob(z, encoder, pseudo_inputs) -> (N,).

    encoder(images) returns (means, logvars), (K, L) each, as a vaelib model's encoder does.
    Compares with torch.distributions.MixtureSameFamily on 200 fresh points, with a fresh
    encoder and fresh pseudo-inputs (K = 5 pseudo-inputs of 8 pixels, L = 3 dimensions).
    """

    def body() -> Feedback:
        z, encoder, pseudo_inputs = log_prob_inputs(seed)
        means, logvars = encoder(pseudo_inputs)
        reference = reference_vampprior(means, logvars).log_prob(z)
        answer = call(function, z.float(), encoder, pseudo_inputs.float())
        return compare(
            answer,
            reference,
            what="your log-density",
            passed=f"your VampPrior log-density matches torch.distributions on {POINTS} fresh points "
            f"(K = {COMPONENTS} pseudo-inputs, L = {LATENT_DIM} dimensions).",
            mistakes=_log_prob_mistakes(z, means, logvars),
            hint="means, logvars = encoder(pseudo_inputs); log p(z) = logsumexp over k of [sum over l of "
            "log N(z_l; means[k, l], variance exp(logvars[k, l]))] - log K, one number per point.",
            rtol=1e-4,
            atol=1e-3,
        )

    return run_check(body, "your log-density")
