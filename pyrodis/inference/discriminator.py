"""The FactorVAE discriminator: an MLP telling samples of q(z) from samples of Π_j q(z_j).

Kim & Mnih (2018), Appendix: 6 hidden layers of 1000 units, leaky ReLU (slope 0.2), 2 logits.
Class 0 is "a sample of q(z)" (joint), class 1 "a permuted sample" (product of marginals), so
``logits[:, 0] − logits[:, 1]`` estimates log q(z) − log Π_j q(z_j).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["Discriminator", "PAPER_HIDDEN_SIZES"]

PAPER_HIDDEN_SIZES = (1000,) * 6


class Discriminator(nn.Module):
    """``z (B, D) → logits (B, 2)``.

    Args:
        latent_dim: D.
        hidden_sizes: hidden layer widths (paper: six of 1000).
        negative_slope: leaky ReLU slope (paper: 0.2).
    """

    def __init__(
        self,
        latent_dim: int,
        hidden_sizes: Sequence[int] = PAPER_HIDDEN_SIZES,
        negative_slope: float = 0.2,
    ):
        super().__init__()
        self.latent_dim = int(latent_dim)
        self.hidden_sizes = tuple(int(h) for h in hidden_sizes)
        layers: list[nn.Module] = []
        for a, b in zip((self.latent_dim, *self.hidden_sizes), self.hidden_sizes):
            layers += [nn.Linear(a, b), nn.LeakyReLU(negative_slope)]
        width = self.hidden_sizes[-1] if self.hidden_sizes else self.latent_dim
        layers.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
