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
# # 7. ELBO surgery: why the best prior is the aggregated posterior
#
# Six priors, six contour plots: which one is *right*? This notebook answers with one
# identity. Averaged over the data, the prior's part of the ELBO splits into a piece the
# prior cannot touch and a piece that measures how far the prior is from the
# **aggregated posterior** $q(z)$, the cloud of codes the encoder actually produces.
#
# **What you will learn**
# - the ELBO-surgery identity $\;\mathbb{E}_x\,\mathrm{KL}(q(z|x)\,\|\,p(z)) = I_q(x;z) + \mathrm{KL}(q(z)\,\|\,p(z))$, and why it holds;
# - why, for a fixed encoder, the prior that maximises the ELBO is $q(z)$ itself;
# - both terms for each of the six priors of this collection, measured two ways
#   (quadrature on a grid and Monte Carlo);
# - why we do not simply *use* $q(z)$ as the prior.
#
# **Run time:** about 25 s on a 2-core laptop CPU (6 trainings).
#
# This is the thread that ties the chapter's section on priors together (Tomczak,
# *Deep Generative Modeling*, Chapter 4; the decomposition is due to Hoffman & Johnson, 2016).

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import torch

import vaelib
from vaelib import exercises

data = vaelib.load_digits()
x = data.test  # every quantity below is averaged over the 447 test images

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The identity
#
# Think of the test set as a data distribution: pick one of its $N$ images uniformly,
# then a code $z \sim q(z|x)$. This defines a joint distribution $q(x, z) = \frac1N\,q(z|x)$
# whose marginal over $z$ is the aggregated posterior
# $$q(z) = \frac1N \sum_{n=1}^N q(z|x_n).$$
# Now split the log-ratio inside the KL term of the ELBO by multiplying and dividing by $q(z)$:
# $$\log\frac{q(z|x)}{p(z)} = \underbrace{\log\frac{q(z|x)}{q(z)}}_{\text{depends on the encoder only}} + \underbrace{\log\frac{q(z)}{p(z)}}_{\text{where the prior enters}}.$$
# Take the expectation under $q(x, z)$ on both sides:
# $$\mathbb{E}_x\,\mathrm{KL}\big(q(z|x)\,\|\,p(z)\big) \;=\; I_q(x; z) \;+\; \mathrm{KL}\big(q(z)\,\|\,p(z)\big).$$
#
# - $I_q(x;z)$ is the **mutual information** between an image and its code: how much the
#   code tells about which image it came from. The prior does not appear in it.
# - $\mathrm{KL}(q(z)\,\|\,p(z)) \ge 0$ is the **marginal KL**: the only place the prior acts.
#
# So with the encoder and decoder held fixed, the ELBO is largest when the marginal KL is
# zero, that is when $p(z) = q(z)$. Every prior in this collection is an attempt to get
# close to $q(z)$ with a few parameters.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Train the six priors
#
# The same architecture, seed and recipe for all six (the fast recipe: a few seconds each).

# %% slideshow={"slide_type": "-"}
models = {}
for name in vaelib.PRIORS:
    models[name] = vaelib.make_vae(name, seed=0)
    vaelib.fit(models[name], data, seed=0, progress=False)
print("trained:", ", ".join(models))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Measure both sides, two ways
#
# In a 2-D latent space we can integrate on a fine grid (**quadrature**): $q(z)$ is a
# mixture of 447 Gaussians that we evaluate at every grid point. As a cross-check,
# **Monte Carlo** draws codes $z \sim q(z|x_n)$ and averages the same log-ratios.
# Within each method the identity holds by construction; that the two methods agree is
# the real test (and `tests/test_analysis.py` checks the left side against the closed-form
# KL of the standard prior).

# %% slideshow={"slide_type": "-"}
surgery = {
    name: {
        "quadrature": vaelib.elbo_surgery(model, x, "quadrature", resolution=100),
        "monte-carlo": vaelib.elbo_surgery(model, x, "monte-carlo", num_samples=32),
    }
    for name, model in models.items()
}


class SurgeryTable(vaelib.ComparisonTable):
    columns = (
        ("prior", "prior", "{}"),
        ("average_kl", "E_x KL(q(z|x) ‖ p(z))", "{:.3f}"),
        ("mutual_information", "I(x; z)", "{:.3f}"),
        ("marginal_kl", "KL(q(z) ‖ p(z))", "{:.3f}"),
        ("mc_marginal_kl", "same, Monte Carlo", "{:.3f}"),
        ("mc_error", "± (1 s.e.)", "{:.3f}"),
    )


rows = []
for name, result in surgery.items():
    quad, mc = result["quadrature"], result["monte-carlo"]
    rows.append(dict(
        prior=name, average_kl=quad.average_kl, mutual_information=quad.mutual_information,
        marginal_kl=quad.marginal_kl, mc_marginal_kl=mc.marginal_kl, mc_error=mc.standard_errors["marginal_kl"],
    ))
table = SurgeryTable(rows, "Nats per test image; quadrature on a 100 x 100 grid, Monte Carlo with 32 codes per image.")

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
table

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read the table column by column:
#
# - **I(x; z)** is a few nats for every prior, and can never exceed $\log N = \log 447
#   \approx 6.1$ nats: a code cannot tell more than *which of the N images* it came from.
# - **KL(q(z) ‖ p(z))**, the prior's own score, is a fraction of a nat for *every* prior,
#   even the fixed N(0, I). That is the encoder's doing: it was trained together with its
#   prior and has bent $q(z)$ towards it, so the identity cannot tell us what the bending
#   cost elsewhere (the reconstruction term, the shape of the code cloud).
# - Which prior gets closest to $q(z)$ is a comparison between priors, and one training
#   seed per prior cannot make it: notebook 9 repeats this table with three seeds each and
#   compares the means against the seed-to-seed spread.
# - Quadrature and Monte Carlo agree within three Monte Carlo standard errors for every prior
#   (not always within one: a 1-s.e. interval misses the truth about a third of the time).

# %% slideshow={"slide_type": "notes"}
# The claims above, checked: this run's numbers change a little from one computer to the next, the claims must not.
quadrature = {name: result["quadrature"] for name, result in surgery.items()}
vaelib.check("I(x; z) is a few nats (2 or more) for every prior, and below log N",
      all(2 <= q.mutual_information < math.log(len(x)) for q in quadrature.values()))
marginal_kls = [q.marginal_kl for q in quadrature.values()]
vaelib.check("KL(q(z) ‖ p(z)) is a fraction of a nat (0 to 1) for every prior", all(0 <= kl < 1 for kl in marginal_kls))
vaelib.check("quadrature and Monte Carlo agree within 3 standard errors for every prior",
      all(abs(row["marginal_kl"] - row["mc_marginal_kl"]) < 3 * row["mc_error"] for row in table))

# %% [markdown] slideshow={"slide_type": "-"}
# The same numbers as a picture. Left: each bar is the average KL term of the ELBO,
# split into its two parts. Right: the prior's part alone, both ways of measuring it.

# %% slideshow={"slide_type": "-"} tags=["thumbnail"]
names = list(models)
information = [surgery[n]["quadrature"].mutual_information for n in names]
marginal = [surgery[n]["quadrature"].marginal_kl for n in names]
monte_carlo = [surgery[n]["monte-carlo"].marginal_kl for n in names]
errors = [2 * surgery[n]["monte-carlo"].standard_errors["marginal_kl"] for n in names]
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained", width_ratios=(3, 2))
left.bar(names, information, color="#9ecae1", label="I(x; z): the encoder's share")
left.bar(names, marginal, bottom=information, color="#de2d26", label="KL(q(z) ‖ p(z)): the prior's share")
left.axhline(math.log(len(x)), color="grey", linestyle=":", linewidth=1)
left.text(-0.4, math.log(len(x)) - 0.08, "log N: the most I(x; z) can be", va="top", fontsize=8, color="grey")
left.set_ylim(0, math.log(len(x)) * 1.35)
left.set_ylabel("nats per test image")
left.set_title("E_x KL(q(z|x) ‖ p(z)) = I(x; z) + KL(q(z) ‖ p(z))", fontsize=10)
left.legend(loc="upper right", fontsize=8, frameon=False)
positions = range(len(names))
right.bar(positions, marginal, color="#de2d26", width=0.6, label="quadrature (100 x 100 grid)")
right.errorbar(positions, monte_carlo, yerr=errors, fmt="o", color="black", markersize=3, capsize=3,
               label="Monte Carlo ± 2 s.e.")
right.set_xticks(positions, names, rotation=30, ha="right")
right.set_ylabel("nats per test image")
right.set_title("the prior's share: KL(q(z) ‖ p(z))", fontsize=10)
right.set_ylim(0, 1.45 * max(max(marginal), max(monte_carlo)))
right.legend(loc="upper left", fontsize=8, frameon=False)
for ax in (left, right):
    ax.tick_params(axis="x", labelsize=8)
plt.close(fig)
fig

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. See the marginal KL
#
# The marginal KL is a distance between two densities we can draw. Left: $q(z)$ of the
# test images; right: the prior, on the same grid and colour scale, with the holes
# (prior mass where $q(z)$ is thin) hatched. Compare the standard prior with the VampPrior.

# %% slideshow={"slide_type": "-"}
vaelib.plots.posterior_vs_prior(models["standard"], x)

# %% slideshow={"slide_type": "subslide"}
vaelib.plots.posterior_vs_prior(models["vampprior"], x)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Why not use $q(z)$ itself as the prior?
#
# If the best prior is the aggregated posterior, why not plug it in? We can: it is a
# mixture with one component per *training* image. Keep the trained encoder and decoder of
# the standard-prior model and swap its prior for $q(z)$ of the 1000 training images.

# %% slideshow={"slide_type": "-"}
class AggregatedPosteriorPrior(vaelib.Prior):
    """p(z) = q(z) = (1/N) sum_n q(z | x_n) over the given images, frozen."""

    def __init__(self, model, images):
        super().__init__(model.latent_dim)
        self.mixture = vaelib.analysis.aggregate_posterior(model, images)

    def distribution(self):
        return self.mixture


standard = models["standard"]
swapped = vaelib.VAE(standard.encoder, standard.decoder, AggregatedPosteriorPrior(standard, data.train))
scores = {}
for prior_name, scored in (("N(0, I) (trained with)", standard), ("q(z) of the training images", swapped)):
    # The one ELBO estimate fixes its random numbers: the same codes for both, so only log p(z) differs.
    scores[prior_name] = vaelib.negative_elbo(scored, x)

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
for prior, score in scores.items():
    print(f"test −ELBO with prior {prior:30s}: {score:.2f} nats")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The swap changes the test −ELBO without retraining anything, and only through the
# marginal KL: the reconstruction and the encoder's share are the same numbers as before.
# The gain is small here because this encoder had already bent $q(z)$ towards N(0, I): it cannot
# exceed the standard prior's marginal KL in the table.

# %% slideshow={"slide_type": "notes"}
# This run's numbers change a little from one computer to the next; the claim must not.
gain = scores["N(0, I) (trained with)"] - scores["q(z) of the training images"]
vaelib.check("the swap lowers the test −ELBO, by less than the standard prior's marginal KL",
      0 < gain < surgery["standard"]["quadrature"].marginal_kl)

# %% [markdown] slideshow={"slide_type": "-"}
# And look at the price. This prior has as many components as there are training images
# (1000 Gaussians, 4000 numbers), it must be recomputed whenever the encoder changes, and
# it describes the *training* codes, so it over-fits exactly as a kernel density estimate
# does. The VampPrior keeps the idea and fixes the price: a mixture of posteriors at
# $K \ll N$ learned pseudo-inputs. The MoG, GTM and flow priors take the other road:
# a flexible density with its own parameters, trained to match $q(z)$.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaway
#
# The prior's contribution to the ELBO is $-\mathrm{KL}(q(z)\,\|\,p(z))$ plus terms it
# cannot influence, so a good prior is one that matches the aggregated posterior. ELBO
# surgery turns "this prior looks better" into a number we can integrate on a grid. The
# encoder meets every prior half-way, so the gap is a fraction of a nat for all six (which
# of them gets closest takes several seeds per prior: notebook 9); and the perfect prior, $q(z)$ itself, is too big and too specific to the training set
# to be the answer.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. **ELBO surgery by hand.** Section 3 called `vaelib.elbo_surgery`; now write its two
#    integrals yourself, by quadrature on a grid. You get the grid's cell centres `z` (P, 2)
#    and the area of one cell, the means and log-variances (N, 2) of N Gaussian posteriors
#    $q(z|x_n)$, and (for the marginal KL) $\log p(z)$ at the cell centres. (a) Write
#    `my_marginal_kl`, which returns $\mathrm{KL}(q(z)\,\|\,p(z))$, and `my_mutual_information`,
#    which returns $I_q(x;z)$, with $q(z) = \frac1N\sum_n q(z|x_n)$; each check runs your function
#    on fresh posteriors and names the usual slips. (b) Why can $I_q(x;z)$ never exceed
#    $\log N$? Run your functions on the standard model's test codes (the grid of section 3:
#    `vaelib.latent_grid(model, x, resolution=100)`) and compare with the table; how far below
#    the bound is each of the six models?

# %% slideshow={"slide_type": "-"} tags=["exercise"]
def my_marginal_kl(z, cell_area, means, logvars, log_prior):
    """KL(q(z) || p(z)) by quadrature: z (P, 2), cell_area, means, logvars (N, 2), log_prior (P,) -> a number"""
    ...  # your code here


# %% slideshow={"slide_type": "-"}
exercises.check_marginal_kl(my_marginal_kl)


# %% slideshow={"slide_type": "-"} tags=["exercise"]
def my_mutual_information(z, cell_area, means, logvars):
    """I(x; z) by quadrature: z (P, 2), cell_area, means, logvars (N, 2) -> a number"""
    ...  # your code here


# %% slideshow={"slide_type": "-"}
exercises.check_mutual_information(my_mutual_information)

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 1</summary>
#
# (a) Both integrals are sums over the grid's cells of a density times a log-ratio times the
# cell area (the midpoint rule). The aggregated posterior is the *mean* of the N posterior
# densities, so in logs $\log q(z) = \operatorname{logsumexp}_n \log q(z|x_n) - \log N$, with
# $\log q(z|x_n) = -\tfrac12 \sum_l \big(\log 2\pi + \log\sigma^2_{nl} + (z_l - \mu_{nl})^2/\sigma^2_{nl}\big)$.
# Then
# $$\mathrm{KL}(q(z)\,\|\,p(z)) \approx \sum_{\text{cells}} q(z)\,\big(\log q(z) - \log p(z)\big)\,\Delta A,
# \qquad I_q(x;z) = H\big(q(z)\big) - \frac1N\sum_n H\big(q(z|x_n)\big),$$
# where $H(q(z)) \approx -\sum_{\text{cells}} q(z) \log q(z)\,\Delta A$ and each posterior's entropy
# is exact, $\tfrac12\sum_l \log(2\pi e\,\sigma^2_{nl})$ (this is what `vaelib.analysis` does). The
# second formula is the first line of section 1 averaged over the data: the mean over $n$ of
# $\mathrm{KL}(q(z|x_n)\,\|\,q(z))$, which you may also sum on the grid. The slips the checks name:
# weighting by $p(z)$ instead of $q(z)$ gives $\mathrm{KL}(p\,\|\,q)$, another number; without the
# cell area the sum is $1/\Delta A$ times too large; without the $1/N$, $q(z)$ integrates to $N$
# (and the mutual information comes out as $I - \log N$, below zero); $\log N$ is the *bound* on
# $I$, not $I$; and $\exp(\log\sigma^2)$ is the variance, not the standard deviation.
#
# (b) Pick an image $x$ uniformly among the $N$ and a code $z \sim q(z|x)$. Then
# $I_q(x;z) = H(x) - H(x\,|\,z)$: the uncertainty about *which image* it was, before and after
# seeing the code. $H(x) = \log N$ for a uniform choice among $N$, and $H(x\,|\,z) \ge 0$ because
# $x$ is discrete, so $I_q(x;z) \le \log N$, with equality only if every code names its image for
# certain (posteriors that do not overlap). Your functions give the table's numbers on the
# standard model's codes (the same grid, the same formulas), and every model stays well below
# the bound, at roughly half of it: the posteriors of similar digits overlap. Separating them
# further would cost the ELBO a nat for each nat of information (the KL term is $I$ plus the
# marginal KL), so the training stops where one more nat of information buys less than a nat
# of reconstruction.
#
# ```python
# def log_posteriors(z, means, logvars):
#     """log q(z|x_n) at every point: (P, L), (N, L) -> (P, N)"""
#     squared = (z[:, None, :] - means) ** 2 / torch.exp(logvars)  # exp(logvar) is the variance
#     return -0.5 * (math.log(2 * math.pi) + logvars + squared).sum(-1)
#
#
# def log_aggregate(z, means, logvars):
#     """log q(z) = log (1/N) sum_n q(z|x_n): (P,)"""
#     return torch.logsumexp(log_posteriors(z, means, logvars), dim=1) - math.log(len(means))
#
#
# def my_marginal_kl(z, cell_area, means, logvars, log_prior):
#     """KL(q(z) || p(z)) by quadrature: z (P, 2), cell_area, means, logvars (N, 2), log_prior (P,) -> a number"""
#     log_q = log_aggregate(z, means, logvars)
#     return float((torch.exp(log_q) * (log_q - log_prior)).sum() * cell_area)  # weighted by q, times the area
#
#
# def my_mutual_information(z, cell_area, means, logvars):
#     """I(x; z) by quadrature: z (P, 2), cell_area, means, logvars (N, 2) -> a number"""
#     log_q = log_aggregate(z, means, logvars)
#     aggregate_entropy = -(torch.exp(log_q) * log_q).sum() * cell_area
#     posterior_entropy = 0.5 * (math.log(2 * math.pi * math.e) + logvars).sum(1).mean()  # exact, per image
#     return float(aggregate_entropy - posterior_entropy)
#
#
# for feedback in (exercises.check_marginal_kl(my_marginal_kl), exercises.check_mutual_information(my_mutual_information)):
#     print(feedback)
#     assert feedback, feedback
#
# # (b) the standard model's test codes, on the grid of section 3 (resolution 100)
# grid = vaelib.latent_grid(standard, x, resolution=100)
# with torch.no_grad():
#     means, logvars = standard.encoder(x)
#     log_prior = standard.prior.distribution().log_prob(grid.points)
# mine = my_marginal_kl(grid.points, grid.cell_area, means, logvars, log_prior)
# mine_information = my_mutual_information(grid.points, grid.cell_area, means, logvars)
# quad = surgery["standard"]["quadrature"]
# vaelib.check("on the standard model's codes, both agree with the table within 0.001 nats",
#              abs(mine - quad.marginal_kl) < 1e-3 and abs(mine_information - quad.mutual_information) < 1e-3)
# log_n = math.log(len(x))
# for name, result in surgery.items():
#     information = result["quadrature"].mutual_information
#     print(f"{name:14s} I = {information:.2f}, {log_n - information:.2f} nats below log N = {log_n:.2f}")
# vaelib.check("every model's I(x; z) lies between a third and two thirds of log N",
#              all(log_n / 3 < r["quadrature"].mutual_information < 2 * log_n / 3 for r in surgery.values()))
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "subslide"}
# 2. Swap the VampPrior model's prior for the aggregated posterior of the *test* images (the
#    `AggregatedPosteriorPrior` of section 5) and measure the marginal KL and the holes on the
#    test images. What should they be, and why? Is the test −ELBO of this model a fair score
#    for a prior?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 2</summary>
#
# Both are zero. The marginal KL is $\mathrm{KL}(q(z)\,\|\,p(z))$ with $p = q$: the log-ratio is 0
# at every point, and $\mathrm{KL} = 0$ exactly when the two densities are equal. The holes are the
# share of prior samples where $q(z) < 0.1\,p(z)$; with $p = q$ that would need $q(z) < 0.1\,q(z)$,
# which never holds. The numbers are zero up to rounding: the prior computes $\log q(z)$ through
# `MixtureSameFamily` and ELBO surgery through its own formula, which differ in the last digits
# of float32. The KL term of the ELBO is then the mutual information alone, the least any prior
# can reach with this encoder (section 1).
#
# The score is not fair: this prior was built from the very images it is scored on, so it
# "knows" the test codes, exactly as a kernel density estimate scored on its own data. That is
# why section 5 builds the prior from the *training* images, and even that prior describes the
# training codes only.
#
# ```python
# vamp = models["vampprior"]
# matched = vaelib.VAE(vamp.encoder, vamp.decoder, AggregatedPosteriorPrior(vamp, x))
# matched_surgery = vaelib.elbo_surgery(matched, x, resolution=150)
# matched_holes = vaelib.analysis.holes(matched, x)
# print(f"marginal KL: {abs(matched_surgery.marginal_kl):.4f} nats, holes: {matched_holes:.1%}")
# vaelib.check("with p(z) = q(z) the marginal KL is zero (within 0.001 nats)", abs(matched_surgery.marginal_kl) < 1e-3)
# vaelib.check("with p(z) = q(z) there are no holes", matched_holes == 0)
# vaelib.check("the KL term is then the mutual information alone (within 0.001 nats)",
#              abs(matched_surgery.average_kl - matched_surgery.mutual_information) < 1e-3)
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "-"}
# 3. Train the standard-prior model with another seed (`seed=1`) and redo its surgery. Which
#    of the two terms changes more from one seed to the next, in nats and relative to its size?
#    What does the change tell you about the table's differences between priors?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 3</summary>
#
# In nats, the mutual information moves more, over twice as much as the marginal KL. Relative
# to its size it is the other way round: the marginal KL changes by a larger share of its value
# than the information does of its own (the code prints both and checks the orders). The mutual
# information is how far apart the encoder spreads the codes against their widths, which
# depends on where each training run stops; the marginal KL stays a fraction of a nat for any
# seed because every training bends $q(z)$ towards its prior (section 3), but which fraction
# is left is up to the run.
#
# The seed changes the standard prior's marginal KL by more than half the range of the
# marginal KLs of all six priors in the table. So a difference between two priors' rows of one
# seed each says nothing about the priors; it has to be compared with the spread between seeds,
# which is what notebook 9 does with three seeds per prior.
#
# ```python
# other = vaelib.make_vae("standard", seed=1)
# vaelib.fit(other, data, seed=1, progress=False)
# seeds = {0: surgery["standard"]["quadrature"], 1: vaelib.elbo_surgery(other, x, resolution=100)}
# for seed, result in seeds.items():
#     print(f"seed {seed}: I(x; z) = {result.mutual_information:.3f}, KL(q(z) || p(z)) = {result.marginal_kl:.3f}")
# change_information = abs(seeds[0].mutual_information - seeds[1].mutual_information)
# change_kl = abs(seeds[0].marginal_kl - seeds[1].marginal_kl)
# vaelib.check("in nats, I(x; z) changes over twice as much as KL(q(z) || p(z))", change_information > 2 * change_kl)
# vaelib.check("relative to its size, KL(q(z) || p(z)) changes more",
#              change_kl / seeds[0].marginal_kl > change_information / seeds[0].mutual_information)
# vaelib.check("the seed moves the marginal KL by more than half the range of the six priors' marginal KLs",
#              change_kl > 0.5 * (max(marginal_kls) - min(marginal_kls)))
# ```
#
# </details>
