"""Exercise checks for notebook 06: the flow-based prior (RealNVP).

``check_coupling_layer`` checks an affine coupling layer written with a binary mask, the form
of the RealNVP paper: my_coupling(conditioner, x, mask) -> (y, log_det), with
(raw log-scale, shift) = conditioner(mask * x) split in two halves like vaelib's
``AffineCoupling``, the log-scale bounded by tanh, y = mask * x + (1 - mask) * (x * exp(s) + t),
and log_det = log|det dy/dx| per point. On fresh networks, masks and points (L = 4), y is
compared with that formula and log_det with the log-determinant of the Jacobian that
``torch.autograd.functional.jacobian`` computes (which knows nothing about triangular
matrices). It recognises by name the scale applied to the unchanged half (the mask swapped,
or every coordinate scaled), the conditioner fed the whole x, the tanh left out, the
log-scale used as the scale, the log-scale and shift swapped; and for log_det: the
log-determinant forgotten, with the wrong sign, summed over exp(s) instead of s, over the
unchanged coordinates too, or over the raw log-scale.

``check_flow_log_prob`` checks the log-density of a flow whose couplings map z to the base
point u = f(z): my_flow_log_prob(z, coupling, conditioners, masks) -> (B,), the change of
variables log p(z) = log N(f(z); 0, I) + log|det J_f(z)|. The check hands over its own
coupling layer, so that only the log-density is checked, and compares with
``torch.distributions`` for the base and autograd's Jacobian of the whole flow (3 couplings,
L = 4). It recognises by name the book companion code's log-Jacobian counted L times (added
to each dimension's log-density, then summed over dimensions), the log-determinant with the
wrong sign or forgotten, only the last coupling's log-determinant kept, the base density
taken at z instead of f(z), and the couplings applied in reverse order.
"""

from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import Tensor, nn
from torch.distributions import Independent, Normal

from ..nets import mlp
from ._core import Feedback, Mistake, as_tensor, call, compare, generator, run_check, wrong

__all__ = ["check_coupling_layer", "check_flow_log_prob"]

LATENT_DIM = 4
POINTS = 100
HIDDEN_DIM = 16
COUPLINGS = 3


def conditioner(seed: int = 0, latent_dim: int = LATENT_DIM, hidden_dim: int = HIDDEN_DIM) -> nn.Sequential:
    """A fresh coupling network, (B, L) -> (B, 2L): raw log-scales, then shifts.

    vaelib's network shape (``nets.mlp``) with weights drawn from a private stream, scaled so
    that the raw log-scales spread over about -2..2: tanh then bends them visibly, and every
    known mistake changes the numbers.
    """
    g = generator(seed)
    with torch.random.fork_rng(devices=[]):  # nn.Linear draws its initial weights from the global stream
        net = mlp(latent_dim, hidden_dim, 2 * latent_dim)
    with torch.no_grad():
        for layer in (module for module in net if isinstance(module, nn.Linear)):
            layer.weight.copy_(1.5 * torch.randn(layer.weight.shape, generator=g) / math.sqrt(layer.in_features))
            layer.bias.copy_(0.5 * torch.randn(layer.bias.shape, generator=g))
    return net


def coupling_mask(seed: int = 0, latent_dim: int = LATENT_DIM) -> Tensor:
    """A fresh mask (L,) of 0s and 1s with at least one of each: 1 keeps a coordinate, 0 changes it."""
    g = generator(seed)
    kept = 1 + int(torch.randint(latent_dim - 1, (1,), generator=g))
    mask = torch.zeros(latent_dim)
    mask[torch.randperm(latent_dim, generator=g)[:kept]] = 1.0
    return mask


def reference_coupling(conditioner: nn.Module, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """y = m x + (1 - m)(x exp(s) + t), (s_raw, t) = conditioner(m x), s = tanh(s_raw).

    x: (B, L), mask: (L,) -> y: (B, L), log|det dy/dx|: (B,), the sum of the changed coordinates' log-scales.
    """
    raw_log_scale, shift = conditioner(x * mask).chunk(2, dim=-1)
    log_scale = torch.tanh(raw_log_scale) * (1 - mask)  # 0 where the coordinate is kept
    return x * mask + (1 - mask) * (x * torch.exp(log_scale) + shift), log_scale.sum(-1)


def reference_flow(conditioners, masks) -> Callable[[Tensor], Tensor]:
    """u = f(z): the couplings applied to z in order, conditioners[0] with masks[0] first. (B, L) -> (B, L)"""

    def f(z: Tensor) -> Tensor:
        for net, mask in zip(conditioners, masks):
            z = reference_coupling(net, z, mask)[0]
        return z

    return f


def autograd_log_det(transform: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """log|det J| of a point-wise map at each point, from torch.autograd.functional.jacobian. (B, L) -> (B,)

    Each output row depends on its own input row only, so the Jacobian of the rows' sum,
    (L, B, L), holds every point's L x L Jacobian.
    """
    jacobian = torch.autograd.functional.jacobian(lambda v: transform(v).sum(0), x, vectorize=True)
    return torch.linalg.slogdet(jacobian.permute(1, 0, 2)).logabsdet


def _as_float64(net: nn.Module) -> nn.Module:
    return copy.deepcopy(net).double()


def coupling_inputs(seed: int = 0) -> tuple[nn.Sequential, Tensor, Tensor]:
    """Fresh inputs of a coupling layer: conditioner (L -> 2L), x (B, L) float64, mask (L,)."""
    x = 1.5 * torch.randn(POINTS, LATENT_DIM, generator=generator(seed + 1), dtype=torch.float64)
    return conditioner(seed), x, coupling_mask(seed + 2)


def _pair(answer) -> tuple | None:
    """The student's two results, or None when the answer is not a pair."""
    if isinstance(answer, (tuple, list)) and len(answer) == 2:
        return tuple(answer)
    return None


def _coupling_mistakes(net, x, mask) -> tuple[tuple[Mistake, ...], tuple[Mistake, ...]]:
    """The known wrong y's and wrong log-determinants (the latter with the right y), with their hints."""
    raw, shift = net(x * mask).chunk(2, dim=-1)
    s = torch.tanh(raw)
    keep, change = mask, 1 - mask
    whole_raw, whole_shift = net(x).chunk(2, dim=-1)
    swapped_shift, swapped_raw = net(x * mask).chunk(2, dim=-1)
    unchanged_hint = (
        "the coordinates with mask 1 pass through unchanged and condition the others; only those with mask 0 "
        "are scaled and shifted: y = mask * x + (1 - mask) * (x * exp(s) + t)."
    )
    y_mistakes = (
        Mistake("scale applied to the unchanged half", change * x + keep * (x * torch.exp(s) + shift), unchanged_hint),
        Mistake("scale applied to every coordinate", x * torch.exp(s) + shift, unchanged_hint),
        Mistake(
            "conditioner fed the whole x",
            keep * x + change * (x * torch.exp(torch.tanh(whole_raw)) + whole_shift),
            "feed the network mask * x, the coordinates that stay unchanged: if s and t depended on the "
            "coordinates they change, the layer could not be inverted and its Jacobian would not be triangular.",
        ),
        Mistake(
            "tanh left out",
            keep * x + change * (x * torch.exp(raw) + shift),
            "bound the log-scale as vaelib does: s = torch.tanh(raw log-scale), so |s| <= 1.",
        ),
        Mistake(
            "log-scale used as the scale",
            keep * x + change * (x * s + shift),
            "the network gives the LOG of the scale: multiply by exp(s), which is never 0, so the layer stays "
            "invertible.",
        ),
        Mistake(
            "log-scale and shift swapped",
            keep * x + change * (x * torch.exp(torch.tanh(swapped_raw)) + swapped_shift),
            "the network's output is [raw log-scales, shifts]: conditioner(mask * x).chunk(2, dim=-1) gives the "
            "log-scale first, as in the notebook's coupling.",
        ),
    )
    log_det = (change * s).sum(-1)
    log_det_mistakes = (
        Mistake(
            "log-det forgotten",
            torch.zeros_like(log_det),
            "the layer stretches space: return log|det dy/dx| = the sum of the log-scales s of the changed "
            "coordinates, one number per point.",
        ),
        Mistake(
            "log-det with the wrong sign",
            -log_det,
            "y = x * exp(s) + t stretches by exp(s), so log|det dy/dx| = +sum of s; the minus belongs to the "
            "inverse layer, x = (y - t) * exp(-s).",
        ),
        Mistake(
            "exp(s) summed instead of s",
            (change * torch.exp(s)).sum(-1),
            "the determinant is the product of the scales exp(s_j), so its log is the sum of the log-scales "
            "s_j themselves, not of exp(s_j).",
        ),
        Mistake(
            "log-scales of the unchanged coordinates counted",
            s.sum(-1),
            "only the coordinates with mask 0 are scaled: the Jacobian's diagonal is 1 where mask is 1, so sum "
            "(1 - mask) * s.",
        ),
        Mistake(
            "raw log-scale in the log-det",
            (change * raw).sum(-1),
            "sum the log-scales that y actually used, s = tanh(raw), not the network's raw output.",
        ),
    )
    return y_mistakes, log_det_mistakes


def check_coupling_layer(function: Callable, seed: int = 0) -> Feedback:
    """Your affine coupling layer: my_coupling(conditioner, x, mask) -> y (B, L), log|det dy/dx| (B,).

    Compares y with y = mask * x + (1 - mask) * (x * exp(s) + t), (s_raw, t) = conditioner(mask * x),
    s = tanh(s_raw), and log_det with autograd's Jacobian, on 100 fresh points, a fresh network and
    a fresh mask (L = 4).
    """

    def body() -> Feedback:
        net, x, mask = coupling_inputs(seed)
        net64 = _as_float64(net)
        mask64 = mask.double()
        with torch.no_grad():
            y_reference = reference_coupling(net64, x, mask64)[0]
            y_mistakes, log_det_mistakes = _coupling_mistakes(net64, x, mask64)
        log_det_reference = autograd_log_det(lambda v: reference_coupling(net64, v, mask64)[0], x).detach()
        answer = call(function, copy.deepcopy(net), x.float(), mask.clone())
        pair = _pair(answer)
        if pair is None:
            return wrong(
                f"your function returned {type(answer).__name__} where two results were expected.",
                "return both: y, log_det (y of shape (B, L), log_det of shape (B,)).",
            )
        y, log_det = pair
        mask_text = ", ".join(str(int(m)) for m in mask)
        y_feedback = compare(
            y,
            y_reference,
            what="your y",
            passed="",
            mistakes=y_mistakes,
            hint="y = mask * x + (1 - mask) * (x * exp(s) + t), with (s_raw, t) = "
            "conditioner(mask * x).chunk(2, dim=-1) and s = tanh(s_raw).",
        )
        if not y_feedback:
            return y_feedback
        value = as_tensor(log_det, "your log_det")
        if value.shape == (POINTS, LATENT_DIM):
            return wrong(
                f"your log_det has shape {tuple(value.shape)}: one number per coordinate.",
                "log|det dy/dx| is one number per point: sum the changed coordinates' log-scales over the "
                "coordinates, shape (B,).",
                "log-det per coordinate",
            )
        return compare(
            value,
            log_det_reference,
            what="your log_det",
            passed=f"your coupling layer's y matches the formula and its log_det the log|det| of autograd's "
            f"Jacobian on {POINTS} fresh points (L = {LATENT_DIM}, mask ({mask_text})).",
            mistakes=log_det_mistakes,
            hint="log|det dy/dx| = sum over the changed coordinates (mask 0) of s = tanh(s_raw).",
        )

    return run_check(body, "your coupling layer")


def flow_inputs(seed: int = 0) -> tuple[Tensor, list[nn.Sequential], list[Tensor]]:
    """Fresh inputs of a flow's log-density: z (B, L) float64, 3 conditioners, 3 masks.

    The second mask is the first one flipped (1 - mask), so that every coordinate gets changed,
    as the flip between vaelib's couplings does.
    """
    z = 1.5 * torch.randn(POINTS, LATENT_DIM, generator=generator(seed + 1), dtype=torch.float64)
    conditioners = [conditioner(seed + 10 * k) for k in range(COUPLINGS)]
    first = coupling_mask(seed + 2)
    masks = [first, 1 - first, coupling_mask(seed + 3)]
    return z, conditioners, masks


def _flow_mistakes(z, conditioners, masks) -> tuple[Mistake, ...]:
    """The known wrong log-densities on these inputs, each with the hint that sets it right."""
    base = Independent(Normal(torch.zeros(z.shape[-1], dtype=z.dtype), 1.0), 1)
    u, log_dets = z, []
    for net, mask in zip(conditioners, masks):
        u, log_det = reference_coupling(net, u, mask)
        log_dets.append(log_det)
    total = torch.stack(log_dets).sum(0)
    reverse_u, reverse_total = z, 0
    for net, mask in reversed(list(zip(conditioners, masks))):
        reverse_u, log_det = reference_coupling(net, reverse_u, mask)
        reverse_total = reverse_total + log_det
    latent_dim = z.shape[-1]
    return (
        Mistake(
            "log-Jacobian counted L times",
            base.log_prob(u) + latent_dim * total,
            "sum log N(u_l; 0, 1) over the L coordinates, then add log|det J_f| ONCE per point. Adding it to "
            "each coordinate's log-density before that sum (the book's code) counts it L times.",
        ),
        Mistake(
            "log-det with the wrong sign",
            base.log_prob(u) - total,
            "f maps z to u, so p(z) = N(f(z); 0, I) |det J_f(z)|: ADD the couplings' log-determinants.",
        ),
        Mistake(
            "log-det forgotten",
            base.log_prob(u),
            "the flow stretches space, and the density changes by the stretch: add the sum of the couplings' "
            "log_det to log N(u; 0, I).",
        ),
        Mistake(
            "only the last coupling's log-det",
            base.log_prob(u) + log_dets[-1],
            "keep a running total over the couplings, log_det = log_det + layer_log_det: the log-determinant of "
            "a composition is the sum of the layers'.",
        ),
        Mistake(
            "base density at z",
            base.log_prob(z) + total,
            "evaluate the standard normal at u = f(z), after all the couplings, not at z.",
        ),
        Mistake(
            "couplings applied in reverse order",
            base.log_prob(reverse_u) + reverse_total,
            "apply the couplings in the order given: conditioners[0] with masks[0] first, to z.",
        ),
    )


def check_flow_log_prob(function: Callable, seed: int = 0) -> Feedback:
    """Your flow's log-density: my_flow_log_prob(z, coupling, conditioners, masks) -> (B,), u = f(z) by the couplings.

    Calls it with the check's own coupling(conditioner, x, mask) -> (y, log_det) and compares with
    log N(f(z); 0, I) from torch.distributions plus log|det J_f(z)| from autograd's Jacobian of the
    whole flow, on 100 fresh points (3 couplings, L = 4).
    """

    def body() -> Feedback:
        z, conditioners, masks = flow_inputs(seed)
        conditioners64 = [_as_float64(net) for net in conditioners]
        masks64 = [mask.double() for mask in masks]
        f = reference_flow(conditioners64, masks64)
        base = Independent(Normal(torch.zeros(LATENT_DIM, dtype=torch.float64), 1.0), 1)
        with torch.no_grad():
            base_log_prob = base.log_prob(f(z))
            mistakes = _flow_mistakes(z, conditioners64, masks64)
        reference = base_log_prob + autograd_log_det(f, z).detach()
        answer = call(
            function,
            z.float(),
            reference_coupling,
            [copy.deepcopy(net) for net in conditioners],
            [mask.clone() for mask in masks],
        )
        return compare(
            answer,
            reference,
            what="your log-density",
            passed=f"your flow's log-density matches log N(f(z); 0, I) (torch.distributions) + log|det J_f(z)| "
            f"(autograd's Jacobian) on {POINTS} fresh points ({COUPLINGS} couplings, L = {LATENT_DIM}).",
            mistakes=mistakes,
            hint="run z through the couplings in order, u, layer_log_det = coupling(conditioners[k], u, masks[k]), "
            "summing the layers' log_det; then log p(z) = Normal(0, 1).log_prob(u).sum(-1) + that sum.",
        )

    return run_check(body, "your log-density")
