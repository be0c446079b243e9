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
# # 5. GTM priors: mixture components on a learned sheet
#
# The mixture of Gaussians (notebook 3) learns every component on its own: $K$ free means,
# $K$ free variances. The **GTM prior**, after Bishop's Generative Topographic Mapping, ties
# them together: it starts from a fixed, regular grid of points on a 2-D square and lets one
# small network map every grid point to a component. The components then lie on a continuous
# sheet in latent space, and neighbours on the grid tend to be neighbours in $z$. The
# **GTM-VampPrior** maps the same grid to *images* instead, and passes them through the
# encoder, as the VampPrior (notebook 4) does with its pseudo-inputs.
#
# **What you will learn**
# - how the GTM prior turns a $4 \times 4$ grid and one network into a 16-component mixture,
#   and how to write its density by hand;
# - what the learned map looks like: the grid's image in latent space, a sheet that folds;
# - the GTM-VampPrior: the grid mapped to pseudo-inputs (a little 2-D map of images), then
#   through the encoder, and why the size of the grid's square decides how smooth that map is;
# - how the priors compare in test −ELBO over three training seeds each;
# - what "few parameters" means for these priors, counted against the MoG and the VampPrior.
#
# **Run time:** about 35 s on a 2-core laptop CPU (9 trainings).
#
# Tomczak, *Deep Generative Modeling*, Chapter 4, section on priors (GTM-based priors).

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import torch
from torch.distributions import Normal

import vaelib
from vaelib import exercises

data = vaelib.load_digits()
SHEET = 13  # the finer grid drawn as the map's sheet: 13 x 13 lines stay readable where the map folds

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The grid
#
# The prior owns a fixed grid of $K = 4 \times 4$ points $u_k$ spread evenly over the square
# $[-10, 10]^2$, as in the book. The grid is a buffer, not a parameter: training never moves
# it. Each point gets its own colour, blended from the four corners, so that we can find it
# again after the network has moved it into latent space. We build three of these VAEs, with
# seeds 0, 1 and 2, so that section 7 can compare priors against the spread between seeds;
# the pictures show seed 0.

# %% slideshow={"slide_type": "-"}
gtm_runs = vaelib.make_vaes("gtm", seeds=3)
gtm = gtm_runs[0]
print(gtm.prior)
print("grid points u_k = (u1, u2), in the order of the components:")
for row in gtm.prior.grid.view(4, 4, 2).tolist():
    print("  ".join(f"({u1:6.2f}, {u2:6.2f})" for u1, u2 in row))

# %% slideshow={"slide_type": "-"}
vaelib.plots.gtm_grid(gtm)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. From grid points to mixture components
#
# A network $g_\theta$ (two tanh hidden layers of $M = 256$ units) maps each grid point to the
# mean and log-variance of one Gaussian in latent space, and the prior is the mixture
# $$\big(\mu_k,\ \log\sigma_k^2\big) = g_\theta(u_k), \qquad
#   p(z) = \sum_{k=1}^{K} w_k\, \mathcal{N}\big(z;\ \mu_k,\ \mathrm{diag}\,\sigma_k^2\big),
#   \qquad w = \mathrm{softmax}(\text{mixture logits}).$$
# Only $\theta$ and the $K$ mixing logits are learned. The log-density is a log-sum-exp over
# components of a sum over latent dimensions (in that order: summing per dimension *after*
# the log-sum-exp would be a different, wrong density). Written out by hand, and checked
# against the library's `prior.log_prob`:

# %% slideshow={"slide_type": "-"}
def gtm_log_density(prior, z):
    """log p(z) = logsumexp_k [log w_k + sum_l log N(z_l; mu_kl, sigma_kl^2)]. z: (B, L) -> (B,)"""
    means, logvars = prior.network(prior.grid).chunk(2, dim=-1)  # (K, L) each
    log_weights = torch.log_softmax(prior.mixture_logits, dim=0)  # (K,)
    per_dimension = Normal(means, torch.exp(0.5 * logvars)).log_prob(z[:, None, :])  # (B, K, L)
    return torch.logsumexp(log_weights + per_dimension.sum(-1), dim=-1)  # sum over L, then over K


torch.manual_seed(0)
z = 3 * torch.randn(1000, 2)
with torch.no_grad():
    matches = torch.allclose(gtm_log_density(gtm.prior, z), gtm.prior.log_prob(z), atol=1e-4)
print("hand-written log p(z) equals prior.log_prob(z):", matches)

# %% [markdown] slideshow={"slide_type": "subslide"}
# > **The book's code.** In the companion notebook (`vae_priors_example.ipynb` in
# > jmtomczak/intro_dgm), the `log_prob` of both `GTMPrior` and `GTMVampPrior` takes the
# > log-sum-exp over components separately in each latent dimension, and the VAE then sums over
# > dimensions: the wrong order warned about above, a product of $L$ one-dimensional mixtures
# > ($K^L$ components). Both `sample` methods use $\exp(\log\sigma^2)$, the variance, as the
# > standard deviation. The GTM-VampPrior does not run at all: the notebook builds it with
# > `num_components=`, an argument its constructor (which takes `num_points=`) does not have, so
# > Python stops with a `TypeError`. Its network's sigmoid is also scaled by `num_vals` = 17,
# > one level beyond the largest pixel value, 16.

# %% [markdown] slideshow={"slide_type": "-"}
# Before training, the network squeezes the whole grid into a small clump near the origin:
# sixteen nearly identical components, so the prior starts out close to a single Gaussian.
# The coloured dots are the component means $\mu_k$ (each in its grid point's colour), the
# thick lines join grid neighbours, and the thin lines are the image of a finer $13 \times 13$
# grid over the same square: the sheet that the network maps the square onto. Grey dots are
# the (untrained) encoder's codes of the test images.

# %% slideshow={"slide_type": "-"}
vaelib.plots.mixture_components(gtm, data.test, sheet=SHEET, title="GTM prior before training")

# %% slideshow={"slide_type": "notes"}
with torch.no_grad():
    _, start_means, start_logvars = gtm.prior.mixture_parameters()
vaelib.check("before training, every component mean lies closer to their centre than one standard deviation of any component",
             (start_means - start_means.mean(0)).norm(dim=1).max() < torch.exp(0.5 * start_logvars).min())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Train it
#
# The fast recipe, three seeds: a few seconds each.

# %% slideshow={"slide_type": "subslide"}
histories = vaelib.fit_seeds(gtm_runs, data)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The learned sheet
#
# Where did the grid go? The components have spread out over the region the codes occupy,
# each with its weight (dot area). Follow the thick lines: they are the grid's rows and
# columns after the map. The sheet is continuous, but it is folded and stretched; some
# neighbours on the grid stay neighbours, others end up far apart, and the thin lines bunch
# up where the map squeezes the square and fan out where it stretches it.

# %% slideshow={"slide_type": "-"} tags=["thumbnail"]
fig, ax = plt.subplots(figsize=(7.0, 6.6), layout="constrained")
vaelib.plots.mixture_components(gtm, data.test, ax=ax, sheet=SHEET)
plt.close(fig)
fig

# %% [markdown] slideshow={"slide_type": "subslide"}
# The hand-written density agrees with the library for the trained weights too:

# %% slideshow={"slide_type": "-"}
with torch.no_grad():
    matches = torch.allclose(gtm_log_density(gtm.prior, z), gtm.prior.log_prob(z), atol=1e-4)
print("hand-written log p(z) equals prior.log_prob(z) after training:", matches)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. GTM-VampPrior: the grid as a map of images
#
# The GTM-VampPrior keeps the grid and the network but changes what the network produces:
# an image. A sigmoid squashes its 64 outputs into the pixel range, and the encoder turns each
# of these **pseudo-inputs** into a component, exactly as in the VampPrior:
# $$x_k = 16\,\sigma\big(g_\theta(u_k)\big) \in [0, 16]^{64}, \qquad
#   p(z) = \sum_{k=1}^{K} w_k\, q(z \mid x_k).$$
# The components now come from the encoder itself, so they move whenever the encoder moves.
# Like every prior here, it is *trained* to follow the aggregated posterior (the ELBO rewards
# that); nothing in its construction makes it equal to it. Three seeds again:

# %% slideshow={"slide_type": "subslide"}
gtm_vamp_runs = vaelib.make_vaes("gtm-vampprior", seeds=3)
vaelib.fit_seeds(gtm_vamp_runs, data)
gtm_vamp = gtm_vamp_runs[0]

# %% [markdown] slideshow={"slide_type": "subslide"}
# Left: the 16 pseudo-inputs, each drawn at its grid point ($u_1$ to the right, $u_2$ up).
# Right: what the decoder makes of each component, the decoded mean $\mathbb{E}[x \mid z =
# \mu_k]$ at the same place. The pseudo-inputs are not digits, and nothing in the ELBO asks
# them to be: they only have to land, through the encoder, where the codes are. They are also
# nearly pure black and white: the sigmoid that keeps them in the pixel range is saturated.
# The digits appear only after the round trip through encoder and decoder.

# %% slideshow={"slide_type": "-"}
prior = gtm_vamp.prior
with torch.no_grad():
    component_means = prior.mixture_parameters()[1]
decoded = gtm_vamp.decode_mean(component_means)

fig, (left, right) = plt.subplots(1, 2, figsize=(6.4, 3.4), layout="constrained")
vaelib.plots.pseudo_inputs(gtm_vamp, ax=left)
vaelib.plots.image_grid(vaelib.plots.on_grid(decoded, prior.grid_size), ax=right, ncols=prior.grid_size,
                        title="decoded component means")
plt.close(fig)
fig

# %% slideshow={"slide_type": "notes"}
def black_and_white(prior):
    """Share of the pseudo-inputs' pixels within 1 level of 0 or 16."""
    with torch.no_grad():
        pixels = prior.pseudo_inputs
    return float(((pixels < 1) | (pixels > 15)).double().mean())


vaelib.check("nearly pure black and white: over 90% of the pixels within 1 level of 0 or 16, in each of the three seeds",
             min(black_and_white(m.prior) for m in gtm_vamp_runs) > 0.9)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The components themselves, with the pseudo-inputs drawn at their means and the grid's mesh
# in latent space:

# %% slideshow={"slide_type": "-"}
fig, (left, right) = plt.subplots(1, 2, figsize=(12.0, 5.8), layout="constrained")
vaelib.plots.mixture_components(gtm_vamp, data.test, ax=left, mesh=False, images=True,
                                title="pseudo-inputs at their components")
vaelib.plots.mixture_components(gtm_vamp, data.test, ax=right, sheet=SHEET, title="the grid's image")
plt.close(fig)
fig

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The size of the square matters
#
# A map from a square to images could change gradually, so that neighbouring grid points get
# similar images. Look at the network's first layer, $\tanh(W u + b)$, to see why it need not.
# Its weights start with magnitudes below 1, so on the book's square $[-10, 10]^2$ most of the
# 256 units receive inputs far beyond the bend of the tanh: they sit on its flat parts, and a
# unit is $-1$ on one side of a line through the square and $+1$ on the other. Between two
# neighbouring grid points many units flip at once, so the map changes in jumps: neighbours
# get near-copies or quite different images, and little in between. On $[-1, 1]^2$ the same
# units stay in their linear range.
# The share of first-layer units past the bend ($|Wu + b| > 2$, where $\tanh$ is within 4%
# of $\pm 1$) over the grid points, for the untrained network:

# %% slideshow={"slide_type": "-"}
def saturated_share(grid_range):
    prior = vaelib.make_vae("gtm-vampprior", seed=0, grid_range=grid_range).prior
    with torch.no_grad():
        return float((prior.network[0](prior.grid).abs() > 2).float().mean())


saturated = {grid_range: saturated_share(grid_range) for grid_range in (10.0, 1.0)}
for grid_range, share in saturated.items():
    print(f"grid on [-{grid_range:g}, {grid_range:g}]^2: {share:.0%} of first-layer units saturated")

# %% slideshow={"slide_type": "notes"}
first_layer = vaelib.make_vae("gtm-vampprior", seed=0).prior.network[0]
vaelib.check("the first layer's weights start with magnitudes below 1", first_layer.weight.abs().max() < 1)
vaelib.check("on [-10, 10]² most first-layer units are past the bend; on [-1, 1]² none are",
             saturated[10.0] > 0.5 and saturated[1.0] == 0)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Train the same GTM-VampPrior on the smaller square (three seeds) and compare the maps of
# pseudo-inputs of seed 0: on $[-1, 1]^2$ the images change more gradually across the grid,
# the strokes shifting a little from one neighbour to the next. This is the topographic map
# that the GTM is named for. (Exercise 3 walks across both squares in small steps.)

# %% slideshow={"slide_type": "subslide"}
small_runs = vaelib.train_seeds("gtm-vampprior", data, seeds=3, grid_range=1.0)
gtm_vamp_small = small_runs[0]

fig, (left, right) = plt.subplots(1, 2, figsize=(6.4, 3.4), layout="constrained")
vaelib.plots.pseudo_inputs(gtm_vamp_small.prior, ax=left, title="grid on $[-1, 1]^2$")
vaelib.plots.pseudo_inputs(gtm_vamp.prior, ax=right, title="grid on $[-10, 10]^2$ (the book)")
plt.close(fig)
fig

# %% slideshow={"slide_type": "subslide"}
def neighbour_change(prior):
    """Mean absolute pixel difference between the pseudo-inputs of neighbouring grid points."""
    with torch.no_grad():
        images = prior.pseudo_inputs.view(prior.grid_size, prior.grid_size, -1)
    steps = [(images[1:] - images[:-1]).abs().flatten(), (images[:, 1:] - images[:, :-1]).abs().flatten()]
    return float(torch.cat(steps).mean())


changes = {"[-1, 1]²": vaelib.SeedStats(neighbour_change(m.prior) for m in small_runs),
           "[-10, 10]²": vaelib.SeedStats(neighbour_change(m.prior) for m in gtm_vamp_runs)}

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
for square, stats in changes.items():
    print(f"grid on {square}: neighbours differ by {stats:.2f} levels per pixel "
          f"(seeds 0, 1, 2: {', '.join(f'{v:.2f}' for v in stats.values)})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Over three seeds, neighbouring pseudo-inputs differ less on the small square, by more than
# the seed-to-seed spread; but the spread is wide: some seeds' maps are much smoother than
# others.

# %% slideshow={"slide_type": "notes"}
vaelib.expect_lower("neighbouring pseudo-inputs differ less on [-1, 1]² than on [-10, 10]², by more than the seed spread",
                    changes["[-1, 1]²"], changes["[-10, 10]²"])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The priors against the codes (Fig. 4.13)
#
# The book's view of a prior: its contours over the encoder's samples of the test images
# (seed 0 of each prior, each title with that model's test −ELBO).

# %% slideshow={"slide_type": "-"}
priors = {"GTM": gtm_runs, "GTM-VampPrior": gtm_vamp_runs, "GTM-VampPrior, [-1, 1]²": small_runs}
scores = {name: vaelib.SeedStats(vaelib.negative_elbo(m, data.test) for m in runs) for name, runs in priors.items()}

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
for name, stats in scores.items():
    print(f"{name:24s} test −ELBO {stats:.2f} nats (seeds 0, 1, 2: {', '.join(f'{v:.2f}' for v in stats.values)})")

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
vaelib.plots.prior_comparison({name: runs[0] for name, runs in priors.items()}, data.test,
                              neg_elbos={name: stats.values[0] for name, stats in scores.items()})

# %% [markdown] slideshow={"slide_type": "subslide"}
# Over three seeds each, the two GTM-VampPriors show no difference in mean test −ELBO. The
# GTM prior's mean differs from both by less than one and a half seed spreads: with three
# seeds too little to call a difference (notebook 9 puts all six priors side by side). In a 2-D
# latent space the choice between these priors changes *where* the codes live more than *how
# well* the images are modelled.

# %% slideshow={"slide_type": "notes"}
vaelib.expect_within_noise("GTM-VampPrior on both squares: no difference in test −ELBO beyond the seed spread",
                           scores["GTM-VampPrior"], scores["GTM-VampPrior, [-1, 1]²"])
for other in ("GTM-VampPrior", "GTM-VampPrior, [-1, 1]²"):
    gap = abs(scores["GTM"].mean - scores[other].mean)
    vaelib.check(f"GTM and {other}: the means differ by less than 1.5 seed spreads",
                 gap < 1.5 * vaelib.claims.noise(scores["GTM"], scores[other]))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. How many parameters?
#
# The selling point of the GTM priors is their economy, so let us count. Every prior below
# is built with the book's settings (networks of $M = 256$ units); the encoder, which the
# VampPriors share with the VAE, is not counted.

# %% slideshow={"slide_type": "-"}
def prior_parameters(name, num_components):
    side = math.isqrt(num_components)
    size = {"mog": dict(num_components=num_components), "vampprior": dict(num_components=num_components),
            "gtm": dict(grid_size=side), "gtm-vampprior": dict(grid_size=side)}[name]
    return vaelib.make_vae(name, seed=0, **size).prior.num_parameters()


names = ["mog", "vampprior", "gtm", "gtm-vampprior"]
sizes = [4, 9, 16, 25, 36, 49, 64]
counts = {name: [prior_parameters(name, k) for k in sizes] for name in names}
print(f"{'prior':14s} {'K = 16':>8s} {'K = 64':>8s} {'per extra component':>20s}")
for name in names:
    at16, at64 = counts[name][sizes.index(16)], counts[name][sizes.index(64)]
    print(f"{name:14s} {at16:8,d} {at64:8,d} {(at64 - at16) / 48:20g}")

# %% slideshow={"slide_type": "-"}
fig, ax = plt.subplots(figsize=(5.6, 3.6), layout="constrained")
for name in names:
    ax.plot(sizes, counts[name], marker="o", markersize=4, label=name)
ax.set_yscale("log")
ax.set_xlabel("number of components K")
ax.set_ylabel("learnable parameters of the prior")
ax.set_xticks(sizes)
ax.grid(True, which="major", linewidth=0.4, alpha=0.5)
ax.legend(fontsize=8, frameon=False)
ax.set_title("the cost of a component", fontsize=10)
plt.close(fig)
fig

# %% slideshow={"slide_type": "notes"}
extra = {name: (counts[name][sizes.index(64)] - counts[name][sizes.index(16)]) / 48 for name in names}
at16 = {name: counts[name][sizes.index(16)] for name in names}
vaelib.check("at K = 16 both GTM priors have more parameters than the MoG and the VampPrior",
             min(at16["gtm"], at16["gtm-vampprior"]) > max(at16["mog"], at16["vampprior"]))
vaelib.check("an extra component costs 1 parameter in the GTM priors, 5 in the MoG, 65 in the VampPrior",
             extra == {"mog": 5, "vampprior": 65, "gtm": 1, "gtm-vampprior": 1})

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read the table with care. With the book's $M = 256$ the GTM priors are the *largest* at
# $K = 16$: their network alone has tens of thousands of weights, against 80 numbers for the
# MoG. What the grid buys is that this cost does not grow: an extra component costs one
# mixing logit, against 5 numbers for a MoG component (2 means, 2 log-variances, a logit)
# and 65 for a VampPrior component (64 pixels and a logit). An $8 \times 8$ grid has four
# times the components for 48 more parameters. And the network need not be that big:
# exercise 1 trains a GTM prior whose network has 16 hidden units.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaway
#
# A GTM prior is a mixture whose components are not free: a network maps a fixed 2-D grid to
# them, so they lie on a continuous sheet in latent space and cost one mixing logit each
# beyond the network's weights. The GTM-VampPrior maps the grid to pseudo-inputs instead and
# lets the encoder place the components, so they move whenever the encoder does. How
# "topographic" the result is depends on a detail: on the book's $[-10, 10]^2$ square the
# first tanh layer saturates and the map changes in jumps, with black-and-white pseudo-inputs
# that look like no digit; on $[-1, 1]^2$ the images change more gradually across the grid.
# In test −ELBO, three seeds each show no difference between the two GTM-VampPriors, and the
# GTM prior lies less than one and a half seed spreads from them: nothing three seeds can call.
#
# ## Exercises
#
# 1. Build GTM priors whose network has 16 hidden units instead of 256, three seeds
#    (`vaelib.train_seeds("gtm", data, seeds=3, hidden_dim=16)`: the option goes to the prior),
#    and compare their parameter count and test −ELBO with the three GTM runs of section 7
#    (`scores["GTM"]`). Does the smaller network cost anything?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 1</summary>
#
# The count falls from tens of thousands to a few hundred (2 → 16 → 16 → 4 units: 404
# parameters, 16 of them mixing logits), under 1% of the book-sized prior. But the smaller
# network costs test −ELBO: over three seeds each, its mean is higher than the book-sized
# GTM's by more than the seed-to-seed spread. Section 8's economy is about the cost of one
# *more* component (a logit); the components themselves still have to be made by the
# network. A likely reason for the loss: on the book's square $[-10, 10]^2$ most first-layer
# units are saturated (section 6), so a narrow network has only a few step-like features from
# which to build sixteen well-placed components, and a training of seconds in which to do it.
# "Few parameters" is a property of the grid, not a licence to shrink the map.
#
# ```python
# narrow_runs = vaelib.train_seeds("gtm", data, seeds=3, hidden_dim=16, progress=False)
# narrow_scores = vaelib.SeedStats(vaelib.negative_elbo(m, data.test) for m in narrow_runs)
# narrow_count, book_count = narrow_runs[0].prior.num_parameters(), gtm.prior.num_parameters()
# print(f"parameters: {narrow_count:,} with 16 hidden units, {book_count:,} with 256")
# print(f"test −ELBO: {narrow_scores:.2f} with 16 hidden units, {scores['GTM']:.2f} with 256")
# vaelib.check("the 16-unit prior has 404 parameters, under 1% of the book-sized one's",
#              narrow_count == 404 and narrow_count < 0.01 * book_count)
# vaelib.expect_lower("the book-sized network's test −ELBO is lower, by more than the seed spread (three seeds each)",
#                     scores["GTM"], narrow_scores)
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "-"}
# 2. **The GTM by hand, and the size of its square.** (a) Write the two pieces of a GTM
#    prior from scratch. First the grid: `grid_size` $\times$ `grid_size` points spread evenly
#    over $[-r, r]^2$ ($r$ = `grid_range`), both edges included, in any order. Then the
#    log-density with uniform weights $1/K$, as in Bishop's GTM (a vaelib GTM prior before
#    training is one: its mixture logits start at 0): the grid through the network, whose
#    output holds the $L$ means, then the $L$ log-variances (as `prior.network` does), and
#    $$\log p(z) = \operatorname{logsumexp}_k \Big[\sum_{l=1}^L \log \mathcal{N}\big(z_l;\ \mu_{kl},\ \exp(\log\sigma^2_{kl})\big)\Big] - \log K.$$
#    The checks run your functions with fresh sizes, a fresh network and $L = 3$. (b) Train
#    the GTM prior on the square $[-1, 1]^2$, three seeds
#    (`vaelib.train_seeds("gtm", data, seeds=3, grid_range=1.0)`), and draw the sheet of
#    seed 0 as in section 4. Is it less folded than the one of section 4? Does the test −ELBO
#    change?

# %% slideshow={"slide_type": "-"} tags=["exercise"]
def my_gtm_grid(grid_size, grid_range):
    """The grid_size ** 2 points spread evenly over [-grid_range, grid_range]^2, edges included: -> (K, 2)"""
    ...  # your code here


# %% slideshow={"slide_type": "-"}
exercises.check_gtm_grid(my_gtm_grid)


# %% slideshow={"slide_type": "-"} tags=["exercise"]
def my_gtm_log_prob(z, network, grid_size, grid_range):
    """log p(z) of the GTM prior with uniform weights 1/K. z: (N, L) -> (N,); network: (K, 2) -> (K, 2 L)"""
    ...  # your code here


# %% slideshow={"slide_type": "-"}
exercises.check_gtm_log_prob(my_gtm_log_prob)

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 2</summary>
#
# (a) `torch.linspace(-r, r, k)` gives the $k$ values of one axis with both edges (its third
# argument counts points, not intervals; `torch.arange` would leave out $+r$), and the grid is
# every *pair* of them, $k^2$ points: `torch.meshgrid`, flattened (pairing the axis with itself
# gives only the diagonal). The order does not matter here because all weights are equal. The
# density is the mixture of notebook 3 with $w_k = 1/K$: a sum over the $L$ dimensions inside
# each component, then the log-sum-exp over the $K$ components, minus $\log K$; the standard
# deviation is $\exp(\tfrac12 \log\sigma^2)$. On a fresh GTM prior it agrees with vaelib.
#
# ```python
# def my_gtm_grid(grid_size, grid_range):
#     """The grid_size ** 2 points spread evenly over [-grid_range, grid_range]^2, edges included: -> (K, 2)"""
#     axis = torch.linspace(-grid_range, grid_range, grid_size)  # grid_size points, both edges
#     first, second = torch.meshgrid(axis, axis, indexing="ij")  # every pair (u1, u2)
#     return torch.stack([first.reshape(-1), second.reshape(-1)], dim=1)
#
#
# def my_gtm_log_prob(z, network, grid_size, grid_range):
#     """log p(z) of the GTM prior with uniform weights 1/K. z: (N, L) -> (N,); network: (K, 2) -> (K, 2 L)"""
#     grid = my_gtm_grid(grid_size, grid_range)
#     means, logvars = network(grid).chunk(2, dim=-1)  # (K, L) each
#     per_dimension = Normal(means, torch.exp(0.5 * logvars)).log_prob(z[:, None, :])  # (N, K, L)
#     return torch.logsumexp(per_dimension.sum(-1), dim=1) - math.log(len(grid))  # sum over L, then mix, weight 1/K
#
#
# for feedback in (exercises.check_gtm_grid(my_gtm_grid), exercises.check_gtm_log_prob(my_gtm_log_prob)):
#     print(feedback)
#     assert feedback, feedback
#
# fresh = vaelib.make_vae("gtm", seed=0).prior  # untrained: mixture logits 0, uniform weights
# with torch.no_grad():
#     gap = (my_gtm_log_prob(z, fresh.network, fresh.grid_size, fresh.grid_range) - fresh.log_prob(z)).abs().max()
# vaelib.check("my density equals an untrained vaelib GTM prior's, within 1e-4", gap < 1e-4)
# ```
#
# (b) Much less: it hardly folds, if at all. A fold is where the sheet turns over, so count it:
# each small cell of the $13 \times 13$ sheet has an orientation (the sign of the cross product
# of its two edges in latent space), and a sheet without folds keeps one orientation
# everywhere. On $[-1, 1]^2$ under 2% of the cells are turned over, in each of the three
# seeds; on the book's square over a quarter are, in each seed. The reason is section 6's: on
# the small square the first layer starts in the linear range of its tanh, so the map is a
# smooth, gently bent function of $u$, and turning the sheet over would take a much stronger
# bend; on $[-10, 10]^2$ the saturated units switch between $-1$ and $+1$ along lines through
# the square and scramble the order of the grid points in latent space. The test −ELBO does not
# care: the two squares differ by less than the seed-to-seed spread. The folds are a matter of
# how readable the map is, not of how well the prior fits.
#
# ```python
# def turned_over(prior, n=SHEET):
#     """Share of the n x n sheet's cells whose orientation in latent space is the less common one."""
#     with torch.no_grad():
#         means = prior.components_at(prior.fine_grid(n))[0].view(n, n, -1)  # (n, n, 2), rows: u1
#     along_1, along_2 = means[1:, :-1] - means[:-1, :-1], means[:-1, 1:] - means[:-1, :-1]
#     signed_area = along_1[..., 0] * along_2[..., 1] - along_1[..., 1] * along_2[..., 0]
#     positive = float((signed_area > 0).double().mean())
#     return min(positive, 1 - positive)
#
#
# unit_square_runs = vaelib.train_seeds("gtm", data, seeds=3, grid_range=1.0, progress=False)
# flips = {"[-1, 1]²": [turned_over(m.prior) for m in unit_square_runs], "[-10, 10]²": [turned_over(m.prior) for m in gtm_runs]}
# for square, shares in flips.items():
#     print(f"grid on {square}: cells turned over, seeds 0, 1, 2: {', '.join(f'{v:.0%}' for v in shares)}")
# vaelib.check("on [-1, 1]² under 2% of the sheet's cells are turned over, on [-10, 10]² over a quarter (each seed)",
#              max(flips["[-1, 1]²"]) < 0.02 and min(flips["[-10, 10]²"]) > 0.25)
# unit_square_scores = vaelib.SeedStats(vaelib.negative_elbo(m, data.test) for m in unit_square_runs)
# vaelib.expect_within_noise("GTM on [-1, 1]² and on [-10, 10]²: no difference in test −ELBO beyond the seed spread",
#                            unit_square_scores, scores["GTM"])
# vaelib.plots.mixture_components(unit_square_runs[0], data.test, sheet=SHEET, title="GTM prior, grid on $[-1, 1]^2$")
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "subslide"}
# 3. Walk across the square: the map is defined everywhere, not only at the grid points.
#    Draw the pseudo-inputs $16\,\sigma(g_\theta(u))$ at 9 evenly spaced points $u$ on the
#    line $u_2 = 0$, from one side of the square to the other, for both GTM-VampPriors of
#    section 6 (`prior.network(points)` gives $g_\theta$). Which one morphs, which one jumps?
#    Say it with a number too: how much of the walk's total change happens in its largest step?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 3</summary>
#
# The small square morphs, the book's square jumps. Measure each step of a finer walk (33
# points, 32 steps) as the mean absolute change of the pixels: a morph spreads the change over
# many steps, a jump puts most of it into one. On $[-1, 1]^2$ the largest step carries under 20%
# of the walk's total change in each of the three seeds; on $[-10, 10]^2$ over 40% in each seed.
# Two saturations make the jumps. The first layer's units, saturated on the big square
# (section 6), each switch from $-1$ to $+1$ where the walk crosses their line, so the network's
# output changes in steps; and the sigmoid that makes the pixels is saturated too, so a pixel
# does not fade from black to white, it flips (the black-and-white pseudo-inputs of section 5).
# On the small square neither happens, and the strokes shift a little with every step: the
# topographic map the GTM is named for.
#
# ```python
# def walk(prior, steps):
#     """Pseudo-inputs at `steps` evenly spaced points from one side of the square to the other on u2 = 0."""
#     reach = float(prior.grid.abs().max())
#     points = torch.stack([torch.linspace(-reach, reach, steps), torch.zeros(steps)], dim=1)
#     with torch.no_grad():
#         return (prior.encoder.num_values - 1) * torch.sigmoid(prior.network(points)), reach
#
#
# def largest_step_share(prior):
#     """The share of a 33-point walk's total pixel change that happens in its largest step."""
#     images, _ = walk(prior, 33)
#     changes = (images[1:] - images[:-1]).abs().mean(dim=1)
#     return float(changes.max() / changes.sum())
#
#
# shares = {"[-1, 1]²": [largest_step_share(m.prior) for m in small_runs],
#           "[-10, 10]²": [largest_step_share(m.prior) for m in gtm_vamp_runs]}
# for square, values in shares.items():
#     print(f"grid on {square}: the largest of 32 steps carries {', '.join(f'{v:.0%}' for v in values)} of the change")
# vaelib.check("the largest step carries under 20% of the change on [-1, 1]², over 40% on [-10, 10]² (each seed)",
#              max(shares["[-1, 1]²"]) < 0.2 and min(shares["[-10, 10]²"]) > 0.4)
#
# fig, axes = plt.subplots(2, 1, figsize=(6.4, 2.1), layout="constrained")
# for ax, (square, model) in zip(axes, [("[-1, 1]²", gtm_vamp_small), ("[-10, 10]²", gtm_vamp)]):
#     images, reach = walk(model.prior, 9)
#     vaelib.plots.pseudo_inputs(images, ax=ax, ncols=9, vmax=16, title=f"grid on {square}: $u_1$ from {-reach:g} to {reach:g}, $u_2 = 0$")
# plt.close(fig)
# fig
# ```
#
# </details>
