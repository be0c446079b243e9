"""VampPrior: a mixture of the encoder's posteriors at K learnable pseudo-inputs.

p(z) = sum_k w_k q(z | u_k). The pseudo-inputs u_k live in image space and are squashed
into the pixel range [0, num_values - 1] by a sigmoid, as the VampPrior paper keeps them
in the data range.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import check_choice, check_int, check_images
from .base import MixturePrior

# Data-initialised pseudo-inputs start within 16 * _EDGE of their image (0.016 of a pixel level).
_EDGE = 1e-3


def pixels_to_logits(images: Tensor, top: int) -> Tensor:
    """Inverse of ``top * sigmoid``: unconstrained values that map back to ``images``."""
    p = (images.float() / top).clamp(_EDGE, 1 - _EDGE)
    return torch.logit(p)


class VampPrior(MixturePrior):
    """Mixture of variational posteriors q(z|u_k) at learnable pseudo-inputs u_k.

    init: "random" (uniform pixel intensities), "data" (K random Digits training images),
    or a tensor of K images (K, D) with pixel values in 0..num_values-1.
    """

    needs_encoder = True

    def __init__(
        self,
        latent_dim: int = 2,
        *,
        encoder,
        num_components: int = 16,
        init="random",
        learn_weights: bool = True,
    ):
        super().__init__(latent_dim)
        if encoder.latent_dim != latent_dim:
            raise ValueError(f"encoder.latent_dim is {encoder.latent_dim} but latent_dim is {latent_dim}")
        # Shared with the VAE, which owns and registers it; kept out of this module's
        # children so its weights appear once in state_dict and in parameters().
        object.__setattr__(self, "encoder", encoder)
        top = encoder.num_values - 1
        if isinstance(init, Tensor):
            images = check_images(init, encoder.input_dim, encoder.num_values, name="init")
            num_components = images.shape[0]
        else:
            check_choice("init", init, ("random", "data"))
            check_int("num_components", num_components, 1)
            if init == "data":
                from ..data import load_digits

                train = load_digits(binarize=encoder.num_values == 2).train
                if num_components > len(train):
                    raise ValueError(f"num_components={num_components} exceeds the {len(train)} training images")
                images = train[torch.randperm(len(train))[:num_components]]
            else:
                images = torch.rand(num_components, encoder.input_dim) * top
        self.pseudo_input_logits = nn.Parameter(pixels_to_logits(images, top))
        self.mixture_logits = nn.Parameter(torch.zeros(num_components), requires_grad=learn_weights)

    @property
    def pseudo_inputs(self) -> Tensor:
        """The pseudo-inputs as images with pixel values in [0, num_values - 1]. -> (K, D)"""
        return (self.encoder.num_values - 1) * torch.sigmoid(self.pseudo_input_logits)

    def mixture_parameters(self):
        means, logvars = self.encoder(self.pseudo_inputs)
        return self.mixture_logits, means, logvars

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, num_components={self.num_components}"
