"""The checks of notebook 06: the reference coupling layer and flow log-density pass, each known
wrong answer is named with its hint, an unfinished skeleton is "not done yet", a crash is one
line, and the caller's random stream is untouched."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Normal

from vaelib import exercises
from vaelib.exercises import flow


def coupling(conditioner, x, mask):
    """The solution of the notebook: only the coordinates with mask 0 are scaled and shifted."""
    raw_log_scale, shift = conditioner(x * mask).chunk(2, dim=-1)
    log_scale = torch.tanh(raw_log_scale) * (1 - mask)
    return x * mask + (1 - mask) * (x * torch.exp(log_scale) + shift), log_scale.sum(-1)


def split_parts(conditioner, x, mask):
    raw, shift = conditioner(x * mask).chunk(2, dim=-1)
    return raw, torch.tanh(raw), shift


def mask_swapped(conditioner, x, mask):
    raw, s, t = split_parts(conditioner, x, mask)
    return (1 - mask) * x + mask * (x * torch.exp(s) + t), (mask * s).sum(-1)


def every_coordinate_scaled(conditioner, x, mask):
    raw, s, t = split_parts(conditioner, x, mask)
    return x * torch.exp(s) + t, s.sum(-1)


def whole_x_conditioned(conditioner, x, mask):
    raw, shift = conditioner(x).chunk(2, dim=-1)
    s = torch.tanh(raw) * (1 - mask)
    return x * mask + (1 - mask) * (x * torch.exp(s) + shift), s.sum(-1)


def no_tanh(conditioner, x, mask):
    raw, s, t = split_parts(conditioner, x, mask)
    return x * mask + (1 - mask) * (x * torch.exp(raw) + t), ((1 - mask) * raw).sum(-1)


def log_scale_as_scale(conditioner, x, mask):
    raw, s, t = split_parts(conditioner, x, mask)
    return x * mask + (1 - mask) * (x * s + t), ((1 - mask) * s).sum(-1)


def scale_and_shift_swapped(conditioner, x, mask):
    shift, raw = conditioner(x * mask).chunk(2, dim=-1)
    s = torch.tanh(raw) * (1 - mask)
    return x * mask + (1 - mask) * (x * torch.exp(s) + shift), s.sum(-1)


def without_log_det(conditioner, x, mask):
    y, _ = coupling(conditioner, x, mask)
    return y, torch.zeros(len(x))


def negative_log_det(conditioner, x, mask):
    y, log_det = coupling(conditioner, x, mask)
    return y, -log_det


def exp_log_det(conditioner, x, mask):
    raw, s, t = split_parts(conditioner, x, mask)
    return coupling(conditioner, x, mask)[0], ((1 - mask) * torch.exp(s)).sum(-1)


def unchanged_half_in_log_det(conditioner, x, mask):
    raw, s, t = split_parts(conditioner, x, mask)
    return coupling(conditioner, x, mask)[0], s.sum(-1)


def raw_log_det(conditioner, x, mask):
    raw, s, t = split_parts(conditioner, x, mask)
    return coupling(conditioner, x, mask)[0], ((1 - mask) * raw).sum(-1)


def per_coordinate_log_det(conditioner, x, mask):
    raw, s, t = split_parts(conditioner, x, mask)
    return coupling(conditioner, x, mask)[0], (1 - mask) * s


def coupling_skeleton(conditioner, x, mask):
    """y = mask * x + (1 - mask) * (x * exp(s) + t). x: (B, L), mask: (L,) -> y: (B, L), log|det dy/dx|: (B,)"""
    ...  # your code here


@pytest.mark.parametrize("seed", range(5))
def test_the_reference_coupling_layer_passes_on_fresh_networks_and_masks(seed):
    feedback = exercises.check_coupling_layer(coupling, seed=seed)
    assert feedback and str(feedback).startswith("✓ Correct:")


@pytest.mark.parametrize(
    "layer, name, hint",
    [
        (mask_swapped, "scale applied to the unchanged half", "the coordinates with mask 1 pass through unchanged"),
        (every_coordinate_scaled, "scale applied to every coordinate", "only those with mask 0 are scaled"),
        (whole_x_conditioned, "conditioner fed the whole x", "feed the network mask * x"),
        (no_tanh, "tanh left out", "s = torch.tanh(raw log-scale)"),
        (log_scale_as_scale, "log-scale used as the scale", "multiply by exp(s)"),
        (scale_and_shift_swapped, "log-scale and shift swapped", "gives the log-scale first"),
        (without_log_det, "log-det forgotten", "return log|det dy/dx|"),
        (negative_log_det, "log-det with the wrong sign", "the minus belongs to the inverse layer"),
        (exp_log_det, "exp(s) summed instead of s", "not of exp(s_j)"),
        (unchanged_half_in_log_det, "log-scales of the unchanged coordinates counted", "sum (1 - mask) * s"),
        (raw_log_det, "raw log-scale in the log-det", "s = tanh(raw)"),
        (per_coordinate_log_det, "log-det per coordinate", "one number per point"),
    ],
)
def test_each_known_wrong_coupling_layer_is_named_with_its_hint(layer, name, hint):
    for seed in range(3):
        feedback = exercises.check_coupling_layer(layer, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name
        assert "Hint:" in str(feedback) and hint in str(feedback)


def test_the_known_wrong_coupling_layers_differ_from_the_reference_and_from_each_other():
    """Else a mistake could pass, or get another's name: random masks, networks and tanh see to it."""
    for seed in range(10):
        net, x, mask = flow.coupling_inputs(seed)
        net = net.double()
        with torch.no_grad():
            y, log_det = flow.reference_coupling(net, x, mask.double())
            y_mistakes, log_det_mistakes = flow._coupling_mistakes(net, x, mask.double())
        for reference, mistakes in ((y, y_mistakes), (log_det, log_det_mistakes)):
            answers = [reference] + [m.answer for m in mistakes]
            for i, a in enumerate(answers):
                for b in answers[i + 1 :]:
                    assert not torch.allclose(a, b, rtol=1e-3, atol=1e-2)


def test_the_log_determinant_of_autograds_jacobian_is_the_sum_of_the_changed_log_scales():
    """The premise of the check: the Jacobian is triangular up to a permutation, with diagonal 1 or exp(s)."""
    for seed in range(5):
        net, x, mask = flow.coupling_inputs(seed)
        net = net.double()
        mask = mask.double()
        expected = flow.reference_coupling(net, x, mask)[1].detach()
        measured = flow.autograd_log_det(lambda v, net=net, mask=mask: flow.reference_coupling(net, v, mask)[0], x)
        torch.testing.assert_close(measured, expected, rtol=1e-10, atol=1e-10)
        raw = net(x * mask).chunk(2, dim=-1)[0]
        assert float(raw.detach().abs().max()) > 1  # tanh bends the log-scales visibly: "tanh left out" is told apart


def test_an_unfinished_crashing_or_single_result_coupling_is_not_a_traceback():
    assert str(exercises.check_coupling_layer(coupling_skeleton)) == (
        "… Not done yet: replace the ... in your coupling layer, then run this cell again."
    )
    half_done = exercises.check_coupling_layer(lambda conditioner, x, mask: (coupling(conditioner, x, mask)[0], ...))
    assert half_done.status == "not done"
    crashed = exercises.check_coupling_layer(lambda conditioner, x, mask: conditioner(x[:, :2]))
    assert crashed.status == "wrong" and "your function raised RuntimeError" in str(crashed)
    single = exercises.check_coupling_layer(lambda conditioner, x, mask: coupling(conditioner, x, mask)[0])
    assert "returned Tensor where two results were expected" in str(single) and single.mistake is None
    shifted = exercises.check_coupling_layer(lambda conditioner, x, mask: (x + 1, torch.zeros(len(x))))
    assert "your y differs from the reference by up to" in str(shifted) and shifted.mistake is None


def flow_log_prob(z, coupling, conditioners, masks):
    """The solution of the notebook: u = f(z) through the couplings in order, log-dets added once per point."""
    u, log_det = z, torch.zeros(len(z))
    for conditioner, mask in zip(conditioners, masks):
        u, layer_log_det = coupling(conditioner, u, mask)
        log_det = log_det + layer_log_det
    return Normal(0.0, 1.0).log_prob(u).sum(-1) + log_det


def pushed(z, coupling, conditioners, masks):
    """u = f(z) and every coupling's log-determinant."""
    u, log_dets = z, []
    for conditioner, mask in zip(conditioners, masks):
        u, layer_log_det = coupling(conditioner, u, mask)
        log_dets.append(layer_log_det)
    return u, log_dets


def book_log_prob(z, coupling, conditioners, masks):
    """The book companion code's FlowPrior.log_prob: log_det_J.unsqueeze(1) added to each dimension, then summed."""
    u, log_dets = pushed(z, coupling, conditioners, masks)
    return (Normal(0.0, 1.0).log_prob(u) + sum(log_dets).unsqueeze(1)).sum(-1)


def times_latent_dim(z, coupling, conditioners, masks):
    u, log_dets = pushed(z, coupling, conditioners, masks)
    return Normal(0.0, 1.0).log_prob(u).sum(-1) + z.shape[1] * sum(log_dets)


def minus_log_det(z, coupling, conditioners, masks):
    u, log_dets = pushed(z, coupling, conditioners, masks)
    return Normal(0.0, 1.0).log_prob(u).sum(-1) - sum(log_dets)


def base_only(z, coupling, conditioners, masks):
    return Normal(0.0, 1.0).log_prob(pushed(z, coupling, conditioners, masks)[0]).sum(-1)


def last_log_det(z, coupling, conditioners, masks):
    u = z
    for conditioner, mask in zip(conditioners, masks):
        u, log_det = coupling(conditioner, u, mask)  # overwritten, not added up
    return Normal(0.0, 1.0).log_prob(u).sum(-1) + log_det


def base_at_z(z, coupling, conditioners, masks):
    return Normal(0.0, 1.0).log_prob(z).sum(-1) + sum(pushed(z, coupling, conditioners, masks)[1])


def reversed_couplings(z, coupling, conditioners, masks):
    return flow_log_prob(z, coupling, conditioners[::-1], masks[::-1])


def flow_skeleton(z, coupling, conditioners, masks):
    """log p(z) = log N(f(z); 0, I) + log|det J_f(z)|. z: (B, L) -> (B,)"""
    ...  # your code here


@pytest.mark.parametrize("seed", range(5))
def test_the_reference_flow_log_density_passes_on_fresh_flows(seed):
    feedback = exercises.check_flow_log_prob(flow_log_prob, seed=seed)
    assert feedback and str(feedback).startswith("✓ Correct:")


def test_the_flow_check_passes_with_the_students_own_correct_coupling():
    feedback = exercises.check_flow_log_prob(
        lambda z, _, conditioners, masks: flow_log_prob(z, coupling, conditioners, masks)
    )
    assert feedback


@pytest.mark.parametrize(
    "log_prob, name, hint",
    [
        (book_log_prob, "log-Jacobian counted L times", "add log|det J_f| ONCE per point"),
        (times_latent_dim, "log-Jacobian counted L times", "(the book's code) counts it L times"),
        (minus_log_det, "log-det with the wrong sign", "ADD the couplings' log-determinants"),
        (base_only, "log-det forgotten", "the density changes by the stretch"),
        (last_log_det, "only the last coupling's log-det", "keep a running total over the couplings"),
        (base_at_z, "base density at z", "evaluate the standard normal at u = f(z)"),
        (reversed_couplings, "couplings applied in reverse order", "conditioners[0] with masks[0] first"),
    ],
)
def test_each_known_wrong_flow_log_density_is_named_with_its_hint(log_prob, name, hint):
    for seed in range(3):
        feedback = exercises.check_flow_log_prob(log_prob, seed=seed)
        assert feedback.status == "wrong" and feedback.mistake == name
        assert "Hint:" in str(feedback) and hint in str(feedback)


def test_the_known_wrong_flow_log_densities_differ_from_the_reference_and_from_each_other():
    for seed in range(10):
        z, conditioners, masks = flow.flow_inputs(seed)
        conditioners = [net.double() for net in conditioners]
        masks = [mask.double() for mask in masks]
        with torch.no_grad():
            answers = [flow_log_prob(z, flow.reference_coupling, conditioners, masks)]
            answers += [m.answer for m in flow._flow_mistakes(z, conditioners, masks)]
        for i, a in enumerate(answers):
            for b in answers[i + 1 :]:
                assert not torch.allclose(a, b, rtol=1e-3, atol=1e-2)


def test_an_unfinished_or_crashing_flow_log_density_is_not_a_traceback():
    assert str(exercises.check_flow_log_prob(flow_skeleton)) == (
        "… Not done yet: replace the ... in your log-density, then run this cell again."
    )
    crashed = exercises.check_flow_log_prob(lambda z, coupling, conditioners, masks: coupling(conditioners, z, masks))
    assert crashed.status == "wrong" and "your function raised TypeError" in str(crashed)
    shaped = exercises.check_flow_log_prob(lambda *inputs: flow_log_prob(*inputs)[:, None])
    assert "has shape (100, 1) where (100,) was expected" in str(shaped)


@pytest.mark.parametrize(
    "check, answer",
    [(exercises.check_coupling_layer, negative_log_det), (exercises.check_flow_log_prob, book_log_prob)],
)
def test_the_checks_are_deterministic_and_leave_the_callers_random_stream_alone(check, answer):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = check(answer)
    assert torch.equal(torch.rand(3), expected)
    assert str(check(answer)) == str(first)


def test_the_checks_work_inside_no_grad():
    """A student may call a check inside torch.no_grad(); the autograd reference must still work."""
    with torch.no_grad():
        assert exercises.check_coupling_layer(coupling)
        assert exercises.check_flow_log_prob(flow_log_prob)


def test_the_fresh_networks_come_from_the_seed_alone():
    first, second = flow.conditioner(7), flow.conditioner(7)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters()))
    assert not torch.equal(first[0].weight, flow.conditioner(8)[0].weight)
