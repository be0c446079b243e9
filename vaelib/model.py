"""The VAE: a Gaussian encoder q(z|x), a categorical (or Bernoulli) decoder p(x|z), a prior p(z).

The VAE knows nothing about which prior it holds: anything with the ``Prior`` interface
(``distribution()``, ``log_prob(z)``, ``sample(n)``) plugs in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import Bernoulli, Categorical, Distribution, Independent, Normal

from ._checks import check_choice, check_images, check_int, check_latent, check_seed, resolve_device
from .data import IMAGE_SHAPE, NUM_PIXEL_VALUES
from .nets import Configurable, mlp
from .priors import PRIORS, Prior, make_prior, prior_name
from .seeding import fixed_seed

LIKELIHOODS = ("categorical", "bernoulli")


class Encoder(Configurable, nn.Module):
    """q(z|x) = N(z; mu(x), diag exp(logvar(x))). Input pixels 0..num_values-1 (floats allowed)."""

    def __init__(self, input_dim: int, latent_dim: int, hidden_dim: int, num_values: int):
        super().__init__()
        self.save_hyperparameters()
        self.input_dim, self.latent_dim, self.num_values = input_dim, latent_dim, num_values
        self.net = mlp(input_dim, hidden_dim, 2 * latent_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior means and log-variances. x: (B, D) -> (B, L), (B, L)"""
        # Pixels scaled to [0, 1]: the same network sees images and pseudo-inputs alike.
        h = self.net(x.to(self.net[0].weight.dtype) / (self.num_values - 1))
        mean, logvar = h.chunk(2, dim=-1)
        return mean, logvar


def diagonal_normal(mean: Tensor, logvar: Tensor) -> Independent:
    """N(mean, diag exp(logvar)) as a distribution over vectors (event_shape (L,))."""
    return Independent(Normal(mean, torch.exp(0.5 * logvar), validate_args=False), 1)


class Decoder(Configurable, nn.Module):
    """p(x|z): independent categorical pixels over 0..num_values-1 (or Bernoulli for 0/1)."""

    def __init__(self, input_dim: int, latent_dim: int, hidden_dim: int, num_values: int, likelihood: str):
        super().__init__()
        check_choice("likelihood", likelihood, LIKELIHOODS)
        self.save_hyperparameters()
        self.input_dim, self.num_values, self.likelihood = input_dim, num_values, likelihood
        out = input_dim if likelihood == "bernoulli" else input_dim * num_values
        self.net = mlp(latent_dim, hidden_dim, out)

    def forward(self, z: Tensor) -> Tensor:
        """Logits. z: (..., L) -> (..., D, num_values), or (..., D) for Bernoulli."""
        h = self.net(z)
        if self.likelihood == "bernoulli":
            return h
        return h.unflatten(-1, (self.input_dim, self.num_values))

    def log_prob(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x|z) summed over pixels. x: (B, D) long, z: (..., B, L) -> (..., B)"""
        logits = self(z)
        if self.likelihood == "bernoulli":
            target = x.to(logits.dtype).expand_as(logits)
            return -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)
        # cross_entropy is log_softmax + gather in one kernel: the hot path of training.
        target = x.expand(logits.shape[:-1])
        nll = F.cross_entropy(logits.reshape(-1, self.num_values), target.reshape(-1), reduction="none")
        return -nll.view(target.shape).sum(-1)

    def distribution(self, z: Tensor) -> Distribution:
        """p(x|z) as a distribution over images (event_shape (D,))."""
        logits = self(z)
        if self.likelihood == "bernoulli":
            return Independent(Bernoulli(logits=logits, validate_args=False), 1)
        return Independent(Categorical(logits=logits, validate_args=False), 1)


@dataclass
class ELBOParts:
    """The per-example ELBO and its parts, each of shape (B,), in nats.

    ELBO = reconstruction + log_prior + entropy
         = E_q[log p(x|z)] + E_q[log p(z)] - E_q[log q(z|x)]
    """

    reconstruction: Tensor
    log_prior: Tensor
    entropy: Tensor

    @property
    def elbo(self) -> Tensor:
        return self.reconstruction + self.log_prior + self.entropy

    @property
    def kl(self) -> Tensor:
        """KL(q(z|x) || p(z)) estimated with the same samples: -(log_prior + entropy)."""
        return -(self.log_prior + self.entropy)


class VAE(nn.Module):
    """A variational auto-encoder with a pluggable prior.

    Any encoder, decoder and prior built from vaelib's parts can be combined, saved and
    loaded: each part records its own hyper-parameters (see :attr:`config`).
    config: ignored (older notebooks passed make_vae's arguments; the parts now know them).
    """

    def __init__(self, encoder: Encoder, decoder: Decoder, prior: Prior, config: dict | None = None):
        super().__init__()
        if prior.latent_dim != encoder.latent_dim:
            raise ValueError(f"prior.latent_dim={prior.latent_dim} but encoder.latent_dim={encoder.latent_dim}")
        self.encoder, self.decoder, self.prior = encoder, decoder, prior
        #: Set by fit(): the last training run's History.
        self.history = None

    @property
    def config(self) -> dict:
        """Everything that rebuilds this model's architecture (plain types): see :meth:`from_config`."""
        return {
            "encoder": dict(self.encoder.hparams),
            "decoder": dict(self.decoder.hparams),
            "prior": {"name": prior_name(self.prior), "options": dict(self.prior.hparams)},
        }

    @classmethod
    def from_config(cls, config: dict) -> "VAE":
        """A model with the architecture ``config`` describes (fresh weights; the caller's random
        stream is left as it was). config: as :attr:`config` returns it."""
        with torch.random.fork_rng(devices=[]):
            encoder = Encoder(**config["encoder"])
            decoder = Decoder(**config["decoder"])
            options = dict(config["prior"]["options"])
            prior = make_prior(config["prior"]["name"], options.pop("latent_dim"), encoder=encoder, **options)
        return cls(encoder, decoder, prior)

    # Shapes and where the model lives -------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.encoder.latent_dim

    @property
    def input_dim(self) -> int:
        return self.encoder.input_dim

    @property
    def num_values(self) -> int:
        return self.encoder.num_values

    @property
    def device(self) -> torch.device:
        return self.encoder.net[0].weight.device

    @property
    def prior_name(self) -> str:
        """The prior's registry name, e.g. "vampprior"."""
        return prior_name(self.prior)

    def check_images(self, x: Tensor, name: str = "x") -> Tensor:
        """Validate images for this model; -> the same images as integers (int64) on its device.

        Whole-number pixels stored as floats or other integer types are accepted.
        """
        try:
            check_images(x, self.input_dim, self.num_values, name=name)
        except ValueError as error:
            if self.decoder.likelihood == "bernoulli" and "pixel values" in str(error):
                raise ValueError(f"{error} (a Bernoulli VAE needs load_digits(binarize=True))") from None
            raise
        return x.to(device=self.device, dtype=torch.long)

    # The model's distributions ---------------------------------------------------------
    def posterior(self, x: Tensor) -> Independent:
        """q(z|x) for each image. x: (B, D) -> batch_shape (B,), event_shape (L,)"""
        return diagonal_normal(*self.encoder(x))

    def elbo(self, x: Tensor, validate: bool = True, noise: Tensor | None = None) -> ELBOParts:
        """The ELBO of each image and its parts, with one reparameterised sample z ~ q(z|x).

        noise: the standard normal draw behind z (B, L), as ``q.rsample()`` would draw it; None
        draws it. A batched trainer passes each seed's own draw (random ops cannot run under vmap).
        x: (B, D) integer pixels -> ELBOParts of (B,) tensors
        """
        if validate:
            x = self.check_images(x)
        mean, logvar = self.encoder(x)
        q = diagonal_normal(mean, logvar)
        # The same arithmetic as Normal.rsample: loc + eps * scale.
        z = q.rsample() if noise is None else q.base_dist.loc + noise * q.base_dist.scale
        return ELBOParts(
            reconstruction=self.decoder.log_prob(x, z),
            log_prior=self.prior.distribution().log_prob(z),
            # The Gaussian entropy in closed form: same expectation as -log q(z|x), no noise.
            entropy=q.entropy(),
        )

    def loss(self, x: Tensor, validate: bool = True) -> Tensor:
        """Mean negative ELBO over the batch (nats per image)."""
        return -self.elbo(x, validate=validate).elbo.mean()

    @torch.no_grad()
    def sample(self, n: int) -> Tensor:
        """Images decoded from prior samples. -> (n, D) long"""
        z = self.prior.sample(n)
        return self.decoder.distribution(z).sample().long()

    @torch.no_grad()
    def decode_mode(self, z: Tensor) -> Tensor:
        """The most likely pixel values given z (a clean picture for plots). z: (B, L) -> (B, D)"""
        check_latent(z, self.latent_dim)
        logits = self.decoder(z.to(self.device))
        if self.decoder.likelihood == "bernoulli":
            return (logits > 0).long()
        return logits.argmax(-1)

    @torch.no_grad()
    def decode_mean(self, z: Tensor) -> Tensor:
        """The expected pixel value given z (smooth grey levels). z: (B, L) -> (B, D) float"""
        check_latent(z, self.latent_dim)
        logits = self.decoder(z.to(self.device))
        if self.decoder.likelihood == "bernoulli":
            return torch.sigmoid(logits)
        values = torch.arange(self.num_values, device=logits.device, dtype=logits.dtype)
        return torch.softmax(logits, -1) @ values

    @torch.no_grad()
    def encode(self, x: Tensor, sample: bool = True) -> Tensor:
        """One z ~ q(z|x) per image (or the posterior mean). x: (B, D) -> (B, L)"""
        x = self.check_images(x)
        q = self.posterior(x)
        return q.sample() if sample else q.mean

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Encode, then decode the posterior mean to the most likely image. x: (B, D) -> (B, D)"""
        return self.decode_mode(self.encode(x, sample=False))


def _training_images(num_components: int, binarize: bool, data=None) -> Tensor:
    """``num_components`` random training images of ``data`` (default Digits) (the VampPrior's init="data")."""
    from .data import load_digits

    train = load_digits(binarize=binarize).train if data is None else data.train.cpu()
    if num_components > len(train):
        raise ValueError(f"num_components={num_components} exceeds the {len(train)} training images")
    return train[torch.randperm(len(train))[:num_components]]


def _shape_of(data, input_dim: int | None, likelihood: str) -> tuple[int, int]:
    """The (input_dim, num_values) of a model for ``data``, checked against what the caller asked."""
    if not (hasattr(data, "input_dim") and hasattr(data, "num_values")):
        raise TypeError(
            f"data must be a data set such as vaelib.load_digits() or vaelib.load_mnist5k(), got {type(data).__name__}"
        )
    if input_dim is not None and input_dim != data.input_dim:
        raise ValueError(
            f"input_dim={input_dim} but the data's images have {data.input_dim} pixels; leave input_dim out"
        )
    if likelihood == "bernoulli" and data.num_values != 2:
        raise ValueError(
            f"a Bernoulli likelihood needs 0/1 pixels, but the data's pixels take {data.num_values} values "
            f"(0..{data.num_values - 1}): load it with binarize=True or use likelihood='categorical'"
        )
    return data.input_dim, data.num_values


def make_vae(
    prior: str = "standard",
    *,
    latent_dim: int = 2,
    hidden_dim: int = 256,
    likelihood: str | None = None,
    input_dim: int | None = None,
    data=None,
    seed: int | None = None,
    device=None,
    **prior_options,
) -> VAE:
    """A VAE for Digits (or for ``data``) with the book's architecture and the prior called ``prior``.

    hidden_dim: M, the hidden units of every network, the prior's too (as in the book).
    likelihood: "categorical" over the pixel values or "bernoulli" for 0/1 pixels; None:
    "categorical", or with ``data`` "bernoulli" when its pixels are 0/1 (e.g. ``load_mnist5k()``).
    input_dim: pixels per image; None: 64 (Digits), or ``data.input_dim``.
    data: a data set (``load_digits(...)``, ``load_mnist5k(...)``) the model is for: its image
    size and pixel values set the model's; None: Digits (64 pixels, 0..16, or 0/1 for "bernoulli").
    Extra keywords go to the prior (e.g. ``num_components=16`` for "mog"; for "vampprior",
    ``init="data"`` starts the pseudo-inputs as random training images of ``data``, default Digits).
    seed: makes the initial weights (and the data pick) repeatable, without touching the
    caller's random stream; None draws them from it.
    """
    check_choice("prior", prior, tuple(PRIORS))
    if likelihood is None:
        likelihood = "bernoulli" if data is not None and data.num_values == 2 else "categorical"
    check_choice("likelihood", likelihood, LIKELIHOODS)
    check_int("latent_dim", latent_dim, 2)
    check_int("hidden_dim", hidden_dim, 1)
    if input_dim is not None:
        check_int("input_dim", input_dim, 1)
    if data is not None:
        input_dim, num_values = _shape_of(data, input_dim, likelihood)
    else:
        input_dim = IMAGE_SHAPE[0] * IMAGE_SHAPE[1] if input_dim is None else input_dim
        num_values = 2 if likelihood == "bernoulli" else NUM_PIXEL_VALUES
    if seed is not None:
        check_seed(seed)
    device = resolve_device(device)
    defaults = PRIORS[prior].options()
    if "init" in defaults and isinstance(prior_options.get("init"), str):  # the prior alone knows only "random"
        check_choice("init", prior_options["init"], ("random", "data"))
    if "hidden_dim" in defaults:
        prior_options = dict(prior_options, hidden_dim=hidden_dim)

    def build() -> VAE:
        encoder = Encoder(input_dim, latent_dim, hidden_dim, num_values)
        decoder = Decoder(input_dim, latent_dim, hidden_dim, num_values, likelihood)
        options = dict(prior_options)
        if isinstance(options.get("init"), str) and options["init"] == "data":
            size = options.get("num_components", defaults.get("num_components"))
            options["init"] = _training_images(check_int("num_components", size, 1), likelihood == "bernoulli", data)
        return VAE(encoder, decoder, make_prior(prior, latent_dim, encoder=encoder, **options))

    with fixed_seed(seed):
        model = build()
    return model.to(device)
