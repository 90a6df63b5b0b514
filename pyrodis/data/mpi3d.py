"""MPI3D (Gondal et al. 2019): toy, realistic and real, memory-mapped from the official ``.npz``.

The NeurIPS 2019 disentanglement challenge's datasets: a robot finger holding an object, filmed
(``real``) or rendered (``toy``, ``realistic``).  Each file ``mpi3d_{variant}.npz`` holds one
array ``images`` (N, 64, 64, 3) uint8, one image per factor combination, row-major (the second
DOF fastest): ``index = classes · bases``.  Factors of the final release (N = 1,036,800):

================ ==== ==========================================================
object_color       6  white, green, red, blue, brown, olive
object_shape       6  cone, cube, cylinder, hexagonal prism, pyramid, sphere
object_size        2  small, large
camera_height      3  top, center, bottom
background_color   3  purple, sea green, salmon
first_dof         40  horizontal axis of the finger, 0..39
second_dof        40  vertical axis, 0..39
================ ==== ==========================================================

The earlier challenge release (N = 460,800) had 4 colours and 4 shapes; disentanglement_lib
still declares those sizes, which on the final files points at the wrong images.  pyrodis reads
the release from the row count (both are accepted) and refuses any other count.  Factor values
are the class indices; ``docs/data.rst`` has the names.

The 12.7 GB of images are never loaded: the member is memory-mapped in place
(:func:`~pyrodis.data.npz_mmap.map_npz_member`), or, for a compressed archive, streamed once into
a ``.npy`` in the cache and mapped from there.  A batch reads only its own rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pyrodis.data import official_files as files
from pyrodis.data.base import GroundTruthDataset
from pyrodis.data.data_home import resolve_path
from pyrodis.data.npz_mmap import map_npz_member, npz_member_info, npz_member_to_cache

__all__ = ["MPI3D", "MPI3D_MD5", "RELEASES", "VARIANTS"]

IMAGE_SIZE = 64
VARIANTS = ("toy", "realistic", "real")
FACTOR_NAMES = (
    "object_color",
    "object_shape",
    "object_size",
    "camera_height",
    "background_color",
    "first_dof",
    "second_dof",
)
#: rows of each official release → its factor sizes
RELEASES = {1_036_800: (6, 6, 2, 3, 3, 40, 40), 460_800: (4, 4, 2, 3, 3, 40, 40)}
SOURCE = (
    "https://github.com/rr-learning/disentanglement_dataset (file "
    "https://storage.googleapis.com/disentanglement_dataset/Final_Dataset/mpi3d_{variant}.npz)"
)
#: md5 of the final release's files as recorded by the disent library (the authors publish none)
MPI3D_MD5 = {
    "toy": "55889cb7c7dfc655d6e0277beee88868",
    "realistic": "59a6225b88b635365f70c91b3e52f70f",
    "real": "0f33f609918fb5c97996692f91129802",
}


class MPI3D(GroundTruthDataset):
    """MPI3D: 3×64×64 RGB images of one of three variants, memory-mapped.

    Args:
        path: the ``mpi3d_{variant}.npz`` file, or ``None`` for ``$PYRODIS_DATA/mpi3d_{variant}.npz``.
        variant: ``"toy"``, ``"realistic"`` or ``"real"``.
        verify: compare the file's md5 with :data:`MPI3D_MD5` (reads 12.7 GB; off by default).
        cache_dir: where a compressed archive is converted once (``docs/data.rst``).
        factor_sizes: only for files that are not an official release (tests, subsets): the
            grid the rows form.  By default the row count must be an official release's.
    """

    factor_names = FACTOR_NAMES
    observation_shape = (3, IMAGE_SIZE, IMAGE_SIZE)

    def __init__(
        self,
        path: str | Path | None = None,
        variant: str = "toy",
        verify: bool = False,
        cache_dir: str | Path | None = None,
        factor_sizes: Sequence[int] | None = None,
    ):
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        self.variant = variant
        name = f"mpi3d_{variant}.npz"
        self.path = resolve_path(path, name, f"MPI3D {variant}", SOURCE.format(variant=variant))
        expected = (None, IMAGE_SIZE, IMAGE_SIZE, 3)
        info, shape = npz_member_info(self.path, "images", expected)
        self.factor_sizes = self._grid(shape[0], factor_sizes)
        self.factor_values = tuple(np.arange(s, dtype=np.float64) for s in self.factor_sizes)
        if verify:
            files.check_md5(self.path, MPI3D_MD5[variant], True, True)
        if info.compress_type == 0:
            self._images = map_npz_member(self.path, "images", expected)
        else:
            self._images = npz_member_to_cache(self.path, "images", expected, cache_dir)

    def _grid(self, rows: int, factor_sizes: Sequence[int] | None) -> tuple[int, ...]:
        if factor_sizes is not None:
            sizes = tuple(int(s) for s in factor_sizes)
            if len(sizes) != 7 or np.prod(sizes) != rows:
                raise files.DatasetFileError(
                    f"{self.path}: {rows} images do not form the grid factor_sizes={sizes} of "
                    f"the 7 factors {FACTOR_NAMES}"
                )
            return sizes
        if rows not in RELEASES:
            raise files.DatasetFileError(
                f"{self.path}: 'images' has {rows} rows; the official MPI3D releases have "
                f"{' or '.join(f'{r:,}' for r in RELEASES)}. The file is truncated or is not "
                f"MPI3D: download it again from {SOURCE.format(variant=self.variant)}"
            )
        return RELEASES[rows]

    def observations(self, factors: np.ndarray | Sequence) -> torch.Tensor:
        """Images of factor classes (n, 7): float32 tensor (n, 3, 64, 64) in [0, 1]."""
        rows = self.validate_factors(factors) @ self.factor_bases
        pixels = np.asarray(self._images[rows])  # reads only these rows of the map
        return torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255.0)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}; {self.variant}; {self.path})"
