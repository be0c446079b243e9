"""Exercise checks for notebook 05: the GTM prior.

``check_gtm_grid`` checks the GTM's grid: ``grid_size ** 2`` points spread evenly over the
square [-grid_range, grid_range]^2, both edges included (``torch.linspace(-r, r, k)`` on each
axis, every pair of coordinates). The points may come in any order. It recognises by name a
grid with k + 1 points per side, a grid that stops one step short of +r (``torch.arange``),
a grid on another square ([-1, 1]^2, or [0, r]^2) and the k points of the diagonal (the axis
paired with itself instead of every pair).

``check_gtm_log_prob`` checks the GTM prior's log-density with uniform weights, as in
Bishop's GTM (and as a vaelib GTM prior is before training: its mixture logits start at 0):

    (mu_k, logvar_k) = g(u_k),   log p(z) = logsumexp_k [log N(z; mu_k, diag exp(logvar_k))] - log K,

from the points, the map g (``network``: (P, 2) -> (P, 2 L), the means first, as
``prior.network`` is), the grid's side and its range. The check gives it a fresh map (a
small fixed random tanh network), a 4 x 4 grid on [-2, 2]^2 and L = 3, and compares the
answer with ``torch.distributions.MixtureSameFamily``. It recognises by name the book
companion code's per-dimension log-sum-exp, the uniform weights' log K forgotten,
``exp(logvar)`` used as the standard deviation, and each of the wrong grids above.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from ._core import Feedback, Mistake, as_tensor, call, compare, correct, generator, run_check, wrong

__all__ = ["check_gtm_grid", "check_gtm_log_prob"]

POINTS = 200
LATENT_DIM = 3
GRID_SIZE, GRID_RANGE = 4, 2.0  # the log-density's grid: neither edge nor range is 1, so every slip shows
GRID_CHECKS = ((5, 2.5), (3, 0.5))  # the grid check's (side, range): odd and even sides, ranges above and below 1
_SAME_POINT = 1e-4


def grid_points(grid_size: int, grid_range: float) -> Tensor:
    """The reference grid, as vaelib's GTM priors build it: (k * k, 2), row-major, float64."""
    axis = torch.linspace(-grid_range, grid_range, grid_size, dtype=torch.float64)
    first, second = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([first.reshape(-1), second.reshape(-1)], dim=1)


def _square(axis: Tensor) -> Tensor:
    first, second = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([first.reshape(-1), second.reshape(-1)], dim=1)


_GRID_HINT = (
    "take grid_size evenly spaced values from -grid_range to +grid_range, both included "
    "(torch.linspace(-grid_range, grid_range, grid_size)), and every pair of them "
    "(torch.meshgrid(axis, axis, indexing='ij'), flattened and stacked: (grid_size ** 2, 2))."
)


def wrong_grids(grid_size: int, grid_range: float) -> tuple[tuple[str, Tensor, str], ...]:
    """The known wrong grids: (name, points, hint)."""
    k, r = grid_size, grid_range
    d = torch.float64
    axis = torch.linspace(-r, r, k, dtype=d)
    square_hint = (
        f"the grid fills the square [-grid_range, grid_range]^2 = [-{r:g}, {r:g}]^2: "
        "torch.linspace(-grid_range, grid_range, grid_size) on each axis."
    )
    return (
        (
            "grid with k + 1 points per side",
            _square(torch.linspace(-r, r, k + 1, dtype=d)),
            "torch.linspace(start, end, steps) takes the number of POINTS, not of intervals: grid_size points "
            "per side give grid_size ** 2 components.",
        ),
        (
            "grid that stops short of +r",
            _square(torch.arange(k, dtype=d) * (2 * r / k) - r),
            "torch.arange leaves out its end point, so the grid stops one step short of +grid_range: "
            "torch.linspace(-grid_range, grid_range, grid_size) includes both edges.",
        ),
        ("grid on the wrong square", _square(torch.linspace(-1, 1, k, dtype=d)), square_hint),
        ("grid on the wrong square", _square(torch.linspace(0, r, k, dtype=d)), square_hint),
        (
            "diagonal instead of a grid",
            torch.stack([axis, axis], dim=1),
            "pairing the axis with itself gives the k points (t, t) of the diagonal; the grid takes EVERY pair "
            "(t_i, t_j): torch.meshgrid(axis, axis, indexing='ij'), flattened, k * k points.",
        ),
    )


def same_points(a: Tensor, b: Tensor, tolerance: float = _SAME_POINT) -> bool:
    """Same number of 2-D points, each of one set within ``tolerance`` of a point of the other (any order)."""
    if a.ndim != 2 or b.ndim != 2 or a.shape != b.shape or a.shape[1] != 2:
        return False
    distances = torch.cdist(a, b)
    return bool((distances.amin(1) <= tolerance).all() and (distances.amin(0) <= tolerance).all())


def _grid_feedback(points: Tensor, grid_size: int, grid_range: float) -> Feedback | None:
    """None when ``points`` is the grid; else what is wrong with it."""
    expected = grid_points(grid_size, grid_range)
    if same_points(points, expected):
        return None
    asked = f"my_grid({grid_size}, {grid_range:g})"
    if not bool(torch.isfinite(points).all()):
        return wrong(f"the grid of {asked} contains NaN or infinite values.", _GRID_HINT)
    for name, answer, hint in wrong_grids(grid_size, grid_range):
        if same_points(points, answer):
            return wrong(f"{asked} is the {name} ({len(answer)} points).", hint, name)
    if points.ndim != 2 or points.shape[1] != 2:
        return wrong(
            f"{asked} has shape {tuple(points.shape)} where ({grid_size**2}, 2) was expected: "
            "one row (u1, u2) per point.",
            _GRID_HINT,
        )
    if len(points) != len(expected):
        return wrong(
            f"{asked} has {len(points)} points where {grid_size} x {grid_size} = {len(expected)} were expected.",
            _GRID_HINT,
        )
    off = int((torch.cdist(points, expected).amin(1) > _SAME_POINT).sum())
    return wrong(f"{off} of the {len(points)} points of {asked} are not on the grid.", _GRID_HINT)


def check_gtm_grid(function: Callable) -> Feedback:
    """Your GTM grid: my_grid(grid_size, grid_range) -> (grid_size ** 2, 2), evenly over [-r, r]^2, any order.

    Compares with the grid of vaelib's GTM priors for two sizes: a 5 x 5 grid on [-2.5, 2.5]^2
    and a 3 x 3 grid on [-0.5, 0.5]^2.
    """

    def body() -> Feedback:
        for grid_size, grid_range in GRID_CHECKS:
            points = as_tensor(call(function, grid_size, grid_range), "your grid")
            feedback = _grid_feedback(points, grid_size, grid_range)
            if feedback is not None:
                return feedback
        sizes = " and ".join(f"{k} x {k} on [-{r:g}, {r:g}]^2" for k, r in GRID_CHECKS)
        return correct(f"your grid has the right points, {sizes}.")

    return run_check(body, "your grid")


class FreshMap:
    """A small fixed random tanh network g: grid points (P, 2) -> (P, 2 L), the means first, then the log-variances.

    Computes in float64 and answers in the dtype of the points it is given. Its first layer is
    scaled to the grid's range, so that it is far from saturated and every grid point gets its
    own component; the log-variances lie in (-1.7, 0.7).
    """

    def __init__(
        self, g: torch.Generator, grid_range: float = GRID_RANGE, latent_dim: int = LATENT_DIM, hidden: int = 16
    ):
        self.hidden_weight = 1.5 * torch.randn(2, hidden, generator=g, dtype=torch.float64) / grid_range
        self.hidden_bias = 0.5 * torch.randn(hidden, generator=g, dtype=torch.float64)
        self.mean_weight = 4 * torch.randn(hidden, latent_dim, generator=g, dtype=torch.float64) / math.sqrt(hidden)
        self.logvar_weight = torch.randn(hidden, latent_dim, generator=g, dtype=torch.float64) / math.sqrt(hidden)

    def __call__(self, points: Tensor) -> Tensor:
        hidden = torch.tanh(torch.as_tensor(points, dtype=torch.float64) @ self.hidden_weight + self.hidden_bias)
        logvars = -0.5 + 1.2 * torch.tanh(hidden @ self.logvar_weight)
        out = torch.cat([hidden @ self.mean_weight, logvars], dim=-1)
        return out.to(points.dtype) if isinstance(points, Tensor) else out


def log_prob_inputs(seed: int = 0) -> tuple[Tensor, FreshMap]:
    """Fresh points and map: z (N, L) and g. Half of the points lie near a component, half anywhere."""
    g = generator(seed)
    network = FreshMap(g)
    means, logvars = network(grid_points(GRID_SIZE, GRID_RANGE)).chunk(2, dim=-1)
    picked = torch.randint(len(means), (POINTS // 2,), generator=g)
    near = means[picked] + torch.exp(0.5 * logvars[picked]) * torch.randn(
        POINTS // 2, LATENT_DIM, generator=g, dtype=torch.float64
    )
    anywhere = means.mean(0) + 3 * torch.randn(POINTS - POINTS // 2, LATENT_DIM, generator=g, dtype=torch.float64)
    return torch.cat([near, anywhere]), network


def uniform_mixture_log_prob(z: Tensor, means: Tensor, logvars: Tensor) -> Tensor:
    """The uniform mixture of diagonal Gaussians, as torch.distributions computes it. (N, L) -> (N,)"""
    uniform = Categorical(logits=torch.zeros(means.shape[0], dtype=means.dtype))
    return MixtureSameFamily(uniform, Independent(Normal(means, torch.exp(0.5 * logvars)), 1)).log_prob(z)


def _log_prob_mistakes(z: Tensor, network: FreshMap) -> tuple[Mistake, ...]:
    """The known wrong log-densities on these inputs, each with the hint that sets it right."""
    means, logvars = network(grid_points(GRID_SIZE, GRID_RANGE)).chunk(2, dim=-1)
    log_k = math.log(len(means))
    per_dimension = Normal(means, torch.exp(0.5 * logvars)).log_prob(z[:, None, :])  # (N, K, L)
    per_dimension_hint = (
        "sum the log-densities over the L dimensions FIRST (one log-density per grid point), then take the "
        "log-sum-exp over the K components. The other order (the book's GTMPrior.log_prob) mixes each "
        "dimension on its own: a product of L one-dimensional mixtures, K^L components."
    )
    mistakes = [
        Mistake("per-dimension log-sum-exp", (torch.logsumexp(per_dimension, 1) - log_k).sum(-1), per_dimension_hint),
        Mistake("per-dimension log-sum-exp", torch.logsumexp(per_dimension, 1).sum(-1) - log_k, per_dimension_hint),
        Mistake(
            "forgotten log K",
            torch.logsumexp(per_dimension.sum(-1), 1),
            "the K = grid_size ** 2 components have weight 1/K each: subtract log K after the log-sum-exp, "
            "else the density integrates to K, not 1.",
        ),
        Mistake(
            "exp(logvar) used as the standard deviation",
            torch.logsumexp(Normal(means, torch.exp(logvars)).log_prob(z[:, None, :]).sum(-1), 1) - log_k,
            "exp(logvar) is the variance; the standard deviation is exp(0.5 * logvar) "
            "(Normal(mean, exp(0.5 * logvar)), or -0.5 * (log 2 pi + logvar + (z - mean)^2 / exp(logvar)) by hand).",
        ),
    ]
    for name, points, hint in wrong_grids(GRID_SIZE, GRID_RANGE):
        wrong_means, wrong_logvars = network(points).chunk(2, dim=-1)
        mistakes.append(Mistake(name, uniform_mixture_log_prob(z, wrong_means, wrong_logvars), hint))
    return tuple(mistakes)


def check_gtm_log_prob(function: Callable, seed: int = 0) -> Feedback:
    """Your GTM log-density, uniform weights: my_log_prob(z, network, grid_size, grid_range) -> (N,).

    network(points) maps grid points (P, 2) to (P, 2 L): means, then log-variances (as
    prior.network does). Compares with torch.distributions.MixtureSameFamily on 200 fresh
    points with a fresh network, a 4 x 4 grid on [-2, 2]^2 and L = 3 dimensions.
    """

    def body() -> Feedback:
        z, network = log_prob_inputs(seed)
        means, logvars = network(grid_points(GRID_SIZE, GRID_RANGE)).chunk(2, dim=-1)
        reference = uniform_mixture_log_prob(z, means, logvars)
        answer = call(function, z.float(), network, GRID_SIZE, GRID_RANGE)
        return compare(
            answer,
            reference,
            what="your log-density",
            passed=f"your GTM log-density matches torch.distributions on {POINTS} fresh points "
            f"({GRID_SIZE} x {GRID_SIZE} grid on [-{GRID_RANGE:g}, {GRID_RANGE:g}]^2, L = {LATENT_DIM} dimensions).",
            mistakes=_log_prob_mistakes(z, network),
            hint="means, logvars = network(grid).chunk(2, dim=-1) with the grid_size ** 2 points of "
            "[-grid_range, grid_range]^2; log p(z) = logsumexp over k of [sum over l of log N(z_l; means[k, l], "
            "variance exp(logvars[k, l]))] - log K, one number per point.",
            rtol=1e-4,
            atol=1e-3,
        )

    return run_check(body, "your log-density")
