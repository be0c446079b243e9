# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: jupyter,tags,-all
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

# %% [markdown]
# # 3. A mixture of Gaussians prior
#
# The standard Gaussian prior is one round blob; the codes of the digits are not. The
# simplest way to give the prior more shape is to make it a **mixture**: $K$ Gaussians,
# each with its own place, width and weight, all learned together with the VAE. The book
# uses $K = 16$.
#
# **What you will learn**
# - the mixture's log-density, written by hand (log-densities summed over the latent
#   dimensions, then a log-sum-exp over components) and checked against vaelib;
# - what a common bug computes instead: a log-sum-exp taken *per latent dimension* gives a
#   product of one-dimensional mixtures with $K^L$ components, a proper density but a
#   different one, and how far apart the two are (total variation);
# - why training with the buggy density gives a different model;
# - what a trained mixture prior looks like (the book's Fig. 4.13) and where its
#   components sit.
#
# **Run time:** about 15 s on a 2-core laptop CPU (two short trainings).
#
# Tomczak, *Deep Generative Modeling*, Chapter 4, section on priors: "Mixture of Gaussians".

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import Normalize
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

import vaelib


def check(claim, holds):
    """Print the claim with a tick, or stop: the prose says something this run's numbers do not show."""
    assert holds, f"no longer true: {claim}"
    print("✓", claim)


data = vaelib.load_digits()

# %% [markdown]
# ## 1. The density, by hand
#
# With weights $w = \mathrm{softmax}(\text{mixture logits})$, means $\mu_k$ and diagonal
# variances $\sigma_k^2$,
# $$p(z) = \sum_{k=1}^K w_k\, \mathcal{N}\big(z;\, \mu_k, \mathrm{diag}\,\sigma_k^2\big),
# \qquad
# \log p(z) = \operatorname*{logsumexp}_{k}\Big[\log w_k + \sum_{l=1}^L \log \mathcal{N}(z_l;\, \mu_{kl}, \sigma_{kl}^2)\Big].$$
# The order matters: a diagonal Gaussian is a density over the whole point $z$, so its
# log-density is the **sum over the $L$ dimensions** of the one-dimensional log-densities;
# only then do we mix, with a log-sum-exp over the **components** (a numerically safe
# $\log \sum_k \exp$). In code, with $z$ of shape (B, L):

# %%
LOG_2PI = math.log(2 * math.pi)


def log_normal_per_dimension(z, means, logvars):
    """log N(z_l; mu_kl, sigma_kl^2) for every point, component and dimension. (B, L), (K, L) -> (B, K, L)"""
    z = z[:, None, :]  # (B, 1, L) against the (K, L) parameters
    return -0.5 * (LOG_2PI + logvars + (z - means) ** 2 * torch.exp(-logvars))


def mog_log_prob(z, mixture_logits, means, logvars):
    """log p(z) of the mixture. z: (B, L) -> (B,)"""
    log_components = log_normal_per_dimension(z, means, logvars).sum(-1)  # (B, K): one density per component
    log_weights = torch.log_softmax(mixture_logits, dim=0)  # (K,)
    return torch.logsumexp(log_weights + log_components, dim=1)  # (B,): mix over components


# %% [markdown]
# vaelib builds the same density from `torch.distributions` (a `MixtureSameFamily` of
# diagonal Gaussians) and gives its parameters as `(mixture_logits, means, logvars)`.
# Both must agree at any point:

# %%
model = vaelib.make_vae("mog", seed=0)  # K = 16 components, as in the book
parameters = model.prior.mixture_parameters()  # (K,), (K, L), (K, L)
torch.manual_seed(0)
z = 3 * torch.randn(1000, 2)
with torch.no_grad():
    torch.testing.assert_close(mog_log_prob(z, *parameters), model.prior.log_prob(z))
print("hand-written log-density matches vaelib: True")

# %% [markdown]
# Before training, the 16 components sit at random places (means drawn from N(0, I)), all
# with unit variances and equal weights 1/16. Each red dot is a component's mean; the
# lines enclose 25%, 50%, ..., 99% of the prior's mass.

# %%
vaelib.plots.mixture_components(model, title="mog prior before training: 16 component means")

# %% [markdown]
# ## 2. Train it
#
# The same architecture and recipe as every notebook (the fast recipe: a few seconds). The
# picture redraws every 5 epochs: contours of the prior, one dot per test image.

# %%
start_means = model.prior.means.detach().clone()
history = vaelib.live_fit(model, data, seed=0)

# %% [markdown]
# The book's Fig. 4.13 for this prior: the learned density with an encoder sample for each
# test image, coloured by digit.

# %%
torch.manual_seed(0)
vaelib.plots.prior_contours(model, data.test, data.test_labels)

# %% [markdown]
# And the components themselves, each dot sized by its weight (a dot of the starting size
# has weight 1/16):

# %%
torch.manual_seed(0)
vaelib.plots.mixture_components(model, data.test)

# %%
weights = torch.softmax(model.prior.mixture_logits.detach(), dim=0)
stds = torch.exp(0.5 * model.prior.logvars.detach())
moved = (model.prior.means.detach() - start_means).norm(dim=1)

# %% tags=["nbval-ignore-output"]
print(f"learned weights: {weights.min():.3f} to {weights.max():.3f} (uniform: {1 / 16:.3f})")
print(f"component standard deviations: {stds.min():.2f} to {stds.max():.2f} (at the start: 1)")
print(f"distance each mean moved from its start: {moved.mean():.2f} on average, {moved.max():.2f} at most")

# %% [markdown]
# With this short training the mixture hardly leaves its starting point: the weights stay
# close to uniform, the standard deviations close to 1, the means move by a fraction of a
# standard deviation, and the overlapping components add up to one lopsided blob. It was
# mostly the **encoder** that adapted: it placed the codes where the prior already had mass.
# A flexible prior is not automatically a multimodal one; exercise 1 starts the components
# further apart and gets a different picture.

# %%
# The claims above, checked: this run's numbers change a little from one computer to the next, the claims must not.
check("every weight is within a factor 1.5 of uniform (1/16)", (weights * 16).max() < 1.5 and (weights * 16).min() > 1 / 1.5)
check("every standard deviation is within a factor 1.25 of its start (1)", stds.max() < 1.25 and stds.min() > 1 / 1.25)
check("no mean moved as far as the smallest standard deviation", moved.max() < stds.min())

# %% [markdown]
# ## 3. The per-dimension bug
#
# Now swap the two steps: take the log-sum-exp over components **separately for each
# latent dimension**, which leaves a (B, L) array, and sum that over the dimensions. This is
# an easy slip when the Gaussian log-densities are kept per coordinate, and the book's own
# code makes it.

# %%
def mog_log_prob_per_dimension(z, mixture_logits, means, logvars):
    """The bug: mix each dimension on its own, then add the dimensions. z: (B, L) -> (B,)"""
    log_weights = torch.log_softmax(mixture_logits, dim=0)[:, None]  # (K, 1): same weights in every dimension
    per_dimension = torch.logsumexp(log_weights + log_normal_per_dimension(z, means, logvars), dim=1)  # (B, L)
    return per_dimension.sum(-1)  # (B,)


# %% [markdown]
# What density is that? Exponentiate:
# $$\tilde p(z) = \prod_{l=1}^L \sum_{k=1}^K w_k\, \mathcal{N}(z_l;\, \mu_{kl}, \sigma_{kl}^2)
# = \sum_{k_1=1}^K \cdots \sum_{k_L=1}^K \Big(\prod_{l} w_{k_l}\Big)\, \prod_{l} \mathcal{N}(z_l;\, \mu_{k_l l}, \sigma_{k_l l}^2).$$
# It is a **product of $L$ one-dimensional mixtures**, and expanding the product gives a
# mixture of $K^L$ Gaussians: one for each way of picking a component in every dimension
# independently, with mean $(\mu_{k_1 1}, \dots, \mu_{k_L L})$. Each one-dimensional mixture
# integrates to 1, so $\tilde p$ does too: a perfectly valid density, just not the one we
# meant. Each factor is the marginal of the true mixture along that dimension, so
# $\tilde p$ is the **product of the true mixture's marginals**: it keeps how each
# coordinate is spread and throws away how the coordinates go together.
#
# A small example makes the $K^L$ visible: $K = 3$ narrow components on the diagonal.

# %%
toy = (
    torch.zeros(3),  # equal weights
    torch.tensor([[-3.0, -3.0], [0.0, 0.0], [3.0, 3.0]]),  # means on the diagonal
    torch.full((3, 2), 2 * math.log(0.6)),  # standard deviation 0.6
)
toy_grid = vaelib.analysis.LatentGrid.over((-6, 6, -6, 6), 240)
toy_correct = mog_log_prob(toy_grid.points, *toy)
toy_buggy = mog_log_prob_per_dimension(toy_grid.points, *toy)


def total_variation(grid, log_p, log_q):
    """TV(p, q) = 1/2 ∫ |p(z) - q(z)| dz, by the midpoint rule on the grid."""
    difference = torch.exp(log_p.double()) - torch.exp(log_q.double())
    return 0.5 * float(difference.abs().sum()) * grid.cell_area


print(f"integral over the grid: correct {toy_grid.integrate(toy_correct):.3f}, per-dimension {toy_grid.integrate(toy_buggy):.3f}")
print(f"total variation between them: {total_variation(toy_grid, toy_correct, toy_buggy):.3f}")

# %% [markdown]
# Both integrate to 1. Three components became $3^2 = 9$: the correct bumps on the
# diagonal, each shrunk to a third of its mass, plus six that nobody asked for. When the
# components are far apart, the two densities share only the diagonal's $K \cdot (1/K)^2 =
# 1/K$ of the mass, so the total variation is $1 - 1/K$: $2/3$ for three components (a little
# less here, where the bumps overlap slightly) and $15/16$ for sixteen. Both densities on
# the same grid and colour scale:

# %% tags=["thumbnail"]
def compare_densities(grid, log_densities, titles, suptitle):
    """Densities side by side, on one grid and one linear colour scale."""
    densities = [torch.exp(d) for d in log_densities]
    norm = Normalize(0, max(float(d.max()) for d in densities))
    fig, axes = plt.subplots(1, len(densities), figsize=(4.1 * len(densities) + 0.8, 3.9),
                             layout="constrained", sharex=True, sharey=True)
    for ax, density, title in zip(axes, densities, titles):
        image = ax.imshow(grid.image(density).numpy(), origin="lower", extent=grid.extent,
                          cmap=vaelib.plots.DENSITY_CMAP, norm=norm, interpolation="bilinear")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("$z_1$")
    axes[0].set_ylabel("$z_2$")
    fig.colorbar(image, ax=axes, shrink=0.85, label="density")
    fig.suptitle(suptitle, fontsize=11)
    plt.close(fig)
    return fig


compare_densities(
    toy_grid, (toy_correct, toy_buggy),
    ("correct: logsumexp over components", "bug: logsumexp per dimension"),
    f"the same 3 components, two densities (total variation {total_variation(toy_grid, toy_correct, toy_buggy):.2f})",
)

# %% [markdown]
# ## 4. The bug with the trained parameters
#
# Now the same comparison for the mixture we just trained, on a grid that covers the codes
# of the test images and nearly all of the prior's mass.

# %%
grid = vaelib.latent_grid(model, data.test, resolution=200)
with torch.no_grad():
    parameters = model.prior.mixture_parameters()
    log_correct = mog_log_prob(grid.points, *parameters)
    log_buggy = mog_log_prob_per_dimension(grid.points, *parameters)
check("both densities integrate to 1 over the grid (within 0.01)",
      abs(grid.integrate(log_correct) - 1) < 0.01 and abs(grid.integrate(log_buggy) - 1) < 0.01)

# %%
compare_densities(
    grid, (log_correct, log_buggy),
    ("correct mixture", "per-dimension bug"), "the trained prior's parameters, two densities",
)

# %% tags=["nbval-ignore-output"]
trained_tv = total_variation(grid, log_correct, log_buggy)
print(f"total variation between the two densities: {trained_tv:.3f}")

# %% [markdown]
# The two pictures differ much less than in the toy example, and the total variation is
# small. That is what the previous section predicts: the bug replaces the prior by the
# product of its marginals, and this trained mixture is one broad, nearly round blob,
# whose coordinates have little to do with each other. The more the components spread out
# along directions that mix $z_1$ and $z_2$, the larger the gap (exercise 1).

# %%
toy_tv = total_variation(toy_grid, toy_correct, toy_buggy)
check("the total variation is less than a third of the toy example's", trained_tv < toy_tv / 3)

# %% [markdown]
# ## 5. Training with the bug gives a different model
#
# Measuring the bug on parameters that were trained with the correct density is only half
# of the story. The density enters the ELBO through $\mathbb{E}_q[\log p(z)]$, so its
# gradients move the prior's parameters *and* the encoder. With the per-dimension
# version, the prior can only ever be a product $\tilde p(z) = \prod_l \tilde p_l(z_l)$, and
# for such a prior the marginal KL of notebook 7 splits once more:
# $$\mathrm{KL}\big(q(z)\,\|\,\tilde p(z)\big) = \underbrace{\mathrm{KL}\Big(q(z)\,\Big\|\,\prod_l q(z_l)\Big)}_{\text{how } z_1, z_2 \text{ go together in } q} + \sum_l \mathrm{KL}\big(q(z_l)\,\|\,\tilde p_l(z_l)\big).$$
# The prior can only shrink the second term, by matching each marginal $q(z_l)$ of the
# aggregated posterior. The first term is out of its reach, so the ELBO pushes the
# *encoder* to make the coordinates of the codes independent. Different gradients from the
# first step, so a different model at the end. For the book's models, the total variation
# between the two densities after training was measured at 0.06 to 0.44.
#
# The bug written as a prior: `torch.distributions` says exactly what it is, a product
# (`Independent`) of one-dimensional mixtures. We train it from the same starting weights
# and with the same seed as the correct mixture:

# %%
class PerDimensionMoG(vaelib.priors.MoGPrior):
    """The bug as a prior: a product of one-dimensional mixtures, K^L components."""

    def distribution(self):
        one_dimensional = MixtureSameFamily(  # batch of L mixtures, each over K components
            Categorical(logits=self.mixture_logits.expand(self.latent_dim, -1)),  # the same weights in every dimension
            Normal(self.means.T, torch.exp(0.5 * self.logvars.T)),  # (L, K)
        )
        return Independent(one_dimensional, 1)  # multiply the L mixtures


start = vaelib.make_vae("mog", seed=0)  # the very weights `model` started from
per_dimension = PerDimensionMoG()
per_dimension.load_state_dict(start.prior.state_dict())
buggy = vaelib.VAE(start.encoder, start.decoder, per_dimension)
with torch.no_grad():
    torch.testing.assert_close(buggy.prior.log_prob(z), mog_log_prob_per_dimension(z, *per_dimension.mixture_parameters()))
print("the distribution computes the per-dimension density: True")

# %%
buggy_history = vaelib.live_fit(buggy, data, seed=0)

# %%
torch.manual_seed(0)
trained = {"correct mixture": model, "per-dimension bug": buggy}
neg_elbos = {name: vaelib.negative_elbo(m, data.test, num_samples=10) for name, m in trained.items()}
buggy_grid = vaelib.latent_grid(buggy, data.test, resolution=200)
with torch.no_grad():
    buggy_parameters = buggy.prior.mixture_parameters()
    buggy_tv = total_variation(buggy_grid, buggy.prior.log_prob(buggy_grid.points),
                               mog_log_prob(buggy_grid.points, *buggy_parameters))

# %% tags=["nbval-ignore-output"]
for name, value in neg_elbos.items():
    print(f"test −ELBO, trained with the {name:17s}: {value:.2f} nats")
print(f"bug-trained model: TV between its density and the mixture its parameters define: {buggy_tv:.3f}")

# %%
torch.manual_seed(0)
vaelib.plots.prior_comparison(trained, data.test, data.test_labels, neg_elbos=neg_elbos, ncols=2, panel_size=3.8)

# %% [markdown]
# Same data, same starting weights, same seed, two different models: the codes and the
# contours have moved. With components as broad as these the difference is modest, in total
# variation and in test −ELBO alike; changing the seed moves the test −ELBO by about as much
# (notebook 8). Nothing in the loss curve tells you that the prior is not the density you
# wrote down. That is why this notebook checks the log-density against an independent
# implementation, and why vaelib builds the mixture from `Independent(Normal, 1)`: there the
# sum over dimensions happens inside each component, and the per-dimension mix cannot be
# written by accident.

# %%
# The claims above, checked: this run's numbers change a little from one computer to the next, the claims must not.
with torch.no_grad():
    code_shift = (model.encode(data.test, sample=False) - buggy.encode(data.test, sample=False)).norm(dim=1).mean()
check("the codes moved: posterior means differ by over 0.1 on average", code_shift > 0.1)
check("the two test −ELBOs differ by less than 0.3 nat", abs(neg_elbos["correct mixture"] - neg_elbos["per-dimension bug"]) < 0.3)
check("the bug-trained density is within 0.1 of its mixture in total variation", buggy_tv < 0.1)

# %% [markdown]
# ## Takeaway
#
# A mixture of Gaussians prior is a sum over components of products over dimensions:
# log-densities are summed over the latent dimensions first, log-sum-exp'ed over the
# components second. Swapping the order still gives a valid density, the product of the
# mixture's marginals with $K^L$ components, so nothing crashes and the loss looks fine,
# yet it is a different prior, it trains a different model, and the gap can be as large as
# $1 - 1/K$ in total variation. The trained mixture itself stays close to where it started
# here: with a short training the encoder adapts to the prior more than the prior adapts to
# the codes.
#
# ## Exercises
#
# 1. Start the components further apart: `vaelib.make_vae("mog", seed=0, init_scale=3.0)`.
#    Train it, draw its components, and measure the total variation of the per-dimension
#    bug with its parameters. Why is it larger?
# 2. With a single component ($K = 1$) the bug is harmless. Check it numerically with random
#    parameters, and explain why.
# 3. Verify the claim of section 3 that the per-dimension density is the product of the
#    true mixture's marginals: compute the marginal of the trained mixture along $z_1$ by
#    summing its density on the grid over $z_2$, and compare it with the one-dimensional
#    mixture $\sum_k w_k \mathcal{N}(z_1; \mu_{k1}, \sigma_{k1}^2)$.

# %% jupyter={"source_hidden": true}
# Solution 1: wider starting means let components separate; one often settles on a digit
# class of its own. The per-dimension bug then adds phantom components at the crossings of
# the separated ones, so the gap grows.
wide = vaelib.make_vae("mog", seed=0, init_scale=3.0)
vaelib.fit(wide, data, seed=0, progress=False)
wide_grid = vaelib.latent_grid(wide, data.test, resolution=200)
with torch.no_grad():
    wide_parameters = wide.prior.mixture_parameters()
    wide_tv = total_variation(wide_grid, mog_log_prob(wide_grid.points, *wide_parameters),
                              mog_log_prob_per_dimension(wide_grid.points, *wide_parameters))
torch.manual_seed(0)
vaelib.plots.mixture_components(wide, data.test)

# %% jupyter={"source_hidden": true} tags=["nbval-ignore-output"]
print(f"init_scale=3: total variation of the per-dimension bug {wide_tv:.3f} (init_scale=1: {trained_tv:.3f})")
check("the gap is larger with init_scale=3", wide_tv > trained_tv)

# %% jupyter={"source_hidden": true}
# Solution 2: with K = 1 the log-sum-exp over one component is the identity, so taking it
# before or after the sum over dimensions gives the same number: the product of the
# marginals of a diagonal Gaussian is the Gaussian itself.
torch.manual_seed(0)
one = (torch.zeros(1), torch.randn(1, 2), torch.randn(1, 2))
gap = (mog_log_prob(z, *one) - mog_log_prob_per_dimension(z, *one)).abs().max()
print(f"K = 1: the same log-density either way (up to rounding): {bool(gap < 1e-4)}")

# %% jupyter={"source_hidden": true}
# Solution 3: sum the density over z2 (times the cell height) on the grid of section 4.
density = grid.image(torch.exp(log_correct.double()))  # rows: z2, columns: z1
marginal_on_grid = density.sum(0) * (grid.extent[3] - grid.extent[2]) / grid.resolution
logits, means, logvars = (p.detach() for p in parameters)
one_dimensional = torch.logsumexp(
    torch.log_softmax(logits, 0) + log_normal_per_dimension(grid.z1[:, None], means[:, :1], logvars[:, :1])[..., 0],
    dim=1,
).exp()
fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.plot(grid.z1, marginal_on_grid, linewidth=3, alpha=0.4, label="marginal of the mixture (grid)")
ax.plot(grid.z1, one_dimensional, color="black", linewidth=1, label="1-D mixture, first dimension")
ax.set_xlabel("$z_1$")
ax.set_ylabel("density")
ax.legend(fontsize=8, frameon=False)
plt.close(fig)
fig
