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
# **Run time:** about 25 s on a 2-core laptop CPU (6 trainings).
# Each run in the panel takes a few seconds.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

import vaelib

data = vaelib.load_digits()

# %% [markdown]
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

# %%
playground = vaelib.Playground(data)
playground

# %% [markdown]
# ## Things to try
#
# 1. Train `standard`, then `vampprior`. Which one has more holes? Look at the samples.
# 2. Train `mog` with 1 component, then with 16. With one component, is it any different
#    from the standard prior?
# 3. Train `flow` with 1 coupling and with 6. How far does the density bend?
# 4. Push the learning rate to its maximum. What happens, and what does the panel say?
# 5. Train the same prior with seeds 0, 1 and 2. How large are the differences compared
#    with the differences between priors?

# %% [markdown]
# ## The same from code
#
# The panel is an object: set its controls and call `train`. This is also how we check,
# without a browser, that a run redraws the plot and adds a row. The rows are in
# `playground.results`, a table whose rows use plain keys (`neg_elbo`, `marginal_kl`,
# `holes`, `prior`, `setting`, `seed`, `epochs`).

# %%
frames, rows = playground.contours.frames, len(playground.results)
playground.prior.value = "mog"
playground.size.value = 4
playground.train(wait=True)
print("status says the run finished:", playground.status.value.startswith("Done: mog"))
print("plot redrawn during the run:", playground.contours.frames - frames >= 3)
print("rows added to the table:", len(playground.results) - rows)

# %% [markdown]
# The panel's two pictures after that run, as plain images (these also show where widgets
# cannot, e.g. when the notebook is viewed on GitHub):

# %% tags=["thumbnail"]
from IPython.display import Image, display

display(Image(playground.contours.image.value), Image(playground.samples.value))

# %% [markdown]
# ## Two priors, one table
#
# A second run, with the standard prior this time, adds a second row. The table is what the
# panel shows under the pictures, and it is an object you can read from code.

# %%
playground.prior.value = "standard"
playground.train(wait=True)
print("priors in the table:", ", ".join(f"{run['prior']} {run['setting']}".strip() for run in playground.results))

# %% tags=["nbval-ignore-output"]
playground.results

# %% [markdown]
# Each row is *one* training seed. Before reading anything into a difference between two
# rows, compare it with the difference between two seeds of one prior (exercise 3 measures
# it; notebook 9 measures it for all six priors, three seeds each).

# %% [markdown]
# ## Takeaway
#
# A prior is a modelling choice you can see: the contours show where it puts its mass
# against the encoder's codes, the samples what that mass decodes to, and the table what it
# does to the numbers. Each row of the table is one training seed. Exercise 3 trains one prior
# with two more seeds: a difference between two priors' rows that is no larger than the
# difference between those seeds says nothing about the priors. Notebook 9 makes the
# comparison properly, for all six priors with three seeds each.
#
# ## Exercises
#
# 1. From code, train `mog` with 1 and with 16 components and compare their holes.
# 2. Draw the test −ELBO of every run so far against its holes, one dot per run.
# 3. How much does the seed matter? Train `vampprior` with seeds 1 and 2 and compare the
#    spread of test −ELBO with the differences between priors in the table.

# %% jupyter={"source_hidden": true} tags=["nbval-ignore-output"]
# Solution 1
playground.prior.value = "mog"
for components in (1, 16):
    playground.size.value = components
    playground.train(wait=True)
    run = playground.results[-1]
    print(f"mog with {components:2d} components: holes {run['holes']:.1%}, test −ELBO {run['neg_elbo']:.2f}")

# %% jupyter={"source_hidden": true}
# Solution 2
fig, ax = plt.subplots(figsize=(4.5, 3.5), layout="constrained")
for run in playground.results:
    ax.scatter(run["holes"], run["neg_elbo"], s=20)
    ax.annotate(f"{run['prior']} {run['setting']}".strip(), (run["holes"], run["neg_elbo"]), fontsize=7,
                xytext=(3, 3), textcoords="offset points")
ax.set_xlabel("holes (share of prior samples)")
ax.set_ylabel("test −ELBO (nats)")
plt.close(fig)
fig

# %% jupyter={"source_hidden": true} tags=["nbval-ignore-output"]
# Solution 3
playground.prior.value = "vampprior"
for seed in (1, 2):
    playground.seed.value = seed
    playground.train(wait=True)
    print(f"vampprior, seed {seed}: test −ELBO {playground.results[-1]['neg_elbo']:.2f}")
seeds = [run["neg_elbo"] for run in playground.results if run["prior"] == "vampprior"]
others = [run["neg_elbo"] for run in playground.results if run["prior"] != "vampprior"]
print(f"two seeds of one prior: {max(seeds) - min(seeds):.2f} nats apart; "
      f"the other runs in the table: {max(others) - min(others):.2f} nats from lowest to highest")
playground.seed.value = 0
playground.prior.value = "standard"
