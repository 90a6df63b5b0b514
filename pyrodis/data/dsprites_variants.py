"""Colour- and noisy-dSprites: dSprites' factors and index, with a random nuisance per image.

Recipes of the reference study (Locatello et al. 2019, disentanglement_lib), ``docs/data.rst``:

- **colour-dSprites**: the binary sprite image ``s`` (1×64×64) repeated to 3 channels and
  multiplied by one colour ``c ~ U[0.5, 1]³`` per image: ``x = s · c``; the background stays
  black, the sprite takes the colour.
- **noisy-dSprites**: ``x = min(s + u, 1)`` with ``u ~ U[0, 1)`` independently per pixel and
  channel: sprite pixels are 1, the background is noise.

The colour and the noise are nuisance, not factors: the factors, their values, ``len`` and the
index are those of :class:`~pyrodis.data.dsprites.DSprites` (procedural, or the official file
with ``path=``).  Observations are float32 (n, 3, 64, 64) in [0, 1].  Where the nuisance comes
from is the rule of :mod:`pyrodis.data.nuisance`: ``observations(factors, rng)`` draws it from
the caller's generator; without ``rng`` the image at index ``i`` uses
``default_rng([seed, i])``, a fixed realisation of the dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pyrodis.data.base import GroundTruthDataset
from pyrodis.data.dsprites import IMAGE_SIZE, DSprites
from pyrodis.data.nuisance import check_seed, draw_nuisance
from pyrodis.seeding import RngLike, as_generator

__all__ = ["ColorDSprites", "NoisyDSprites", "NuisanceDSprites"]


class NuisanceDSprites(GroundTruthDataset):
    """dSprites with a random nuisance per image (base of the colour, noisy and scream variants).

    Subclasses implement ``draw_nuisance(gen, n)`` (a dict of arrays with first axis ``n``) and
    ``compose(sprites, nuisance)`` (binary sprites (n, 1, 64, 64) → images (n, 3, 64, 64)).

    Args:
        path: ``None`` for the procedural sprites, or the official dSprites file (as
            :class:`~pyrodis.data.dsprites.DSprites`).
        seed: the seed of the fixed realisation used when ``observations`` gets no ``rng``.
    """

    factor_names = DSprites.factor_names
    observation_shape = (3, IMAGE_SIZE, IMAGE_SIZE)

    def __init__(self, path: str | Path | None = None, seed: int = 0):
        self.seed = check_seed(seed)
        self.sprites = DSprites(path)
        self.factor_sizes = self.sprites.factor_sizes
        self.factor_values = self.sprites.factor_values

    def draw_nuisance(self, gen: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def compose(self, sprites: torch.Tensor, nuisance: dict[str, np.ndarray]) -> torch.Tensor:
        raise NotImplementedError

    def observations(self, factors: np.ndarray | Sequence, rng: RngLike = None) -> torch.Tensor:
        """Images of factor classes (n, 5): float32 (n, 3, 64, 64) in [0, 1].

        ``rng`` (a seed or generator) draws the batch's nuisance; ``None`` uses the dataset's
        fixed realisation (``default_rng([seed, index])`` per image).
        """
        arr = self.validate_factors(factors)
        nuisance = draw_nuisance(self.draw_nuisance, arr @ self.factor_bases, self.seed, rng)
        return self.compose(self.sprites.observations(arr), nuisance)

    def sample(self, n: int, rng: RngLike = None) -> tuple[np.ndarray, torch.Tensor]:
        """``n`` factor vectors and their images, factors and nuisance drawn from ``rng``."""
        gen = as_generator(rng)
        factors = self.sample_factors(n, gen)
        return factors, self.observations(factors, rng=gen)

    def __repr__(self) -> str:
        source = "procedural" if self.sprites.path is None else str(self.sprites.path)
        return f"{super().__repr__()[:-1]}; {source}; seed={self.seed})"


class ColorDSprites(NuisanceDSprites):
    """colour-dSprites: each sprite multiplied by a colour drawn from U[0.5, 1]³ per image.

    ``x = s · c``: with ``s`` the binary sprite (repeated to RGB) and ``c`` (3,) the image's
    colour. Background pixels are 0, sprite pixels equal ``c``.
    """

    def draw_nuisance(self, gen: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        return {"colour": gen.uniform(0.5, 1.0, size=(n, 3)).astype(np.float32)}

    def compose(self, sprites: torch.Tensor, nuisance: dict[str, np.ndarray]) -> torch.Tensor:
        colour = torch.from_numpy(nuisance["colour"])[:, :, None, None]
        return sprites * colour


class NoisyDSprites(NuisanceDSprites):
    """noisy-dSprites: ``x = min(s + u, 1)``, ``u ~ U[0, 1)`` per pixel and channel.

    Sprite pixels are exactly 1; background pixels are the noise (drawn channel-first,
    (n, 3, 64, 64), float32).
    """

    def draw_nuisance(self, gen: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        shape = (n, 3, IMAGE_SIZE, IMAGE_SIZE)
        return {"noise": gen.random(shape, dtype=np.float32)}

    def compose(self, sprites: torch.Tensor, nuisance: dict[str, np.ndarray]) -> torch.Tensor:
        noise = torch.from_numpy(nuisance["noise"])
        # s ∈ {0, 1} and u < 1: min(s + u, 1) = max(s, u), computed in place
        return torch.maximum(noise, sprites, out=noise)
