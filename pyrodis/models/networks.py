"""Encoder and decoder networks for image VAEs.

Architectures (``architecture=`` of :func:`build_networks`):

- ``"locatello"``: the conv encoder/decoder of Locatello et al. (2019), "Challenging common
  assumptions in the unsupervised learning of disentangled representations", Table 1:
  conv 32-32-64-64 (4×4, stride 2) → FC 256 → 2·D; the decoder mirrors it.
- ``"burgess"``: Burgess et al. (2018), "Understanding disentangling in β-VAE": four conv layers of
  32 channels (4×4, stride 2, pad 1) → FC 256 → FC 256 → 2·D; mirrored decoder.
- ``"mlp"``: fully connected, for small or flat inputs (Locatello's FC encoder is 1200-1200).

Conv networks take square images of 32, 64 or 128 pixels (4 stride-2 layers: the last feature map
is 2, 4 or 8 pixels wide). Encoders return ``(loc, scale)`` of shape ``(B, D)`` with
``scale = exp(logvar / 2)``; decoders return unconstrained outputs ``(B, C, H, W)`` (logits or
pre-sigmoid means; see :mod:`pyrodis.models.likelihoods`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = [
    "ARCHITECTURES",
    "ChannelsLastSequential",
    "Encoder",
    "Decoder",
    "build_networks",
    "conv_body",
    "mlp",
]

ARCHITECTURES = {
    "locatello": "conv 32-32-64-64 (4x4, stride 2) -> FC 256 (Locatello et al. 2019)",
    "burgess": "conv 32-32-32-32 (4x4, stride 2) -> FC 256 -> FC 256 (Burgess et al. 2018)",
    "mlp": "fully connected 1200-1200 (for small or flat inputs)",
}
_CONV = {"locatello": ((32, 32, 64, 64), (256,)), "burgess": ((32, 32, 32, 32), (256, 256))}
_SUPPORTED_SIZES = (32, 64, 128)


def mlp(sizes: Sequence[int], activate_last: bool = False) -> nn.Sequential:
    """Linear layers ``sizes[0] → … → sizes[-1]`` with ReLU between them."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if activate_last or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return ChannelsLastSequential(*layers)


class ChannelsLastSequential(nn.Sequential):
    """:class:`~torch.nn.Sequential` that lays a ``(B, C, H, W)`` input out channels-last first.

    Values and parameter names are those of a plain ``Sequential``; oneDNN's CPU convolutions and
    their gradients run faster on channels-last tensors (``benchmarks/RESULTS.md``, "Devices").
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return super().forward(x)


def conv_body(in_channels: int, channels: Sequence[int]) -> nn.Sequential:
    """Stride-2 4×4 convolutions (pad 1, each halves the image) with ReLU, run channels-last."""
    layers: list[nn.Module] = []
    for c_in, c_out in zip((in_channels, *channels[:-1]), channels):
        layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]
    return ChannelsLastSequential(*layers)


def deconv_body(channels: Sequence[int], out_channels: int) -> nn.Sequential:
    """Stride-2 4×4 transposed convolutions mirroring :func:`conv_body` (no final activation)."""
    layers: list[nn.Module] = []
    outs = (*channels[1:], out_channels)
    for i, (c_in, c_out) in enumerate(zip(channels, outs)):
        layers.append(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1))
        if i < len(channels) - 1:
            layers.append(nn.ReLU())
    return ChannelsLastSequential(*layers)


class Encoder(nn.Module):
    """``x (B, *image_shape) → (loc, scale)``, each ``(B, D)``: a feature body and a linear head."""

    def __init__(self, body: nn.Module, features: int, latent_dim: int):
        super().__init__()
        self.body = body
        self.head = nn.Linear(features, 2 * latent_dim)
        self.latent_dim = latent_dim

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.head(self.body(x))
        loc, logvar = h.split(self.latent_dim, dim=-1)
        return loc, torch.exp(0.5 * logvar)


class Decoder(nn.Module):
    """``z (B, D) → unconstrained output (B, *image_shape)``."""

    def __init__(self, body: nn.Module, image_shape: Sequence[int]):
        super().__init__()
        self.body = body
        self.image_shape = tuple(image_shape)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z).reshape(z.shape[:-1] + self.image_shape)


def _check_image_shape(architecture: str, image_shape: Sequence[int]) -> None:
    if len(image_shape) != 3:
        raise ValueError(f"image_shape must be (C, H, W), got {tuple(image_shape)}")
    c, h, w = image_shape
    if architecture in _CONV and (h != w or h not in _SUPPORTED_SIZES):
        raise ValueError(
            f"architecture {architecture!r} takes square images of {_SUPPORTED_SIZES} pixels, got "
            f"{h}x{w}; resize the images or use architecture='mlp'"
        )


def build_networks(
    architecture: str = "locatello",
    image_shape: Sequence[int] = (1, 64, 64),
    latent_dim: int = 10,
    hidden: Sequence[int] = (1200, 1200),
) -> tuple[Encoder, Decoder]:
    """Build a matching encoder/decoder pair.

    Args:
        architecture: one of :data:`ARCHITECTURES`.
        image_shape: ``(C, H, W)``.
        latent_dim: D.
        hidden: hidden layer sizes of the ``"mlp"`` architecture (ignored by conv ones).
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {architecture!r}; choose one of {sorted(ARCHITECTURES)}"
        )
    if latent_dim < 1:
        raise ValueError(f"latent_dim must be >= 1, got {latent_dim}")
    _check_image_shape(architecture, image_shape)
    c, h, w = image_shape
    if architecture == "mlp":
        pixels = c * h * w
        encoder = Encoder(
            nn.Sequential(nn.Flatten(), mlp((pixels, *hidden), activate_last=True)),
            hidden[-1],
            latent_dim,
        )
        decoder = Decoder(mlp((latent_dim, *hidden[::-1], pixels)), image_shape)
        return encoder, decoder
    channels, fc = _CONV[architecture]
    side = h // 2 ** len(channels)
    flat = channels[-1] * side * side
    enc_body = nn.Sequential(
        conv_body(c, channels), nn.Flatten(), mlp((flat, *fc), activate_last=True)
    )
    dec_body = nn.Sequential(
        mlp((latent_dim, *fc[::-1], flat), activate_last=True),
        nn.Unflatten(-1, (channels[-1], side, side)),
        deconv_body(channels[::-1], c),
    )
    return Encoder(enc_body, fc[-1], latent_dim), Decoder(dec_body, image_shape)
