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
# # 8. Prior playground
#
# Everything from notebooks 2-7 in one panel: pick a prior, set its size, press **Train**,
# and watch its contours settle around the encoder's codes while it learns. Every finished
# run adds a row to the results table, so a class can compare priors side by side.
#
# **What you will learn**
# - how each prior's size (components, grid, couplings) changes what it can fit;
# - how the test −ELBO, the gap between prior and aggregated posterior, and the holes move
#   together (or do not);
# - that results vary with the seed, and by how much.
#
# **Run time:** about 15 s on a 2-core laptop CPU (2 trainings).
# Each run in the panel takes a few seconds.

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import torch

import vaelib
from vaelib import exercises

data = vaelib.load_digits()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The panel
#
# - **prior**: one of the six priors of the chapter; the slider below it sets its size
#   (mixture components, GTM grid side, or flow couplings).
# - **max epochs**, **learning rate**, **seed**: the training run (the fast recipe with early
#   stopping, so most runs end well before the maximum).
# - **Train** starts a run in the background; **Stop** ends it after the current epoch and
#   keeps the best model so far.
# - Left picture: the prior's density (contour lines enclosing 25%-99% of its mass) with one
#   code per test image, redrawn every 5 epochs. Right: images decoded from prior samples.
# - The table: **test −ELBO** (lower is better), **KL(q(z) ‖ p(z))** (how far the prior is
#   from the aggregated posterior, notebook 7) and **holes** (the share of prior samples that
#   land where the encoder puts almost no data, notebook 2).

# %% slideshow={"slide_type": "subslide"}
playground = vaelib.Playground(data)
playground

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Things to try
#
# 1. Train `standard`, then `vampprior`. Which one has more holes? Look at the samples.
# 2. Train `mog` with 1 component, then with 16. With one component, is it any different
#    from the standard prior?
# 3. Train `flow` with 1 coupling and with 6. How far does the density bend?
# 4. Push the learning rate to its maximum. What happens, and what does the panel say?
# 5. Train the same prior with seeds 0, 1 and 2. How large are the differences compared
#    with the differences between priors?
#
# The exercises at the end take these up from code, with answers: 1 and 5 in exercise 3,
# 2, 3 and 4 in exercise 2, and exercise 1 counts the holes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The same from code
#
# The panel is an object: set its controls and call `train`. This is also how we check,
# without a browser, that a run redraws the plot and adds a row. The rows are in
# `playground.results`, a table whose rows use plain keys (`neg_elbo`, `marginal_kl`,
# `holes`, `prior`, `setting`, `seed`, `epochs`).

# %% slideshow={"slide_type": "-"}
frames, rows = playground.contours.frames, len(playground.results)
playground.prior.value = "mog"
playground.size.value = 4
playground.train(wait=True)
print("status says the run finished:", playground.status.value.startswith("Done: mog"))
print("plot redrawn during the run:", playground.contours.frames - frames >= 3)
print("rows added to the table:", len(playground.results) - rows)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The panel's two pictures after that run, as plain images (these also show where widgets
# cannot, e.g. when the notebook is viewed on GitHub):

# %% slideshow={"slide_type": "-"} tags=["thumbnail"]
from IPython.display import Image, display

display(Image(playground.contours.image.value), Image(playground.samples.value))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two priors, one table
#
# A second run, with the standard prior this time, adds a second row. The table is what the
# panel shows under the pictures, and it is an object you can read from code.

# %% slideshow={"slide_type": "-"}
playground.prior.value = "standard"
playground.train(wait=True)
print("priors in the table:", ", ".join(f"{run['prior']} {run['setting']}".strip() for run in playground.results))

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
playground.results

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each row is *one* training seed. Before reading anything into a difference between two
# rows, compare it with the difference between two seeds of one prior (exercise 3 measures
# it; notebook 9 measures it for all six priors, three seeds each).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaway
#
# A prior is a modelling choice you can see: the contours show where it puts its mass
# against the encoder's codes, the samples what that mass decodes to, and the table what it
# does to the numbers. Each row of the table is one training seed. Exercise 3 trains one prior
# with two more seeds: a difference between two priors' rows that is no larger than the
# difference between those seeds says nothing about the priors. Notebook 9 makes the
# comparison properly, for all six priors with three seeds each.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. **Count the holes yourself.** The table's **holes** column is the share of samples
#    $z \sim p(z)$ from the *prior* where the aggregated posterior is thin,
#    $q(z) < 0.1\,p(z)$ (`vaelib.analysis.holes`). (a) Write `my_holes(prior, aggregate, ratio, num_samples)`:
#    `prior` and `aggregate` are `torch.distributions` over $z$ (`sample`, `log_prob`), $p(z)$ and
#    $q(z)$; return the share of `num_samples` prior samples where $q(z) < \text{ratio}\cdot p(z)$.
#    The check runs it on fresh distributions. (b) Train the standard prior from code and compare
#    your function with `vaelib.analysis.holes` on its test codes. Why do holes show in the
#    samples on the right of the panel?

# %% slideshow={"slide_type": "-"} tags=["exercise"]
def my_holes(prior, aggregate, ratio, num_samples):
    """The share of num_samples prior samples where q(z) < ratio * p(z) -> a number in [0, 1]"""
    ...  # your code here


# %% slideshow={"slide_type": "-"}
exercises.check_holes(my_holes)

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 1</summary>
#
# (a) The share of holes is a probability under the prior, $P_{z \sim p}\big[q(z) < r\,p(z)\big]$,
# so draw $z$ from the prior and count. In logs the test reads $\log q(z) - \log p(z) < \log r$,
# which stays accurate where both densities are tiny. The slips the check names: the inequality
# reversed counts the complement (the prior samples that are *not* in a hole); the ratio on the
# wrong side, $r\,q(z) < p(z)$, asks whether $q$ is below *ten times* $p$, true almost everywhere;
# and samples drawn from $q(z)$ land where the codes are, by construction almost never in a hole.
#
# (b) Your function and `vaelib.analysis.holes` estimate the same probability from different
# random samples, so they agree within their standard errors, $\sqrt{h(1-h)/n}$ each. A hole is
# a region the prior samples from but the encoder almost never sends a training image to, so
# the decoder was hardly trained there: a prior sample that lands in a hole decodes to a
# blurred or mixed digit. Roughly the share of holes of the samples on the right of the panel
# comes from such places.
#
# ```python
# def my_holes(prior, aggregate, ratio, num_samples):
#     """The share of num_samples prior samples where q(z) < ratio * p(z) -> a number in [0, 1]"""
#     z = prior.sample((num_samples,))  # from the PRIOR: where its samples land
#     thin = aggregate.log_prob(z) - prior.log_prob(z) < math.log(ratio)  # q < ratio * p, in logs
#     return float(thin.float().mean())
#
#
# feedback = exercises.check_holes(my_holes)
# print(feedback)
# assert feedback, feedback
#
# # (b) one standard-prior model, trained from code; 10,000 prior samples each way
# model = vaelib.make_vae("standard", seed=0)
# vaelib.fit(model, data, seed=0, progress=False)
# with torch.no_grad():
#     mine = my_holes(model.prior.distribution(), vaelib.analysis.aggregate_posterior(model, data.test), 0.1, 10_000)
# library = vaelib.analysis.holes(model, data.test, num_samples=10_000)
# print(f"holes: mine {mine:.1%}, vaelib.analysis.holes {library:.1%}")
# standard_error = math.sqrt(max(library * (1 - library), 0.01) / 10_000)
# vaelib.check("my share of holes agrees with vaelib.analysis.holes within 5 standard errors of their difference",
#              abs(mine - library) < 5 * math.sqrt(2) * standard_error)
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "subslide"}
# 2. **A prior's size, and the learning rate.** (a) Train `mog` with 1 component and with 16.
#    With one component, can it do anything the standard prior cannot? (b) A `flow` with 1
#    coupling and one with 6: how far can each bend the density? (c) Push the learning rate to
#    its maximum and train the standard prior. What happens, and what does the panel say?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 2</summary>
#
# (a) No. A mixture with one component is a Gaussian $\mathcal{N}(\mu, \mathrm{diag}\,\sigma^2)$ with a
# learnable mean and variances: the standard prior seen through the change of coordinates
# $z = \mu + \sigma \odot \varepsilon$. The encoder's last layer can move and scale its codes the same
# way and the decoder's first layer can undo it, and the KL term does not change under such a
# change of coordinates, so every model with this prior has a twin with the standard prior and
# the same ELBO. Whatever separates the two rows is the training path, like a change of seed.
# Sixteen components can place mass in lobes where the codes cluster; whether they do better
# than one is a question for the seed spread (exercise 3, notebook 9), not for one run each.
#
# (b) One coupling keeps $z_1$ as it is and moves $z_2$ by an affine map whose shift and scale
# depend on $z_1$ (the scale bounded by $e^{\pm 1}$): $z_1$ stays standard normal and every slice at
# fixed $z_1$ is still a Gaussian in $z_2$. So one coupling can only shift, stretch and bend the
# density along $z_2$ (a banana at most). Six couplings alternate the coordinates (a flip
# between them), so each coordinate is bent by the other several times, and the density can
# take curved shapes and more than one lobe.
#
# (c) The training does not blow up here: the panel says **Done**, not **Diverged** (a run
# whose loss became NaN or infinite would say so and add no row). But it ends at a worse test
# −ELBO than the standard prior at the default learning rate: steps that large keep jumping
# past the minimum, and early stopping keeps the best of a noisy path. Exercise 3 measures
# whether the loss is larger than the seed-to-seed differences.
#
# ```python
# playground.prior.value = "mog"
# for components in (1, 16):
#     playground.size.value = components
#     playground.train(wait=True)
#     run = playground.results[-1]
#     print(f"mog with {components:2d} components: holes {run['holes']:.1%}, test −ELBO {run['neg_elbo']:.2f}")
#
# playground.prior.value = "standard"
# playground.lr.value = playground.lr.max
# playground.train(wait=True)
# status, fast = playground.status.value, playground.results[-1]
# playground.lr.value = playground.recipe.lr  # back to the default for the next runs
# print(status)
# vaelib.check("at the highest learning rate the run finishes: the panel says Done", status.startswith("Done"))
# default = [run for run in playground.results if run["prior"] == "standard" and run["run"] != fast["run"]][0]
# vaelib.check("its test −ELBO is worse than the standard prior's at the default learning rate",
#              fast["neg_elbo"] > default["neg_elbo"])
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "-"}
# 3. **How much does the seed matter?** Train `vampprior` with seeds 1 and 2. Compare the gap
#    between the two seeds with the differences between the priors' runs in the table, and with
#    what the highest learning rate cost in exercise 2. Then draw the test −ELBO of every run
#    against its holes, one dot per run: which has more holes, the standard prior or the
#    VampPrior?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 3</summary>
#
# The two seeds of one prior differ, in test −ELBO and in holes, by more than the two closest
# other runs in the table (other priors or sizes) do. A difference between two rows of that
# size says nothing about the priors: the seed alone does as much. The highest learning rate
# costs more than the gap between the two seeds, so that loss is more than seed noise. For the
# same reason one run per prior cannot say whether the standard prior or the VampPrior has
# more holes: the VampPrior's own seeds differ by more than some priors do. Notebook 9, with
# three seeds per prior, finds no difference in holes between the two beyond the seed spread.
#
# ```python
# playground.prior.value = "vampprior"
# for seed in (1, 2):
#     playground.seed.value = seed
#     playground.train(wait=True)
#     print(f"vampprior, seed {seed}: test −ELBO {playground.results[-1]['neg_elbo']:.2f}")
# playground.seed.value = 0
# runs = [run for run in playground.results if run["run"] != fast["run"]]  # the default learning rate only
# seeds = [run for run in runs if run["prior"] == "vampprior"]
# others = [run for run in runs if run["prior"] != "vampprior"]
#
#
# def smallest_gap(key):
#     """The smallest difference in ``key`` between two runs of different priors or sizes."""
#     return min(abs(a[key] - b[key]) for i, a in enumerate(others) for b in others[i + 1 :])
#
#
# for key, label in (("neg_elbo", "test −ELBO"), ("holes", "holes")):
#     gap = abs(seeds[0][key] - seeds[1][key])
#     print(f"{label}: the two seeds {gap:.3f} apart; other runs {smallest_gap(key):.3f} apart at least")
#     vaelib.check(f"the two seeds differ in {label} by more than the closest two other runs", gap > smallest_gap(key))
# vaelib.check("the highest learning rate costs more test −ELBO than the gap between the two seeds",
#              fast["neg_elbo"] - default["neg_elbo"] > abs(seeds[0]["neg_elbo"] - seeds[1]["neg_elbo"]))
#
# fig, ax = plt.subplots(figsize=(4.5, 3.5), layout="constrained")
# for run in playground.results:
#     ax.scatter(run["holes"], run["neg_elbo"], s=20)
#     label = f"{run['prior']} {run['setting']} seed {run['seed']}" + (" (max lr)" if run["run"] == fast["run"] else "")
#     ax.annotate(label, (run["holes"], run["neg_elbo"]), fontsize=8, xytext=(3, 3), textcoords="offset points")
# ax.set_xlabel("holes (share of prior samples)")
# ax.set_ylabel("test −ELBO (nats)")
# plt.close(fig)
# playground.prior.value = "standard"
# fig
# ```
#
# </details>
