"""scream-dSprites: dSprites drawn over random patches of a picture, ``docs/data.rst``.

Recipe of the reference study (Locatello et al. 2019, disentanglement_lib): the picture is
fitted into 350×274 pixels (aspect kept, antialiased, as ``PIL.Image.thumbnail``) and scaled to
[0, 1]; per image a random 64×64 patch ``p`` is cut from it and averaged with a random colour
``c ~ U[0, 1)³``: ``b = (p + c) / 2``; the pixels of the sprite are inverted, ``x = 1 − b``
there, and ``x = b`` elsewhere.  The patch's top-left corner is uniform over every position
where the patch fits (the reference's ``randint(0, H − 64)`` leaves out the last row and
column of positions; this is the only difference).

The reference uses Edvard Munch's *The Scream* (public domain), which the user supplies; any
picture works.  Pass it as ``image=`` (``path=`` in :func:`~pyrodis.data.registry.get_dataset`),
or put ``scream.jpg`` (or ``scream.png``) in the directory named by ``$PYRODIS_DATA``.
Factors, index and the nuisance rule are those of
:class:`~pyrodis.data.dsprites_variants.NuisanceDSprites`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from pyrodis.data.data_home import DATA_ENV
from pyrodis.data.dsprites import IMAGE_SIZE
from pyrodis.data.dsprites_variants import NuisanceDSprites
from pyrodis.data.official_files import DatasetFileError

__all__ = ["ScreamDSprites", "load_background"]

THUMBNAIL = (350, 274)  # (width, height), as the reference's PIL thumbnail
_DEFAULT_NAMES = ("scream.jpg", "scream.png")
_NEED = (
    "scream-dsprites needs a background picture: pass image=PATH (get_dataset('scream-dsprites', "
    "path=PATH), or data.path in a run config), any RGB picture that is at least 64×64 pixels "
    f"once fitted into {THUMBNAIL[0]}×{THUMBNAIL[1]}, or put scream.jpg in the directory named "
    f"by ${DATA_ENV}. The reference study uses Edvard Munch's The Scream (public domain), which "
    "pyrodis does not ship"
)


def _default_image() -> Path:
    root = os.environ.get(DATA_ENV)
    for name in _DEFAULT_NAMES if root else ():
        if (Path(root) / name).is_file():
            return Path(root) / name
    where = f" (no {' or '.join(_DEFAULT_NAMES)} in {root})" if root else f" (${DATA_ENV} unset)"
    raise DatasetFileError(_NEED + where)


def load_background(image: str | Path, thumbnail: tuple[int, int] = THUMBNAIL) -> np.ndarray:
    """The picture fitted into ``thumbnail`` (width, height): float32 (H, W, 3) in [0, 1]."""
    from PIL import Image, UnidentifiedImageError

    path = Path(image).expanduser()
    if not path.is_file():
        raise DatasetFileError(f"{path}: no such file. " + _NEED)
    try:
        with Image.open(path) as pic:
            pic = pic.convert("RGB")
            pic.thumbnail(thumbnail, Image.Resampling.LANCZOS)
            pixels = np.asarray(pic, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise DatasetFileError(
            f"{path}: cannot be read as a picture ({err}). Pass a PNG or JPEG file"
        ) from None
    if min(pixels.shape[:2]) < IMAGE_SIZE:
        raise DatasetFileError(
            f"{path}: is {pixels.shape[1]}×{pixels.shape[0]} pixels once fitted into "
            f"{thumbnail[0]}×{thumbnail[1]}; a 64×64 patch does not fit. Pass a larger picture"
        )
    return pixels


class ScreamDSprites(NuisanceDSprites):
    """scream-dSprites: ``x = b`` off the sprite and ``1 − b`` on it, ``b = (patch + c) / 2``.

    Args:
        image: the background picture (any RGB image; see the module docstring), or ``None``
            for ``$PYRODIS_DATA/scream.jpg``.
        path: the official dSprites file, or ``None`` for the procedural sprites.
        seed: the seed of the fixed realisation (:mod:`pyrodis.data.nuisance`).
        thumbnail: (width, height) the picture is fitted into.
    """

    def __init__(
        self,
        image: str | Path | None = None,
        path: str | Path | None = None,
        seed: int = 0,
        thumbnail: tuple[int, int] = THUMBNAIL,
    ):
        super().__init__(path, seed)
        self.image = _default_image() if image is None else Path(image)
        self.background = torch.from_numpy(load_background(self.image, thumbnail))
        height, width = self.background.shape[:2]
        self._corners = (height - IMAGE_SIZE + 1, width - IMAGE_SIZE + 1)
        # (3, H-63, W-63, 64, 64) view: [:, r, c] is the channel-first patch at corner (r, c)
        channels_first = np.ascontiguousarray(self.background.numpy().transpose(2, 0, 1))
        window = (IMAGE_SIZE, IMAGE_SIZE)
        self._windows = np.lib.stride_tricks.sliding_window_view(channels_first, window, (1, 2))

    def draw_nuisance(self, gen: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        rows = gen.integers(0, self._corners[0], size=n)
        cols = gen.integers(0, self._corners[1], size=n)
        colour = gen.random((n, 3), dtype=np.float32)
        return {"corner": np.stack([rows, cols], 1).astype(np.int64), "colour": colour}

    def compose(self, sprites: torch.Tensor, nuisance: dict[str, np.ndarray]) -> torch.Tensor:
        rows, cols = nuisance["corner"].T
        patches = self._windows[:, rows, cols].transpose(1, 0, 2, 3)  # (n, 3, 64, 64)
        back = torch.from_numpy(np.ascontiguousarray(patches))
        back.add_(torch.from_numpy(nuisance["colour"])[:, :, None, None]).mul_(0.5)
        # s ∈ {0, 1}: b·(1 − 2s) + s is b off the sprite and exactly 1 − b on it
        return back.mul_(1.0 - 2.0 * sprites).add_(sprites)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}; image={self.image})"
