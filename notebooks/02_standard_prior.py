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
# # 2. The standard Gaussian prior
#
# The default choice, and the yardstick for every other prior in this collection: a fixed
# standard normal, $p(z) = \mathcal{N}(z; 0, I)$. It has no parameters and a KL term in closed
# form, and it is the prior of nearly every VAE tutorial. This notebook trains a VAE with it and
# then compares what the prior *says* about the latent space with what the encoder *does*.
#
# **What you will learn**
# - what $\mathcal{N}(0, I)$ looks like in 2-D, and the closed-form KL it gives the ELBO;
# - how to read the book's Fig. 4.13: prior contours over the encoder's codes;
# - the **aggregated posterior** $q(z)$, and the **holes**: prior mass where no data lives,
#   measured as one number;
# - what the decoder draws in the holes, and what the standard prior costs where the data *does* live;
# - how far every one of these numbers moves when only the training seed changes, and the rule the
#   rest of the collection uses to compare priors: a difference smaller than that is no difference.
#
# **Run time:** about 30 s on a 2-core laptop CPU (5 trainings).
#
# Tomczak, *Deep Generative Modeling*, Chapter 4, the section on priors: the standard Gaussian
# prior and its Fig. 4.13. Notebook 1 introduces the data and the ELBO.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import torch

import vaelib
from vaelib import analysis, check, exercises

data = vaelib.load_digits()
IWAE_SAMPLES = 100  # importance samples per image for −log p(x) (notebook 1 shows how it approaches the exact value)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The prior: a round hill
#
# In $L$ dimensions,
# $$p(z) = \mathcal{N}(z; 0, I) = (2\pi)^{-L/2} \exp\!\big(-\tfrac12 \|z\|^2\big), \qquad
# \log p(z) = -\tfrac{L}{2}\log 2\pi - \tfrac12 \|z\|^2 .$$
# It depends on $z$ only through the distance $\|z\|$ from the origin: every direction is the
# same. In 2-D the mass within radius $r$ is $1 - e^{-r^2/2}$, so the contour line that encloses
# a share $m$ of the mass is the circle of radius $r_m = \sqrt{-2 \ln(1 - m)}$. These circles are the
# contour lines of every plot below. Let us check the formulas against `vaelib`'s prior.

# %% slideshow={"slide_type": "-"}
model = vaelib.make_vae("standard", seed=0)
prior = model.prior
print(prior, "has", prior.num_parameters(), "parameters")

torch.manual_seed(0)
z = prior.sample(100_000)
by_hand = -math.log(2 * math.pi) - 0.5 * (z**2).sum(1)
print("log p(z) by hand == prior.log_prob(z):", torch.allclose(by_hand, prior.log_prob(z), atol=1e-5))
radii = {m: math.sqrt(-2 * math.log(1 - m)) for m in vaelib.plots.MASS_LEVELS}
for m, r in radii.items():
    print(f"circle of radius {r:.2f} encloses {m:.0%} of the mass; share of 100,000 samples inside: "
          f"{float((z.norm(dim=1) <= r).double().mean()):.3f}")

# %% slideshow={"slide_type": "-"}
fig, ax = plt.subplots(figsize=(4.2, 4.2), layout="constrained")
ax.scatter(z[:3000, 0], z[:3000, 1], s=2, c="0.55", linewidths=0)
for m, r in radii.items():
    ax.add_patch(plt.Circle((0, 0), r, fill=False, color="#31688e", linewidth=1))
    ax.text(r * math.cos(math.pi / 4), r * math.sin(math.pi / 4), f"{m:.0%}", fontsize=8, color="#31688e",
            ha="center", va="center", bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none"))
ax.set_xlim(-3.6, 3.6)
ax.set_ylim(-3.6, 3.6)
ax.set_aspect("equal")
ax.set_xlabel("$z_1$")
ax.set_ylabel("$z_2$")
ax.set_title("3000 samples of N(0, I) and its mass circles", fontsize=10)
plt.close(fig)
fig

# %% [markdown] slideshow={"slide_type": "subslide"}
# > **The book's code.** None of the companion code's prior defects touches the standard prior:
# > its `StandardPrior` samples with `torch.randn` and sums a correct per-dimension log-density, so
# > the book's `vae_priors_example` trains the same model as this notebook (with the book's recipe).
# > One defect of every prior applies here too: it saves whole pickled models and reloads them with
# > `torch.load`, which PyTorch 2.6 and later refuse by default, so the run stops at the first epoch
# > that improves on the validation loss.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Train a VAE with it
#
# The book's architecture, the fast recipe, early stopping on the validation −ELBO. The live view
# draws the prior's contours (the circles above) and one code $z \sim q(z|x)$ per test image.

# %% slideshow={"slide_type": "subslide"}
history = vaelib.live_fit(model, data, seed=0)

# %% slideshow={"slide_type": "subslide"}
test_neg_elbo = vaelib.negative_elbo(model, data.test)

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"{history.epochs} epochs ({history.stopped}); test −ELBO {test_neg_elbo:.2f} nats per image")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The book's Fig. 4.13: prior contours over the codes
#
# The figure the whole collection is built around. Left, as in the book: the prior's contour
# lines, each enclosing a share of its mass, and one encoder sample per test image as a black
# dot. Right: the same dots coloured by the digit they encode.

# %% slideshow={"slide_type": "-"} tags=["thumbnail"]
fig, (ax_plain, ax_digits) = plt.subplots(1, 2, figsize=(10, 4.3), layout="constrained")
torch.manual_seed(0)
vaelib.plots.prior_contours(model, data.test, ax=ax_plain, neg_elbo=test_neg_elbo)
torch.manual_seed(0)
vaelib.plots.prior_contours(model, data.test, data.test_labels, ax=ax_digits, title="the same codes, by digit")
plt.close(fig)
fig

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read it in three steps.
#
# 1. **The codes stay inside the circles.** Nearly every dot lies within the 99% circle: the
#    prior's term of the ELBO has kept the encoder on the prior's ground.
# 2. **But they do not fill the circles evenly.** Each digit claims its own region, and the
#    regions of the most distinctive digits reach out towards the rim like arms. Between the
#    arms, near the rim, there are stretches with no dots at all, yet the prior's density there
#    is as high as anywhere at that radius: the prior is round, the data is not.
# 3. **The centre is crowded.** Several digits overlap around the origin, where the prior is
#    highest. Whatever sits there is cheap for the prior's term, and hard for the decoder to tell apart.
#
# The next sections turn each observation into a number or a picture. The first one is a count:

# %% slideshow={"slide_type": "notes"}
# This run's codes change a little from one computer to the next; the claim must not.
torch.manual_seed(0)
inside = float((model.encode(data.test).norm(dim=1) <= radii[0.99]).double().mean())
check("nearly every code (at least 98%) lies within the 99% circle", inside >= 0.98)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The KL term in closed form
#
# With a Gaussian posterior and the standard prior, the KL term of the ELBO needs no sampling:
# $$\mathrm{KL}\big(\mathcal{N}(\mu, \mathrm{diag}\,\sigma^2)\,\big\|\,\mathcal{N}(0, I)\big)
# = \frac12 \sum_{l=1}^{L} \big(\mu_l^2 + \sigma_l^2 - \log \sigma_l^2 - 1\big).$$
# It splits into two pieces with a clear meaning. $\frac12\|\mu\|^2$ is a **rent** every code
# pays for its distance from the origin; $\frac12\sum_l(\sigma_l^2 - \log\sigma_l^2 - 1) \ge 0$ is
# zero at $\sigma_l = 1$ and grows as the posterior narrows, which the reconstruction needs. We write
# it by hand, compare with `torch.distributions`, and with the Monte Carlo estimate `vaelib`
# trains with (one sample per image, averaged here over 200 draws).

# %% slideshow={"slide_type": "-"}
with torch.no_grad():
    mean, logvar = model.encoder(data.test)
    rent = 0.5 * (mean**2).sum(1)
    narrowing = 0.5 * (logvar.exp() - logvar - 1).sum(1)
    kl = rent + narrowing
    library = torch.distributions.kl_divergence(model.posterior(data.test), prior.distribution())
    torch.manual_seed(0)
    monte_carlo = torch.stack([model.elbo(data.test).kl for _ in range(200)])
print("closed form by hand == torch.distributions.kl_divergence:", torch.allclose(kl, library, atol=1e-5))
error = float(monte_carlo.mean() - kl.mean())
standard_error = float(monte_carlo.mean(1).std() / math.sqrt(len(monte_carlo)))  # the 200 draws are independent
check("the Monte Carlo average is within 4 standard errors of the closed form", abs(error) < 4 * standard_error)

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"average KL {kl.mean():.2f} nats = rent ½‖μ‖² {rent.mean():.2f} + narrowing {narrowing.mean():.2f}")
print(f"posterior standard deviations: median {logvar.mul(0.5).exp().median():.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The posteriors are narrow (their standard deviations are a small fraction of the prior's 1),
# and that costs a fee of a couple of nats that is about the same for every image: the floor of
# the plot below. The rent is smaller on average, but it is what differs between images: it grows
# with the square of the distance from the origin, so an image whose code sits at the rim pays
# several nats more than one at the centre. That is the pressure that keeps the codes inside the
# circles, and the reason the centre is crowded.

# %% slideshow={"slide_type": "notes"}
# The claims above, checked: this run's numbers change a little from one computer to the next, the claims must not.
check("the posteriors are narrow: median standard deviation below 0.3", logvar.mul(0.5).exp().median() < 0.3)
check("the narrowing fee is a couple of nats on average (1 to 4)", 1 < narrowing.mean() < 4)
check("the rent is smaller on average than the fee", rent.mean() < narrowing.mean())
check("the rent varies between images more than twice as much as the fee (standard deviations)",
      rent.std() > 2 * narrowing.std())
check("the code furthest out pays several nats (over 3) more rent than the one nearest the centre",
      rent.max() - rent.min() > 3)

# %% slideshow={"slide_type": "-"}
radius = mean.norm(dim=1)
fig, ax = plt.subplots(figsize=(5.8, 3.8), layout="constrained")
colors = [vaelib.plots.LABEL_COLORS[d] for d in data.test_labels.tolist()]
ax.scatter(radius, kl, s=8, c=colors, linewidths=0)
r = torch.linspace(0, float(radius.max()), 100)
ax.plot(r, 0.5 * r**2 + narrowing.mean(), color="black", linewidth=1,
        label="½‖μ‖² + the average narrowing fee")
ax.set_xlabel("‖μ(x)‖: distance of the posterior mean from the origin")
ax.set_ylabel("KL(q(z|x) ‖ p(z)) (nats)")
ax.set_title("the KL of each test image, coloured by digit", fontsize=10)
handles = [plt.Line2D([], [], linestyle="", marker="o", markersize=4, color=vaelib.plots.LABEL_COLORS[d])
           for d in range(10)]
legend = ax.legend(loc="upper left", fontsize=8, frameon=False)
ax.add_artist(legend)
ax.legend(handles, [str(d) for d in range(10)], title="digit", fontsize=7, title_fontsize=8, frameon=False,
          loc="center left", bbox_to_anchor=(1.0, 0.5))
plt.close(fig)
fig

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The aggregated posterior against the prior
#
# The dots of Fig. 4.13 are samples of one distribution: pick a test image at random, then a
# code from its posterior. Its density is the **aggregated posterior**, a mixture of the $N = 447$
# posteriors,
# $$q(z) = \frac1N \sum_{n=1}^{N} q(z|x_n).$$
# It describes the codes the decoder actually receives from real images, while the prior is the
# distribution new samples are drawn from. If the prior is good, the two look alike (notebook 7
# shows that, for a fixed encoder, the ELBO is largest when $p(z) = q(z)$). Here they are on one
# grid and one (logarithmic) colour scale.

# %% slideshow={"slide_type": "-"}
vaelib.plots.posterior_vs_prior(model, data.test)

# %% [markdown] slideshow={"slide_type": "subslide"}
# $q(z)$ is lumpy and star-shaped, one lump or arm per group of digits; the prior is a smooth
# round hill. The hatched region, outlined in blue, is the **holes**: every point of the grid
# where $q(z) < 0.1\,p(z)$, the data's codes less than a tenth as dense as the prior's samples,
# the same definition as the share of holes in the prior's title (section 6). It surrounds the
# star out to the edge of the grid, because far from the data $q(z)$, a mixture of narrow
# posteriors, falls off faster than $p(z)$. But the share weighs the holes by the prior's mass,
# and only 1% of it lies beyond the 99% circle: most of what the share counts are the bays near
# the rim, between the arms.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Holes, as one number
#
# `vaelib.holes(model, x)` (in `vaelib.analysis`) asks of the prior's own samples: how many land
# where the data's codes are thin?
# $$\text{holes} \;=\; P_{z \sim p(z)}\big[\, q(z) < 0.1\, p(z) \,\big].$$
# It draws 10,000 codes from the prior (with a fixed seed), evaluates both densities at each and
# counts the share where the aggregated posterior of the images `x` falls below a tenth of the
# prior. The threshold is a ratio, not an absolute density, so a point far out in the tail, where
# both densities are tiny, counts only if the data is *much* thinner than the prior there. The
# number is 0 when $p(z) = q(z)$, and its Monte Carlo standard error is at most
# $0.5/\sqrt{10{,}000} = 0.5$ percentage points. This is the one definition of holes in the whole
# collection: the title of the figure above, the tables of later notebooks and the playground
# all show this number.

# %% slideshow={"slide_type": "notes"}
share = vaelib.holes(model, data.test)
figure = vaelib.plots.posterior_vs_prior(model, data.test)
plt.close(figure)
check("the figure's title shows the same share of holes", any(f"{share:.1%}" in ax.get_title() for ax in figure.axes))
# At most 1% of the prior's mass lies beyond its 99% circle, so with a share above 2% most of it lies inside.
check("most of the share of holes lies within the 99% circle", share > 2 * 0.01)

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"{share:.1%} of the samples from the prior land in holes (q(z) < 0.1 p(z))")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. What the decoder draws in the holes
#
# The decoder was trained only on codes of real images, so it has never been told what a code
# in a hole should look like. Draw 2000 codes from the prior, sort them by the ratio
# $q(z)/p(z)$, and decode two groups: codes **in holes** ($q < 0.1\,p$) and codes **where the data
# lives** ($q > p$: the data is denser there than the prior). We decode the expected grey level of
# every pixel, and measure how sure the decoder is with the entropy of $p(x|z)$, summed over the 64
# pixels (0 would be a decoder certain of every pixel).

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
samples = prior.sample(2000)
log_ratio = (analysis.aggregate_posterior_log_density(model, data.test, samples)
             - analysis.prior_log_density(model, samples))
in_holes = log_ratio < math.log(analysis.HOLE_RATIO)
in_data = log_ratio > 0
with torch.no_grad():
    decoder_entropy = model.decoder.distribution(samples).base_dist.entropy().sum(-1)
groups = {"in holes": samples[in_holes][:24], "where the data lives": samples[in_data][:24]}

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
for name, where in (("in holes", in_holes), ("where the data lives", in_data)):
    print(f"{name:21s}: {int(where.sum()):4d} of 2000 prior samples, decoder entropy "
          f"{decoder_entropy[where].mean():.1f} nats per image on average")

# %% slideshow={"slide_type": "-"}
fig = plt.figure(figsize=(11, 3.9), layout="constrained")
ax_latent, ax_holes, ax_data = fig.subplots(1, 3, width_ratios=(1.15, 1, 1))
codes = model.encode(data.test)
ax_latent.scatter(codes[:, 0], codes[:, 1], s=3, c="0.6", linewidths=0, label="test codes")
for (name, z_group), color in zip(groups.items(), ("#d62728", "#1f77b4")):
    ax_latent.scatter(z_group[:, 0], z_group[:, 1], s=22, c=color, edgecolors="white", linewidths=0.5,
                      label=f"prior samples {name}")
for r in radii.values():
    ax_latent.add_patch(plt.Circle((0, 0), r, fill=False, color="0.75", linewidth=0.7))
ax_latent.set_xlim(-3.6, 3.6)
ax_latent.set_ylim(-3.6, 3.6)
ax_latent.set_aspect("equal")
ax_latent.set_xlabel("$z_1$")
ax_latent.set_ylabel("$z_2$")
ax_latent.legend(loc="lower left", fontsize=7, frameon=True, framealpha=0.9, markerscale=0.8)
ax_latent.set_title("where the two groups come from", fontsize=10)
for ax, (name, z_group), color in zip((ax_holes, ax_data), groups.items(), ("#d62728", "#1f77b4")):
    vaelib.plots.image_grid(model.decode_mean(z_group), ax=ax, ncols=6)
    ax.set_title(f"decoded: {name}", fontsize=10, color=color)
plt.close(fig)
fig

# %% [markdown] slideshow={"slide_type": "subslide"}
# Look before you judge. In this model the holes lie near the rim, between the arms, and what
# the decoder draws there is an **extrapolation** of the nearest arms: bold, crisp strokes, some
# of them a clear digit, others a hybrid of two neighbouring arms that nobody writes. The decoder
# is not unsure there. Its entropy is *lower* in the holes than where the data lives: it draws
# these images confidently, although no image was ever encoded there, and nothing in training
# told it whether they are right. A sample from a hole is a guess presented as a digit.
#
# The samples where the data lives are blurrier. Those codes lie nearer the crowded centre,
# where codes of several digits overlap and the decoder hedges between them: a grey blend of the
# digits that share the centre. That is the other cost of the standard prior, **over-regularisation**: the rent
# $\frac12\|\mu\|^2$ packs all codes into one disc, and digits that do not win a place at the rim
# share the centre. Both costs come from the same mismatch: the prior is round and fixed, the
# aggregated posterior is neither.

# %% slideshow={"slide_type": "notes"}
# The claims above, checked: this run's numbers change a little from one computer to the next, the claims must not.
difference = decoder_entropy[in_data].mean() - decoder_entropy[in_holes].mean()
error = (decoder_entropy[in_data].var() / in_data.sum() + decoder_entropy[in_holes].var() / in_holes.sum()).sqrt()
distance = samples.norm(dim=1)
check("the decoder's entropy is lower in the holes than where the data lives (by over 3 standard errors)",
      difference > 3 * error)
check("the holes lie near the rim: half of their samples are beyond the 90% circle",
      distance[in_holes].median() > radii[0.9])
check("the samples where the data lives are nearer the centre (median distance smaller by over 1)",
      distance[in_data].median() < distance[in_holes].median() - 1)

# %% [markdown] slideshow={"slide_type": "-"}
# Samples from the model as a generator mix both kinds:

# %% slideshow={"slide_type": "-"}
vaelib.plots.prior_samples(model, n=48, ncols=12, seed=0)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. What the decoder learned: reconstructions and the latent manifold
#
# For completeness, the two standard views of a trained VAE. Reconstructions (the decoded
# posterior mean of each test image) show what survives the squeeze through two numbers; the
# latent manifold decodes a regular grid of points and puts each image at its place in the plane,
# with the prior's circles on top.

# %% slideshow={"slide_type": "-"}
vaelib.plots.reconstructions(model, data.test, n=24, ncols=12)

# %% slideshow={"slide_type": "subslide"}
vaelib.plots.latent_manifold(model, data.test, n=13)

# %% [markdown] slideshow={"slide_type": "subslide"}
# In the reconstructions, digits whose codes share the crowded centre often come back blurred
# into each other. The manifold is the whole story in one picture: along
# the rim, the digits that won an arm are crisp (and they keep going, crisper still, beyond the
# data); towards the centre they melt into each other. A prior that followed the arms and the gaps between them would let the encoder
# spread the crowded digits out, and would stop sending samples into the gaps. That is what the
# priors of notebooks 3-6 try to do.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. Five seeds of one prior: how far the numbers move
#
# Every number so far came from one training run, seed 0. Train the same model again with another
# seed (other initial weights, other minibatches, other noise) and every number moves, although
# nothing about the prior has changed. Before notebook 3 compares the standard prior with a
# mixture, we measure how far: four more seeds of the same model (`vaelib.train_seeds`), and for
# all five the test −ELBO, the importance-weighted estimate of −log p(x) of notebook 1 (IWAE),
# $\mathrm{KL}\big(q(z)\,\|\,p(z)\big)$ (how far the aggregated posterior is from the prior: notebook 7
# derives it) and the holes, as mean ± spread (the sample standard deviation over the seeds).

# %% slideshow={"slide_type": "subslide"}
more_seeds = vaelib.train_seeds("standard", data, seeds=[1, 2, 3, 4])
five_seeds = [model, *more_seeds]  # seed 0 is the model above
table = vaelib.compare_seeds({"standard": five_seeds}, data.test, iwae_samples=IWAE_SAMPLES)
standard = table["standard"]

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
table

# %% slideshow={"slide_type": "notes"}
check("one number per model: the table's −ELBO of seed 0 is the one printed in section 2",
      standard["neg_elbo"].values[0] == test_neg_elbo)

# %% [markdown] slideshow={"slide_type": "subslide"}
# One dot per seed, and the band of mean ± spread:

# %% slideshow={"slide_type": "-"}
panels = [("neg_elbo", "test −ELBO (nats)", 1), ("nll_iwae", "−log p(x), IWAE (nats)", 1),
          ("marginal_kl", "KL(q(z) ‖ p(z)) (nats)", 1), ("holes", "holes (% of prior samples)", 100)]
fig, axes = plt.subplots(1, 4, figsize=(11, 2.0), layout="constrained")
for ax, (key, label, scale) in zip(axes, panels):
    stats = standard[key]
    values = [scale * v for v in stats.values]
    low, high = scale * (stats.mean - stats.spread), scale * (stats.mean + stats.spread)
    ax.axvspan(low, high, color="0.88", zorder=0, label="mean ± spread")
    ax.axvline(scale * stats.mean, color="0.3", linewidth=1)
    ax.scatter(values, [0] * len(values), s=36, c=[vaelib.plots.LABEL_COLORS[s] for s in range(len(values))],
               edgecolors="black", linewidths=0.5, zorder=2)
    for seed, value in enumerate(values):
        ax.annotate(str(seed), (value, 0), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=8)
    width = max(high - low, max(values) - min(values))
    ax.set_xlim(min(low, min(values)) - 0.25 * width, max(high, max(values)) + 0.25 * width)
    ax.set_ylim(-1, 1)
    ax.set_yticks([])
    ax.locator_params(axis="x", nbins=4)
    ax.tick_params(labelsize=8)
    ax.set_xlabel(label, fontsize=9)
fig.suptitle("the standard prior trained with 5 seeds: one dot per seed (its number above it), grey: mean ± spread",
             fontsize=10)
plt.close(fig)
fig

# %% [markdown] slideshow={"slide_type": "subslide"}
# Nothing about the model changed between the five runs, and still the test −ELBO and the
# IWAE estimate move by a few tenths of a nat. This is training noise, not the noise of the
# estimate: the −ELBO is averaged over 447 images and 10 posterior samples each, and its own Monte
# Carlo error is a small fraction of the seed spread. The holes move by more than their
# estimate's error too. And $\mathrm{KL}\big(q(z)\,\|\,p(z)\big)$ is a fraction of a nat for every
# seed, about as large as the seed spread of the −ELBO: with the encoder and decoder held fixed, it
# is all that a perfect prior, $p(z) = q(z)$, could add to this model's ELBO.

# %% slideshow={"slide_type": "-"}
# The Monte Carlo error of one −ELBO estimate (seed 0): the spread of 10 one-sample estimates, over √10.
torch.manual_seed(0)
with torch.no_grad():
    one_sample_estimates = torch.stack([model.elbo(data.test).elbo.mean() for _ in range(10)])
elbo_error = float(one_sample_estimates.std() / math.sqrt(10))
holes_error = math.sqrt(standard["holes"].mean * (1 - standard["holes"].mean) / 10_000)

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"seed spread of the test −ELBO {standard['neg_elbo'].spread:.2f} nats; "
      f"Monte Carlo error of one estimate {elbo_error:.3f}")
print(f"seed spread of the holes {standard['holes'].spread:.1%}; Monte Carlo error of one estimate {holes_error:.1%}")

# %% slideshow={"slide_type": "notes"}
# The claims above, checked: this run's numbers change a little from one computer to the next, the claims must not.
vaelib.expect_between("the test −ELBO moves by a few tenths of a nat between seeds (spread 0.1 to 1)",
                      standard["neg_elbo"].spread, 0.1, 1.0)
vaelib.expect_between("so does the IWAE estimate of −log p(x) (spread 0.1 to 1)", standard["nll_iwae"].spread, 0.1, 1.0)
check("the seed spread of the −ELBO is over 5 times the Monte Carlo error of one estimate",
      standard["neg_elbo"].spread > 5 * elbo_error)
check("the holes move between seeds by more than 2 Monte Carlo standard errors of one estimate",
      standard["holes"].spread > 2 * holes_error)
check("KL(q(z) ‖ p(z)) is a fraction of a nat (below 0.5) for every seed", max(standard["marginal_kl"].values) < 0.5)
check("and about as large as the seed spread of the −ELBO (within a factor of 3 either way)",
      1 / 3 < standard["marginal_kl"].mean / standard["neg_elbo"].spread < 3)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The rule for the rest of the collection.** A prior is trained with at least 3 seeds before it
# is compared with another, and every comparison shows mean ± spread. A prior is called better
# ("lower −ELBO", "fewer holes") only when the gap between the two means is larger than the larger
# of the two seed spreads; a smaller difference is **no difference**, whichever way it points.
# `vaelib.expect_lower` and `vaelib.expect_within_noise` check exactly that. On this scale, a
# prior has to beat the standard one by more than a few tenths of a nat before its −ELBO says
# anything, and its KL(q(z) ‖ p(z)) above shows how little room there is.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaway
#
# The standard Gaussian prior is fixed and round, with a KL term in closed form: a rent of
# $\frac12\|\mu\|^2$ for every code plus a fee for narrow posteriors. Trained against it, the
# encoder keeps the codes inside the prior's circles but arranges them its own way, in arms and a
# crowded centre, so the aggregated posterior $q(z)$ differs from $p(z)$ in both directions. Where
# the prior has mass and the data has none (the holes, a share of the prior's samples that
# `vaelib.holes` measures) the decoder extrapolates, with a confidence nothing in training has
# earned; where the data is crowded it draws blends. Every other prior in this collection tries
# to close that gap by making $p(z)$ more like $q(z)$. How much each succeeds is measured against
# the seed-to-seed spread of one prior: the test −ELBO moves by a few tenths of a nat between
# seeds, and any difference between priors smaller than that is no difference.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. **Write the standard prior's two formulas.** Section 4 compared the closed-form KL with the
#    Monte Carlo estimate that `vaelib` trains with; write both ingredients yourself.
#    (a) The estimate draws each code with the **reparameterisation trick**,
#    $z = \mu + \sigma \odot \varepsilon$ with $\varepsilon \sim \mathcal{N}(0, I)$ and
#    $\sigma = \exp(\tfrac12\,\text{logvar})$: a deterministic, differentiable function of the
#    encoder's outputs, so that the ELBO's gradient reaches the encoder through $z$. Fill in
#    `my_reparameterised_sample` (the noise $\varepsilon$ is given); the check compares the values
#    and makes sure gradients reach `mean` and `logvar`.
#    (b) Fill in `my_kl`, the closed form of section 4, one number per row, without
#    `torch.distributions`; the check compares it with `torch.distributions.kl_divergence`.
#    (c) Split your KL into the rent $\frac12\|\mu\|^2$ and the narrowing fee. Which digits pay
#    the most rent on average, and which the least? Compare with where their codes sit in Fig. 4.13.

# %% slideshow={"slide_type": "-"} tags=["exercise"]
def my_reparameterised_sample(mean, logvar, noise):
    """z = mean + std * noise, std = exp(logvar / 2): (B, L), (B, L), (B, L) -> (B, L)"""
    ...  # your code here


# %% slideshow={"slide_type": "-"}
exercises.check_reparameterised_sample(my_reparameterised_sample)

# %% slideshow={"slide_type": "-"} tags=["exercise"]
def my_kl(mean, logvar):
    """KL(N(mean, diag exp(logvar)) || N(0, I)) of each row: (B, L), (B, L) -> (B,)"""
    ...  # your code here


# %% slideshow={"slide_type": "-"}
exercises.check_kl_to_standard_normal(my_kl)

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 1</summary>
#
# (a) `logvar` is $\log \sigma^2$, so the standard deviation is $\sigma = \exp(\tfrac12\,\text{logvar})$;
# `exp(logvar)` would be the variance, which shrinks every posterior narrower than the prior and
# widens every wider one. Scaling standard normal noise by $\sigma$ and shifting it by $\mu$ gives
# a draw from $\mathcal{N}(\mu, \mathrm{diag}\,\sigma^2)$, and as a function of $\mu$ and
# $\text{logvar}$ it has the gradients $\partial z / \partial \mu = 1$ and
# $\partial z / \partial\, \text{logvar} = \tfrac12 \sigma \varepsilon$: that is all the trick is.
# (`Normal(mean, std).rsample()` computes the same thing; `.sample()` cuts the gradient.)
#
# (b) For one dimension, $\mathrm{KL}\big(\mathcal{N}(\mu, \sigma^2) \,\|\, \mathcal{N}(0, 1)\big)
# = \frac12(\mu^2 + \sigma^2 - \log \sigma^2 - 1)$, with $\log \sigma^2 = \text{logvar}$ as it comes
# from the encoder. A diagonal Gaussian is a product of independent dimensions, and the KL of a
# product is the sum of the KLs, so the $L$ terms are **summed** (not averaged). The code also
# checks that your KL gives section 4's for every test image, and uses both functions for
# section 4's Monte Carlo estimate.
#
# (c) The rent grows with the square of a code's distance from the origin, so the digits whose
# codes reach out on an arm of their own pay the most, and those packed into the crowded centre
# the least. On this run the 0s pay more than the average image, and the 8s, which crowd the
# centre (notebook 1's exercise 2), less than half of it; the digit at the top pays over four
# times as much as the one at the bottom. The order of the other digits can change with the
# training seed, because each run lays out the arms anew, but the pattern does not: digits with
# an arm pay the rent, digits in the centre hardly any. The fee, by contrast, is much the same
# for every digit: section 4 found that the rent, not the fee, is what differs between images.
#
# ```python
# def my_reparameterised_sample(mean, logvar, noise):
#     """z = mean + std * noise, std = exp(logvar / 2): (B, L), (B, L), (B, L) -> (B, L)"""
#     return mean + torch.exp(0.5 * logvar) * noise
#
#
# def my_kl(mean, logvar):
#     """KL(N(mean, diag exp(logvar)) || N(0, I)) of each row: (B, L), (B, L) -> (B,)"""
#     return 0.5 * (mean**2 + torch.exp(logvar) - logvar - 1).sum(-1)
#
#
# feedback = exercises.check_reparameterised_sample(my_reparameterised_sample)
# print(feedback)
# assert feedback, feedback
# feedback = exercises.check_kl_to_standard_normal(my_kl)
# print(feedback)
# assert feedback, feedback
#
# # Section 4 again, with your functions: the closed form, and 200 reparameterised draws per image.
# check("your KL is section 4's for every test image (within 1e-5)", torch.allclose(my_kl(mean, logvar), kl, atol=1e-5))
# torch.manual_seed(0)
# z = my_reparameterised_sample(mean, logvar, torch.randn(200, *mean.shape))  # (200, 447, 2)
# log_q = torch.distributions.Normal(mean, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
# log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
# draws = (log_q - log_p).mean(1)  # one estimate of the average KL per draw
# error = float(draws.mean() - my_kl(mean, logvar).mean())
# check("the Monte Carlo KL of your samples is within 4 standard errors of your closed form",
#       abs(error) < 4 * float(draws.std()) / math.sqrt(len(draws)))
#
# # (c) the rent per digit
# labels = data.test_labels
# average_rent = {d: float(rent[labels == d].mean()) for d in range(10)}
# for digit, value in sorted(average_rent.items(), key=lambda item: -item[1]):
#     print(f"digit {digit}: average rent {value:.2f} nats, fee {narrowing[labels == digit].mean():.2f} nats")
# check("the 0s pay more rent than the average image", average_rent[0] > rent.mean())
# check("the 8s pay less than half the average rent", average_rent[8] < 0.5 * rent.mean())
# check("the digit at the top pays over four times the rent of the digit at the bottom",
#       max(average_rent.values()) > 4 * min(average_rent.values()))
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "subslide"}
# 2. The holes depend on their threshold. Compute them for ratios 0.01, 0.1, 0.5 and 1
#    (`vaelib.holes(model, data.test, ratio=...)`). Why must the number grow with the ratio, and
#    not only on average? What share of the *data's* codes can lie in the holes of ratio 0.1?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 2</summary>
#
# A point in a hole of ratio 0.01 ($q < 0.01\,p$) is also in a hole of ratio 0.1 and of 0.5, so
# the regions are nested and their mass under the prior can only grow with the ratio. The
# estimates grow too, not only their expectations: `vaelib.holes` draws the same 10,000 prior
# samples for every ratio (its seed is fixed), and every sample counted at a smaller ratio is
# counted again at a larger one. At ratio 1 the number is the prior's mass where the data's codes
# are thinner than the prior at all: more than half of it, because $q(z)$ piles its mass into
# lumps and arms, where it is denser than $p$, and so is thinner than $p$ over most of the disc.
#
# The ratio also bounds the other side. Inside the holes $H$ of ratio $r$, $q(z) < r\,p(z)$
# everywhere, so the data's codes fall there with probability $q(H) < r\,p(H) \le r$: with
# $r = 0.1$, under a tenth of the share of holes the title prints. That is what "a hole" means:
# the prior sends its samples there, the encoder hardly ever sends a code. The threshold 0.1 is
# a convention; what matters is that every comparison in this collection uses the same one.
#
# ```python
# shares = {ratio: vaelib.holes(model, data.test, ratio=ratio) for ratio in (0.01, 0.1, 0.5, 1.0)}
# for ratio, value in shares.items():
#     print(f"ratio {ratio:4}: {value:.1%} of prior samples in holes")
# check("the share grows with the ratio", list(shares.values()) == sorted(shares.values()))
# check("at ratio 1, over half of the prior's samples land where q(z) < p(z)", shares[1.0] > 0.5)
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "-"}
# 3. Walk out of the data: decode points along the ray from the origin through the deepest hole
#    among the 2000 samples of section 7 (the one with the smallest $q(z)/p(z)$), at radii
#    0, 1, ..., 6. Where does the image stop changing, and why there?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 3</summary>
#
# The image changes most in the first steps, through the crowded centre where the codes of
# several digits meet, and less and less past the edge of the data (every test code lies
# within a radius of about 3 of the origin): from radius 4 on, each step changes the image by
# less than half as much as the first step did. Out there the decoder has never seen a code, and
# it does not invent anything new: its network is a stack of linear maps and LeakyReLUs, so far
# enough along a ray it is linear in the radius, its logits only grow in one fixed direction,
# and the softmax over the 17 grey levels sharpens towards the same picture instead of changing
# it. That is the extrapolation of section 7: a crisp image, drawn with confidence, that no
# training image supports.
#
# ```python
# deepest = samples[log_ratio.argmin()]
# direction = deepest / deepest.norm()
# ray = torch.arange(7.0)[:, None] * direction
# images = model.decode_mean(ray)
# steps = (images[1:] - images[:-1]).abs().mean(1)  # mean change per pixel, in grey levels, per unit of radius
# print("change per step:", ", ".join(f"{float(step):.2f}" for step in steps))
# check("every test code lies within radius 3.5", float(mean.norm(dim=1).max()) < 3.5)
# check("from radius 4 on, each step changes the image by less than half as much as the first",
#       bool((steps[4:] < 0.5 * steps[0]).all()))
# fig, axes = plt.subplots(1, 7, figsize=(8, 1.6), layout="constrained")
# for ax, image, radius_value in zip(axes, images, range(7)):
#     ax.imshow(image.view(8, 8), cmap=vaelib.plots.IMAGE_CMAP, vmin=0, vmax=16)
#     ax.set_title(f"‖z‖ = {radius_value}", fontsize=9)
#     ax.set_axis_off()
# plt.close(fig)
# fig
# ```
#
# </details>
