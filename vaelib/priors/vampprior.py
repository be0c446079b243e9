"""VampPrior: a mixture of the encoder's posteriors at K learnable pseudo-inputs.

p(z) = sum_k w_k q(z | u_k). The pseudo-inputs u_k live in image space and are squashed
into the pixel range [0, num_values - 1] by a sigmoid, as the VampPrior paper keeps them
in the data range.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import check_choice, check_images, check_int
from .base import MixturePrior, PseudoInputs, SizeOption, share_encoder

# Pseudo-inputs given as images start within 16 * _EDGE of them (0.016 of a pixel level).
_EDGE = 1e-3


def pixels_to_logits(images: Tensor, top: int) -> Tensor:
    """Inverse of ``top * sigmoid``: unconstrained values that map back to ``images``."""
    p = (images.float() / top).clamp(_EDGE, 1 - _EDGE)
    return torch.logit(p)


class VampPrior(PseudoInputs, MixturePrior):
    """Mixture of variational posteriors q(z|u_k) at learnable pseudo-inputs u_k.

    init: "random" (uniform pixel intensities) or a tensor of K images (K, D) with pixel
    values in 0..num_values-1 (K is then the number of components), e.g. training images
    (``make_vae(..., init="data")`` picks K random Digits training images).
    """

    size_option = SizeOption("num_components", "components", 1, 64)

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
        share_encoder(self, encoder)
        if not isinstance(learn_weights, bool):
            raise TypeError(f"learn_weights must be True or False, got {learn_weights!r}")
        top = encoder.num_values - 1
        if isinstance(init, Tensor):
            images = check_images(init, encoder.input_dim, encoder.num_values, name="init")
            default = self.options()["num_components"]
            if num_components not in (default, images.shape[0]):
                raise ValueError(
                    f"init holds {images.shape[0]} images (one per component) but num_components={num_components}; "
                    f"leave num_components out or make it {images.shape[0]}"
                )
            num_components = images.shape[0]
        else:
            check_choice("init", init, ("random",))
            check_int("num_components", num_components, 1)
            images = torch.rand(num_components, encoder.input_dim) * top
        # A tensor init is recorded as "random": a saved model's pseudo-inputs come from its weights.
        self.save_hyperparameters(ignore=("encoder",), init="random", num_components=num_components)
        self.pseudo_input_logits = nn.Parameter(pixels_to_logits(images, top))
        self.mixture_logits = nn.Parameter(torch.zeros(num_components), requires_grad=learn_weights)

    @property
    def pseudo_inputs(self) -> Tensor:
        """The pseudo-inputs as images with pixel values in [0, pixel_max]. -> (K, D)"""
        return self.pixel_max * torch.sigmoid(self.pseudo_input_logits)

    def mixture_parameters(self):
        means, logvars = self.encoder(self.pseudo_inputs)
        return self.mixture_logits, means, logvars

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, num_components={self.num_components}"
