"""Evaluation: test -ELBO and the importance-sampled (IWAE) estimate of -log p(x)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._checks import check_int, check_model, check_seed
from .seeding import fixed_seed
from .threads import uses_threads

#: The one estimate of the ELBO every figure title, printed value and table shows: the mean
#: over the images of ELBO_SAMPLES posterior samples each, with random numbers fixed by
#: ELBO_SEED, so the same model always gets the same number.
ELBO_SAMPLES = 10
ELBO_SEED = 0
ELBO_ESTIMATE = (
    f"test −ELBO: the mean over the test images of {ELBO_SAMPLES} posterior samples each, "
    f"random numbers fixed (seed {ELBO_SEED}), so a model always gets the same number"
)


@uses_threads
@torch.no_grad()
def elbo_parts(
    model, x: Tensor, num_samples: int = ELBO_SAMPLES, batch_size: int = 1024, seed: int | None = ELBO_SEED
) -> dict:
    """Mean ELBO parts over the images, averaged over ``num_samples`` draws, in nats.

    seed: fixes the draws (the default gives the one deterministic estimate, ELBO_ESTIMATE);
    None draws from the caller's random stream.
    -> {"elbo", "reconstruction", "log_prior", "entropy", "kl"} as floats per image
    """
    x = check_model(model).check_images(x)
    check_int("num_samples", num_samples, 1)
    check_int("batch_size", batch_size, 1)
    if seed is not None:
        check_seed(seed)
    with fixed_seed(seed, model.device):
        return _elbo_parts(model, x, num_samples, batch_size)


def _elbo_parts(model, x: Tensor, num_samples: int, batch_size: int) -> dict:
    model.eval()
    sums = dict.fromkeys(("elbo", "reconstruction", "log_prior", "entropy", "kl"), 0.0)
    for _ in range(num_samples):
        for batch in x.split(batch_size):
            parts = model.elbo(batch, validate=False)
            for key in sums:
                sums[key] += float(getattr(parts, key).sum())
    return {key: value / (num_samples * len(x)) for key, value in sums.items()}


@uses_threads
@torch.no_grad()
def elbo_per_image(model, x: Tensor, num_samples: int = ELBO_SAMPLES, seed: int | None = ELBO_SEED) -> Tensor:
    """The ELBO of each image, averaged over ``num_samples`` draws: by default the draws of the
    one estimate (ELBO_ESTIMATE), so the mean over x is -negative_elbo(model, x) (x: up to 1024
    images, elbo_parts' batch). x: (N, D) -> (N,)"""
    x = check_model(model).check_images(x)
    check_int("num_samples", num_samples, 1)
    model.eval()
    with fixed_seed(seed, model.device):
        total = 0.0
        for _ in range(num_samples):
            total = total + torch.cat([model.elbo(batch, validate=False).elbo for batch in x.split(1024)])
    return total / num_samples


def negative_elbo(model, x: Tensor, num_samples: int = ELBO_SAMPLES, seed: int | None = ELBO_SEED) -> float:
    """-ELBO in nats per image (the book's "nll"): by default the one estimate (ELBO_ESTIMATE)."""
    return -elbo_parts(model, x, num_samples, seed=seed)["elbo"]


@uses_threads
@torch.no_grad()
def iwae_bound(model, x: Tensor, num_samples: int = 1000, max_points: int = 2**16) -> Tensor:
    """log p(x) >= log (1/K) sum_k p(x, z_k) / q(z_k|x), z_k ~ q(z|x), for each image.

    Computed in chunks of at most ``max_points`` latent points, so K = 5000 fits in memory.
    x: (B, D) -> (B,)
    """
    x = check_model(model).check_images(x)
    check_int("num_samples", num_samples, 1)
    check_int("max_points", max_points, 1)
    model.eval()
    prior = model.prior.distribution()  # built once: the VampPrior runs its encoder here
    results = []
    images_per_chunk = max(1, min(len(x), max_points // num_samples))
    for batch in x.split(images_per_chunk):
        q = model.posterior(batch)
        samples_per_chunk = max(1, max_points // len(batch))
        running = torch.full((len(batch),), -math.inf, device=batch.device)
        remaining = num_samples
        while remaining > 0:
            k = min(samples_per_chunk, remaining)
            z = q.sample((k,))  # (k, B, L)
            log_w = model.decoder.log_prob(batch, z) + prior.log_prob(z) - q.log_prob(z)
            running = torch.logaddexp(running, torch.logsumexp(log_w, dim=0))
            remaining -= k
        results.append(running - math.log(num_samples))
    return torch.cat(results)


@uses_threads
@torch.no_grad()
def log_importance_weights(model, x: Tensor, num_samples: int, max_points: int = 2**16) -> Tensor:
    """log p(x, z_k) - log q(z_k|x) for z_k ~ q(z|x), k = 1..K: the terms of every IWAE(K' <= K).

    Drawn in chunks of at most ``max_points`` latent points; the decoder sees each z once.
    x: (B, D) -> (K, B)
    """
    x = check_model(model).check_images(x)
    check_int("num_samples", num_samples, 1)
    check_int("max_points", max_points, 1)
    model.eval()
    prior = model.prior.distribution()
    q = model.posterior(x)
    chunk = max(1, max_points // len(x))
    parts = []
    for start in range(0, num_samples, chunk):
        z = q.sample((min(chunk, num_samples - start),))  # (k, B, L)
        parts.append(model.decoder.log_prob(x, z) + prior.log_prob(z) - q.log_prob(z))
    return torch.cat(parts)


def negative_log_likelihood(model, x: Tensor, num_samples: int = 1000, max_points: int = 2**16) -> float:
    """Importance-sampled estimate of -log p(x) in nats per image (IWAE bound, K samples)."""
    return -float(iwae_bound(model, x, num_samples, max_points).mean())
