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
# # 9. All six priors side by side
#
# Notebooks 2-6 met the priors one at a time, notebook 7 measured how far each is from the
# aggregated posterior, and notebook 8 let you train them by hand. This closing notebook puts
# the six next to each other, each trained with three seeds, and says for each prior only
# what the numbers support.
#
# **What you will learn**
# - the book's Fig. 4.13 for all six priors, on the same axes;
# - one table: test −ELBO and an importance-sampled −log p(x), the two ELBO-surgery terms,
#   holes, the prior's size and the cost of a training step, as mean ± spread over seeds;
# - which differences between priors are larger than the seed-to-seed spread, and which are not;
# - where to read more: the papers behind each prior.
#
# **Run time:** about 60 s on a 2-core laptop CPU (18 trainings).
#
# Tomczak, *Deep Generative Modeling*, Chapter 4, section on priors.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import time

import torch

import vaelib

data = vaelib.load_digits()
x = data.test

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Three seeds of each prior
#
# The same architecture and the fast recipe for every prior; seeds 0, 1 and 2 each (the seed
# sets the initial weights and the order of the minibatches). A difference between two
# priors counts only when it is larger than the spread between seeds of one prior.

# %% slideshow={"slide_type": "-"}
runs = {name: vaelib.train_seeds(name, data, seeds=3, progress=False) for name in vaelib.PRIORS}
print({name: list(models.seeds) for name, models in runs.items()})

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. One table
#
# Every number per prior as mean ± spread over the three seeds (the spread is the sample
# standard deviation over seeds). From left to right: the test −ELBO (the book's "nll"),
# an importance-sampled estimate of −log p(x) with K = 10 samples per image (a tighter bound
# than the ELBO, still above the exact value), the reconstruction term, the two terms of ELBO
# surgery (notebook 7: the mutual information and the marginal KL), the holes (the share of
# prior samples that land where q(z) < 0.1 p(z), notebook 2), the prior's own learnable
# parameters, and what one training step costs (a minibatch of 128 images, forward, backward
# and update, timed on this machine: the only column that depends on the computer).

# %% slideshow={"slide_type": "-"}
IWAE_SAMPLES = 10  # K of the IWAE estimate: larger K is tighter and costs K times more decoder passes


def seconds_per_step(name, steps=3, repeats=3):
    """Wall time of one training step (batch 128, Adam) of an untrained model: best of ``repeats``."""
    model = vaelib.make_vae(name, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch = data.train[:128]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            loss = model.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        best = min(best, (time.perf_counter() - start) / steps)
    return best


# A 100 x 100 grid gives the surgery terms to 0.001 nat here (300 x 300 gives the same digits).
table = vaelib.compare_seeds(runs, x, iwae_samples=IWAE_SAMPLES, resolution=100)
for row in table:
    row["ms_per_step"] = 1000 * seconds_per_step(row["prior"])
table = vaelib.ComparisonTable(
    table.rows,
    table.notes + " ms/step: one training step (batch 128) of an untrained model, best of 3, on this machine.",
    columns=[*vaelib.ComparisonTable.columns[:-1], ("ms_per_step", "ms/step", "{:.0f}")],
)
stats = {row["prior"]: row for row in table}

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
table

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Fig. 4.13, six times
#
# The prior's contour lines (the regions holding 25%-99% of its mass) over the codes of the
# test images, for seed 0 of each prior, all on the same axes. Each title gives that one
# model's test −ELBO (the first of the three values behind the table's mean).

# %% slideshow={"slide_type": "-"} tags=["thumbnail"]
vaelib.prior_comparison(
    {name: models[0] for name, models in runs.items()}, x, data.test_labels,
    neg_elbos={name: stats[name]["neg_elbo"].values[0] for name in runs},
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. What the table shows, and what it does not
#
# A difference counts when the gap between two means is larger than the larger of the two
# seed spreads; anything smaller is "no difference".
#
# - **Likelihood.** In test −ELBO and in the IWAE estimate, no prior beats the standard
#   Gaussian. Four of the five learned priors show no difference from it; the GTM prior is
#   worse than it in both.
# - **Reconstruction.** No prior reconstructs the test images better than the standard
#   Gaussian: the fixed prior that squeezes the codes into a round blob (notebook 2) does
#   not pay for it in the reconstruction term here.
# - **Distance to q(z).** The marginal KL is between 0.1 and 0.5 nat for all six priors. The
#   VampPrior's and the GTM-VampPrior's means lie below the standard's by a gap between half
#   and twice the seed spread: suggestive, but three seeds cannot settle it.
# - **Holes.** No prior has fewer holes than the standard Gaussian; the mixture, the GTM and
#   the flow have more, beyond the seed spread. A prior that can bend puts mass in places
#   between the codes too.

# %% slideshow={"slide_type": "notes"}
standard = stats["standard"]
learned = [name for name in runs if name != "standard"]
for key, what in (("neg_elbo", "test −ELBO"), ("nll_iwae", "IWAE −log p(x)")):
    vaelib.check(f"no prior has a lower {what} than the standard Gaussian by more than the seed spread",
                 all(standard[key].mean - stats[n][key].mean <= vaelib.claims.noise(standard[key], stats[n][key])
                     for n in learned))
    for name in ("mog", "vampprior", "gtm-vampprior", "flow"):
        vaelib.expect_within_noise(f"{name} and standard: no difference in {what}", stats[name][key], standard[key])
    vaelib.expect_lower(f"the standard Gaussian has a lower {what} than the GTM prior", standard[key], stats["gtm"][key])
vaelib.check("no prior has a lower reconstruction term than the standard Gaussian by more than the seed spread",
             all(standard["neg_reconstruction"].mean - stats[n]["neg_reconstruction"].mean
                 <= vaelib.claims.noise(standard["neg_reconstruction"], stats[n]["neg_reconstruction"]) for n in learned))
for name in runs:
    vaelib.expect_between(f"{name}: KL(q(z) ‖ p(z)) between 0.1 and 0.5 nat", stats[name]["marginal_kl"], 0.1, 0.5)
for name in ("vampprior", "gtm-vampprior"):
    gap = standard["marginal_kl"].mean - stats[name]["marginal_kl"].mean
    spread = vaelib.claims.noise(standard["marginal_kl"], stats[name]["marginal_kl"])
    vaelib.check(f"{name}: marginal KL below the standard's by between half and twice the seed spread",
                 0.5 * spread < gap < 2 * spread)
vaelib.check("no prior has fewer holes than the standard Gaussian by more than the seed spread",
             all(standard["holes"].mean - stats[n]["holes"].mean <= vaelib.claims.noise(standard["holes"], stats[n]["holes"])
                 for n in learned))
for name in ("mog", "gtm", "flow"):
    vaelib.expect_lower(f"the standard Gaussian has fewer holes than {name}", standard["holes"], stats[name]["holes"])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. One line per prior
#
# | prior | verdict on this collection's numbers (2-D latent, Digits, three seeds) |
# |:---|:---|
# | standard | no parameters; no learned prior beats it beyond the seed spread in −ELBO, IWAE, reconstruction or holes |
# | mog | 80 parameters, no difference from the standard in −ELBO or marginal KL, and more holes |
# | vampprior | no difference from the standard in −ELBO or holes; its marginal KL is lower on average, by about one seed spread |
# | gtm | worse than the standard in −ELBO, IWAE and holes, from a 67,604-parameter network |
# | gtm-vampprior | no difference from the standard in −ELBO; like the VampPrior, a lower mean marginal KL by about one seed spread |
# | flow | the most parameters (200,454) for no difference from the standard in −ELBO or marginal KL, and more holes |
#
# At L = 2 the encoder meets every prior half-way, and the prior has little likelihood to
# win: the VampPrior paper's gains (2-3 nats on MNIST) were measured with a 40-D latent.

# %% slideshow={"slide_type": "notes"}
params = {name: stats[name]["prior_parameters"] for name in runs}
vaelib.check("the standard prior has no parameters, the flow the most",
             params["standard"] == 0 and max(params, key=params.get) == "flow")
vaelib.check("the prior sizes in the verdicts are this table's",
             (params["mog"], params["gtm"], params["flow"]) == (80, 67_604, 200_454))
for name in ("mog", "flow"):
    vaelib.expect_within_noise(f"{name} and standard: no difference in marginal KL",
                               stats[name]["marginal_kl"], standard["marginal_kl"])
vaelib.expect_within_noise("vampprior and standard: no difference in holes", stats["vampprior"]["holes"], standard["holes"])
vaelib.expect_lower("the standard Gaussian has a lower IWAE −log p(x) than the GTM prior",
                    standard["nll_iwae"], stats["gtm"]["nll_iwae"])
vaelib.expect_lower("the standard Gaussian has fewer holes than the GTM prior", standard["holes"], stats["gtm"]["holes"])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaway
#
# Side by side and with the seed spread in view, the six priors of the chapter model the
# Digits test images equally well in a 2-D latent space, except the GTM prior, which is
# worse; none beats the fixed standard Gaussian. What differs is the geometry: where the
# prior puts its mass (the contours), how much of it falls in holes, and what a training step
# costs. The ELBO-surgery identity says why the likelihood moves so little: the prior can
# only win back the marginal KL, a fraction of a nat for every prior here.
#
# ## Exercises
#
# 1. Which column of the table separates the priors most clearly? For each numeric column,
#    find the pair of priors whose means differ by the most seed spreads (the larger of the
#    pair's two spreads, as in the checks above).
# 2. Draw the test −ELBO of all 18 models against their holes, one dot per model, one colour
#    per prior. Do the three seeds of one prior cluster apart from the other priors?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 1</summary>
#
# Loop over the columns and over all pairs of priors, and divide the gap between two means by
# the larger of the two spreads. No column separates the priors clearly: in every column even
# the most distant pair lies only a few seed spreads apart, and the mutual information
# I(x; z), the part of the KL term the prior cannot change (notebook 7), separates them the
# least. With three seeds a gap of two or three spreads is suggestive, not settled.
#
# ```python
# columns = ("neg_elbo", "nll_iwae", "neg_reconstruction", "mutual_information", "marginal_kl", "holes")
# best = {}
# for key in columns:
#     best[key] = max(
#         (abs(stats[a][key].mean - stats[b][key].mean) / vaelib.claims.noise(stats[a][key], stats[b][key]), a, b)
#         for a in runs for b in runs if a < b
#     )
#     print(f"{key:20s} {best[key][1]} vs {best[key][2]}: {best[key][0]:.1f} seed spreads apart")
# vaelib.check("in no column do two priors lie more than 5 seed spreads apart", all(b[0] < 5 for b in best.values()))
# vaelib.check("the mutual information separates the priors least",
#              min(best, key=lambda key: best[key][0]) == "mutual_information")
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 2</summary>
#
# One `scatter` per prior, with the three seeds' values from the table. The seeds of one prior
# do not form clusters apart from the others: a prior's three dots spread about as far as the
# priors lie apart, so the clouds overlap. That is what "no difference" in the table means;
# the seed, not the prior, moves most models around.
#
# ```python
# import matplotlib.pyplot as plt
#
# fig, ax = plt.subplots(figsize=(4.5, 3.5), layout="constrained")
# for name in runs:
#     ax.scatter(stats[name]["holes"].values, stats[name]["neg_elbo"].values, s=20, label=name)
# ax.set_xlabel("holes (share of prior samples)")
# ax.set_ylabel("test −ELBO (nats)")
# ax.legend(fontsize=7, frameon=False)
# plt.close(fig)
# display(fig)
# low, high = {}, {}
# for name in runs:
#     low[name], high[name] = min(stats[name]["neg_elbo"].values), max(stats[name]["neg_elbo"].values)
# overlapping = [name for name in runs if name != "standard"
#                and low[name] <= high["standard"] and low["standard"] <= high[name]]
# vaelib.check("the standard's three test −ELBOs overlap those of at least three other priors",
#              len(overlapping) >= 3)
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "slide"}
# ## References
#
# - J. M. Tomczak. *Deep Generative Modeling*. Springer, 2022, Chapter 4 (the section on priors).
# - J. M. Tomczak and M. Welling. VAE with a VampPrior. *AISTATS*, 2018.
# - M. D. Hoffman and M. J. Johnson. ELBO surgery: yet another way to carve up the variational
#   evidence lower bound. *NIPS Workshop on Advances in Approximate Bayesian Inference*, 2016.
# - C. M. Bishop, M. Svensén and C. K. I. Williams. GTM: the generative topographic mapping.
#   *Neural Computation* 10(1), 1998.
# - L. Dinh, J. Sohl-Dickstein and S. Bengio. Density estimation using Real NVP. *ICLR*, 2017.
# - D. J. Rezende and F. Viola. Taming VAEs. arXiv:1810.00597, 2018.
