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
# # 4. The VampPrior: a mixture of the encoder's own posteriors
#
# The prior that maximises the ELBO is the aggregated posterior
# $q(z) = \frac1N \sum_n q(z|x_n)$ (notebook 7): a mixture with one component per training
# image. The **VampPrior** ("variational mixture of posteriors") keeps that form and makes
# it affordable: $K \ll N$ components, each the encoder's posterior for a learned
# **pseudo-input**, an image that exists only to be encoded.
#
# **What you will learn**
# - the VampPrior's log-density, written by hand (pseudo-inputs through the encoder, then a
#   Gaussian mixture) and checked against vaelib;
# - how the pseudo-inputs change while the VAE trains, why they barely do, and why they do
#   not need to look like digits;
# - random against data initialisation of the pseudo-inputs: the images, the test −ELBO over
#   three training seeds and the book's Fig. 4.13, side by side;
# - where each pseudo-input's component sits in the latent space, and how often that is among
#   the codes of its own digit.
#
# **Run time:** about 25 s on a 2-core laptop CPU (6 trainings).
#
# Tomczak, *Deep Generative Modeling*, Chapter 4, section on priors: "VampPrior"
# (after Tomczak & Welling, 2018).

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import torch

import vaelib
from vaelib import exercises

data = vaelib.load_digits()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The density, by hand
#
# Replace the $N$ training images in $q(z)$ by $K$ pseudo-inputs $u_1, \dots, u_K$ and let
# the mixture weights be learned too, as the book does:
# $$p(z) = \sum_{k=1}^K w_k\, q(z \mid u_k), \qquad q(z \mid u_k) = \mathcal{N}\big(z;\, \mu(u_k), \mathrm{diag}\,\sigma^2(u_k)\big),$$
# where $\mu$ and $\sigma^2$ are the **same encoder** the VAE uses for real images. The
# pseudo-inputs live in image space, 64 pixels each. Like the VampPrior paper, vaelib keeps
# them in the data's range: it learns unconstrained values $a_k$ and uses
# $u_k = 16\,\mathrm{sigmoid}(a_k)$, so every pixel stays in $[0, 16]$. The weights are
# $w = \mathrm{softmax}(\text{mixture logits})$; the paper fixes them to $1/K$
# (`learn_weights=False`, exercise 1).
#
# In code: pseudo-inputs through the encoder, then the mixture of notebook 3.

# %% slideshow={"slide_type": "-"}
LOG_2PI = math.log(2 * math.pi)


def vampprior_log_prob(z, encoder, pseudo_input_logits, mixture_logits):
    """log p(z) = logsumexp_k [log w_k + log q(z | u_k)]. z: (B, L) -> (B,)"""
    pseudo_inputs = (encoder.num_values - 1) * torch.sigmoid(pseudo_input_logits)  # (K, D): pixels in [0, 16]
    means, logvars = encoder(pseudo_inputs)  # (K, L): one posterior per pseudo-input
    z = z[:, None, :]  # (B, 1, L) against the (K, L) parameters
    log_components = (-0.5 * (LOG_2PI + logvars + (z - means) ** 2 * torch.exp(-logvars))).sum(-1)  # (B, K)
    return torch.logsumexp(torch.log_softmax(mixture_logits, dim=0) + log_components, dim=1)  # (B,)


model = vaelib.make_vae("vampprior", seed=0)  # K = 16 pseudo-inputs, random start
prior = model.prior
torch.manual_seed(0)
z = 3 * torch.randn(1000, 2)
with torch.no_grad():
    torch.testing.assert_close(
        vampprior_log_prob(z, model.encoder, prior.pseudo_input_logits, prior.mixture_logits), prior.log_prob(z)
    )
print("hand-written log-density matches vaelib: True")
print(f"the prior's own parameters: {prior.num_parameters()} (16 pseudo-inputs x 64 pixels + 16 mixture logits)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# > **The book's code.** The companion notebook's `VampPrior` (`vae_priors_example.ipynb` in
# > jmtomczak/intro_dgm) differs from the density above in three ways. Its `log_prob` takes the
# > log-sum-exp over components separately in each latent dimension, and the VAE then sums over
# > dimensions: a product of $L$ one-dimensional mixtures ($K^L$ components), not the mixture of
# > $K$ posteriors (notebook 3 shows the difference). Its `sample` uses $\exp(\log\sigma^2)$, the
# > variance, as the standard deviation. And its `data=` argument is accepted but never used: the
# > "data-vampprior" runs start from random pseudo-inputs like the others. Section 4 does what
# > `data=` was meant to do.

# %% [markdown] slideshow={"slide_type": "-"}
# The prior's parameters are images, so we can look at them. With `init="random"` (the
# default) every pixel starts uniform in $[0, 16]$: noise.

# %% slideshow={"slide_type": "-"}
vaelib.plots.pseudo_inputs(model, title='16 pseudo-inputs before training (init="random")')

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Watch the pseudo-inputs while the VAE trains
#
# `fit` calls a callback after every epoch's validation, with the model it validated (the
# fast recipe validates a running average of the weights), and `live_fit` passes ours on
# next to its live contour view. Ours keeps a copy of the pseudo-inputs and of the
# component means.

# %% slideshow={"slide_type": "subslide"}
def train_watching(model):
    """live_fit(model, seed=0), keeping the pseudo-inputs and component means after every
    epoch. -> (history, {epoch: pseudo-inputs (K, D)}, {epoch: means (K, L)})"""
    with torch.no_grad():
        pseudo_inputs = {0: model.prior.pseudo_inputs.clone()}
        means = {0: model.prior.mixture_parameters()[1].clone()}

    def watch(validated, history):
        with torch.no_grad():
            pseudo_inputs[history.epochs] = validated.prior.pseudo_inputs.clone()
            means[history.epochs] = validated.prior.mixture_parameters()[1].clone()

    history = vaelib.live_fit(model, data, seed=0, callback=watch)
    return history, pseudo_inputs, means


history, snapshots, mean_paths = train_watching(model)

# %% [markdown] slideshow={"slide_type": "subslide"}
# `fit` keeps the weights of the best validation epoch, so the trained prior's pseudo-inputs
# are the snapshot of that epoch. Top row: the pseudo-inputs at a few epochs. Bottom row:
# how far each pixel has moved since the start, on a scale from 0 (white) to the largest
# change anywhere (black).

# %% slideshow={"slide_type": "-"}
def pseudo_input_film(snapshots, best_epoch, columns=4):
    """Pseudo-inputs at evenly spaced epochs up to ``best_epoch`` (top) and their change since epoch 0 (bottom)."""
    epochs = sorted({round(best_epoch * i / (columns - 1)) for i in range(columns)})
    changes = {epoch: (snapshots[epoch] - snapshots[0]).abs() for epoch in epochs}
    largest = max(float(change.max()) for change in changes.values())
    fig, axes = plt.subplots(2, len(epochs), figsize=(2.3 * len(epochs), 5.0), layout="constrained")
    for column, epoch in enumerate(epochs):
        label = f"epoch {epoch}" + (" (kept)" if epoch == best_epoch else "")
        vaelib.plots.pseudo_inputs(snapshots[epoch], ax=axes[0, column], ncols=4, vmax=16, title=label)
        if epoch > 0:
            vaelib.plots.pseudo_inputs(changes[epoch], ax=axes[1, column], ncols=4, vmax=largest,
                                       title=f"|change|, {label}")
    axes[1, 0].set_axis_off()
    axes[1, 0].text(0.5, 0.5, f"how far each pixel has moved\nsince epoch 0: white 0,\nblack {largest:.1f} levels (of 0 to 16)",
                    ha="center", va="center", fontsize=10, transform=axes[1, 0].transAxes)
    fig.suptitle("pseudo-inputs during training (top) and their change since the start (bottom)", fontsize=11)
    plt.close(fig)
    return fig


pseudo_input_film(snapshots, history.best_epoch)

# %% slideshow={"slide_type": "-"}
change = (snapshots[history.best_epoch] - snapshots[0]).abs()

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"kept epoch {history.best_epoch}: pixels moved by {change.mean():.2f} levels on average, "
      f"{change.max():.2f} at most (of a 0..16 range)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# To the eye, nothing happened: the pseudo-inputs are still noise, and a pixel moved by a
# fraction of a level on average. Two reasons.
#
# - **Small steps.** Adam moves each unconstrained value $a_k$ by at most about the learning
#   rate, 0.003, per step; a short training makes a few hundred steps, so $a_k$ moves by about 1
#   at most, and $16\,\mathrm{sigmoid}(a)$ changes by at most 4 levels per unit of $a$
#   (less where the sigmoid is flat).
# - **Nothing asks for digits.** The prior uses a pseudo-input only through two numbers per
#   latent dimension: the mean and variance the encoder gives it. Countless images, noise
#   among them, map to the same component, and the ELBO cannot tell them apart.

# %% slideshow={"slide_type": "notes"}
# The claims above, checked: this run's numbers change a little from one computer to the next, the claims must not.
steps = history.epochs * math.ceil(len(data.train) / history.recipe["batch_size"])
vaelib.check("a short training: a few hundred optimiser steps (100 to 1000)", 100 <= steps <= 1000)
vaelib.check("a pixel moved by a fraction of a level on average", change.mean() < 1)
vaelib.check("no pixel moved by 4 levels or more", change.max() < 4)

# %% [markdown] slideshow={"slide_type": "-"}
# The components moved all the same. Each line below follows one component's mean
# $\mu(u_k)$ from the start (small blue dot) to the kept model (red dot), over the trained
# prior's contours and the codes of the test images. They all start near the same place:
# the untrained encoder sends every noise image to about the same code.

# %% slideshow={"slide_type": "-"}
fig = vaelib.plots.mixture_components(model, data.test, images=False,
                                       title="vampprior: component means, start to end of training")
ax = fig.axes[0]
paths = torch.stack([mean_paths[epoch] for epoch in sorted(mean_paths) if epoch <= history.best_epoch])  # (T, K, L)
for k in range(paths.shape[1]):
    ax.plot(paths[:, k, 0], paths[:, k, 1], color="#1f77b4", linewidth=1.0, zorder=3)
ax.scatter(paths[0, :, 0], paths[0, :, 1], s=8, color="#1f77b4", zorder=4)
fig

# %% [markdown] slideshow={"slide_type": "subslide"}
# The images hardly changed, but the encoder that reads them did. How much of each
# component's journey is the encoder's doing? Send the *starting* pseudo-inputs through the
# *trained* encoder: the distance from the start to there is the encoder's share, the rest is
# the pseudo-inputs' own.

# %% slideshow={"slide_type": "-"}
with torch.no_grad():
    start_through_trained_encoder = model.encoder(snapshots[0])[0]
encoder_share = (start_through_trained_encoder - mean_paths[0]).norm(dim=1).mean()
pseudo_input_share = (mean_paths[history.best_epoch] - start_through_trained_encoder).norm(dim=1).mean()

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"average distance a component moved because the encoder changed:       {encoder_share:.2f}")
print(f"average distance it moved because its pseudo-input changed (after that): {pseudo_input_share:.2f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Most of the movement comes from the encoder. In a VampPrior, the encoder is part of the
# prior: every gradient step on the encoder reshapes $p(z)$ too, which is how this prior
# keeps up with the codes without its own parameters moving much.

# %% slideshow={"slide_type": "notes"}
vaelib.check("the encoder moved the components further than their pseudo-inputs did", encoder_share > pseudo_input_share)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Noise to us, digits to the VAE
#
# If the pseudo-inputs are noise, what do they *mean*? Decode each component's mean: left,
# the trained pseudo-inputs; right, the decoder's expected image at $\mu(u_k)$, in the same
# order.

# %% slideshow={"slide_type": "-"}
with torch.no_grad():
    component_means = prior.mixture_parameters()[1]
fig, (left, right) = plt.subplots(1, 2, figsize=(6.4, 3.4), layout="constrained")
vaelib.plots.pseudo_inputs(model, ax=left, ncols=4, title="pseudo-inputs $u_k$")
vaelib.plots.pseudo_inputs(model.decode_mean(component_means), ax=right, ncols=4, vmax=16,
                           title="decoded $\\mathbb{E}[x \\mid z = \\mu(u_k)]$")
plt.close(fig)
fig

# %% [markdown] slideshow={"slide_type": "subslide"}
# Through the encoder and decoder, the noise turns into digit-like images: each component
# decodes to something like the digits whose codes lie around it. Placing each pseudo-input at
# its component (`vaelib.plots.mixture_components`) shows the same map from the other side:

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
vaelib.plots.mixture_components(model, data.test)

# %% slideshow={"slide_type": "-"}
weights = torch.softmax(prior.mixture_logits.detach(), dim=0)

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"learned weights: {weights.min():.3f} to {weights.max():.3f} (uniform: {1 / 16:.3f})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The learned weights stay close to uniform, so in this short training the book's learned
# weights and the paper's fixed $1/K$ are nearly the same prior (exercise 1 compares them).

# %% slideshow={"slide_type": "notes"}
vaelib.check("every weight is within a factor 1.5 of uniform (1/16)",
             (weights * 16).max() < 1.5 and (weights * 16).min() > 1 / 1.5)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Random or data initialisation
#
# The pseudo-inputs can also start as $K$ real training images (`init="data"`), picked at
# random. Is that a better start? One training cannot say: the test −ELBO of one prior moves
# by a few tenths of a nat from one training seed to the next. So each start gets three
# seeds (0, 1, 2); for a given seed both starts begin from the same encoder and decoder
# weights and train on the same random numbers. The random start's seed 0 is the model
# above; two more seeds join it.

# %% slideshow={"slide_type": "subslide"}
random_runs = [model, *vaelib.train_seeds("vampprior", data, seeds=[1, 2])]

# %% slideshow={"slide_type": "subslide"}
data_runs = vaelib.make_vaes("vampprior", seeds=3, init="data")
data_starts = [m.prior.pseudo_inputs.detach().clone() for m in data_runs]
with torch.no_grad():  # which training images were picked: the nearest ones to the starting pseudo-inputs
    picked_digits = [data.train_labels[torch.cdist(start, data.train.float()).argmin(dim=1)] for start in data_starts]
print("seed 0, digits of the 16 training images picked:", sorted(picked_digits[0].tolist()))
print("seed 0, digits no pseudo-input starts from:", sorted(set(range(10)) - set(picked_digits[0].tolist())))

# %% slideshow={"slide_type": "subslide"}
vaelib.fit_seeds(data_runs, data)
data_model = data_runs[0]

# %% [markdown] slideshow={"slide_type": "subslide"}
# The data-initialised pseudo-inputs stay what they were, training digits, for the same two
# reasons as before; besides, more than half of a Digits image's pixels are exactly 0 or 16,
# where the sigmoid is flat and a pixel can hardly move. What changes is the grey edges of
# the strokes (seed 0, start and kept epoch):

# %% slideshow={"slide_type": "-"}
data_best = data_model.history.best_epoch
pseudo_input_film({0: data_starts[0], data_best: data_model.prior.pseudo_inputs.detach()}, data_best, columns=2)

# %% slideshow={"slide_type": "notes"}
data_change = (data_model.prior.pseudo_inputs.detach() - data_starts[0]).abs()
vaelib.check("more than half of the training images' pixels are exactly 0 or 16",
             ((data.train == 0) | (data.train == 16)).double().mean() > 0.5)
vaelib.check("the data start's pseudo-inputs moved by a fraction of a level on average", data_change.mean() < 1)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The test −ELBO of every model, mean ± spread (the sample standard deviation over the three
# seeds):

# %% slideshow={"slide_type": "-"}
neg_elbos = {
    "random start": vaelib.SeedStats(vaelib.negative_elbo(m, data.test) for m in random_runs),
    "data start": vaelib.SeedStats(vaelib.negative_elbo(m, data.test) for m in data_runs),
}

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
for name, stats in neg_elbos.items():
    print(f"test −ELBO, {name}: {stats:.2f} nats (seeds 0, 1, 2: {', '.join(f'{v:.2f}' for v in stats.values)})")

# %% slideshow={"slide_type": "notes"}
vaelib.check("for both starts, the test −ELBO's seed-to-seed spread is a few tenths of a nat (0.1 to 0.9)",
             all(0.1 < stats.spread < 0.9 for stats in neg_elbos.values()))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The book's Fig. 4.13 for both starts (seed 0), on the same axes:

# %% slideshow={"slide_type": "-"}
models = {"random start": model, "data start": data_model}
torch.manual_seed(0)
vaelib.plots.prior_comparison(models, data.test, data.test_labels, ncols=2, panel_size=3.8,
                              neg_elbos={name: neg_elbos[name].values[0] for name in models})

# %% [markdown] slideshow={"slide_type": "subslide"}
# And each prior's pseudo-inputs at their components. With data initialisation the prior is
# literally a small aggregated posterior: the posteriors of 16 training digits, nudged.
# Digits that no pseudo-input starts from (0, 6 and 8 in seed 0) are covered by the tails of
# the others. The components are also narrower: the encoder is more certain about a real digit
# than about noise.

# %% slideshow={"slide_type": "-"} tags=["thumbnail"]
fig, axes = plt.subplots(1, 2, figsize=(10, 4.9), layout="constrained")
for ax, (name, m) in zip(axes, models.items()):
    torch.manual_seed(0)
    vaelib.plots.mixture_components(m, data.test, ax=ax, title=f"{name}: pseudo-inputs at their components")
plt.close(fig)
fig

# %% slideshow={"slide_type": "-"}
def average_std(model):
    """The components' standard deviation, averaged over components and latent dimensions."""
    with torch.no_grad():
        return torch.exp(0.5 * model.prior.mixture_parameters()[2]).mean()


component_stds = {name: vaelib.SeedStats(average_std(m) for m in runs)
                  for name, runs in [("random start", random_runs), ("data start", data_runs)]}

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
for name, stats in component_stds.items():
    print(f"{name}: average standard deviation of a component {stats:.2f}")

# %% slideshow={"slide_type": "notes"}
vaelib.expect_lower("the data start's components are narrower, by more than the seed spread",
                    component_stds["data start"], component_stds["random start"])

# %% [markdown] slideshow={"slide_type": "subslide"}
# Does each data-start component sit among the codes of its own digit? Compare the right
# panel with the codes coloured by digit in Fig. 4.13 above: many do, but not all; the 4 at
# the top right sits among the 0s. Count it, for all three seeds: for every component, the
# most common digit among the 10 test codes (encoder means) nearest to its mean, against the
# digit of the training image its pseudo-input started from.

# %% slideshow={"slide_type": "-"}
def digits_around(model):
    """The most common digit among the 10 test codes nearest to each component's mean. -> (K,)"""
    with torch.no_grad():
        means = model.prior.mixture_parameters()[1]
        codes = model.encoder(data.test.float())[0]
    nearest = torch.cdist(means, codes).topk(10, largest=False).indices  # (K, 10)
    return torch.mode(data.test_labels[nearest], dim=1).values


around = [digits_around(m) for m in data_runs]
own_share = vaelib.SeedStats((a == digits).double().mean() for a, digits in zip(around, picked_digits))

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"share of components among codes of their own digit: {own_share:.2f} "
      f"(seeds 0, 1, 2: {', '.join(f'{16 * v:.0f} of 16' for v in own_share.values)})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# About half. A component is the posterior of one image: it sits wherever the encoder puts
# that image, and in a 2-D latent space ten digits overlap, so an image's code may land
# among another digit's codes. The data start's components are readable, but they are not
# a map of the digit classes.

# %% slideshow={"slide_type": "notes"}
# 48 components over the three seeds: 3 standard errors of a share near 1/2 is about 0.2.
vaelib.expect_between("about half: between a third and three quarters of the components, over three seeds",
                      own_share, 1 / 3, 3 / 4)
vaelib.check("in none of the three seeds do all 16 components sit among codes of their own digit",
             max(own_share.values) < 1)
vaelib.check("in seed 0, a component whose pseudo-input started as a 4 sits among the 0s",
             ((picked_digits[0] == 4) & (around[0] == 0)).any())

# %% [markdown] slideshow={"slide_type": "-"}
# Which start is better? Over three seeds the random start's test −ELBO is lower, by more
# than the seed-to-seed spread of either start. What the data start buys is a real digit for
# every component, which makes the prior easier to read, not to fit.

# %% slideshow={"slide_type": "notes"}
vaelib.expect_lower("the random start's test −ELBO is lower, by more than the seed spread (three seeds each)",
                    neg_elbos["random start"], neg_elbos["data start"])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Takeaway
#
# The VampPrior approximates the best possible prior, the aggregated posterior, by a mixture
# of the encoder's posteriors at $K$ pseudo-inputs. Because the encoder is shared, the prior
# moves whenever the encoder does: in a short training the pseudo-inputs themselves barely
# change, and they need not look like anything, since the prior only sees them through the
# encoder's means and variances. Decoded, they are digit-like. Starting them from training
# images gives every component a real digit to read, though only about half of those
# components sit among the codes of their own digit, and over three seeds it costs test −ELBO
# by more than the seed-to-seed spread; starting from noise leaves the encoder free to place
# broad components wherever the codes are.
#
# ## Exercises
#
# 1. **The paper's VampPrior: uniform weights.** The VampPrior paper gives every pseudo-input
#    the same weight, $p(z) = \frac1K \sum_{k=1}^K q(z \mid u_k)$ (`learn_weights=False` in
#    vaelib). (a) Write its log-density from the encoder and the pseudo-inputs: send the $K$
#    pseudo-inputs through the encoder (`encoder(pseudo_inputs)` returns the means and
#    log-variances, $(K, L)$ each, as `model.encoder` does), then
#    $$\log p(z) = \operatorname{logsumexp}_k \Big[\sum_{l=1}^L \log \mathcal{N}\big(z_l;\ \mu_{kl},\ \exp(\log\sigma^2_{kl})\big)\Big] - \log K.$$
#    Any $K$ and $L$; the check runs your function with a fresh encoder and fresh
#    pseudo-inputs ($K = 5$, $L = 3$) against `torch.distributions`, and names the usual
#    slips. (b) Then train it (`vaelib.train_seeds("vampprior", data, seeds=3,
#    learn_weights=False)`, a few seconds per seed) and compare its test −ELBO with the
#    random-start runs of section 4, which learn their weights. Section 3 found the learned
#    weights close to uniform: what do you expect, and what do you find?

# %% slideshow={"slide_type": "-"} tags=["exercise"]
def my_vampprior_log_prob(z, encoder, pseudo_inputs):
    """log p(z) of the VampPrior with uniform weights 1/K. z: (N, L), pseudo_inputs: (K, D) -> (N,)"""
    ...  # your code here


# %% slideshow={"slide_type": "-"}
exercises.check_vampprior_log_prob(my_vampprior_log_prob)

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 1</summary>
#
# (a) Component $k$ is the encoder's posterior at the pseudo-input $u_k$, a diagonal Gaussian,
# so its log-density is a **sum** over the $L$ dimensions of one-dimensional Gaussian
# log-densities, with standard deviation $\exp(\tfrac12 \log\sigma^2)$ ($\exp(\log\sigma^2)$ is
# the variance). The mixture averages the $K$ **densities**:
# $\log \frac1K \sum_k q(z \mid u_k) = \operatorname{logsumexp}_k \log q(z \mid u_k) - \log K$,
# the log-sum-exp keeping the sum of tiny densities from underflowing. Each step has a wrong twin
# the check names: the log-sum-exp taken in every dimension before the sum (the book's code, a
# product of $L$ one-dimensional mixtures); $\log K$ left out (a density that integrates to $K$);
# $\exp(\log\sigma^2)$ used as the standard deviation; and the mean of the log-densities, which is
# the log of a *geometric* mean of the components: by Jensen's inequality it lies below
# $\log p(z)$, and far below it wherever one component dominates.
#
# ```python
# def my_vampprior_log_prob(z, encoder, pseudo_inputs):
#     """log p(z) of the VampPrior with uniform weights 1/K. z: (N, L), pseudo_inputs: (K, D) -> (N,)"""
#     means, logvars = encoder(pseudo_inputs)  # (K, L) each: one posterior per pseudo-input
#     z = z[:, None, :]  # (N, 1, L) against the (K, L) parameters
#     log_components = (-0.5 * (LOG_2PI + logvars + (z - means) ** 2 * torch.exp(-logvars))).sum(-1)  # (N, K)
#     return torch.logsumexp(log_components, dim=1) - math.log(len(means))  # mix the densities, weight 1/K
#
#
# feedback = exercises.check_vampprior_log_prob(my_vampprior_log_prob)
# print(feedback)
# assert feedback, feedback
#
# # the same function on a real VAE: its density is vaelib's VampPrior with learn_weights=False
# paper_prior_model = vaelib.make_vae("vampprior", seed=0, learn_weights=False)
# torch.manual_seed(0)
# points = 3 * torch.randn(500, 2)
# with torch.no_grad():
#     mine = my_vampprior_log_prob(points, paper_prior_model.encoder, paper_prior_model.prior.pseudo_inputs)
#     gap = (mine - paper_prior_model.prior.log_prob(points)).abs().max()
# vaelib.check("my density equals vaelib's VampPrior with learn_weights=False, within 1e-4", gap < 1e-4)
# ```
#
# (b) Expect no difference: section 3 checked that every learned weight stays within a factor
# 1.5 of $1/16$, so the learned and the uniform prior are nearly the same distribution, and a
# component that needs more mass can also get it another way, by moving or widening through the
# encoder. Measured over three seeds each, the two mean test −ELBOs differ by less than the
# larger seed-to-seed spread: no difference. In this short training the learned weights buy
# nothing, and the paper's fixed $1/K$ costs nothing (and saves $K$ parameters).
#
# ```python
# uniform_runs = vaelib.train_seeds("vampprior", data, seeds=3, learn_weights=False, progress=False)
# uniform_neg_elbo = vaelib.SeedStats(vaelib.negative_elbo(m, data.test) for m in uniform_runs)
# print(f"test −ELBO: learned weights {neg_elbos['random start']:.2f}, uniform weights {uniform_neg_elbo:.2f}")
# vaelib.expect_within_noise("learned and uniform weights: no difference in test −ELBO beyond the seed spread",
#                            neg_elbos["random start"], uniform_neg_elbo)
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "subslide"}
# 2. Give the prior one pseudo-input per digit: pass `init=` a tensor of 10 training images,
#    the first of each class (`data.train_labels` tells which is which), train three seeds
#    (`vaelib.make_vaes("vampprior", seeds=3, init=...)`, then `vaelib.fit_seeds`) and draw the
#    pseudo-inputs at their components for seed 0. Where do the ten components end up: does
#    each sit among the codes of its own digit, giving a map of the ten classes?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 2</summary>
#
# Each component starts as the encoder's posterior of one real digit and stays close to that
# image (section 4: a data start hardly moves), so it sits wherever the encoder puts that image,
# and the ten spread out over the cloud of codes. But a map of the classes it is not: counted as
# in section 4 (the most common digit among the 10 test codes nearest to each component's
# mean), about half of the ten components sit among the codes of their own digit, over three
# seeds, and no seed gets all ten. The reason is the one of section 4: one image's posterior
# lands where the encoder puts *that* image, and in a 2-D latent space the ten digits' codes
# overlap, so a single training image of a class need not land in the middle of its class.
# Choosing the pseudo-inputs by class labels the components; it does not place them.
#
# ```python
# first_of_each = torch.stack([data.train[data.train_labels == digit][0] for digit in range(10)])
# per_digit_runs = vaelib.make_vaes("vampprior", seeds=3, init=first_of_each)
# vaelib.fit_seeds(per_digit_runs, data, progress=False)
# per_digit_share = vaelib.SeedStats((digits_around(m) == torch.arange(10)).double().mean() for m in per_digit_runs)
# print(f"share of the ten components among codes of their own digit: {per_digit_share:.2f}")
# # 30 components over the three seeds: 3 standard errors of a share near 1/2 is about 0.27.
# vaelib.expect_between("about half: between a quarter and three quarters of the components, over three seeds",
#                       per_digit_share, 1 / 4, 3 / 4)
# vaelib.check("in none of the three seeds do all ten components sit among codes of their own digit",
#              max(per_digit_share.values) < 1)
# torch.manual_seed(0)
# vaelib.plots.mixture_components(per_digit_runs[0], data.test, title="one pseudo-input per digit, at their components")
# ```
#
# </details>

# %% [markdown] slideshow={"slide_type": "-"}
# 3. Section 2 claims the encoder does most of the prior's moving. Test it: freeze the
#    pseudo-inputs at their random start, so that only the encoder (and the weights) can move
#    the components, and compare the test −ELBO with the random-start runs of section 4, three
#    seeds each (`vaelib.make_vaes("vampprior", seeds=3)`, then
#    `m.prior.pseudo_input_logits.requires_grad_(False)` for each model `m`, then
#    `vaelib.fit_seeds`). What does the comparison say about the claim?

# %% [markdown] slideshow={"slide_type": "notes"} tags=["solution"]
# <details><summary>Solution to exercise 3</summary>
#
# If the pseudo-inputs' own learning mattered, freezing them would cost test −ELBO. It does
# not: over three seeds each, the frozen and the learned pseudo-inputs give mean test −ELBOs
# that differ by less than the larger seed-to-seed spread, and the frozen ones end exactly where
# they started. Everything the prior needed to move, the encoder could move: the components of
# a VampPrior are $q(z \mid u_k)$, and a change of the encoder changes them as surely as a change
# of $u_k$. This supports section 2's claim in its strongest form: in this short training the
# pseudo-inputs' own movement adds nothing measurable, the encoder alone places the components.
# It does not say that pseudo-inputs never matter: with longer training, or a latent space where
# the encoder cannot serve the prior and the data at once, they may.
#
# ```python
# frozen_runs = vaelib.make_vaes("vampprior", seeds=3)
# frozen_starts = []
# for m in frozen_runs:
#     m.prior.pseudo_input_logits.requires_grad_(False)
#     frozen_starts.append(m.prior.pseudo_inputs.detach().clone())
# vaelib.fit_seeds(frozen_runs, data, progress=False)
# frozen_neg_elbo = vaelib.SeedStats(vaelib.negative_elbo(m, data.test) for m in frozen_runs)
# print(f"test −ELBO: pseudo-inputs learned {neg_elbos['random start']:.2f}, frozen {frozen_neg_elbo:.2f}")
# vaelib.check("the frozen pseudo-inputs did not move",
#              all(torch.equal(start, m.prior.pseudo_inputs.detach()) for start, m in zip(frozen_starts, frozen_runs)))
# vaelib.expect_within_noise("learned and frozen pseudo-inputs: no difference in test −ELBO beyond the seed spread",
#                            neg_elbos["random start"], frozen_neg_elbo)
# ```
#
# </details>
