"""Evaluation: test -ELBO and the importance-sampled (IWAE) estimate of -log p(x)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._checks import check_int, check_model
from .threads import uses_threads


@uses_threads
@torch.no_grad()
def elbo_parts(model, x: Tensor, num_samples: int = 1, batch_size: int = 1024) -> dict:
    """Mean ELBO parts over the images, averaged over ``num_samples`` draws, in nats.

    -> {"elbo", "reconstruction", "log_prior", "entropy", "kl"} as floats per image
    """
    x = check_model(model).check_images(x)
    check_int("num_samples", num_samples, 1)
    check_int("batch_size", batch_size, 1)
    model.eval()
    sums = dict.fromkeys(("elbo", "reconstruction", "log_prior", "entropy", "kl"), 0.0)
    for _ in range(num_samples):
        for batch in x.split(batch_size):
            parts = model.elbo(batch, validate=False)
            for key in sums:
                sums[key] += float(getattr(parts, key).sum())
    return {key: value / (num_samples * len(x)) for key, value in sums.items()}


def negative_elbo(model, x: Tensor, num_samples: int = 1) -> float:
    """-ELBO in nats per image (the book's "nll"), averaged over ``num_samples`` draws."""
    return -elbo_parts(model, x, num_samples)["elbo"]


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


def negative_log_likelihood(model, x: Tensor, num_samples: int = 1000, max_points: int = 2**16) -> float:
    """Importance-sampled estimate of -log p(x) in nats per image (IWAE bound, K samples)."""
    return -float(iwae_bound(model, x, num_samples, max_points).mean())
