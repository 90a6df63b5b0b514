"""Observation likelihoods p(x | z) for image VAEs, chosen by name.

Each likelihood maps the decoder's unconstrained output ``(B, C, H, W)`` to a distribution whose
event is the whole image (log-probabilities summed over pixels, as β is defined for sums) and to
the mean image in [0, 1].

- ``"bernoulli"``: binary images; the decoder output is the logits.
- ``"gaussian"``: ``Normal(sigmoid(out), σ)``. Default σ = 1/√2 is fixed: then −log p(x|z) is the
  sum of squared errors plus a constant, the "l2" reconstruction loss of Locatello et al. (2019)
  (disentanglement_lib), so β keeps the meaning it has in that study.
- ``"laplace"``: ``Laplace(sigmoid(out), b)`` with fixed b = 1: the sum of absolute errors ("l1").

``learn_scale=True`` learns one scale per channel instead (a parameter of the likelihood module,
trained with the VAE; cf. Rybkin et al. 2021, σ-VAE). A learnt scale changes the balance between
reconstruction and KL as training goes, so β is then not comparable across runs.
"""

from __future__ import annotations

import math

import pyro.distributions as dist
import torch
from torch import nn

__all__ = [
    "LIKELIHOODS",
    "Likelihood",
    "BernoulliLikelihood",
    "LocationScaleLikelihood",
    "get_likelihood",
]

LIKELIHOODS = {
    "bernoulli": "Bernoulli(logits) per pixel (binary images)",
    "gaussian": "Normal(sigmoid(out), 1/sqrt(2)) per pixel: sum of squared errors (colour images)",
    "laplace": "Laplace(sigmoid(out), 1) per pixel: sum of absolute errors (colour images)",
}


class Likelihood(nn.Module):
    """Base: ``forward(out) -> distribution`` (event = image), ``mean(out) -> image in [0, 1]``."""

    def forward(self, out: torch.Tensor) -> dist.TorchDistribution:  # pragma: no cover
        raise NotImplementedError

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(out)


class BernoulliLikelihood(Likelihood):
    """Independent Bernoulli pixels with the decoder output as logits."""

    def forward(self, out: torch.Tensor) -> dist.TorchDistribution:
        return dist.Bernoulli(logits=out, validate_args=False).to_event(3)


class LocationScaleLikelihood(Likelihood):
    """``family(sigmoid(out), scale)`` per pixel, with a fixed or learnt (per channel) scale.

    Args:
        family: ``dist.Normal`` or ``dist.Laplace``.
        channels: C (for the learnt per-channel scale).
        scale: the fixed scale, or the initial one when ``learn_scale``.
        learn_scale: learn ``log scale`` per channel.
    """

    def __init__(self, family, channels: int, scale: float, learn_scale: bool = False):
        super().__init__()
        if not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        self.family = family
        log_scale = torch.full((channels, 1, 1), math.log(scale))
        if learn_scale:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("log_scale", log_scale)

    def forward(self, out: torch.Tensor) -> dist.TorchDistribution:
        return self.family(torch.sigmoid(out), self.log_scale.exp()).to_event(3)


def get_likelihood(
    name: str, channels: int = 1, scale: float | None = None, learn_scale: bool = False
) -> Likelihood:
    """A likelihood by name (see :data:`LIKELIHOODS`); ``scale`` overrides the default."""
    if name == "bernoulli":
        if scale is not None or learn_scale:
            raise ValueError("the bernoulli likelihood has no scale; drop scale/learn_scale")
        return BernoulliLikelihood()
    defaults = {"gaussian": (dist.Normal, math.sqrt(0.5)), "laplace": (dist.Laplace, 1.0)}
    if name not in defaults:
        raise ValueError(f"unknown likelihood {name!r}; choose one of {sorted(LIKELIHOODS)}")
    family, default = defaults[name]
    return LocationScaleLikelihood(
        family, channels, default if scale is None else scale, learn_scale
    )
