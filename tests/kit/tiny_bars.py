"""Small fixtures shared by the diagnostics tests (no tests here): a tiny ground-truth dataset,
a guide with known Gaussian posteriors and planted dead latents, and a matching decoder."""

from __future__ import annotations

import numpy as np
import pyro
import pyro.distributions as dist
import torch

from pyrodis.data.base import GroundTruthDataset

H = W = 8


class TinyBars(GroundTruthDataset):
    """1×8×8 images: a bright pixel at (row, col) and a dimmer one at (row + 1, col + 1)."""

    factor_names = ("row", "col")
    factor_sizes = (6, 5)
    factor_values = (np.linspace(0.0, 1.0, 6), np.linspace(0.0, 1.0, 5))
    observation_shape = (1, H, W)

    def observations(self, factors):
        f = torch.as_tensor(self.validate_factors(factors))
        x = torch.zeros(f.shape[0], 1, H, W)
        n = torch.arange(f.shape[0])
        x[n, 0, f[:, 0], f[:, 1]] = 1.0
        x[n, 0, f[:, 0] + 1, f[:, 1] + 1] = 0.5
        return x


#: Posterior scales of the tiny encoder; latents 2, 3, 4 are dead (constant mean).
SCALES = torch.tensor([0.2, 0.3, 1.0, 1.0, 0.5])


def tiny_encoder(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Known Gaussian posteriors: z0 follows the row, z1 the column, z2..z4 carry nothing
    (z4 has a non-unit scale, so KL > 0 yet it is inactive)."""
    mass = x.sum(dim=(1, 2, 3))
    rows = (x.sum(dim=(1, 3)) * torch.arange(H)).sum(-1) / mass
    cols = (x.sum(dim=(1, 2)) * torch.arange(W)).sum(-1) / mass
    loc = torch.zeros(x.shape[0], 5)
    loc[:, 0] = (rows - 2.8) / 1.5
    loc[:, 1] = (cols - 2.3) / 1.2
    return loc, SCALES.expand(x.shape[0], 5)


def tiny_guide(x, indices=None, num_data=30):
    loc, scale = tiny_encoder(x)
    idx = torch.arange(x.shape[0]) if indices is None else indices
    with pyro.plate("data", size=num_data, subsample=idx):
        pyro.sample("z", dist.Normal(loc, scale).to_event(1))


def tiny_decode(z: torch.Tensor) -> torch.Tensor:
    """A smooth blob at the (row, col) the first two latents encode, (n, 1, 8, 8) in [0, 1]."""
    row = z[:, 0] * 1.5 + 2.8
    col = z[:, 1] * 1.2 + 2.3
    grid = torch.arange(H, dtype=z.dtype)
    blob = torch.exp(
        -((grid[None, :, None] - row[:, None, None]) ** 2)
        - (grid[None, None, :] - col[:, None, None]) ** 2
    )
    return blob[:, None].clamp(0, 1)


class TinyVAE:
    """Just what write_report needs of a VAE: guide, decode and eval mode."""

    training = False

    def guide(self, x, indices=None):
        tiny_guide(x, indices)

    def decode(self, z):
        return tiny_decode(z)

    def eval(self):
        return self


def png_size(path) -> tuple[int, int]:
    """(width, height) read from a PNG's IHDR chunk."""
    data = open(path, "rb").read(24)
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
