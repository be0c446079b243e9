"""One row per bad input across the public API: the call, the exception type, and a regex that must
name the argument (or the file) and what is allowed.

The house rule: bad input gets a clear error that names the bad value and what is allowed;
nothing is ever silently wrong.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
from types import SimpleNamespace

import pytest
import torch

import vaelib
from vaelib import cli
from vaelib.checkpoint import FORMAT, CheckpointError

NO_CUDA = not torch.cuda.is_available()
PRIOR_NAMES = r"'standard', 'mog', 'vampprior', 'gtm', 'gtm-vampprior', 'flow'"
PIXELS = r"must hold integer pixel values in 0\.\.16"


class CommandFailed(Exception):
    """The command line exited with a non-zero status; the message is its stderr."""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Models, data and files the rows use (all tiny)."""
    with torch.random.fork_rng(devices=[]):
        return _env(tmp_path_factory.mktemp("bad-inputs"))


def _env(tmp):
    digits = vaelib.load_digits(device="cpu")
    vamp = vaelib.make_vae("vampprior", hidden_dim=16, seed=0, device="cpu")
    standard = vaelib.make_vae("standard", hidden_dim=8, seed=0, device="cpu")
    mog = vaelib.make_vae("mog", hidden_dim=8, seed=0, device="cpu")
    good = vaelib.save(mog, tmp / "good.pt")
    data = good.read_bytes()
    files = {
        "empty": b"",
        "text": b"hello world\n",
        "truncated": data[: len(data) // 2],
        "random": bytes(range(7, 250, 3)),
    }
    for name, content in files.items():
        (tmp / f"{name}.pt").write_bytes(content)
    changed = bytearray(data)
    at = data.index(b"data/0") + 200
    changed[at : at + 64] = bytes(64)
    (tmp / "changed.pt").write_bytes(bytes(changed))
    base = {"format": FORMAT, "config": mog.config, "state_dict": mog.state_dict()}
    torch.save({"format": FORMAT, "config": mog.config}, tmp / "no-state.pt")
    with_device = {**mog.config, "encoder": {**mog.config["encoder"], "device": "cpu"}}
    torch.save({**base, "config": with_device}, tmp / "device-key.pt")
    torch.save(
        {**base, "format": "vaelib-checkpoint-v1", "config": dict(prior="mog", hidden_dim=8, device="cpu")},
        tmp / "v1-device-key.pt",
    )
    torch.save({**base, "state_dict": standard.state_dict()}, tmp / "other-prior.pt")
    torch.save({**base, "format": "vaelib-checkpoint-v7"}, tmp / "newer.pt")
    torch.save(mog, tmp / "pickled.pt")
    torch.save(torch.zeros(3), tmp / "tensor.pt")
    (tmp / "folder.pt").mkdir()
    (tmp / "a-file").write_text("not a folder")
    return SimpleNamespace(
        digits=digits,
        vamp=vamp,
        standard=standard,
        mog=mog,
        tmp=tmp,
        good=good,
        x=digits.test[:8],
        three_d=vaelib.make_vae("standard", latent_dim=3, hidden_dim=8, seed=0, device="cpu"),
        bernoulli=vaelib.make_vae("standard", likelihood="bernoulli", hidden_dim=8, seed=0, device="cpu"),
        binary=vaelib.load_digits(binarize=True, device="cpu"),
    )


def fit(e, model=None, data=None, **options):
    """vaelib.fit on a tiny budget."""
    options = {"max_epochs": 1, "progress": False, **options}
    return vaelib.fit(e.standard if model is None else model, e.digits if data is None else data, **options)


def figures(e, *options):
    """Run ``vaelib figures`` into a fresh folder; a failure raises CommandFailed with its stderr.
    Also checks that a failed command wrote nothing (not even the output folder)."""
    out = e.tmp / f"figures-{len(list(e.tmp.iterdir()))}"
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = cli.main(["figures", "--out", str(out), "--epochs", "1", "--hidden-dim", "8", *options])
        except SystemExit as exit:
            status = exit.code
    if status:
        assert not out.exists() or "--out" in options, "a bad option must be reported before anything is written"
        assert len(stderr.getvalue().splitlines()) == 1 and "Traceback" not in stderr.getvalue()
        raise CommandFailed(f"exit {status}: {stderr.getvalue().strip()}")
    raise AssertionError("the command succeeded")


def digits_with(e, **splits):
    return dataclasses.replace(e.digits, **splits)


def path(e, name):
    return e.tmp / name


def row(label, call, error, pattern, marks=()):
    return pytest.param(call, error, pattern, id=label, marks=marks)


cuda_only_fails = pytest.mark.skipif(not NO_CUDA, reason="this machine has a CUDA GPU")


ROWS = [
    # ---- make_vae ------------------------------------------------------------------------
    row(
        "make_vae/unknown-prior",
        lambda e: vaelib.make_vae("vamp"),
        ValueError,
        rf"unknown prior 'vamp'; choose one of: {PRIOR_NAMES}",
    ),
    row(
        "make_vae/prior-None",
        lambda e: vaelib.make_vae(None),
        ValueError,
        rf"unknown prior None; choose one of: {PRIOR_NAMES}",
    ),
    row(
        "make_vae/latent_dim=1",
        lambda e: vaelib.make_vae("flow", latent_dim=1),
        ValueError,
        r"latent_dim must be an integer >= 2, got 1",
    ),
    row(
        "make_vae/latent_dim=0",
        lambda e: vaelib.make_vae("flow", latent_dim=0),
        ValueError,
        r"latent_dim must be an integer >= 2, got 0",
    ),
    row(
        "make_vae/latent_dim=-3",
        lambda e: vaelib.make_vae("flow", latent_dim=-3),
        ValueError,
        r"latent_dim must be an integer >= 2, got -3",
    ),
    row(
        "make_vae/latent_dim=2.5",
        lambda e: vaelib.make_vae("standard", latent_dim=2.5),
        TypeError,
        r"latent_dim must be an integer >= 2, got 2\.5",
    ),
    row(
        "make_vae/hidden_dim=0",
        lambda e: vaelib.make_vae(hidden_dim=0),
        ValueError,
        r"hidden_dim must be an integer >= 1, got 0",
    ),
    row(
        "make_vae/input_dim=0",
        lambda e: vaelib.make_vae(input_dim=0),
        ValueError,
        r"input_dim must be an integer >= 1, got 0",
    ),
    row(
        "make_vae/unknown-likelihood",
        lambda e: vaelib.make_vae("standard", likelihood="gaussian"),
        ValueError,
        r"unknown likelihood 'gaussian'; choose one of: 'categorical', 'bernoulli'",
    ),
    row(
        "make_vae/seed='abc'",
        lambda e: vaelib.make_vae(seed="abc", hidden_dim=8),
        TypeError,
        r"seed must be an integer in 0\.\.2\*\*64-1 \(or None\), got 'abc'",
    ),
    row(
        "make_vae/seed=-1",
        lambda e: vaelib.make_vae(seed=-1, hidden_dim=8),
        ValueError,
        r"seed must be an integer in 0\.\.2\*\*64-1 \(or None\), got -1",
    ),
    row(
        "make_vae/seed=1.5",
        lambda e: vaelib.make_vae(seed=1.5, hidden_dim=8),
        TypeError,
        r"seed must be an integer in 0\.\.2\*\*64-1 \(or None\), got 1\.5",
    ),
    row(
        "make_vae/seed=2**64",
        lambda e: vaelib.make_vae(seed=2**64, hidden_dim=8),
        ValueError,
        r"seed must be an integer in 0\.\.2\*\*64-1 \(or None\), got 18446744073709551616",
    ),
    row(
        "make_vae/device='cuda'-without-CUDA",
        lambda e: vaelib.make_vae(device="cuda"),
        ValueError,
        r"device='cuda' but PyTorch sees no CUDA GPU on this machine; use 'cpu' \(or None\)",
        marks=cuda_only_fails,
    ),
    row(
        "make_vae/device='gpu'",
        lambda e: vaelib.make_vae(device="gpu"),
        ValueError,
        r"unknown device 'gpu'; use 'cpu', 'cuda', 'cuda:0', \.\.\. or None",
    ),
    row(
        "make_vae/device='cuda:99'",
        lambda e: vaelib.make_vae(device="cuda:99"),
        ValueError,
        r"device='cuda:99' but (PyTorch sees no CUDA GPU|this machine has \d+ CUDA device)",
    ),
    row(
        "make_vae/mog-num_components=0",
        lambda e: vaelib.make_vae("mog", num_components=0),
        ValueError,
        r"num_components must be an integer >= 1, got 0",
    ),
    row(
        "make_vae/mog-init_scale=nan",
        lambda e: vaelib.make_vae("mog", init_scale=float("nan")),
        ValueError,
        r"init_scale must be a finite number >= 0, got nan",
    ),
    row(
        "make_vae/mog-init_scale=-1",
        lambda e: vaelib.make_vae("mog", init_scale=-1.0),
        ValueError,
        r"init_scale must be a finite number >= 0, got -1\.0",
    ),
    row(
        "make_vae/mog-unknown-option",
        lambda e: vaelib.make_vae("mog", num_flows=3),
        TypeError,
        r"the 'mog' prior has no option 'num_flows'; its options are: num_components, init_scale",
    ),
    row(
        "make_vae/gtm-grid_size=0",
        lambda e: vaelib.make_vae("gtm", grid_size=0),
        ValueError,
        r"grid_size must be an integer >= 1, got 0",
    ),
    row(
        "make_vae/gtm-grid_range=nan",
        lambda e: vaelib.make_vae("gtm", grid_range=float("nan")),
        ValueError,
        r"grid_range must be a positive finite number, got nan",
    ),
    row(
        "make_vae/flow-num_flows=2.0",
        lambda e: vaelib.make_vae("flow", num_flows=2.0),
        TypeError,
        r"num_flows must be an integer >= 1, got 2\.0",
    ),
    row(
        "make_vae/vampprior-unknown-init",
        lambda e: vaelib.make_vae("vampprior", init="bogus"),
        ValueError,
        r"unknown init 'bogus'; choose one of: 'random', 'data'",
    ),
    row(
        "make_vae/vampprior-init=data-too-many",
        lambda e: vaelib.make_vae("vampprior", init="data", num_components=5000, hidden_dim=8),
        ValueError,
        r"num_components=5000 exceeds the 1000 training images",
    ),
    row(
        "make_vae/vampprior-init-image-17",
        lambda e: vaelib.make_vae("vampprior", init=torch.full((4, 64), 17), hidden_dim=8),
        ValueError,
        rf"init {PIXELS}; found 17",
    ),
    row(
        "make_vae/vampprior-learn_weights='no'",
        lambda e: vaelib.make_vae("vampprior", learn_weights="no"),
        TypeError,
        r"learn_weights must be True or False, got 'no'",
    ),
    row(
        "make_vae/vampprior-init-tensor-vs-num_components",
        lambda e: vaelib.make_vae("vampprior", init=torch.zeros(3, 64), num_components=4, hidden_dim=8),
        ValueError,
        r"init holds 3 images \(one per component\) but num_components=4; leave num_components out or make it 3",
    ),
    # ---- make_prior / prior_options -------------------------------------------------------
    row(
        "make_prior/unknown-prior",
        lambda e: vaelib.make_prior("gaussian"),
        ValueError,
        rf"unknown prior 'gaussian'; choose one of: {PRIOR_NAMES}",
    ),
    row(
        "make_prior/latent_dim=1",
        lambda e: vaelib.make_prior("mog", latent_dim=1),
        ValueError,
        r"latent_dim must be an integer >= 2, got 1",
    ),
    row(
        "make_prior/latent_dim=0",
        lambda e: vaelib.make_prior("mog", latent_dim=0),
        ValueError,
        r"latent_dim must be an integer >= 2, got 0",
    ),
    row(
        "make_prior/latent_dim=-3",
        lambda e: vaelib.make_prior("mog", latent_dim=-3),
        ValueError,
        r"latent_dim must be an integer >= 2, got -3",
    ),
    row(
        "make_prior/latent_dim='2'",
        lambda e: vaelib.make_prior("standard", latent_dim="2"),
        TypeError,
        r"latent_dim must be an integer >= 2, got '2'",
    ),
    row(
        "make_prior/vampprior-without-encoder",
        lambda e: vaelib.make_prior("vampprior"),
        ValueError,
        r"the 'vampprior' prior passes pseudo-inputs through the VAE's encoder: pass encoder=",
    ),
    row(
        "prior_options/unknown-prior",
        lambda e: vaelib.prior_options("bogus"),
        ValueError,
        rf"unknown prior 'bogus'; choose one of: {PRIOR_NAMES}",
    ),
    # ---- the prior's log_prob / sample ------------------------------------------------------
    row(
        "prior.log_prob/z-(5,3)",
        lambda e: e.vamp.prior.log_prob(torch.zeros(5, 3)),
        ValueError,
        r"z must have shape \(B, 2\), got \(5, 3\)",
    ),
    row(
        "prior.log_prob/z-(2,)",
        lambda e: e.vamp.prior.log_prob(torch.zeros(2)),
        ValueError,
        r"z must have shape \(B, 2\), got \(2,\)",
    ),
    row(
        "prior.log_prob/z-long",
        lambda e: e.vamp.prior.log_prob(torch.zeros(5, 2, dtype=torch.long)),
        TypeError,
        r"z must be a floating-point tensor, got dtype torch\.int64",
    ),
    row(
        "prior.log_prob/z-list",
        lambda e: e.vamp.prior.log_prob([[0.0, 0.0]]),
        TypeError,
        r"z must be a torch\.Tensor of shape \(B, 2\), got list",
    ),
    row("prior.sample/n=0", lambda e: e.vamp.prior.sample(0), ValueError, r"n must be an integer >= 1, got 0"),
    row("prior.sample/n=-1", lambda e: e.vamp.prior.sample(-1), ValueError, r"n must be an integer >= 1, got -1"),
    row("prior.sample/n=2.0", lambda e: e.vamp.prior.sample(2.0), TypeError, r"n must be an integer >= 1, got 2\.0"),
    row("prior.sample/n='a'", lambda e: e.mog.prior.sample("a"), TypeError, r"n must be an integer >= 1, got 'a'"),
    row(
        "decode_mode/z-(3,4)",
        lambda e: e.vamp.decode_mode(torch.zeros(3, 4)),
        ValueError,
        r"z must have shape \(B, 2\), got \(3, 4\)",
    ),
    row(
        "decode_mean/z-(3,)",
        lambda e: e.vamp.decode_mean(torch.zeros(3)),
        ValueError,
        r"z must have shape \(B, 2\), got \(3,\)",
    ),
    # ---- fit -------------------------------------------------------------------------------
    row(
        "fit/a-tensor-not-the-data-set",
        lambda e: fit(e, data=e.digits.train),
        TypeError,
        r"data must be a data set with \.train and \.val images, e\.g\. vaelib\.load_digits\(\); got Tensor "
        r"\(a tensor: pass the whole data set, not one split\)",
    ),
    row(
        "fit/a-dict",
        lambda e: fit(e, data={"train": e.digits.train}),
        TypeError,
        r"data must be a data set with \.train and \.val images.*got dict",
    ),
    row(
        "fit/model-None",
        lambda e: vaelib.fit(None, e.digits, progress=False),
        TypeError,
        r"model must be a vaelib VAE \(e\.g\. vaelib\.make_vae\(\.\.\.\)\), got NoneType",
    ),
    row(
        "fit/binarised-data-categorical-vae",
        lambda e: fit(e, data=e.binary),
        ValueError,
        r"pixels take 2 values \(0\.\.1\) but the model's categorical likelihood expects 17.*likelihood='bernoulli'",
    ),
    row(
        "fit/17-valued-data-bernoulli-vae",
        lambda e: fit(e, model=e.bernoulli),
        ValueError,
        r"pixels take 17 values \(0\.\.16\) but the model's bernoulli likelihood expects 2.*"
        r"likelihood='categorical'.*binarize",
    ),
    row(
        "fit/train-pixel-17",
        lambda e: fit(e, data=digits_with(e, train=torch.full((4, 64), 17))),
        ValueError,
        rf"data\.train {PIXELS}; found 17 at index \(0, 0\)",
    ),
    row(
        "fit/val-shape-(N,8,8)",
        lambda e: fit(e, data=digits_with(e, val=e.digits.val.view(-1, 8, 8))),
        ValueError,
        r"data\.val must have shape \(B, 64\) \(one flattened image per row\), got \(350, 8, 8\)",
    ),
    row(
        "check_images/bernoulli-needs-binarize",
        lambda e: e.bernoulli.check_images(e.digits.train, name="data.train"),
        ValueError,
        r"data\.train must hold integer pixel values in 0\.\.1; found 5 .*binarize=True",
    ),
    row(
        "fit/unknown-recipe",
        lambda e: fit(e, recipe="quick"),
        ValueError,
        r"unknown recipe 'quick'; choose one of: 'book', 'fast'",
    ),
    row("fit/lr=-1", lambda e: fit(e, lr=-1.0), ValueError, r"lr must be a positive finite number, got -1\.0"),
    row("fit/batch_size=0", lambda e: fit(e, batch_size=0), ValueError, r"batch_size must be an integer >= 1, got 0"),
    row(
        "fit/optimizer='sgd'",
        lambda e: fit(e, optimizer="sgd"),
        ValueError,
        r"unknown optimizer 'sgd'; choose one of: 'adamax', 'adam'",
    ),
    row("fit/max_epochs=0", lambda e: fit(e, max_epochs=0), ValueError, r"max_epochs must be an integer >= 1, got 0"),
    row(
        "fit/unknown-option",
        lambda e: fit(e, momentum=0.9),
        TypeError,
        r"unknown training option\(s\) \['momentum'\]; options are: batch_size, ema, .*",
    ),
    row(
        "fit/seed='abc'",
        lambda e: fit(e, seed="abc"),
        TypeError,
        r"seed must be an integer in 0\.\.2\*\*64-1 \(or None\), got 'abc'",
    ),
    row(
        "fit/seed=2**64",
        lambda e: fit(e, seed=2**64),
        ValueError,
        r"seed must be an integer in 0\.\.2\*\*64-1 \(or None\), got 18446744073709551616",
    ),
    row(
        "fit/callback-not-callable",
        lambda e: fit(e, callback=3),
        TypeError,
        r"callback must be a function callback\(model, history\) or None, got 3",
    ),
    row(
        "fit/threads=0",
        lambda e: fit(e, threads=0),
        ValueError,
        r"thread setting must be a positive integer, 'auto' or None; got 0",
    ),
    # ---- Recipe / get_recipe ---------------------------------------------------------------
    row(
        "Recipe/lr=nan",
        lambda e: vaelib.Recipe(lr=float("nan")),
        ValueError,
        r"lr must be a positive finite number, got nan",
    ),
    row("Recipe/lr='fast'", lambda e: vaelib.Recipe(lr="fast"), TypeError, r"lr must be a positive number, got 'fast'"),
    row("Recipe/ema=1", lambda e: vaelib.Recipe(ema=1.0), ValueError, r"ema must be in \[0, 1\), got 1\.0"),
    row("Recipe/ema='x'", lambda e: vaelib.Recipe(ema="x"), TypeError, r"ema must be a number in \[0, 1\), got 'x'"),
    row(
        "Recipe/patience=-1",
        lambda e: vaelib.Recipe(patience=-1),
        ValueError,
        r"patience must be an integer >= 0, got -1",
    ),
    row(
        "Recipe/eval_every=0",
        lambda e: vaelib.Recipe(eval_every=0),
        ValueError,
        r"eval_every must be an integer >= 1, got 0",
    ),
    row(
        "Recipe/schedule='linear'",
        lambda e: vaelib.Recipe(schedule="linear"),
        ValueError,
        r"unknown schedule 'linear'; choose one of: 'constant', 'cosine'",
    ),
    row(
        "Recipe/kl_warmup=-1",
        lambda e: vaelib.Recipe(kl_warmup=-1),
        ValueError,
        r"kl_warmup must be an integer >= 0, got -1",
    ),
    row(
        "Recipe/batch_size=64.0",
        lambda e: vaelib.Recipe(batch_size=64.0),
        TypeError,
        r"batch_size must be an integer >= 1, got 64\.0",
    ),
    row(
        "get_recipe/unknown-option",
        lambda e: vaelib.get_recipe("book", epochs=3),
        TypeError,
        r"unknown training option\(s\) \['epochs'\]; options are: batch_size, .*max_epochs",
    ),
    row(
        "get_recipe/recipe=3",
        lambda e: vaelib.get_recipe(3),
        ValueError,
        r"unknown recipe 3; choose one of: 'book', 'fast'",
    ),
    # ---- negative_elbo, negative_log_likelihood, iwae_bound, elbo_parts --------------------
    row(
        "negative_elbo/pixel-17",
        lambda e: vaelib.negative_elbo(e.vamp, torch.full((2, 64), 17)),
        ValueError,
        rf"x {PIXELS}; found 17 at index \(0, 0\)",
    ),
    row(
        "negative_elbo/pixel-3.5",
        lambda e: vaelib.negative_elbo(e.vamp, torch.full((2, 64), 3.5)),
        ValueError,
        rf"x {PIXELS}; found 3\.5 at index",
    ),
    row(
        "negative_elbo/pixel-nan",
        lambda e: vaelib.negative_elbo(e.vamp, torch.full((2, 64), float("nan"))),
        ValueError,
        rf"x {PIXELS}; found nan",
    ),
    row(
        "negative_elbo/shape-(2,8,8)",
        lambda e: vaelib.negative_elbo(e.vamp, torch.zeros(2, 8, 8)),
        ValueError,
        r"x must have shape \(B, 64\) \(one flattened image per row\), got \(2, 8, 8\)",
    ),
    row(
        "negative_elbo/no-images",
        lambda e: vaelib.negative_elbo(e.vamp, torch.zeros(0, 64)),
        ValueError,
        r"x holds no images \(shape \(0, 64\)\)",
    ),
    row(
        "negative_elbo/a-list",
        lambda e: vaelib.negative_elbo(e.vamp, [[0] * 64]),
        TypeError,
        r"x must be a torch\.Tensor of shape \(B, 64\), got list",
    ),
    row(
        "negative_elbo/num_samples=0",
        lambda e: vaelib.negative_elbo(e.vamp, e.x, num_samples=0),
        ValueError,
        r"num_samples must be an integer >= 1, got 0",
    ),
    row(
        "negative_elbo/model-None",
        lambda e: vaelib.negative_elbo(None, e.x),
        TypeError,
        r"model must be a vaelib VAE \(e\.g\. vaelib\.make_vae\(\.\.\.\)\), got NoneType",
    ),
    row(
        "negative_log_likelihood/num_samples=0",
        lambda e: vaelib.negative_log_likelihood(e.vamp, e.x, num_samples=0),
        ValueError,
        r"num_samples must be an integer >= 1, got 0",
    ),
    row(
        "negative_log_likelihood/pixel--1",
        lambda e: vaelib.negative_log_likelihood(e.vamp, torch.full((2, 64), -1), num_samples=2),
        ValueError,
        rf"x {PIXELS}; found -1 at index \(0, 0\)",
    ),
    row(
        "iwae_bound/max_points=0",
        lambda e: vaelib.iwae_bound(e.vamp, e.x, num_samples=2, max_points=0),
        ValueError,
        r"max_points must be an integer >= 1, got 0",
    ),
    row(
        "iwae_bound/num_samples=1.5",
        lambda e: vaelib.iwae_bound(e.vamp, e.x, num_samples=1.5),
        TypeError,
        r"num_samples must be an integer >= 1, got 1\.5",
    ),
    row(
        "elbo_parts/batch_size=0",
        lambda e: vaelib.elbo_parts(e.vamp, e.x, batch_size=0),
        ValueError,
        r"batch_size must be an integer >= 1, got 0",
    ),
    row(
        "elbo_parts/model-a-string",
        lambda e: vaelib.elbo_parts("mog", e.x),
        TypeError,
        r"model must be a vaelib VAE \(e\.g\. vaelib\.make_vae\(\.\.\.\)\), got str",
    ),
    row(
        "minibatches/batch_size=0",
        lambda e: list(vaelib.data.minibatches(torch.zeros(4, 2), 0)),
        ValueError,
        r"batch_size must be an integer >= 1, got 0",
    ),
    # ---- elbo_surgery, holes, latent_grid ---------------------------------------------------
    row(
        "elbo_surgery/unknown-method",
        lambda e: vaelib.elbo_surgery(e.mog, e.x, method="exact"),
        ValueError,
        r"unknown method 'exact'; choose 'quadrature' or 'monte-carlo'",
    ),
    row(
        "elbo_surgery/resolution=1",
        lambda e: vaelib.elbo_surgery(e.mog, e.x, resolution=1),
        ValueError,
        r"resolution must be an integer >= 2, got 1",
    ),
    row(
        "elbo_surgery/monte-carlo-num_samples=1",
        lambda e: vaelib.elbo_surgery(e.mog, e.x, method="monte-carlo", num_samples=1),
        ValueError,
        r"num_samples must be an integer >= 2, got 1",
    ),
    row(
        "elbo_surgery/quadrature-in-3-d",
        lambda e: vaelib.elbo_surgery(e.three_d, e.x),
        ValueError,
        r"ELBO surgery by quadrature needs a 2-D latent space.*latent_dim=3; method='monte-carlo' works in any",
    ),
    row(
        "elbo_surgery/pixel-20",
        lambda e: vaelib.elbo_surgery(e.mog, torch.full((2, 64), 20)),
        ValueError,
        rf"x {PIXELS}; found 20",
    ),
    row(
        "holes/ratio=0",
        lambda e: vaelib.holes(e.mog, e.x, ratio=0),
        ValueError,
        r"ratio must be a positive finite number, got 0",
    ),
    row(
        "holes/ratio=nan",
        lambda e: vaelib.holes(e.mog, e.x, ratio=float("nan")),
        ValueError,
        r"ratio must be a positive finite number, got nan",
    ),
    row(
        "holes/num_samples=0",
        lambda e: vaelib.holes(e.mog, e.x, num_samples=0),
        ValueError,
        r"num_samples must be an integer >= 1, got 0",
    ),
    row(
        "holes/x-a-list",
        lambda e: vaelib.holes(e.mog, [1, 2], num_samples=10),
        TypeError,
        r"x must be a torch\.Tensor of shape \(B, 64\), got list",
    ),
    row(
        "holes/seed='abc'",
        lambda e: vaelib.holes(e.mog, e.x, num_samples=10, seed="abc"),
        TypeError,
        r"seed must be an integer in 0\.\.2\*\*64-1 \(or None\), got 'abc'",
    ),
    row(
        "latent_grid/resolution=1",
        lambda e: vaelib.latent_grid(e.mog, e.x, resolution=1),
        ValueError,
        r"resolution must be an integer >= 2, got 1",
    ),
    row(
        "latent_grid/resolution=2.5",
        lambda e: vaelib.latent_grid(e.mog, e.x, resolution=2.5),
        TypeError,
        r"resolution must be an integer >= 2, got 2\.5",
    ),
    row(
        "latent_grid/3-d",
        lambda e: vaelib.latent_grid(e.three_d, e.x),
        ValueError,
        r"a latent grid needs a 2-D latent space.*latent_dim=3",
    ),
    row(
        "latent_grid/x-shape-(3,8,8)",
        lambda e: vaelib.latent_grid(e.mog, torch.zeros(3, 8, 8)),
        ValueError,
        r"x must have shape \(B, 64\).*got \(3, 8, 8\)",
    ),
    # ---- load ------------------------------------------------------------------------------
    row(
        "load/empty-file",
        lambda e: vaelib.load(path(e, "empty.pt")),
        CheckpointError,
        r"'.*empty\.pt' is empty \(0 bytes\): not a vaelib checkpoint",
    ),
    row(
        "load/text-file",
        lambda e: vaelib.load(path(e, "text.pt")),
        CheckpointError,
        r"'.*text\.pt' is not a readable checkpoint: it is a text file, not a PyTorch file",
    ),
    row(
        "load/truncated",
        lambda e: vaelib.load(path(e, "truncated.pt")),
        CheckpointError,
        r"'.*truncated\.pt' is not a readable checkpoint: it is cut short",
    ),
    row(
        "load/random-bytes",
        lambda e: vaelib.load(path(e, "random.pt")),
        CheckpointError,
        r"'.*random\.pt' is not a readable checkpoint: it is not a PyTorch file \(it begins with the bytes",
    ),
    row(
        "load/bytes-changed",
        lambda e: vaelib.load(path(e, "changed.pt")),
        CheckpointError,
        r"'.*changed\.pt' is a damaged checkpoint: the stored data of .* fails its checksum",
    ),
    row(
        "load/no-state-dict",
        lambda e: vaelib.load(path(e, "no-state.pt")),
        CheckpointError,
        r"'.*no-state\.pt' is a damaged vaelib checkpoint: it has no state_dict",
    ),
    row(
        "load/config-with-device",
        lambda e: vaelib.load(path(e, "device-key.pt")),
        CheckpointError,
        r"'.*device-key\.pt': its config does not describe a model vaelib can build .*'device'",
    ),
    row(
        "load/v1-config-with-device",
        lambda e: vaelib.load(path(e, "v1-device-key.pt")),
        CheckpointError,
        r"'.*v1-device-key\.pt': its config does not describe a model .*no option 'device'",
    ),
    row(
        "load/weights-of-another-prior",
        lambda e: vaelib.load(path(e, "other-prior.pt")),
        CheckpointError,
        r"'.*other-prior\.pt': the weights do not match the config: it lacks weights the 'mog' model needs",
    ),
    row(
        "load/newer-format",
        lambda e: vaelib.load(path(e, "newer.pt")),
        CheckpointError,
        r"'.*newer\.pt' was written by another vaelib \(format 'vaelib-checkpoint-v7'\); this one reads "
        r"'vaelib-checkpoint-v2', 'vaelib-checkpoint-v1'",
    ),
    row(
        "load/pickled-module",
        lambda e: vaelib.load(path(e, "pickled.pt")),
        CheckpointError,
        r"'.*pickled\.pt' is not loaded: it holds pickled Python objects \(vaelib\.model\.VAE\).*vaelib\.save",
    ),
    row(
        "load/a-tensor",
        lambda e: vaelib.load(path(e, "tensor.pt")),
        CheckpointError,
        r"'.*tensor\.pt' is not a vaelib checkpoint: it holds a Tensor, not the dict vaelib\.save writes",
    ),
    row(
        "load/a-folder",
        lambda e: vaelib.load(path(e, "folder.pt")),
        CheckpointError,
        r"'.*folder\.pt' is not a checkpoint: it is a directory, not a file",
    ),
    row(
        "load/missing",
        lambda e: vaelib.load(path(e, "missing.pt")),
        CheckpointError,
        r"no checkpoint at '.*missing\.pt': there is no such file",
    ),
    row(
        "load/path-None",
        lambda e: vaelib.load(None),
        TypeError,
        r"path must be a file path \(a str or pathlib\.Path\), got NoneType",
    ),
    row(
        "load/device='gpu'",
        lambda e: vaelib.load(e.good, device="gpu"),
        CheckpointError,
        r"cannot load '.*good\.pt': unknown device 'gpu'; use 'cpu', 'cuda'",
    ),
    row(
        "load/device='cuda'-without-CUDA",
        lambda e: vaelib.load(e.good, device="cuda"),
        CheckpointError,
        r"cannot load '.*good\.pt': device='cuda' but PyTorch sees no CUDA GPU",
        marks=cuda_only_fails,
    ),
    row(
        "load_extra/text-file",
        lambda e: vaelib.checkpoint.load_extra(path(e, "text.pt")),
        CheckpointError,
        r"'.*text\.pt' is not a readable checkpoint: it is a text file",
    ),
    # ---- save ------------------------------------------------------------------------------
    row(
        "save/model-None",
        lambda e: vaelib.save(None, path(e, "new.pt")),
        TypeError,
        r"model must be a vaelib VAE \(e\.g\. vaelib\.make_vae\(\.\.\.\)\), got NoneType",
    ),
    row(
        "save/path-None",
        lambda e: vaelib.save(e.mog, None),
        TypeError,
        r"path must be a file path \(a str or pathlib\.Path\), got NoneType",
    ),
    row(
        "save/onto-a-folder",
        lambda e: vaelib.save(e.mog, path(e, "folder.pt")),
        IsADirectoryError,
        r"cannot save the checkpoint to '.*folder\.pt': it is a directory; give a file name",
    ),
    row(
        "save/under-a-file",
        lambda e: vaelib.save(e.mog, path(e, "a-file") / "m.pt"),
        OSError,
        r"cannot save the checkpoint to '.*a-file/m\.pt': its folder '.*a-file' cannot be made",
    ),
    row(
        "save/extra-with-a-function",
        lambda e: vaelib.save(e.mog, path(e, "new.pt"), extra={"f": print}),
        TypeError,
        r"extra must hold plain data \(None, numbers, strings, lists, tuples, dicts, tensors\).*"
        r"extra\['f'\] is a builtin_function_or_method",
    ),
    row(
        "save/extra-a-list",
        lambda e: vaelib.save(e.mog, path(e, "new.pt"), extra=[1]),
        TypeError,
        r"extra must be a dict of plain data or None, got list",
    ),
    row(
        "save/unregistered-prior",
        lambda e: vaelib.save(
            vaelib.VAE(e.mog.encoder, e.mog.decoder, type("MyPrior", (vaelib.priors.StandardPrior,), {})(2)),
            path(e, "new.pt"),
        ),
        ValueError,
        r"prior, 'MyPrior', is not in vaelib\.PRIORS",
    ),
    # ---- load_digits -----------------------------------------------------------------------
    row(
        "load_digits/device='gpu'",
        lambda e: vaelib.load_digits(device="gpu"),
        ValueError,
        r"unknown device 'gpu'; use 'cpu', 'cuda', 'cuda:0', \.\.\. or None",
    ),
    row(
        "load_digits/device='cuda'-without-CUDA",
        lambda e: vaelib.load_digits(device="cuda"),
        ValueError,
        r"device='cuda'",
        marks=cuda_only_fails,
    ),
    # ---- the command line ------------------------------------------------------------------
    row(
        "cli/--grid-1",
        lambda e: figures(e, "--grid", "1"),
        CommandFailed,
        r"exit 2: vaelib figures: error: argument --grid: expected an integer >= 2 \(grid points per side\), got 1",
    ),
    row(
        "cli/--epochs-0",
        lambda e: figures(e, "--epochs", "0"),
        CommandFailed,
        r"exit 2: .*argument --epochs: expected a positive integer, got 0",
    ),
    row(
        "cli/--iwae-0",
        lambda e: figures(e, "--iwae", "0"),
        CommandFailed,
        r"exit 2: .*argument --iwae: expected a positive integer, got 0",
    ),
    row(
        "cli/--seed--1",
        lambda e: figures(e, "--seed", "-1"),
        CommandFailed,
        r"exit 2: .*argument --seed: expected an integer in 0\.\.2\*\*64-1, got -1",
    ),
    row(
        "cli/--formats-jpg",
        lambda e: figures(e, "--formats", "jpg"),
        CommandFailed,
        r"exit 2: .*argument --formats: invalid choice: 'jpg' \(choose from .*'png', 'pdf', 'svg'",
    ),
    row(
        "cli/--priors-gaussian",
        lambda e: figures(e, "--priors", "gaussian"),
        CommandFailed,
        r"exit 2: .*argument --priors: invalid choice: 'gaussian' \(choose from 'standard'",
    ),
    row(
        "cli/--device-cuda-without-CUDA",
        lambda e: figures(e, "--device", "cuda"),
        CommandFailed,
        r"exit 1: vaelib figures: error: --device: device='cuda' but PyTorch sees no CUDA GPU",
        marks=cuda_only_fails,
    ),
    row(
        "cli/--device-gpu",
        lambda e: figures(e, "--device", "gpu"),
        CommandFailed,
        r"exit 1: vaelib figures: error: --device: unknown device 'gpu'; use 'cpu', 'cuda'",
    ),
    row(
        "cli/--out-under-a-file",
        lambda e: figures(e, "--out", str(path(e, "a-file") / "figures")),
        CommandFailed,
        r"exit 1: vaelib figures: error: cannot write to '.*a-file/figures'",
    ),
]


@pytest.mark.parametrize("call, error, pattern", ROWS)
def test_bad_input_gets_a_clear_error(env, call, error, pattern):
    state = torch.get_rng_state()
    with pytest.raises(error) as caught:
        call(env)
    message = str(caught.value)
    assert re.search(pattern, message), f"{type(caught.value).__name__}: {message}"
    assert "Traceback" not in message and "weights_only" not in message
    if isinstance(caught.value, CheckpointError):
        assert torch.equal(torch.get_rng_state(), state)  # loading leaves the caller's random stream alone


def test_the_table_has_a_row_for_every_public_entry_point():
    covered = {param.id.split("/")[0].split(".")[0] for param in ROWS}
    expected = {
        "make_vae",
        "make_prior",
        "fit",
        "get_recipe",
        "Recipe",
        "negative_elbo",
        "negative_log_likelihood",
        "iwae_bound",
        "elbo_parts",
        "elbo_surgery",
        "holes",
        "latent_grid",
        "load",
        "save",
        "load_digits",
        "prior",
        "cli",
    }
    assert expected <= covered, expected - covered
    ids = [param.id for param in ROWS]
    assert len(ids) == len(set(ids)) and len(ids) >= 60
