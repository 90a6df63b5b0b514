"""Cars3D (Reed, Zhang, Zhang & Lee 2015): 183 car models rendered from 96 viewpoints.

The release (``nips2015-analogy-data.tar.gz``, folder ``data/cars``) holds 183 MATLAB v5 files
``car_NNN_mesh.mat``, each with one array ``im`` (128, 128, 3, 24, 4) uint8: the RGB views of one
car at 24 azimuths × 4 elevations.  Factors (row-major, object fastest):

=========== ===== ==============================================
elevation      4  4 camera elevations (class indices)
azimuth       24  0° to 345° in steps of 15°
object       183  the car, in the sorted order of the file names
=========== ===== ==============================================

17,568 images, resized to 64×64 with Lanczos antialiasing once (as the reference thumbnails
them), cached as uint8 (``docs/data.rst``, the cache) and memory-mapped; observations are
float32 (n, 3, 64, 64) in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pyrodis.data.base import GroundTruthDataset
from pyrodis.data.data_home import cached_array, resolve_path
from pyrodis.data.image_resize import resize_images
from pyrodis.data.official_files import DatasetFileError

__all__ = ["Cars3D", "read_car"]

SOURCE = (
    "http://www.scottreed.info/files/nips2015-analogy-data.tar.gz (the folder data/cars of the "
    "archive)"
)
FACTOR_NAMES = ("elevation", "azimuth", "object")
NUM_OBJECTS = 183
VIEWS = (24, 4)  # azimuth, elevation: the last two axes of im
IMAGE_SIZE = 64


def read_car(path: Path) -> np.ndarray:
    """The views of one car, ``im`` (128, 128, 3, 24, 4) uint8, checked."""
    import scipy.io

    with path.open("rb") as fh:
        head = fh.read(128)
    if not head.startswith(b"MATLAB 5.0 MAT-file") or head.startswith(b"MATLAB 7.3"):
        what = "a MATLAB 7.3 (HDF5) file" if head.startswith(b"MATLAB 7.3") else "not MATLAB v5"
        raise DatasetFileError(
            f"{path}: is {what} (header {head[:24]!r}); the Cars3D files are MATLAB v5 .mat "
            f"files from {SOURCE}"
        )
    try:
        content = scipy.io.loadmat(path, variable_names=["im"])
    except Exception as err:  # scipy raises OSError, ValueError, IndexError, ... on bad bytes
        raise DatasetFileError(
            f"{path}: cannot be read as MATLAB v5 ({type(err).__name__}: {err}). The file is "
            f"truncated or corrupted: extract it again from {SOURCE}"
        ) from None
    if "im" not in content:
        raise DatasetFileError(f"{path}: has no variable 'im'; it is not a Cars3D mesh file")
    im = content["im"]
    if im.shape != (128, 128, 3, *VIEWS):
        raise DatasetFileError(f"{path}: 'im' has shape {im.shape}, expected (128, 128, 3, 24, 4)")
    if im.dtype != np.uint8:
        raise DatasetFileError(f"{path}: 'im' has dtype {im.dtype}, expected uint8")
    return im


class Cars3D(GroundTruthDataset):
    """Cars3D: 3×64×64 RGB renderings; elevation, azimuth, object.

    Args:
        path: the directory of ``.mat`` files, or ``None`` for ``$PYRODIS_DATA/cars``.
        cache_dir: where the 64×64 copy is cached (``docs/data.rst``).
        num_objects: only for a directory that is not the release (tests): how many ``.mat``
            files it holds.  By default it must hold exactly 183.
    """

    factor_names = FACTOR_NAMES
    observation_shape = (3, IMAGE_SIZE, IMAGE_SIZE)

    def __init__(
        self,
        path: str | Path | None = None,
        cache_dir: str | Path | None = None,
        num_objects: int | None = None,
    ):
        self.path = resolve_path(path, "cars", "Cars3D", SOURCE, is_dir=True)
        self.files = sorted(self.path.glob("*.mat"))
        want = NUM_OBJECTS if num_objects is None else int(num_objects)
        if len(self.files) != want:
            raise DatasetFileError(
                f"{self.path}: holds {len(self.files)} .mat files, expected {want} (one per car). "
                f"Extract data/cars of {SOURCE} into it"
            )
        self.factor_sizes = (VIEWS[1], VIEWS[0], len(self.files))
        self.factor_values = (
            np.arange(VIEWS[1], dtype=np.float64),
            15.0 * np.arange(VIEWS[0]),
            np.arange(len(self.files), dtype=np.float64),
        )
        self._images = cached_array("cars3d64", self.files, "lanczos64-v1", self._build, cache_dir)

    def _build(self) -> np.ndarray:
        """All views resized, in grid order: row ((elevation · 24) + azimuth) · objects + object."""
        objects = len(self.files)
        out = np.empty((VIEWS[1], VIEWS[0], objects, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
        for o, path in enumerate(self.files):
            im = read_car(path)
            views = (im[:, :, :, a, e] for e in range(VIEWS[1]) for a in range(VIEWS[0]))
            small = resize_images(views, VIEWS[0] * VIEWS[1])
            out[:, :, o] = small.reshape(VIEWS[1], VIEWS[0], IMAGE_SIZE, IMAGE_SIZE, 3)
        return out.reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 3)

    def observations(self, factors: np.ndarray | Sequence) -> torch.Tensor:
        """Images of factor classes (n, 3): float32 tensor (n, 3, 64, 64) in [0, 1]."""
        rows = self.validate_factors(factors) @ self.factor_bases
        pixels = np.asarray(self._images[rows])
        return torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255.0)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}; {self.path})"
