"""Exercise checks for notebook 03: the mixture of Gaussians prior.

``check_mixture_log_prob`` checks a mixture's log-density, log p(z) from (z, mixture_logits,
means, logvars), against ``torch.distributions.MixtureSameFamily`` on fresh parameters and
points (K = 5 components, L = 3 dimensions, so that every known mistake changes the number).
It recognises by name the book companion code's per-dimension log-sum-exp (the product of
the marginals), forgotten mixture weights (uniform, or none at all), logits used as
log-weights (no log_softmax) and ``exp(logvar)`` used as the standard deviation.

``check_mixture_sample`` checks the student's sampler of a mixture of diagonal Gaussians
(pick a component by the weights, then sample that component). Samples cannot be compared
with a reference number by number, so the check compares statistics: on fresh parameters
whose components lie far apart, every sample is assigned to the component whose mean is
nearest, and the components' frequencies, means and standard deviations must match the
reference ``MixtureSameFamily`` within 5 standard errors. It recognises by name the book
companion code's ``exp(logvar)`` used as the standard deviation, forgotten mixture weights,
logits used as probabilities, and a component picked separately in each dimension (which
samples the product of the marginals: the per-dimension bug of the notebook's section 5).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from ._core import Feedback, Mistake, as_tensor, call, compare, correct, generator, run_check, wrong

__all__ = ["check_mixture_log_prob", "check_mixture_sample"]

LOG_2PI = math.log(2 * math.pi)
POINTS = 200

SAMPLES = 20_000
STANDARD_ERRORS = 5.0  # a correct sampler misses by more with probability about 6e-7 per statistic
_SPACING = 8.0  # distance between the component means' coordinates, in every dimension
_NEAR = 3.5  # a sample further than this from its nearest mean (in some coordinate) belongs to none
_WEIGHTS = (0.45, 0.3, 0.15, 0.1)  # far from uniform, every component frequent enough to measure


def mixture_parameters(seed: int = 0, latent_dim: int = 3) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fresh parameters of a mixture whose components lie far apart: (K,), (K, L), (K, L).

    In every dimension the means' coordinates are a shuffle of -12, -4, 4, 12 (plus a jitter
    below 0.5), so two components differ by at least 7 in each coordinate; standard deviations
    are between 0.3 and 0.7, so each sample is at most 3.5 (5 standard deviations) from its own
    mean. The logits are log-weights shifted by a constant (2.5 to 3.5): all positive, so
    logits taken for probabilities give other frequencies than the weights.
    """
    generator = torch.Generator().manual_seed(seed)
    components = len(_WEIGHTS)
    positions = _SPACING * (torch.arange(components, dtype=torch.float64) - (components - 1) / 2)
    means = torch.stack([positions[torch.randperm(components, generator=generator)] for _ in range(latent_dim)], dim=1)
    means = means + torch.rand(components, latent_dim, generator=generator, dtype=torch.float64) - 0.5
    stds = 0.3 + 0.4 * torch.rand(components, latent_dim, generator=generator, dtype=torch.float64)
    weights = torch.tensor(_WEIGHTS, dtype=torch.float64)[torch.randperm(components, generator=generator)]
    offset = 2.5 + float(torch.rand(1, generator=generator, dtype=torch.float64))
    return torch.log(weights) + offset, means, 2 * torch.log(stds)


def reference_mixture(mixture_logits, means, logvars) -> MixtureSameFamily:
    """The mixture as torch.distributions builds it, the way vaelib's MoG prior does."""
    return MixtureSameFamily(
        Categorical(logits=mixture_logits), Independent(Normal(means, torch.exp(0.5 * logvars)), 1)
    )


def log_prob_inputs(seed: int = 0, components: int = 5, latent_dim: int = 3):
    """Fresh points and parameters for a log-density: z (N, L), mixture_logits (K,), means (K, L), logvars (K, L).

    The logits are not normalised (their log-sum-exp is far from 0), so that leaving out the
    log_softmax changes the answer; half of the points lie near a component, half anywhere.
    """
    g = generator(seed)
    mixture_logits = torch.randn(components, generator=g, dtype=torch.float64) + 2.0
    means = 2 * torch.randn(components, latent_dim, generator=g, dtype=torch.float64)
    logvars = 2 * torch.rand(components, latent_dim, generator=g, dtype=torch.float64) - 1.5
    near = means[torch.randint(components, (POINTS // 2,), generator=g)]
    z = torch.cat(
        [
            near + torch.randn(POINTS // 2, latent_dim, generator=g, dtype=torch.float64),
            4 * torch.randn(POINTS - POINTS // 2, latent_dim, generator=g, dtype=torch.float64),
        ]
    )
    return z, mixture_logits, means, logvars


def _log_normal_per_dimension(z, means, stds):
    """log N(z_l; mu_kl, std_kl^2): (N, L), (K, L), (K, L) -> (N, K, L)."""
    return Normal(means, stds).log_prob(z[:, None, :])


def _log_prob_mistakes(z, mixture_logits, means, logvars) -> tuple[Mistake, ...]:
    """The known wrong log-densities on these inputs, each with the hint that sets it right."""
    stds = torch.exp(0.5 * logvars)
    per_dimension = _log_normal_per_dimension(z, means, stds)  # (N, K, L)
    log_components = per_dimension.sum(-1)  # (N, K)
    log_weights = torch.log_softmax(mixture_logits, 0)
    components = len(mixture_logits)
    weights_hint = (
        "each component counts with its weight: add log w_k = log_softmax(mixture_logits)[k] to the "
        "component's log-density before the log-sum-exp over components."
    )
    return (
        Mistake(
            "per-dimension log-sum-exp",
            torch.logsumexp(log_weights[:, None] + per_dimension, dim=1).sum(-1),
            "sum the log-densities over the L dimensions FIRST (one log-density per component), then take "
            "the log-sum-exp over the K components. The other order (the book's code) mixes each dimension "
            "on its own: the product of the mixture's marginals, a mixture of K^L components.",
        ),
        Mistake("forgotten mixture weights", torch.logsumexp(log_components, 1) - math.log(components), weights_hint),
        Mistake("forgotten mixture weights", torch.logsumexp(log_components, 1), weights_hint),
        Mistake(
            "logits used as log-weights",
            torch.logsumexp(mixture_logits + log_components, 1),
            "the logits are log-weights only up to a constant: normalise them with "
            "torch.log_softmax(mixture_logits, dim=0), so that the weights sum to 1.",
        ),
        Mistake(
            "exp(logvar) used as the standard deviation",
            torch.logsumexp(log_weights + _log_normal_per_dimension(z, means, torch.exp(logvars)).sum(-1), 1),
            "exp(logvar) is the variance; the standard deviation is exp(0.5 * logvar) "
            "(Normal(mean, exp(0.5 * logvar)), or -0.5 * (log 2 pi + logvar + (z - mean)^2 / exp(logvar)) by hand).",
        ),
    )


def check_mixture_log_prob(function: Callable, seed: int = 0) -> Feedback:
    """Your mixture log-density: my_log_prob(z, mixture_logits, means, logvars) -> (N,), diagonal Gaussians.

    Compares with torch.distributions.MixtureSameFamily on 200 fresh points and fresh
    parameters (K = 5 components, L = 3 dimensions).
    """

    def body() -> Feedback:
        inputs = log_prob_inputs(seed)
        z, mixture_logits, means, logvars = inputs
        reference = reference_mixture(mixture_logits, means, logvars).log_prob(z)
        answer = call(function, *(x.float() for x in inputs))
        return compare(
            answer,
            reference,
            what="your log-density",
            passed=f"your mixture log-density matches torch.distributions on {POINTS} fresh points "
            f"(K = {len(mixture_logits)} components, L = {means.shape[1]} dimensions).",
            mistakes=_log_prob_mistakes(*inputs),
            hint="log p(z) = logsumexp over k of [log_softmax(mixture_logits)[k] + sum over l of "
            "log N(z_l; means[k, l], variance exp(logvars[k, l]))], one number per point.",
            rtol=1e-4,
            atol=1e-3,
        )

    return run_check(body, "your log-density")


def _sample(function: Callable, seed: int, *parameters) -> torch.Tensor:
    """The student's samples, drawn from the global stream seeded here and restored after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return as_tensor(call(function, SAMPLES, *(p.float() for p in parameters)), "your samples")


def _frequencies_match(counts: torch.Tensor, probabilities: torch.Tensor) -> bool:
    """Counts of SAMPLES draws within STANDARD_ERRORS binomial standard errors of the probabilities."""
    error = torch.sqrt(probabilities * (1 - probabilities) / SAMPLES).clamp_min(1e-12)
    return bool(((counts / SAMPLES - probabilities).abs() <= STANDARD_ERRORS * error).all())


def _within(measured: torch.Tensor, expected: torch.Tensor, relative_error: torch.Tensor) -> bool:
    return bool(((measured / expected - 1).abs() <= STANDARD_ERRORS * relative_error).all())


def _fmt(values: torch.Tensor) -> str:
    return ", ".join(f"{float(v):.2f}" for v in values)


def check_mixture_sample(function: Callable, seed: int = 0) -> Feedback:
    """Your sampler of a mixture of diagonal Gaussians: my_sample(n, mixture_logits, means, logvars) -> (n, L).

    Draws 20,000 samples on fresh parameters (K = 4 components far apart, L = 3) and compares
    the components' frequencies, means and standard deviations with the reference mixture.
    """

    def body() -> Feedback:
        parameters = mixture_parameters(seed)
        mixture_logits, means, logvars = parameters
        reference = reference_mixture(*parameters)
        weights = reference.mixture_distribution.probs  # (K,)
        stds = reference.component_distribution.base_dist.scale  # (K, L)
        components, latent_dim = means.shape
        samples = _sample(function, seed + 1, *parameters)
        if samples.shape != (SAMPLES, latent_dim):
            return wrong(
                f"your samples have shape {tuple(samples.shape)} where ({SAMPLES}, {latent_dim}) was asked "
                f"(n = {SAMPLES}, K = {components} components, L = {latent_dim} dimensions).",
                "return one row of L coordinates per sample.",
            )
        if not bool(torch.isfinite(samples).all()):
            return wrong("your samples contain NaN or infinite values.")

        nearest = torch.cdist(samples, means).argmin(dim=1)  # (n,): the component each sample came from
        offsets = samples - means[nearest]
        stray = (offsets.abs() > _NEAR).any(dim=1)
        if bool(stray.any()):
            coordinate_gaps = (samples[:, :, None] - means.T[None]).abs().amin(dim=2)  # (n, L)
            share = float(stray.double().mean())
            if share > 0.01 and bool((coordinate_gaps <= _NEAR).all(dim=1).double().mean() > 0.99):
                return wrong(
                    f"{share:.0%} of your samples lie far from every component's mean, yet each of their "
                    "coordinates is close to some component's: they are what a component picked separately "
                    "in each dimension gives.",
                    "pick ONE component per sample, then draw all L coordinates from that component. "
                    "Picking per dimension samples the product of the mixture's marginals, the density "
                    "of the per-dimension bug of section 5, with K^L components instead of K.",
                    "component picked per dimension",
                )
            return wrong(
                f"{share:.1%} of your samples lie far from every component's mean "
                f"(more than 5 standard deviations in some coordinate).",
                "each sample is a component's mean plus its standard deviation times standard normal noise.",
            )

        counts = torch.bincount(nearest, minlength=components).double()
        if not _frequencies_match(counts, weights):
            found = f"your samples came from the components with frequencies {_fmt(counts / SAMPLES)}"
            asked = f"where the weights are {_fmt(weights)}."
            if _frequencies_match(counts, torch.full_like(weights, 1 / components)):
                return wrong(
                    f"{found}, {asked}",
                    "the components are picked with the mixture weights softmax(mixture_logits), not uniformly "
                    "(e.g. Categorical(logits=mixture_logits).sample((n,))).",
                    "forgotten mixture weights",
                )
            if _frequencies_match(counts, mixture_logits / mixture_logits.sum()):
                return wrong(
                    f"{found}, {asked} These are the logits divided by their sum.",
                    "the logits are not probabilities: the weights are softmax(mixture_logits) "
                    "(Categorical(logits=...) takes the softmax for you; Categorical(probs=...) does not).",
                    "logits used as probabilities",
                )
            return wrong(
                f"{found}, {asked}", "pick each sample's component with probabilities softmax(mixture_logits)."
            )

        measured_means = torch.stack([samples[nearest == k].mean(0) for k in range(components)])
        measured_stds = torch.stack([samples[nearest == k].std(0) for k in range(components)])
        per_component = counts[:, None]
        if not bool(((measured_means - means).abs() <= STANDARD_ERRORS * stds / per_component.sqrt()).all()):
            k = int(((measured_means - means).abs() / stds).amax(1).argmax())
            return wrong(
                f"the samples of component {k} have mean ({_fmt(measured_means[k])}) "
                f"where its mean is ({_fmt(means[k])}).",
                "each component's samples are centred on that component's mean: means[k] for component k.",
            )
        relative_error = 1 / torch.sqrt(2 * (per_component - 1))  # of a sample standard deviation
        if not _within(measured_stds, stds, relative_error):
            k = int((measured_stds / stds - 1).abs().amax(1).argmax())
            found = (
                f"the samples of component {k} have standard deviations ({_fmt(measured_stds[k])}) "
                f"where exp(0.5 * logvar) = ({_fmt(stds[k])}) was asked."
            )
            if _within(measured_stds, torch.exp(logvars), relative_error):
                return wrong(
                    found,
                    "exp(logvar) is the variance, the standard deviation is exp(0.5 * logvar): "
                    f"you used {_fmt(torch.exp(logvars[k]))}, the variances (the book's MoGPrior.sample "
                    "makes the same slip).",
                    "exp(logvar) used as the standard deviation",
                )
            return wrong(found, "scale standard normal noise by exp(0.5 * logvars) of each sample's component.")
        return correct(
            f"your {SAMPLES:,} samples of a mixture of {components} components in {latent_dim} dimensions have "
            f"the right component frequencies, means and standard deviations "
            f"(within {STANDARD_ERRORS:g} standard errors)."
        )

    return run_check(body, "your sampler")
