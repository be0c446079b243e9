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
# - what a trained mixture prior looks like (the book's Fig. 4.13), why with the usual
#   recipe it stays one blob, and what makes it spread into separate components;
# - how it compares with the standard prior over three training seeds each;
# - what a common bug computes instead: a log-sum-exp taken *per latent dimension* gives a
#   product of one-dimensional mixtures with $K^L$ components, a proper density but a
#   different one, and a different trained model.
#
# **Run time:** about 35 s on a 2-core laptop CPU (10 trainings).
#
# Tomczak, *Deep Generative Modeling*, Chapter 4, section on priors: "Mixture of Gaussians".
#
# > **The book's code.** Its `MoGPrior` (in `vae_priors_example.ipynb`) does not run as
# > published: the constructor multiplies the initial means by `multiplier`, a name defined
# > nowhere. Fixed, its `log_prob` takes the log-sum-exp over components separately in each
# > latent dimension and returns one number per dimension, which the VAE then sums: the
# > per-dimension bug of section 5, a product of 1-D mixtures. Its `sample` uses
# > `exp(logvar)` as the standard deviation, which is the variance's square root only when
# > $\sigma = 1$. Its log-variances start at random values, ours at 0.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.colors import Normalize
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

import vaelib
from vaelib import exercises

data = vaelib.load_digits()

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% slideshow={"slide_type": "-"}
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


# %% [markdown] slideshow={"slide_type": "subslide"}
# vaelib builds the same density from `torch.distributions` (a `MixtureSameFamily` of
# diagonal Gaussians) and gives its parameters as `(mixture_logits, means, logvars)`.
# Both must agree at any point:

# %% slideshow={"slide_type": "-"}
untrained = vaelib.make_vae("mog", seed=0)  # K = 16 components, as in the book
torch.manual_seed(0)
z = 3 * torch.randn(1000, 2)
with torch.no_grad():
    torch.testing.assert_close(mog_log_prob(z, *untrained.prior.mixture_parameters()), untrained.prior.log_prob(z))
print("hand-written log-density matches vaelib: True")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The exercises of these notebooks come with checks you call on your own code
# (`vaelib.exercises`). The one for this density compares a function like `mog_log_prob`
# with `torch.distributions` on fresh points and parameters, five components in three
# dimensions (so a function that only works for $L = 2$ fails), and recognises the known
# mistakes by name:

# %% slideshow={"slide_type": "-"}
exercises.check_mixture_log_prob(mog_log_prob)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Before training, the 16 components sit at random places (means drawn from N(0, I)), all
# with unit variances and equal weights 1/16. Each red dot is a component's mean; the
# lines enclose 25%, 50%, ..., 99% of the prior's mass. Sixteen unit-width bumps whose
# centres lie within about one unit of each other add up to **one** broad bump: the
# untrained mixture is already a blob.

# %% slideshow={"slide_type": "-"}
vaelib.plots.mixture_components(untrained, title="mog prior before training: 16 component means")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Train it, three seeds, against the standard prior
#
# The same architecture and recipe as every notebook (the fast recipe: a few seconds per
# model). A single training says little: notebook 2 measured how much the test −ELBO of one
# prior moves from one training seed to the next. So we train three seeds of the mixture and
# three of the standard prior, and compare mean ± spread (the sample standard deviation over
# the seeds).

# %% slideshow={"slide_type": "subslide"}
standard = vaelib.train_seeds("standard", data, seeds=3)
mog = vaelib.train_seeds("mog", data, seeds=3)

# %% slideshow={"slide_type": "subslide"}
table = vaelib.compare_seeds({"standard": standard, "mog": mog}, data.test, iwae_samples=0)

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
table

# %% [markdown] slideshow={"slide_type": "subslide"}
# The two test −ELBOs are the same within the seed spread: sixteen learned components buy
# **no difference** in likelihood over one fixed Gaussian. Notebook 7 explains why this is
# expected with a 2-D latent: the prior can only shrink $\mathrm{KL}(q(z)\,\|\,p(z))$, and
# for the standard prior that term is already a fraction of a nat.

# %% slideshow={"slide_type": "notes"}
vaelib.expect_within_noise(
    "MoG and standard prior: no difference in test −ELBO (within the seed spread)",
    table["mog"]["neg_elbo"],
    table["standard"]["neg_elbo"],
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. What the trained mixture looks like, and why it stays a blob
#
# The book's Fig. 4.13 for this prior: the learned density with an encoder sample for each
# test image, coloured by digit, and the components, each dot sized by its weight (a dot of
# the starting size has weight 1/16). Seed 0:

# %% slideshow={"slide_type": "-"}
model = mog[0]
fig, axes = plt.subplots(1, 2, figsize=(10.4, 4.3), layout="constrained")
torch.manual_seed(0)
vaelib.plots.prior_contours(model, data.test, data.test_labels, ax=axes[0])
vaelib.plots.mixture_components(model, data.test, ax=axes[1])
plt.close(fig)
fig


# %% [markdown] slideshow={"slide_type": "subslide"}
# What counts as "separate components"? Two numbers, for each trained seed:
# - **modes**: the local maxima of $p(z)$ on a grid over the codes (ignoring bumps below
#   1% of the highest): one mode is one blob, however many components it is made of;
# - **components in use**: those with weight above half of uniform, $1/(2K)$.
#
# And how far the parameters went: each mean's distance from where it started, the
# weights and the standard deviations.

# %% slideshow={"slide_type": "-"}
def mixture_shape(model, seed):
    """Modes, components in use, and how far the parameters moved, for a trained MoG prior."""
    logits, means, logvars = (p.detach() for p in model.prior.mixture_parameters())
    start = vaelib.make_vae("mog", seed=seed).prior.means.detach()  # where the means started
    grid = vaelib.latent_grid(model, data.test, resolution=200)
    with torch.no_grad():
        density = grid.image(model.prior.log_prob(grid.points).exp())[None, None]
    peaks = (density == F.max_pool2d(density, 3, stride=1, padding=1)) & (density > 0.01 * density.max())
    weights = torch.softmax(logits, 0)
    return {
        "modes": int(peaks.sum()),
        "in use": int((weights > 0.5 / len(weights)).sum()),
        "weights": (float(weights.min()), float(weights.max())),
        "stds": (float(torch.exp(0.5 * logvars).min()), float(torch.exp(0.5 * logvars).max())),
        "moved": float((means - start).norm(dim=1).mean()),
    }


def show_shapes(name, shapes):
    for seed, s in enumerate(shapes):
        print(f"{name}, seed {seed}: {s['modes']} mode(s), {s['in use']:2d} of 16 components in use, "
              f"weights {s['weights'][0]:.3f}-{s['weights'][1]:.3f}, stds {s['stds'][0]:.2f}-{s['stds'][1]:.2f}, "
              f"means moved {s['moved']:.2f} on average")


blob = [mixture_shape(m, seed) for seed, m in zip(mog.seeds, mog)]
# Adam moves a parameter by about the learning rate per step: the furthest a mean could go.
steps = [m.history.epochs * math.ceil(len(data.train) / m.history.recipe["batch_size"]) for m in mog]
budget = [n * m.history.recipe["lr"] for n, m in zip(steps, mog)]

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
show_shapes("default recipe", blob)
print(f"optimizer steps per seed: {steps}, at a learning rate of {mog[0].history.recipe['lr']}: "
      f"at most about {', '.join(f'{b:.2f}' for b in budget)} units of travel")

# %% [markdown] slideshow={"slide_type": "subslide"}
# In every seed the mixture hardly leaves its starting point: the weights stay close to
# uniform (1/16 = 0.0625), the standard deviations close to 1, the means move by a fraction
# of a standard deviation, and the overlapping components add up to one lopsided blob.

# %% slideshow={"slide_type": "notes"}
vaelib.check("default recipe: one mode in every seed", all(s["modes"] == 1 for s in blob))
vaelib.check("default recipe: all 16 components in use in every seed", all(s["in use"] == 16 for s in blob))
vaelib.check("no mean moved, on average, as far as the smallest standard deviation",
             all(s["moved"] < s["stds"][0] for s in blob))

# %% [markdown] slideshow={"slide_type": "-"}
# **Why.** The mixture does not collapse into a blob; it starts as one (section 1) and never
# leaves it. Two reasons, both measurable:
# - *The prior moves slowly.* Adam (like the book's Adamax) scales every step to about the
#   learning rate, whatever the size of the gradient. The fast recipe takes a few hundred
#   steps of $3 \cdot 10^{-3}$ (printed above): a mean can travel about one unit at most, and
#   with gradients that change sign it travels less than half of that. The encoder,
#   meanwhile, moves every code at once with its tens of thousands of weights: it is
#   cheaper for the ELBO to place the codes where the prior already has mass than to wait
#   for the prior to come to the codes.
# - *There is little to win.* The prior enters the ELBO only through
#   $\mathrm{KL}(q(z)\,\|\,p(z))$, which is already a fraction of a nat for a single blob
#   (section 2: no difference from the standard prior).
#
# Training longer does not help (table below): the book's recipe (Adamax at $10^{-3}$,
# patience 20: 1,600 to 2,100 steps, a budget of about two units) leaves one blob, and a patience of 20
# with the fast recipe keeps the very same best epoch. Neither do four components instead
# of sixteen. Means started three times wider keep some of the bumps they started with, but
# their weights stay uniform and they hardly move: the encoder adapts to them, as before.

# %% slideshow={"slide_type": "notes"}
vaelib.check("Adam's budget, steps × learning rate, is about one unit (0.5 to 2) in every seed",
             all(0.5 < b < 2 for b in budget))
vaelib.check("the means travelled less than half of that budget, on average, in every seed",
             all(s["moved"] < b / 2 for s, b in zip(blob, budget)))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. What makes it spread: let the prior learn faster
#
# The lever is the prior's own learning rate: `prior_lr_factor=30` gives the 48 numbers of
# the mixture 30 times the learning rate of the networks (a separate parameter group; the
# rest of the recipe unchanged). Measured with `benchmarks/mog_spread.py` (fast recipe unless
# said otherwise, seeds 0-2, one machine; the notebook re-trains and re-checks only the
# `prior_lr_factor=30` row):
#
# | setting | modes per seed | components in use | means moved | test −ELBO |
# |:---|:---:|:---:|---:|---:|
# | default (fast recipe) | 1, 1, 1 | 16, 16, 16 | 0.26 | 98.83 ± 0.35 |
# | fast recipe, patience 20 | 1, 1, 1 | 16, 16, 16 | 0.26 | 98.83 ± 0.35 |
# | book recipe | 1, 1, 1 | 16, 16, 16 | 0.17 | 99.25 ± 0.38 |
# | means started wider (`init_scale=3`) | 3, 1, 3 | 16, 16, 15 | 0.38 | 99.30 ± 0.86 |
# | four components ($K = 4$) | 1, 1, 1 | 4, 4, 4 | 0.29 | 99.39 ± 0.57 |
# | book recipe, `prior_lr_factor=10` | 2, 2, 2 | 14, 12, 10 | 0.94 | 99.47 ± 0.38 |
# | `prior_lr_factor=10` | 3, 2, 4 | 13, 14, 12 | 1.42 | 99.36 ± 0.08 |
# | `prior_lr_factor=30` | 4, 3, 4 | 9, 10, 8 | 1.80 | 98.87 ± 0.30 |
# | `prior_lr_factor=100` | 2, 4, 3 | 5, 7, 5 | 2.02 | 98.99 ± 0.39 |
#
# At factor 100 one component swells into a broad background (weight 0.4 to 0.5, standard
# deviation above 3) with a few narrow ones on top; 30 gives separate lobes. We train it
# here, three seeds:

# %% slideshow={"slide_type": "subslide"}
spread = vaelib.train_seeds("mog", data, seeds=3, prior_lr_factor=30.0)
spread_shapes = [mixture_shape(m, seed) for seed, m in zip(spread.seeds, spread)]
table.append(vaelib.analysis.seed_row(spread, data.test, name="mog, prior lr ×30", iwae_samples=0))

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
show_shapes("prior lr x30", spread_shapes)
table

# %% [markdown] slideshow={"slide_type": "subslide"}
# The faster prior spreads in every seed: several modes instead of one, some components
# switched off (weight below half of uniform) and the means moved several times further
# than with the default recipe. Its test −ELBO is no different from the blob's: a mixture
# that looks like a mixture is not a better model of the digits at $L = 2$.

# %% slideshow={"slide_type": "notes"}
vaelib.check("prior lr ×30: at least 2 modes in every seed", all(s["modes"] >= 2 for s in spread_shapes))
vaelib.check("prior lr ×30: some components switched off in every seed", all(s["in use"] < 16 for s in spread_shapes))
vaelib.check("prior lr ×30: the means moved further than with the default recipe, in every seed",
             min(s["moved"] for s in spread_shapes) > max(s["moved"] for s in blob))
vaelib.expect_within_noise(
    "prior lr ×30 and default recipe: no difference in test −ELBO (within the seed spread)",
    table["mog, prior lr ×30"]["neg_elbo"],
    table["mog"]["neg_elbo"],
)

# %% [markdown] slideshow={"slide_type": "-"}
# Side by side, seed 0: the default recipe's blob and the faster prior's lobes. The encoder
# has followed the prior: in this run the codes of several digit classes sit in lobes of
# their own.

# %% slideshow={"slide_type": "-"} tags=["thumbnail"]
fig, axes = plt.subplots(2, 2, figsize=(9.6, 8.6), layout="constrained")
for column, (name, m) in enumerate({"default recipe": mog[0], "prior lr ×30": spread[0]}.items()):
    torch.manual_seed(0)
    vaelib.plots.prior_contours(m, data.test, data.test_labels, ax=axes[0, column], legend=column == 1,
                                title=f"{name}: test −ELBO {vaelib.negative_elbo(m, data.test):.2f}")
    vaelib.plots.mixture_components(m, data.test, ax=axes[1, column], title=f"{name}: component means")
plt.close(fig)
fig

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The per-dimension bug
#
# Now swap the two steps: take the log-sum-exp over components **separately for each
# latent dimension**, which leaves a (B, L) array, and sum that over the dimensions. This is
# an easy slip when the Gaussian log-densities are kept per coordinate, and the book's own
# code makes it.

# %% slideshow={"slide_type": "-"}
def mog_log_prob_per_dimension(z, mixture_logits, means, logvars):
    """The bug: mix each dimension on its own, then add the dimensions. z: (B, L) -> (B,)"""
    log_weights = torch.log_softmax(mixture_logits, dim=0)[:, None]  # (K, 1): same weights in every dimension
    per_dimension = torch.logsumexp(log_weights + log_normal_per_dimension(z, means, logvars), dim=1)  # (B, L)
    return per_dimension.sum(-1)  # (B,)


# %% [markdown] slideshow={"slide_type": "subslide"}
# The check of section 1 names it:

# %% slideshow={"slide_type": "-"}
exercises.check_mixture_log_prob(mog_log_prob_per_dimension)

# %% [markdown] slideshow={"slide_type": "subslide"}
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

# %% slideshow={"slide_type": "-"}
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

# %% [markdown] slideshow={"slide_type": "subslide"}
# Both integrate to 1. Three components became $3^2 = 9$: the correct bumps on the
# diagonal, each shrunk to a third of its mass, plus six that nobody asked for. When the
# components are far apart, the two densities share only the diagonal's $K \cdot (1/K)^2 =
# 1/K$ of the mass, so the total variation is $1 - 1/K$: $2/3$ for three components (a little
# less here, where the bumps overlap slightly) and $15/16$ for sixteen. Both densities on
# the same grid and colour scale:

# %% slideshow={"slide_type": "-"}
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

# %% slideshow={"slide_type": "notes"}
toy_tv = total_variation(toy_grid, toy_correct, toy_buggy)
vaelib.check("both toy densities integrate to 1 over the grid (within 0.01)",
             abs(toy_grid.integrate(toy_correct) - 1) < 0.01 and abs(toy_grid.integrate(toy_buggy) - 1) < 0.01)
vaelib.expect_between("the toy's total variation is a little below 1 − 1/K = 2/3 (above 0.6)", toy_tv, 0.6, 2 / 3)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The bug with the trained parameters
#
# Now the same comparison for the mixture trained with the default recipe (seed 0), on a
# grid that covers the codes of the test images and nearly all of the prior's mass.

# %% slideshow={"slide_type": "notes"}
grid = vaelib.latent_grid(model, data.test, resolution=200)
with torch.no_grad():
    parameters = model.prior.mixture_parameters()
    log_correct = mog_log_prob(grid.points, *parameters)
    log_buggy = mog_log_prob_per_dimension(grid.points, *parameters)
vaelib.check("both densities integrate to 1 over the grid (within 0.01)",
             abs(grid.integrate(log_correct) - 1) < 0.01 and abs(grid.integrate(log_buggy) - 1) < 0.01)

# %% slideshow={"slide_type": "-"}
compare_densities(
    grid, (log_correct, log_buggy),
    ("correct mixture", "per-dimension bug"), "the trained prior's parameters, two densities",
)

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
trained_tv = total_variation(grid, log_correct, log_buggy)
print(f"total variation between the two densities: {trained_tv:.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The two pictures differ much less than in the toy example, and the total variation is
# small. That is what the previous section predicts: the bug replaces the prior by the
# product of its marginals, and this trained mixture is one broad, nearly round blob,
# whose coordinates have little to do with each other. The more the components spread out
# along directions that mix $z_1$ and $z_2$, the larger the gap (exercise 2 measures it for
# the mixture of section 4).

# %% slideshow={"slide_type": "notes"}
vaelib.check("the total variation is less than a third of the toy example's", trained_tv < toy_tv / 3)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Training with the bug gives a different model
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
# first step, so a different model at the end.
#
# The bug written as a prior: `torch.distributions` says exactly what it is, a product
# (`Independent`) of one-dimensional mixtures. We train it from the same starting weights
# and with the same seed as the correct mixture `model` (seed 0 of section 2):

# %% slideshow={"slide_type": "-"}
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

# %% slideshow={"slide_type": "subslide"}
buggy_history = vaelib.fit(buggy, data, seed=0)

# %% slideshow={"slide_type": "subslide"}
torch.manual_seed(0)
trained = {"correct mixture": model, "per-dimension bug": buggy}
neg_elbos = {name: vaelib.negative_elbo(m, data.test) for name, m in trained.items()}
buggy_grid = vaelib.latent_grid(buggy, data.test, resolution=200)
with torch.no_grad():
    buggy_parameters = buggy.prior.mixture_parameters()
    buggy_tv = total_variation(buggy_grid, buggy.prior.log_prob(buggy_grid.points),
                               mog_log_prob(buggy_grid.points, *buggy_parameters))

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
for name, value in neg_elbos.items():
    print(f"test −ELBO, trained with the {name:17s}: {value:.2f} nats")
print(f"bug-trained model: TV between its density and the mixture its parameters define: {buggy_tv:.3f}")

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
vaelib.plots.prior_comparison(trained, data.test, data.test_labels, neg_elbos=neg_elbos, ncols=2, panel_size=3.8)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Same data, same starting weights, same seed, two different models: the codes and the
# contours have moved. In test −ELBO the bug-trained model is no different from the correct
# mixture: it lies within the seed spread of section 2. Nothing in the loss curve tells you
# that the prior is not the density you wrote down. That is why this notebook checks the log-density against an independent
# implementation, and why vaelib builds the mixture from `Independent(Normal, 1)`: there the
# sum over dimensions happens inside each component, and the per-dimension mix cannot be
# written by accident.

# %% slideshow={"slide_type": "notes"}
with torch.no_grad():
    code_shift = (model.encode(data.test, sample=False) - buggy.encode(data.test, sample=False)).norm(dim=1).mean()
vaelib.check("the codes moved: posterior means differ by over 0.1 on average", code_shift > 0.1)
vaelib.expect_within_noise(
    "bug-trained and correct mixture: no difference in test −ELBO (within the mixture's seed spread)",
    neg_elbos["per-dimension bug"],
    table["mog"]["neg_elbo"],
)
vaelib.check("the bug-trained density is within 0.1 of its mixture in total variation", buggy_tv < 0.1)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaway
#
# A mixture of Gaussians prior is a sum over components of products over dimensions:
# log-densities are summed over the latent dimensions first, log-sum-exp'ed over the
# components second. Swapping the order still gives a valid density, the product of the
# mixture's marginals with $K^L$ components, so nothing crashes and the loss looks fine,
# yet it is a different prior, it trains a different model, and the gap can be as large as
# $1 - 1/K$ in total variation. The trained mixture itself stays the blob it started as with
# the usual recipe: each of its parameters moves about a learning rate per step, while the
# encoder moves all the codes at once, so the codes adapt to the prior rather than the prior
# to the codes. Give the prior 30 times the learning rate and it spreads into lobes, one per
# group of digits. Blob or lobes, three seeds each show no difference in test −ELBO from the
# standard prior: at $L = 2$ a flexible prior changes the picture, not the likelihood.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. **Write the mixture's sampler.** The notebook evaluates the density; now draw from it.
#    A mixture is a two-step recipe: pick a component $k$ with probabilities
#    $w = \mathrm{softmax}(\text{mixture logits})$, then draw the point from that
#    component's Gaussian $\mathcal{N}(\mu_k, \mathrm{diag}\,\sigma_k^2)$. Fill in the
#    function below (any number of components $K$ and dimensions $L$; `Categorical` is
#    imported) and run the check: it draws 20,000 samples with fresh parameters and compares
#    how often each component comes up, and each component's mean and standard deviation,
#    with the mixture's. The book's `MoGPrior.sample` would fail it: see the note at the top.

# %% slideshow={"slide_type": "-"} tags=["exercise"]
def my_mixture_sample(n, mixture_logits, means, logvars):
    """n samples of the mixture: n, (K,), (K, L), (K, L) -> (n, L)"""
    ...  # your code here


# %% slideshow={"slide_type": "-"}
exercises.check_mixture_sample(my_mixture_sample)

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 1</summary>
#
# The mixture is the marginal of a two-stage model: a component $k \sim \mathrm{Categorical}(w)$,
# then $z \mid k \sim \mathcal{N}(\mu_k, \mathrm{diag}\,\sigma_k^2)$. Summing the joint
# density over $k$ gives back $p(z) = \sum_k w_k\, \mathcal{N}(z; \mu_k, \mathrm{diag}\,\sigma_k^2)$,
# so drawing $k$ first and then $z$ from component $k$ samples $p$ exactly (ancestral
# sampling). Three details matter, and each has a wrong twin the check recognises:
# - the component is drawn with the weights $\mathrm{softmax}(\text{logits})$, not uniformly and
#   not with the raw logits: `Categorical(logits=...)` takes the softmax itself;
# - **one** component per sample, used for all $L$ coordinates: a component drawn separately in
#   each dimension samples the product of the marginals, the per-dimension bug of section 5;
# - the noise is scaled by the standard deviation $\exp(\tfrac12 \log\sigma^2)$; `exp(logvar)` is
#   the variance (the book's `sample` uses it, which shrinks every component with
#   $\sigma < 1$ and widens every one with $\sigma > 1$).
#
# ```python
# def my_mixture_sample(n, mixture_logits, means, logvars):
#     """n samples of the mixture: n, (K,), (K, L), (K, L) -> (n, L)"""
#     components = Categorical(logits=mixture_logits).sample((n,))  # (n,): one component per sample
#     noise = torch.randn(n, means.shape[1])  # (n, L)
#     return means[components] + torch.exp(0.5 * logvars[components]) * noise  # std = exp(logvar / 2)
#
#
# feedback = exercises.check_mixture_sample(my_mixture_sample)
# print(feedback)
# assert feedback, feedback
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "subslide"}
# 2. Measure the total variation of the per-dimension bug with the parameters of the mixture
#    that spread into lobes (`spread[0]`, section 4), on its own latent grid, and compare it
#    with the blob's (section 6). Why is it larger?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 2</summary>
#
# The bug replaces the mixture by the product of its marginals (section 5), so the gap
# measures how much $z_1$ and $z_2$ depend on each other under the prior. The blob of the
# default recipe is one nearly round bump whose coordinates have little to do with each
# other: the product of its marginals is almost the blob itself. The lobes sit at
# different combinations of $z_1$ and $z_2$: for a lobe at (a, b) and another at (c, d) the
# product of the marginals also puts mass at (a, d) and (c, b), where the mixture has none.
# These phantom lobes take mass away from the real ones, so the total variation is larger
# (the code prints both and checks the order). Lobes far apart, no two sharing a row or a
# column, would push the gap towards $1 - \sum_k w_k^2$: the mixture and the product share only
# the mass $w_k^2$ that the product leaves on each real lobe ($1 - 1/K$ for equal weights, the
# toy of section 5).
#
# ```python
# wide = spread[0]
# wide_grid = vaelib.latent_grid(wide, data.test, resolution=200)
# with torch.no_grad():
#     wide_parameters = wide.prior.mixture_parameters()
#     wide_correct = mog_log_prob(wide_grid.points, *wide_parameters)
#     wide_buggy = mog_log_prob_per_dimension(wide_grid.points, *wide_parameters)
# wide_tv = total_variation(wide_grid, wide_correct, wide_buggy)
# print(f"total variation of the per-dimension bug: lobes {wide_tv:.3f}, blob {trained_tv:.3f}")
# vaelib.check("the gap is larger for the lobed mixture than for the blob", wide_tv > trained_tv)
# compare_densities(wide_grid, (wide_correct, wide_buggy), ("correct mixture", "per-dimension bug"),
#                   "the lobed prior's parameters (prior lr ×30), two densities")
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "-"}
# 3. Section 5 claims that each factor of the per-dimension density is a marginal of the
#    true mixture. (a) Verify it for the trained mixture of section 6: compute its marginal
#    along $z_1$ by summing its density on the grid over $z_2$, and compare it with the
#    one-dimensional mixture $\sum_k w_k \mathcal{N}(z_1; \mu_{k1}, \sigma_{k1}^2)$; why do they
#    agree? (b) For which mixtures is the bug harmless? Check that with a single component
#    ($K = 1$) the two log-densities agree, with random parameters.

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 3</summary>
#
# (a) Integrate the mixture over $z_2$: each component is a product
# $\mathcal{N}(z_1; \mu_{k1}, \sigma_{k1}^2)\, \mathcal{N}(z_2; \mu_{k2}, \sigma_{k2}^2)$, and its
# second factor integrates to 1, so $\int p(z)\, dz_2 = \sum_k w_k\, \mathcal{N}(z_1; \mu_{k1}, \sigma_{k1}^2)$:
# exactly the factor the per-dimension log-sum-exp computes for $z_1$. On the grid the two
# curves differ only by what the grid misses: the mass outside it (below 0.01, section 6
# checked it) and the midpoint rule's error, so their $L^1$ distance stays below 0.02.
#
# (b) The bug computes the product of the marginals, so it is harmless exactly when the
# coordinates are independent under the mixture. With $K = 1$ this always holds: a diagonal
# Gaussian is the product of its one-dimensional marginals, and a log-sum-exp over a single
# component is the identity, so taking it before or after the sum over dimensions gives the
# same number. With more components it holds only for special arrangements: components that
# differ in one coordinate only, or that fill a whole grid with weights that factorise (which
# is already a product of 1-D mixtures). Any mixture whose components differ along a
# diagonal, like the toy of section 5 or the lobes of exercise 2, is changed by the bug.
#
# ```python
# # (a) marginal along z1: sum the density over z2 (times the cell height) on section 6's grid
# density = grid.image(torch.exp(log_correct.double()))  # rows: z2, columns: z1
# marginal_on_grid = density.sum(0) * (grid.extent[3] - grid.extent[2]) / grid.resolution
# logits, means, logvars = (p.detach() for p in parameters)
# one_dimensional = torch.logsumexp(
#     torch.log_softmax(logits, 0) + log_normal_per_dimension(grid.z1[:, None], means[:, :1], logvars[:, :1])[..., 0],
#     dim=1,
# ).exp()
# cell_width = (grid.extent[1] - grid.extent[0]) / grid.resolution
# l1_gap = float((marginal_on_grid - one_dimensional).abs().sum()) * cell_width
# vaelib.check("the grid marginal and the 1-D mixture are within 0.02 in L1 distance", l1_gap < 0.02)
#
# # (b) K = 1: the same log-density either way, up to rounding
# torch.manual_seed(0)
# one = (torch.zeros(1), torch.randn(1, 2), torch.randn(1, 2))
# gap = (mog_log_prob(z, *one) - mog_log_prob_per_dimension(z, *one)).abs().max()
# vaelib.check("K = 1: the two log-densities agree within 1e-4", gap < 1e-4)
#
# fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
# ax.plot(grid.z1, marginal_on_grid, linewidth=3, alpha=0.4, label="marginal of the mixture (grid)")
# ax.plot(grid.z1, one_dimensional, color="black", linewidth=1, label="1-D mixture, first dimension")
# ax.set_xlabel("$z_1$")
# ax.set_ylabel("density")
# ax.legend(fontsize=8, frameon=False)
# plt.close(fig)
# fig
# ```
#
# </details>
