# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: jupyter,slideshow,tags,-all
#     notebook_metadata_filter: kernelspec,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 6. A flow-based prior: RealNVP, and a bug worth knowing
#
# A mixture can only put bumps where its components are. A **normalizing flow** bends the
# latent space itself: an invertible map $f$ takes a latent point $z$ to a point $u = f(z)$
# where the density is a plain standard normal, and the change-of-variables formula turns
# that into a density for $z$. The book's flow prior is a RealNVP with 3 affine coupling
# layers. Its code also carries a bug that makes the loss look better than it is, and the bug
# is instructive: we reproduce it by hand and watch training exploit it.
#
# **What you will learn**
# - how an affine coupling layer works, and why it is invertible with a Jacobian that costs
#   nothing to compute;
# - the change of variables $\log p(z) = \log \mathcal{N}(f(z); 0, I) + \log|\det J_f(z)|$,
#   checked against the library, a numerical Jacobian and an integral over the plane;
# - the bug of the book's code (the log-determinant added once per latent dimension): a
#   "density" that no longer integrates to 1, and a training loss that is too good by a
#   predictable number of nats;
# - the book's Fig. 4.13 for the flow prior, and whether the flow beats the standard prior
#   (three training seeds of each: the seed-to-seed spread decides).
#
# **Run time:** about 35 s on a 2-core laptop CPU (7 trainings).
#
# Tomczak, *Deep Generative Modeling*, Chapter 4, section on priors (flow-based prior);
# RealNVP is due to Dinh, Sohl-Dickstein & Bengio (2017).

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import torch
from IPython.display import Image, display
from matplotlib.colors import LogNorm
from torch.distributions import Normal

import vaelib
from vaelib import check, exercises

data = vaelib.load_digits()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Train a flow prior
#
# First a trained flow, so that everything we take apart below is non-trivial (an untrained
# flow prior is exactly $\mathcal{N}(0, I)$: its networks start at zero). We train three,
# from three seeds: sections 2-7 take the first apart, and section 8 needs all three to tell
# a real difference between priors from the luck of one training run.

# %% slideshow={"slide_type": "subslide"}
flows = vaelib.train_seeds("flow", data, seeds=3)
flow = flows[0]  # seed 0: the flow that sections 2-7 take apart
prior = flow.prior
print(prior)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The validation loss of the three runs: the same recipe, different random initial weights
# and minibatches, and each stops at its own best epoch (the dot) at its own level.

# %% slideshow={"slide_type": "-"}
vaelib.plots.training_curves({f"flow, seed {seed}": model for seed, model in zip(flows.seeds, flows)})

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The affine coupling layer, by hand
#
# Split a point $x \in \mathbb{R}^L$ into two halves $x = (x_a, x_b)$ (here $L = 2$: one
# coordinate each). A coupling layer leaves $x_a$ alone and scales and shifts $x_b$ by amounts
# that a network computes from $x_a$:
# $$y_a = x_a, \qquad y_b = x_b \odot e^{s(x_a)} + t(x_a), \qquad s = \tanh(\cdot)\ \text{(bounded: } |s| \le 1).$$
# It is invertible whatever the networks are, because $x_a = y_a$ is known and so are
# $s(y_a)$ and $t(y_a)$:
# $$x_a = y_a, \qquad x_b = \big(y_b - t(y_a)\big) \odot e^{-s(y_a)}.$$
# Its Jacobian is triangular ($\partial y_a / \partial x_b = 0$), so its determinant is the
# product of the diagonal, $\prod_j e^{s_j}$: $\log|\det| = \sum_j s_j(x_a)$, the sum of the
# log-scales. A **flip** (reverse the coordinates, $|\det| = 1$) between layers lets every
# coordinate be transformed. The book stacks three couplings:
# $$f^{-1} = c_3 \circ \text{flip} \circ c_2 \circ \text{flip} \circ c_1 .$$
# vaelib stores the layers in this direction, $f^{-1}$: from the base noise $u$ to $z$ (a
# `torch.distributions.TransformedDistribution` samples that way). Each layer has one network
# (`prior.conditioners[k]`) whose output is split into the log-scale and the shift. Here are
# $f^{-1}$ and $f$ written out by hand, each returning its log-determinant:

# %% slideshow={"slide_type": "-"}
def coupling(conditioner, x):
    """y_a = x_a, y_b = x_b * exp(s(x_a)) + t(x_a). x: (B, L) -> y: (B, L), log|det dy/dx|: (B,)"""
    split = x.shape[-1] // 2
    x_a, x_b = x[:, :split], x[:, split:]
    log_scale, shift = conditioner(x_a).chunk(2, dim=-1)
    log_scale = torch.tanh(log_scale)
    return torch.cat([x_a, x_b * torch.exp(log_scale) + shift], dim=-1), log_scale.sum(-1)


def coupling_inverse(conditioner, y):
    """x_a = y_a, x_b = (y_b - t(y_a)) * exp(-s(y_a)). y: (B, L) -> x: (B, L), log|det dx/dy|: (B,)"""
    split = y.shape[-1] // 2
    y_a, y_b = y[:, :split], y[:, split:]
    log_scale, shift = conditioner(y_a).chunk(2, dim=-1)
    log_scale = torch.tanh(log_scale)
    return torch.cat([y_a, (y_b - shift) * torch.exp(-log_scale)], dim=-1), -log_scale.sum(-1)


def f_inverse(prior, u):
    """Base noise -> latent point: coupling, flip, coupling, flip, coupling. -> z, log|det J_{f^-1}(u)|"""
    z, log_det = u, torch.zeros(len(u))
    for k, conditioner in enumerate(prior.conditioners):
        if k > 0:
            z = z.flip(-1)
        z, layer_log_det = coupling(conditioner, z)
        log_det = log_det + layer_log_det
    return z, log_det


def f(prior, z):
    """Latent point -> base noise: the layers undone in reverse order. -> u, log|det J_f(z)|"""
    u, log_det = z, torch.zeros(len(z))
    for k, conditioner in reversed(list(enumerate(prior.conditioners))):
        u, layer_log_det = coupling_inverse(conditioner, u)
        log_det = log_det + layer_log_det
        if k > 0:
            u = u.flip(-1)
    return u, log_det


# %% [markdown] slideshow={"slide_type": "subslide"}
# Push the encoder's codes back to the base space with $f$, then forward through the layers
# one at a time: each panel shows a square grid of lines from the base space (and the codes,
# coloured by digit as in the other notebooks) after one more coupling. Every coupling moves points along one
# coordinate only, by an amount that depends on the other, and the three together bend the
# square into the shape of the prior.

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
codes = flow.encode(data.test)
vaelib.plots.flow_stages(flow, codes, data.test_labels)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Invertible, with a cheap Jacobian: three checks
#
# Our hand-written layers should give the same $z$ as the library's transforms, $f$ should
# undo $f^{-1}$, and the log-determinant should agree three ways: the library's
# `log_abs_det_jacobian` summed over its layers, our sum of log-scales, and the log-determinant
# of the $2 \times 2$ Jacobian matrix computed numerically by automatic differentiation
# (`torch.autograd.functional.jacobian`), which knows nothing about triangular matrices.

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
u = torch.randn(1000, 2)
with torch.no_grad():
    z, log_det_hand = f_inverse(prior, u)
    u_back, log_det_back = f(prior, z)
    z_library, log_det_library = u, torch.zeros(len(u))
    for transform in prior.distribution().transforms:  # flips included (log-determinant 0)
        y = transform(z_library)
        log_det_library = log_det_library + transform.log_abs_det_jacobian(z_library, y)
        z_library = y

jacobians = [torch.autograd.functional.jacobian(lambda v: f_inverse(prior, v[None])[0][0], point) for point in u[:50]]
log_det_autograd = torch.stack([torch.linalg.slogdet(J).logabsdet for J in jacobians])

print("hand-written f^-1(u) equals the library's transforms:", bool((z - z_library).abs().max() < 1e-4))
print("f(f^-1(u)) == u:                                    ", bool((u_back - u).abs().max() < 1e-4))
print("log|det J_f(z)| == -log|det J_f^-1(u)|:             ", bool((log_det_back + log_det_hand).abs().max() < 1e-4))
print("log-det, library == sum of log-scales:              ", bool((log_det_library - log_det_hand).abs().max() < 1e-4))
print("log-det, autograd Jacobian == sum of log-scales:    ", bool((log_det_autograd - log_det_hand[:50]).abs().max() < 1e-4))
print("every |log-det| within the bound of 3 couplings x 1:", bool(log_det_hand.abs().max() <= 3))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The change of variables
#
# If $u = f(z)$ is standard normal, the density of $z$ is the standard normal at $f(z)$ times
# the factor by which $f$ stretches volume around $z$:
# $$p(z) = \mathcal{N}\big(f(z); 0, I\big)\,\big|\det J_f(z)\big|, \qquad
#   \log p(z) = \sum_{l=1}^{L} \log \mathcal{N}\big(f(z)_l; 0, 1\big) + \log\big|\det J_f(z)\big| .$$
# Note where the log-determinant stands: outside the sum over dimensions, added **once per
# point**. In code, with our hand-written $f$, checked against the library's `prior.log_prob`:

# %% slideshow={"slide_type": "-"}
def flow_log_density(prior, z):
    """log p(z) = log N(f(z); 0, I) + log|det J_f(z)|. z: (B, L) -> (B,)"""
    u, log_det = f(prior, z)
    return Normal(0.0, 1.0).log_prob(u).sum(-1) + log_det


with torch.no_grad():
    matches = torch.allclose(flow_log_density(prior, codes), prior.log_prob(codes), atol=1e-4)
print("hand-written log p(z) equals prior.log_prob(z):", matches)

# %% [markdown] slideshow={"slide_type": "subslide"}
# A density must integrate to 1. On a fine grid over the plane (200 x 200 cells covering the
# prior's mass and the codes) the midpoint rule gives:

# %% slideshow={"slide_type": "notes"}
grid = vaelib.analysis.latent_grid(flow, data.test, resolution=200, prior_tail=1e-5)
with torch.no_grad():
    base_log_density, log_det_grid = f(prior, grid.points)
    base_log_density = Normal(0.0, 1.0).log_prob(base_log_density).sum(-1)
    log_density_grid = base_log_density + log_det_grid
check("p(z) integrates to 1 over the grid (within 0.01)", abs(grid.integrate(log_density_grid) - 1) < 0.01)

# %% [markdown] slideshow={"slide_type": "-"}
# The two factors on the same grid. Left: the standard normal pulled back through $f$.
# Middle: $\log|\det J_f(z)|$, red where $f$ stretches space (there $p(z)$ is *higher* than
# the pulled-back normal), blue where it squeezes; with 3 couplings and $|s| \le 1$ it can
# never leave $[-3, 3]$. Right: their product, the prior. The dots are the codes. (In our run
# the middle panel is blue where the codes are: $f$ squeezes there, because this prior is
# spread wider than $\mathcal{N}(0, I)$. Section 5 shows why the sign matters.)

# %% slideshow={"slide_type": "-"}
fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.6), layout="constrained", sharex=True, sharey=True)
top = float(torch.exp(torch.maximum(base_log_density.max(), log_density_grid.max())))
panels = [
    (torch.exp(base_log_density), "$\\mathcal{N}(f(z); 0, I)$", dict(cmap=vaelib.plots.DENSITY_CMAP, norm=LogNorm(1e-3 * top, top))),
    (log_det_grid, "$\\log|\\det J_f(z)|$", dict(cmap="RdBu_r", vmin=-3, vmax=3)),
    (torch.exp(log_density_grid), "$p(z)$, their product", dict(cmap=vaelib.plots.DENSITY_CMAP, norm=LogNorm(1e-3 * top, top))),
]
for ax, (values, title, style) in zip(axes, panels):
    image = ax.imshow(grid.image(values).numpy(), origin="lower", extent=grid.extent, interpolation="bilinear", **style)
    ax.scatter(codes[:, 0], codes[:, 1], s=2, c="black" if ax is axes[1] else "white", linewidths=0, alpha=0.7)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("$z_1$")
    fig.colorbar(image, ax=ax, shrink=0.8)
axes[0].set_ylabel("$z_2$")
plt.close(fig)
fig

# %% slideshow={"slide_type": "notes"}
# The claim above, checked: this run's flow changes a little from one computer to the next, the claim must not.
with torch.no_grad():
    code_log_dets = f(prior, codes)[1]
check("f squeezes space (log|det J_f| < 0) at over 95% of the codes", (code_log_dets < 0).double().mean() > 0.95)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The bug of the book's code: the log-determinant, L times
#
# > **The book's code.** Two of the companion code's defects reach its `FlowPrior`
# > (`vae_priors_example.ipynb`). Its `log_prob` adds the log-determinant to each of the $L$
# > per-dimension log-densities, which the ELBO then sums: the log-Jacobian is counted $L$
# > times, in training and in the printed test "nll". This section takes it apart. And, as
# > for every prior there, training saves the whole pickled model and reloads it with
# > `torch.load`, which PyTorch 2.6 and later refuse by default (`weights_only=True`): the
# > run crashes at the first epoch whose validation loss beats the first epoch's. The other
# > defects do not touch the flow: it has no mixture components to combine per dimension, and
# > it samples correctly, by pushing standard normal noise through $f^{-1}$.
#
# The book's flow prior computes the base log-density *per dimension*, a $(B, L)$ array,
# adds the log-determinant to it (a $(B,)$ array, broadcast into every column), and the ELBO
# then sums over the $L$ columns. The log-determinant is counted $L$ times:
# $$\log \tilde p(z) = \sum_{l=1}^{L} \Big[\log \mathcal{N}\big(f(z)_l; 0, 1\big) + \log|\det J_f(z)|\Big]
#   = \log p(z) + (L - 1)\,\log|\det J_f(z)| .$$
# The same mistake, written by hand:

# %% slideshow={"slide_type": "-"}
def book_log_density(prior, z):
    """The book's version: log|det J_f(z)| added to each dimension's log-density. z: (B, L) -> (B,)"""
    u, log_det = f(prior, z)
    per_dimension = Normal(0.0, 1.0).log_prob(u) + log_det[:, None]  # (B, L): log_det in every column
    return per_dimension.sum(-1)  # = log p(z) + (L - 1) log|det J_f(z)|


# %% [markdown] slideshow={"slide_type": "subslide"}
# So $\tilde p(z) = p(z)\,|\det J_f(z)|^{L-1}$, and its integral is an average over the prior:
# $$\int \tilde p(z)\,dz = \mathbb{E}_{p(z)}\Big[|\det J_f(z)|^{L-1}\Big] \;\ge\; \exp\Big((L-1)\,\mathbb{E}_{p(z)}\big[\log|\det J_f(z)|\big]\Big)$$
# (Jensen's inequality; close to equality when the log-determinant varies little). The
# average log-determinant has a meaning of its own: since $f(z)$ is standard normal when
# $z \sim p$, $\;\mathbb{E}_p[\log|\det J_f|] = H(\mathcal{N}(0, I)) - H(p)$, the entropy
# the prior lacks compared with $\mathcal{N}(0, I)$. A prior narrower than the standard
# normal makes $\tilde p$ integrate to more than 1, a wider one to less. For our flow:

# %% slideshow={"slide_type": "-"}
with torch.no_grad():
    book_integral = grid.integrate(book_log_density(prior, grid.points))
    torch.manual_seed(0)
    sample_log_dets = f(prior, prior.sample(20_000))[1]
    mean_log_det = float(sample_log_dets.mean())

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"integral of the book's density over the grid:   {book_integral:.3f}")
print(f"E_p[log|det J_f|] = {mean_log_det:+.2f} nats, so exp((L - 1) E_p[log|det J_f|]) = {math.exp(mean_log_det):.3f}")
print(f"our flow's prior is {'narrower' if mean_log_det > 0 else 'wider'} than N(0, I)")

# %% slideshow={"slide_type": "notes"}
# This run's numbers change a little from one computer to the next; the claims must not.
jensen_slack = 3 * float(sample_log_dets.std()) / math.sqrt(len(sample_log_dets))  # 3 standard errors of the average
check("our flow's prior is wider than N(0, I), and the book's density integrates to less than 1",
      mean_log_det < 0 and book_integral < 1)
check("the integral is at least exp((L - 1) E_p[log|det J_f|]), as Jensen says (within 3 standard errors)",
      book_integral >= math.exp(mean_log_det - jensen_slack))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Either way it is not a density, and the loss computed with it is off by
# $(L-1)\,\mathbb{E}_{q}[\log|\det J_f(z)|]$ per image, the average over the codes. The
# same model, the same samples, two ways of computing the test −ELBO. Every test −ELBO in
# this notebook (prints, tables and figure titles) is the same one estimate:

# %% slideshow={"slide_type": "-"}
print(vaelib.evaluate.ELBO_ESTIMATE)

# %% slideshow={"slide_type": "-"}
class BookFlowPrior(vaelib.priors.FlowPrior):
    """The flow prior with the book's log-density: training and evaluation see book_log_density."""

    def distribution(self):
        # The VAE asks prior.distribution().log_prob(z) for the ELBO: replace that method only.
        # Sampling, the layers and the weights are those of FlowPrior.
        flow = super().distribution()
        flow.log_prob = lambda z: book_log_density(self, z)
        return flow


def with_prior(model, prior_class):
    """The same encoder, decoder and flow weights, with the density of ``prior_class``."""
    new_prior = prior_class(model.latent_dim, num_flows=len(model.prior.conditioners))
    new_prior.load_state_dict(model.prior.state_dict())
    return vaelib.VAE(model.encoder, model.decoder, new_prior, config=model.config)


def test_losses(model):
    """Test −ELBO with the correct and with the book's log-density (the one estimate: same samples for both)."""
    return {
        label: vaelib.negative_elbo(with_prior(model, prior_class), data.test)
        for label, prior_class in (("correct", vaelib.priors.FlowPrior), ("book", BookFlowPrior))
    }


losses = test_losses(flow)
code_log_det = float(code_log_dets.mean())

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"test −ELBO, correct density: {losses['correct']:.2f} nats")
print(f"test −ELBO, book's density:  {losses['book']:.2f} nats")
print(f"difference: {losses['correct'] - losses['book']:+.2f} nats; E_q[log|det J_f|] at the codes: {code_log_det:+.2f}")

# %% slideshow={"slide_type": "notes"}
# Two Monte Carlo averages of the same expectation, over different codes (one per image above, ELBO_SAMPLES
# per image in the loss): they agree up to sampling error, the two standard errors combined.
standard_error = float(code_log_dets.std()) / math.sqrt(len(code_log_dets)) * math.sqrt(1 + 1 / vaelib.evaluate.ELBO_SAMPLES)
check("the loss is off by E_q[log|det J_f|] (within 3 standard errors)",
      abs(losses["correct"] - losses["book"] - code_log_det) < 3 * standard_error)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Training with the bug
#
# Now let the optimiser see the book's density. The bug pays
# $(L-1)\log|\det J_f(z)|$ nats for every code, and the flow can collect it by making $f$
# stretch space around the codes: every log-scale pushed to its bound, so
# $\log|\det J_f| \to 3$ (three couplings, $|s| \le 1$ each) and the encoder's codes squeezed
# into a small region to match. The prediction: the reported loss too good by $(L-1) \times 3
# = 3$ nats, and the book's "density" integrating to almost $e^3 \approx 20$ (never more:
# $|\det J_f|^{L-1} \le e^3$ everywhere, so $\int \tilde p \le e^3 \int p = e^3$). Same
# initial weights and seed as the flow above; only the density differs.

# %% slideshow={"slide_type": "-"}
book = with_prior(vaelib.make_vae("flow", seed=0), BookFlowPrior)
history_book = vaelib.fit(book, data, seed=0, progress=False)
book_losses = test_losses(book)
flow_losses = [vaelib.negative_elbo(model, data.test) for model in flows]  # the three correctly trained flows
book_grid = vaelib.analysis.latent_grid(book, data.test, resolution=200, prior_tail=1e-5)
with torch.no_grad():
    book_codes = book.encode(data.test)
    book_code_log_det = float(f(book.prior, book_codes)[1].mean())
    # One pass of f over the grid serves both densities: the book's adds (L - 1) log|det J_f| (section 5).
    u_grid, book_log_det_grid = f(book.prior, book_grid.points)
    correct_log_density = Normal(0.0, 1.0).log_prob(u_grid).sum(-1) + book_log_det_grid
    integrals = {
        "correct": book_grid.integrate(correct_log_density),
        "book": book_grid.integrate(correct_log_density + (book.latent_dim - 1) * book_log_det_grid),
    }

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"{'test −ELBO (nats)':32s} {'trained correctly':>18s} {'trained with the bug':>22s}")
print(f"{'  as reported (book density)':32s} {losses['book']:18.2f} {book_losses['book']:22.2f}")
print(f"{'  evaluated correctly':32s} {losses['correct']:18.2f} {book_losses['correct']:22.2f}")
print(f"the bug's bonus for the model trained with it: {book_losses['correct'] - book_losses['book']:.2f} nats "
      f"(E_q[log|det J_f|] = {book_code_log_det:.2f})")
print(f"its book density integrates to {integrals['book']:.1f}; its correct density to {integrals['correct']:.3f}")
print("test −ELBO of the three correctly trained flows:", ", ".join(f"{loss:.2f}" for loss in flow_losses))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The prediction holds: trained with the bug, the flow's log-scales sit within 0.05 of their
# bound at the codes, the reported loss is too good by 3 nats (to within 0.05: it cannot be
# more), and the book's density integrates to between 18 and $e^3$ (the correct one to 1).
# Evaluated correctly, the model trained with the bug is worse than every one of the three
# correctly trained flows, by more than a nat: the scale networks are pinned at the bound,
# where the tanh has no gradient left, and only the shifts still shape the density. Its prior
# is still a valid density, drawn correctly below; note the axes: its codes spread less than
# half as far as the correctly trained flow's.

# %% slideshow={"slide_type": "notes"}
# The claims above, checked: this run's numbers change a little from one computer to the next, the claims must not.
bonus = book_losses["correct"] - book_losses["book"]
check("trained with the bug, log|det J_f| at the codes is within 0.05 of its bound 3", 2.95 < book_code_log_det <= 3 + 1e-4)
check("the reported loss is too good by 3 nats, to within 0.05 (and not more)", 2.95 < bonus <= 3 + 1e-4)
grid_error = 0.01  # the grid's error, as for the correct density of section 4
check("the book's density integrates to between 18 and e³ ≈ 20.1, the correct one to 1 (within the grid's 1%)",
      18 < integrals["book"] <= math.exp(3) * (1 + grid_error) and abs(integrals["correct"] - 1) < grid_error)
check("evaluated correctly, the bug-trained model is worse than each of the three correct flows by over a nat",
      book_losses["correct"] > max(flow_losses) + 1)
check("its codes are squeezed: their spread is less than half of the correctly trained flow's",
      book_codes.std(0).mean() < codes.std(0).mean() / 2)

# %% slideshow={"slide_type": "-"}
fig, (left, right) = plt.subplots(1, 2, figsize=(8.8, 4.2), layout="constrained")
torch.manual_seed(0)
vaelib.plots.prior_contours(flow, data.test, ax=left, title="flow trained correctly")
vaelib.plots.prior_contours(with_prior(book, vaelib.priors.FlowPrior), data.test, ax=right,
                            title="flow trained with the book's density")
plt.close(fig)
fig

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The book's Fig. 4.13: the flow prior
#
# The figure the book shows for the flow-based prior: the prior's contours and the encoder's
# samples for the test images as black dots. The flow bends its density around the cloud of
# codes, which a single Gaussian cannot do, with smooth tails instead of the separate bumps
# of a mixture. Section 8 measures what that buys.

# %% slideshow={"slide_type": "-"} tags=["thumbnail"]
torch.manual_seed(0)
figure = vaelib.plots.prior_contours(flow, data.test)
figure

# %% slideshow={"slide_type": "notes"}
# One model, one number: the title shows the estimate printed in section 5.
check("the title's test −ELBO is the one printed in section 5", f"{losses['correct']:.2f}" in figure.axes[0].get_title())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Compare with the standard prior, over three seeds
#
# Does the flow's flexibility buy a better model than the standard Gaussian prior, the
# chapter's baseline? One training of each cannot say: two seeds of the *same* prior already
# end at different levels (section 1's curves). So we train three seeds of the
# standard prior too and compare means, counting a difference only when it is larger than the
# seed-to-seed spread (the sample standard deviation over the seeds). Notebook 7 puts all six
# priors side by side.

# %% slideshow={"slide_type": "subslide"}
standards = vaelib.train_seeds("standard", data, seeds=3)
# No IWAE here (notebook 7 teaches it), and a 100 x 100 quadrature grid for the KL: enough for these smooth
# 2-D densities, and 9 times cheaper than the default 300 x 300.
table = vaelib.compare_seeds({"flow": flows, "standard": standards}, data.test, iwae_samples=0, resolution=100)

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
table

# %% [markdown] slideshow={"slide_type": "subslide"}
# No difference: the two priors' mean test −ELBOs lie within the seed spread of each other.
# Nor does the flow sit closer to the aggregated posterior $q(z)$: its
# $\mathrm{KL}(q(z)\,\|\,p(z))$, the price the ELBO pays for a prior that is not $q(z)$
# (notebook 7), differs from the standard prior's by less than the spread. With a 2-D latent
# that price is below one nat for either prior, so the flow has little to win. What it changes
# is the shape, and not only for the better: more of its samples fall in holes (where
# $q(z) < 0.1\,p(z)$: hardly any codes) than the standard prior's, beyond the spread.

# %% slideshow={"slide_type": "notes"}
vaelib.expect_within_noise("flow and standard prior: no difference in test −ELBO (within the seed spread)",
                           table["flow"]["neg_elbo"], table["standard"]["neg_elbo"])
vaelib.expect_within_noise("flow and standard prior: no difference in KL(q(z) ‖ p(z)) (within the seed spread)",
                           table["flow"]["marginal_kl"], table["standard"]["marginal_kl"])
check("KL(q(z) ‖ p(z)) is below one nat for both priors",
      max(table[name]["marginal_kl"].mean for name in ("flow", "standard")) < 1)
vaelib.expect_lower("the standard prior has fewer holes than the flow (beyond the seed spread)",
                    table["standard"]["holes"], table["flow"]["holes"])

# %% [markdown] slideshow={"slide_type": "-"}
# Pick a prior from the menu to redraw the Fig. 4.13 plot for it (seed 0 of each; run the
# notebook to use the menu): the flow, the flow trained with the bug, and the standard prior.

# %% slideshow={"slide_type": "subslide"}
models = {"flow": flow, "flow, trained with the bug": with_prior(book, vaelib.priors.FlowPrior), "standard": standards[0]}
scores = {name: vaelib.negative_elbo(model, data.test) for name, model in models.items()}

menu = vaelib.widgets.PriorMenu(models, data.test, scores)
menu

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same from code: choosing an entry redraws the picture (shown here as a plain image,
# which also shows where widgets cannot, e.g. on GitHub).

# %% slideshow={"slide_type": "-"}
frames = menu.view.frames
menu.menu.value = "standard"
print("plot redrawn:", menu.view.frames == frames + 1)
display(Image(menu.view.image.value))

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
for name, score in scores.items():
    print(f"{name:28s} test −ELBO {score:.2f} nats")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaway
#
# A RealNVP prior is a standard normal seen through an invertible map: affine couplings make
# the map easy to invert and its Jacobian triangular, so the log-density is the base
# log-density plus a sum of log-scales, once per point. That "once" matters. The book's code
# adds the log-determinant once per latent dimension, which multiplies the density by
# $|\det J_f|^{L-1}$: it no longer integrates to 1, the loss is off by
# $(L-1)\,\mathbb{E}_q[\log|\det J_f|]$, and training turns the error into a free bonus by
# pushing every log-scale to its bound, here 3 nats of improvement that do not exist. And
# the correct flow, for all its flexibility, makes no difference to the test −ELBO against
# the standard prior at $L = 2$ (three seeds each, within the seed spread). Check
# a new density the way we did here: integrate it over a grid, and compare its
# log-determinant with a numerical Jacobian.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. **Write a coupling layer with a mask, then the flow's log-density.** Section 2 split $x$
#    into a first and a second half and put a flip between the layers. The RealNVP paper
#    writes the same layer with a binary mask $m \in \{0, 1\}^L$: the coordinates with
#    $m_j = 1$ stay as they are and condition the others. Any subset can play that role, and
#    alternating masks do the flip's job:
#    $$y = m \odot x + (1 - m) \odot \big(x \odot e^{s} + t\big), \qquad
#      (\tilde s, t) = \text{conditioner}(m \odot x), \qquad s = \tanh(\tilde s).$$
#    The conditioner takes all $L$ coordinates (the changing ones zeroed by the mask) and returns
#    $2L$ numbers, the raw log-scales $\tilde s$ then the shifts $t$ (split them with
#    `.chunk(2, dim=-1)` as in section 2); the entries for the kept coordinates go unused.
#
#    (a) Fill in `my_coupling`: it returns $y$ and $\log|\det \partial y / \partial x|$, one
#    number per point. The check compares your $y$ with the formula, and your
#    log-determinant with the log-determinant of the Jacobian that autograd computes (as in
#    section 3), on a fresh network, a fresh mask and fresh points in $L = 4$ dimensions.

# %% slideshow={"slide_type": "-"} tags=["exercise"]
def my_coupling(conditioner, x, mask):
    """y = mask * x + (1 - mask) * (x * exp(s) + t). x: (B, L), mask: (L,) of 0s and 1s -> y: (B, L), log|det dy/dx|: (B,)"""
    ...  # your code here


# %% slideshow={"slide_type": "-"}
exercises.check_coupling_layer(my_coupling)

# %% [markdown] slideshow={"slide_type": "subslide"}
#    (b) Now stack such couplings into a flow that maps a latent point to the base space, in
#    the order given: $u = f(z) = c_K(\cdots c_2(c_1(z)))$, where $c_k$ is the coupling with
#    `conditioners[k]` and `masks[k]` (section 2's $f$ goes the same way, from $z$ to $u$).
#    Fill in `my_flow_log_prob`, the change of variables of section 4:
#    $\log p(z) = \log \mathcal{N}(f(z); 0, I) + \log|\det J_f(z)|$. Use the `coupling` it is
#    given: the check hands over a correct one, so that a slip in (a) does not count twice
#    (pass `my_coupling` yourself to try yours). The book's code would fail this check: which
#    of its mistakes would the check name?

# %% slideshow={"slide_type": "-"} tags=["exercise"]
def my_flow_log_prob(z, coupling, conditioners, masks):
    """log p(z) = log N(f(z); 0, I) + log|det J_f(z)|, f = the couplings in order. z: (B, L) -> (B,)"""
    ...  # your code here


# %% slideshow={"slide_type": "-"}
exercises.check_flow_log_prob(my_flow_log_prob)

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 1</summary>
#
# (a) The mask is needed in three places, and each answers a question about the Jacobian.
# A kept coordinate ($m_j = 1$) passes through: its row of the Jacobian is a row of the
# identity. A changed coordinate ($m_j = 0$) is $y_j = x_j e^{s_j} + t_j$, where $s$ and $t$
# are computed from $m \odot x$, the kept coordinates only: so $y_j$ depends on $x_j$ (with
# slope $e^{s_j}$) and on kept coordinates, never on another changed one. List the kept
# coordinates first and the Jacobian is block triangular, with the identity and
# $\mathrm{diag}(e^{s_j})$ on its diagonal: $\det = \prod_{j:\, m_j = 0} e^{s_j}$, so
# $$\log\Big|\det \frac{\partial y}{\partial x}\Big| = \sum_j (1 - m_j)\, s_j .$$
# Hence: feed the network $m \odot x$ (fed the whole $x$, $y_j$ depends on the other changed
# coordinates, the Jacobian is no longer triangular and the layer cannot be inverted in
# closed form); leave the kept coordinates alone in $y$; and count only the changed
# coordinates' log-scales (a kept coordinate's diagonal entry is 1, its log 0, whatever the
# network outputs there). The log-determinant is the sum of the log-scales $s_j$, not of the
# scales $e^{s_j}$, and with a plus: the minus belongs to the inverse layer,
# $x = (y - t) e^{-s}$. With the mask $(1, 0)$ and a network that reads $x_1$ only, this is
# section 2's `coupling`, as the code shows with the trained flow's first network.
#
# ```python
# def my_coupling(conditioner, x, mask):
#     """y = mask * x + (1 - mask) * (x * exp(s) + t). x: (B, L), mask: (L,) of 0s and 1s -> y: (B, L), log|det dy/dx|: (B,)"""
#     raw_log_scale, shift = conditioner(x * mask).chunk(2, dim=-1)  # the network sees the kept coordinates only
#     log_scale = torch.tanh(raw_log_scale) * (1 - mask)  # 0 on the kept coordinates: they are not scaled
#     y = x * mask + (1 - mask) * (x * torch.exp(log_scale) + shift)
#     return y, log_scale.sum(-1)
#
#
# def section_2_network(x):
#     """The trained flow's first network in the mask layout: (B, 2) -> [s1, s2, t1, t2], from z1 only."""
#     raw_log_scale, shift = prior.conditioners[0](x[:, :1]).chunk(2, dim=-1)
#     unused = torch.zeros_like(raw_log_scale)  # the entries of the kept coordinate z1
#     return torch.cat([unused, raw_log_scale, unused, shift], dim=-1)
#
#
# with torch.no_grad():
#     y_mask, log_det_mask = my_coupling(section_2_network, codes, torch.tensor([1.0, 0.0]))
#     y_split, log_det_split = coupling(prior.conditioners[0], codes)
# vaelib.check("with the mask (1, 0), my_coupling gives section 2's coupling (within 1e-5)",
#              torch.allclose(y_mask, y_split, atol=1e-5) and torch.allclose(log_det_mask, log_det_split, atol=1e-5))
#
# feedback = exercises.check_coupling_layer(my_coupling)
# print(feedback)
# assert feedback, feedback
# ```
#
# (b) The Jacobian of a composition is the product of the layers' Jacobians, each taken at
# that layer's own input, $J_f(z) = J_{c_K}(x_{K-1}) \cdots J_{c_1}(z)$, and the determinant of
# a product is the product of the determinants: $\log|\det J_f(z)|$ is the sum of the
# couplings' log-determinants, collected while $z$ runs through them in order (a running
# total: keeping only the last layer's is a classic slip). The base density is the standard
# normal at $u = f(z)$, after all couplings, summed over the $L$ coordinates; the
# log-determinant is then added **once per point**, outside that sum. The book's code adds it
# to each coordinate's log-density before summing, which counts it $L$ times: the check names
# that "log-Jacobian counted L times", the bug of section 5. The sign is a plus because $f$
# maps $z$ to $u$ and $p(z) = \mathcal{N}(f(z); 0, I)\,|\det J_f(z)|$; section 2's `f` shows
# minus signs only because it undoes vaelib's layers, whose log-determinants are $+\sum s$.
#
# ```python
# def my_flow_log_prob(z, coupling, conditioners, masks):
#     """log p(z) = log N(f(z); 0, I) + log|det J_f(z)|, f = the couplings in order. z: (B, L) -> (B,)"""
#     u, log_det = z, torch.zeros(len(z))
#     for conditioner, mask in zip(conditioners, masks):
#         u, layer_log_det = coupling(conditioner, u, mask)
#         log_det = log_det + layer_log_det  # a composition's log-determinant: the sum of its layers'
#     return Normal(0.0, 1.0).log_prob(u).sum(-1) + log_det  # once per point, after the sum over coordinates
#
#
# feedback = exercises.check_flow_log_prob(my_flow_log_prob)
# print(feedback)
# assert feedback, feedback
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "subslide"}
# 2. **The average log-determinant is an entropy difference.** Section 5 used
#    $\mathbb{E}_p[\log|\det J_f|] = H(\mathcal{N}(0, I)) - H(p)$ without proof. Prove it
#    (take the expectation of the change of variables under $z \sim p$: how is $f(z)$
#    distributed then?), then check it for the flow of section 1 by quadrature on `grid`, with
#    the `log_density_grid` and `log_det_grid` of section 4
#    ($H(\mathcal{N}(0, I)) = \log(2\pi e)$ in two dimensions). What does the sign of the
#    average say about the prior?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 2</summary>
#
# Take the expectation of $\log p(z) = \log \mathcal{N}(f(z); 0, I) + \log|\det J_f(z)|$ under
# $z \sim p$. The left side is $-H(p)$. On the right, $u = f(z)$ is standard normal when
# $z \sim p$ (that is how the flow defines $p$), so
# $\mathbb{E}_p[\log \mathcal{N}(f(z); 0, I)] = \mathbb{E}_{u \sim \mathcal{N}(0, I)}[\log \mathcal{N}(u; 0, I)] = -H(\mathcal{N}(0, I))$.
# Hence $-H(p) = -H(\mathcal{N}(0, I)) + \mathbb{E}_p[\log|\det J_f|]$, the identity. In two
# dimensions $H(\mathcal{N}(0, I)) = 2 \cdot \tfrac12 \log(2\pi e) = \log(2\pi e) \approx 2.84$ nats.
#
# On the grid both sides are midpoint-rule sums: the cell masses $p(z_i)\,\Delta A$ weight
# $-\log p(z_i)$ for the entropy and $\log|\det J_f(z_i)|$ for the average; the two sides
# agree to the grid's error (section 4 found it below 1% of the mass). The average is negative
# for our flow: $f$ shrinks volume on average as it maps $z$ to $u$, so $p$ has more entropy
# than $\mathcal{N}(0, I)$, it is wider, as section 5 found by sampling (and why the book's
# density integrates to less than 1 there).
#
# ```python
# mass = torch.exp(log_density_grid.double()) * grid.cell_area  # p(z_i) times the cell's area
# entropy_p = float(-(mass * log_density_grid.double()).sum())
# entropy_normal = math.log(2 * math.pi * math.e)
# mean_log_det_grid = float((mass * log_det_grid.double()).sum())
# print(f"E_p[log|det J_f|] = {mean_log_det_grid:+.3f};  H(N(0, I)) - H(p) = {entropy_normal:.3f} - {entropy_p:.3f} "
#       f"= {entropy_normal - entropy_p:+.3f}")
# vaelib.check("the two sides agree within 0.01 nat (the grid's error)",
#              abs(mean_log_det_grid - (entropy_normal - entropy_p)) < 0.01)
# vaelib.check("the average is negative: the prior has more entropy than N(0, I)", mean_log_det_grid < 0)
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "-"}
# 3. **The largest bonus the bug can pay.** Section 6 found the bug's bonus at its ceiling,
#    $(L - 1) \times 3 = 3$ nats. (a) Predict the ceiling for a flow with a single coupling
#    and $L = 2$. (b) In $L$ dimensions each coupling scales $L - \lfloor L/2 \rfloor$
#    coordinates: what is the ceiling with 3 couplings and $L = 4$? Give the formula for $K$
#    couplings in $L$ dimensions, and say why training reaches it. (c) Measure both: train
#    each flow with the book's density for 20 epochs
#    (`with_prior(vaelib.make_vae("flow", num_flows=1, seed=0), BookFlowPrior)`, and
#    `latent_dim=4` with the default 3 couplings for (b); our hand-written layers work for any
#    $L$), and compare the bonus `test_losses(model)` shows, correct minus book, with your
#    predictions.

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 3</summary>
#
# The book's log-density is $\log p(z) + (L - 1)\log|\det J_f(z)|$ (section 5), so the loss it
# reports is lower than the correct one by $(L - 1)\,\mathbb{E}_q[\log|\det J_f(z)|]$: that
# is the bonus. Each coupling's log-determinant is a sum of $\pm s_j$ over the coordinates it
# scales, $L - \lfloor L/2 \rfloor$ of them, with $|s_j| \le 1$ because of the tanh; so
# $|\log|\det J_f|| \le K (L - \lfloor L/2 \rfloor)$ everywhere and
# $$\text{bonus} \le (L - 1)\, K\, (L - \lfloor L/2 \rfloor).$$
# (a) $K = 1$, $L = 2$: one scaled coordinate, a ceiling of $1 \times 1 \times 1 = 1$ nat.
# (b) $K = 3$, $L = 4$: two scaled coordinates per coupling, $|\log|\det J_f|| \le 6$, counted
# $L - 1 = 3$ extra times: a ceiling of 18 nats. (Section 6: $1 \times 3 \times 1 = 3$.)
#
# Training reaches the ceiling because the bonus costs nothing the optimiser can see: pushing
# every log-scale to its bound earns $L - 1$ nats per unit of log-determinant, and the
# encoder squeezes the codes to follow the stretched prior. The log-scales get there long
# before the rest of the model is trained, so 20 epochs suffice: the measured bonuses come
# within 0.1 nat of 1 and within 0.5 nat of 18, never above. The ceiling grows with $L$
# twice over, through the extra counts and through the number of scaled coordinates: the bug
# is worse in the higher-dimensional latent spaces that real models use.
#
# ```python
# single = with_prior(vaelib.make_vae("flow", num_flows=1, seed=0), BookFlowPrior)
# vaelib.fit(single, data, seed=0, progress=False, max_epochs=20)
# single_losses = test_losses(single)
# single_bonus = single_losses["correct"] - single_losses["book"]
# wide = with_prior(vaelib.make_vae("flow", latent_dim=4, seed=0), BookFlowPrior)
# vaelib.fit(wide, data, seed=0, progress=False, max_epochs=20)
# wide_losses = test_losses(wide)
# wide_bonus = wide_losses["correct"] - wide_losses["book"]
# print(f"one coupling, L = 2: a bonus of {single_bonus:.2f} nats (at most 1)")
# print(f"3 couplings, L = 4: reported {wide_losses['book']:.2f}, correct {wide_losses['correct']:.2f}: "
#       f"a bonus of {wide_bonus:.2f} nats (at most 18)")
# vaelib.check("one coupling: after 20 epochs the bonus is within 0.1 nat of its ceiling of 1 nat, and not above it",
#              0.9 < single_bonus <= 1 + 1e-4)
# vaelib.check("L = 4: after 20 epochs the bonus is within 0.5 nat of its ceiling of 18 nats, and not above it",
#              17.5 < wide_bonus <= 18 + 1e-3)
# ```
#
# </details>
