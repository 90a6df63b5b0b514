"""dSprites (Matthey et al. 2017): procedural renderer with the official factor grid, or the file.

Factors (file order, the constant ``color`` dropped as every port does — it has one class, so
the official index of classes ``(0, shape, scale, orientation, posX, posY)`` equals ours):

======== ==== =====================================================
shape       3 1 = square, 2 = ellipse, 3 = heart
scale       6 linspace(0.5, 1, 6)
orientation 40 linspace(0, 2π, 40) (0 and 2π both present: the same angle)
posX       32 linspace(0, 1, 32) — image column, left to right (our choice: the
                official axes are undocumented)
posY       32 linspace(0, 1, 32) — image row, top to bottom
======== ==== =====================================================

737,280 binary 64×64 images, row-major with posY fastest:
``index = classes · (245760, 40960, 1024, 32, 1)`` (the official bases without the colour's).

Procedural rendering (``path=None``): the 3·6·40 = 720 sprites are rasterised once into 32×32
patches (shape radius ``14·scale`` px around the patch centre, point-sampled at pixel centres, no
antialiasing, like the original); a position class ``p`` places the patch at pixel offset ``p``,
so sprite centres span the central half of the canvas (pixels 16..47) and sprites span at
most pixels 2..61: they never touch the border.  A batch is one gather of shifted
canvases (:func:`render_sprites`), with no per-item work.  The official outlines and margins were
never published: the grid, order, dtype and index match the file exactly, the pixels do not.

``path=...`` loads the official ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` (or its HDF5
twin) through the same interface; factor values are read from the file and images are kept as packed
bits (377 MB for the full file instead of 3 GB).  Keys, shapes, dtypes, binary pixels and the
row-major class grid are always checked, with an error that says what is wrong.  The md5 given in
``docs/data.rst`` can only match the full official ``.npz``: by default it is checked (with a
warning on a mismatch) only for a file with the full grid, ``verify=True`` makes a mismatch an
error, and files in the official layout with a smaller grid (as the tests write) load as that grid.

Reference: L. Matthey, I. Higgins, D. Hassabis, A. Lerchner. dSprites: Disentanglement testing
Sprites dataset. https://github.com/deepmind/dsprites-dataset/, 2017.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pyrodis.data import hdf5_files
from pyrodis.data import official_files as files
from pyrodis.data.base import GroundTruthDataset
from pyrodis.data.dsprites_render import SHAPES, render_sprite_table

IMAGE_SIZE = 64
SPRITE_SIZE = 32
MAX_RADIUS = 14.0  # px at scale 1; sprites stay within radius 14 of the patch centre
FACTOR_NAMES = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (3, 6, 40, 32, 32)
OFFICIAL_SIZES = (1, *FACTOR_SIZES)  # with the constant colour


def official_factor_values() -> tuple[np.ndarray, ...]:
    """The physical values of each factor class, as in the official file's ``latents_values``."""
    return (
        np.array([1.0, 2.0, 3.0]),
        np.linspace(0.5, 1.0, 6),
        np.linspace(0.0, 2.0 * np.pi, 40),
        np.linspace(0.0, 1.0, 32),
        np.linspace(0.0, 1.0, 32),
    )


@functools.lru_cache(maxsize=1)
def sprite_table() -> torch.Tensor:
    """The 720 pre-rendered sprites: float32 (3, 6, 40, 32, 32) in {0, 1}, rendered once."""
    values = official_factor_values()
    table = render_sprite_table(values[1] * MAX_RADIUS, values[2], SPRITE_SIZE)
    return torch.from_numpy(table.astype(np.float32))


class DSprites(GroundTruthDataset):
    """dSprites: 1×64×64 binary sprites; observations are float32 in {0, 1}.

    Args:
        path: ``None`` for the procedural renderer, or the official ``.npz`` / HDF5 file.
        verify: md5 check of an ``.npz`` file: ``None`` (default) checks a file with the full
            official grid and warns on a mismatch; ``True`` raises on a mismatch (use it to
            assert that a file is the official release); ``False`` skips it.
    """

    factor_names = FACTOR_NAMES
    observation_shape = (1, IMAGE_SIZE, IMAGE_SIZE)

    def __init__(self, path: str | Path | None = None, verify: bool | None = None):
        self.path = None if path is None else Path(path)
        self._bits: np.ndarray | None = None
        if self.path is None:
            self.factor_sizes = FACTOR_SIZES
            self.factor_values = official_factor_values()
        else:
            self._load(self.path, verify)

    # ------------------------------------------------------------------------------- rendering
    def observations(self, factors: np.ndarray | Sequence) -> torch.Tensor:
        """Images of factor classes (n, 5): float32 tensor (n, 1, 64, 64) in {0, 1}."""
        arr = self.validate_factors(factors)
        if self._bits is not None:
            bits = self._bits[arr @ self.factor_bases]
            return torch.from_numpy(np.unpackbits(bits, axis=-1)).unsqueeze(1).float()
        return render_sprites(torch.from_numpy(arr))

    # ------------------------------------------------------------------------------ file access
    def _load(self, path: Path, verify: bool | None) -> None:
        kind = files.file_kind(path)
        convert = files.binary_to_bits(path, "imgs")
        if kind == "npz":
            files.require_npz_keys(path, ("imgs", "latents_values", "latents_classes", "metadata"))
            classes = files.read_npz_array(path, "latents_classes", (None, 6))
            values = files.read_npz_array(path, "latents_values", (None, 6))
        else:
            with hdf5_files.open_hdf5(path) as h5:
                classes = hdf5_files.hdf5_dataset(path, h5, "latents/classes", (None, 6))[()]
                values = hdf5_files.hdf5_dataset(path, h5, "latents/values", (None, 6))[()]
        sizes = files.grid_sizes(path, classes.astype(np.int64), "latents_classes")
        if sizes[0] != 1:
            raise files.DatasetFileError(
                f"{path}: the colour factor has {sizes[0]} classes, expected 1 (constant). "
                "pyrodis drops the constant colour; a file with several colours is not dSprites"
            )
        rows = len(classes)
        if kind == "npz":
            files.check_md5(path, files.DSPRITES_NPZ_MD5, verify, sizes == OFFICIAL_SIZES)
            bits = files.read_npz_images(path, "imgs", (rows, IMAGE_SIZE, IMAGE_SIZE), convert)
        else:
            with hdf5_files.open_hdf5(path) as h5:
                node = hdf5_files.hdf5_dataset(path, h5, "imgs", (rows, IMAGE_SIZE, IMAGE_SIZE))
                bits = hdf5_files.read_hdf5_images(node, convert)
        tables = files.values_per_class(path, classes.astype(np.int64), values)
        self.factor_sizes = tuple(sizes[1:])
        self.factor_values = tuple(tables[1:])
        self._bits = bits
        self.file_kind = kind

    @property
    def metadata(self) -> object:
        """The official ``.npz``'s pickled metadata (unpickling runs code: trusted files only)."""
        if self.path is None or self.file_kind != "npz":
            raise AttributeError("metadata exists only for a DSprites loaded from an .npz file")
        return files.read_npz_metadata(self.path)

    def __repr__(self) -> str:
        source = "procedural" if self.path is None else str(self.path)
        return f"{super().__repr__()[:-1]}; {source})"


def render_sprites(factors: torch.Tensor) -> torch.Tensor:
    """Render validated factor classes (n, 5) int64 into float32 images (n, 1, 64, 64).

    A sprite at position (posX, posY) is its canvas at the origin shifted by the flat offset
    ``posY · 64 + posX``; as a patch never reaches the last 32 columns, the shift never wraps a
    row.  Every shifted canvas is a contiguous 4096-pixel window of the zero-padded flat canvas,
    so a batch is one gather of windows from a strided view (a memory copy per image).
    """
    sprite = (factors[:, 0] * FACTOR_SIZES[1] + factors[:, 1]) * FACTOR_SIZES[2] + factors[:, 2]
    shift = factors[:, 4] * IMAGE_SIZE + factors[:, 3]
    return _shifted_canvases()[sprite, _MAX_SHIFT - shift].view(-1, 1, IMAGE_SIZE, IMAGE_SIZE)


_MAX_SHIFT = (FACTOR_SIZES[4] - 1) * IMAGE_SIZE + FACTOR_SIZES[3] - 1


@functools.lru_cache(maxsize=1)
def _shifted_canvases() -> torch.Tensor:
    """View (720, _MAX_SHIFT + 1, 4096): [s, _MAX_SHIFT − d] = canvas of sprite s shifted by d."""
    pixels = IMAGE_SIZE * IMAGE_SIZE
    canvas = torch.zeros(len(SHAPES) * FACTOR_SIZES[1] * FACTOR_SIZES[2], IMAGE_SIZE, IMAGE_SIZE)
    canvas[:, :SPRITE_SIZE, :SPRITE_SIZE] = sprite_table().reshape(-1, SPRITE_SIZE, SPRITE_SIZE)
    padded = torch.zeros(len(canvas), _MAX_SHIFT + pixels)  # 17.6 MB
    padded[:, _MAX_SHIFT:] = canvas.reshape(len(canvas), -1)
    return padded.as_strided((len(canvas), _MAX_SHIFT + 1, pixels), (padded.shape[1], 1, 1))


__all__ = ["DSprites", "SHAPES", "official_factor_values", "render_sprites", "sprite_table"]
