"""SmallNORB (LeCun, Huang & Bottou 2004): toys photographed under varied pose and lighting.

The six NYU binary matrix files (:mod:`pyrodis.data.norb_files`) of both splits, concatenated
(2 × 24,300 stereo pairs; the left image of each pair is used, as the reference does)::

    smallnorb-5x46789x9x18x6x2x96x96-training-{dat,cat,info}.mat
    smallnorb-5x01235x9x18x6x2x96x96-testing-{dat,cat,info}.mat

``dat`` (N, 2, 96, 96) uint8, ``cat`` (N,) int32 category, ``info`` (N, 4) int32: instance,
elevation, azimuth (0, 2, ..., 34: halved here), lighting.  Factors (row-major, lighting fastest):

=========== ==== ==============================================
category      5  animal, human, airplane, truck, car
elevation     9  30° to 70° in steps of 5°
azimuth      18  0° to 340° in steps of 20°
lighting      6  lighting conditions 0..5
=========== ==== ==============================================

The toy instance (10 per category, 5 in each split) is not a factor: each observation draws it
at random (the nuisance rule of :mod:`pyrodis.data.nuisance`: from ``rng`` when given, else from
``default_rng([seed, index])``).  The grid has 4,860 points, each with 10 photographs.

Images are resized to 64×64 with Lanczos antialiasing once, cached as uint8 (``docs/data.rst``,
the cache) and memory-mapped; observations are float32 (n, 1, 64, 64) in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pyrodis.data.base import GroundTruthDataset
from pyrodis.data.data_home import cached_array, missing_file_error, resolve_path
from pyrodis.data.image_resize import resize_images
from pyrodis.data.norb_files import read_norb
from pyrodis.data.nuisance import check_seed, draw_nuisance
from pyrodis.data.official_files import DatasetFileError
from pyrodis.seeding import RngLike, as_generator

__all__ = ["SmallNORB", "SPLITS", "instance_table"]

SPLITS = (
    "smallnorb-5x46789x9x18x6x2x96x96-training",
    "smallnorb-5x01235x9x18x6x2x96x96-testing",
)
SOURCE = "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/ (gunzip the six .mat.gz files)"
FACTOR_NAMES = ("category", "elevation", "azimuth", "lighting")
FACTOR_SIZES = (5, 9, 18, 6)
INSTANCES = 10
ROWS_PER_SPLIT = 24300
IMAGE_SIZE = 64


def instance_table(path: Path, labels: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Row of each (category, elevation, azimuth, lighting, instance slot): int64 (*sizes, m).

    ``labels`` (N, 5) holds category, instance, elevation, azimuth class, lighting per row; the
    instance slot is the instance's rank among its category's instances.  Raises unless every
    grid point has the same m instances, each photographed exactly once.
    """
    cat, inst, factors = labels[:, 0], labels[:, 1], labels[:, [0, 2, 3, 4]]
    bad = (factors < 0) | (factors >= np.asarray(sizes))
    if bad.any() or (inst < 0).any():
        row, col = np.argwhere(np.c_[bad, inst < 0])[0]
        raise DatasetFileError(
            f"{path}: row {row} has {(*FACTOR_NAMES, 'instance')[col]} label out of range "
            f"(grid {dict(zip(FACTOR_NAMES, sizes))}); the files are not SmallNORB"
        )
    slots = np.zeros(len(labels), dtype=np.int64)
    counts = set()
    for c in range(sizes[0]):
        mine = cat == c
        uniq, slots[mine] = np.unique(inst[mine], return_inverse=True)
        counts.add(len(uniq))
    if len(counts) != 1:
        raise DatasetFileError(f"{path}: categories have different numbers of instances {counts}")
    m = counts.pop()
    table = np.full((*sizes, m), -1, dtype=np.int64)
    key = tuple(factors.T) + (slots,)
    table[key] = np.arange(len(labels))
    if (table < 0).any() or len(labels) != table.size:
        raise DatasetFileError(
            f"{path}: the labels are not the full grid {dict(zip(FACTOR_NAMES, sizes))} × {m} "
            f"instances photographed once each ({len(labels)} rows for {table.size} photographs)"
        )
    return table


class SmallNORB(GroundTruthDataset):
    """SmallNORB: 1×64×64 grey photographs; category, elevation, azimuth, lighting.

    Args:
        path: the directory holding the six files, or ``None`` for ``$PYRODIS_DATA/smallnorb``.
        seed: the seed of the fixed realisation of the instances (:mod:`pyrodis.data.nuisance`).
        cache_dir: where the 64×64 copy is cached (``docs/data.rst``).
        factor_sizes: only for files that are not the official release (tests): their grid.
            By default each split must have 24,300 rows on the grid (5, 9, 18, 6) × 10 instances.
    """

    factor_names = FACTOR_NAMES
    observation_shape = (1, IMAGE_SIZE, IMAGE_SIZE)

    def __init__(
        self,
        path: str | Path | None = None,
        seed: int = 0,
        cache_dir: str | Path | None = None,
        factor_sizes: Sequence[int] | None = None,
    ):
        self.seed = check_seed(seed)
        self.path = resolve_path(path, "smallnorb", "SmallNORB", SOURCE, is_dir=True)
        official = factor_sizes is None
        self.factor_sizes = FACTOR_SIZES if official else tuple(int(s) for s in factor_sizes)
        sources = [self.path / f"{s}-{p}.mat" for s in SPLITS for p in ("dat", "cat", "info")]
        for src in sources:
            if not src.is_file():
                raise missing_file_error("SmallNORB", src.name, SOURCE, src)
        labels, dats = zip(
            *(self._read_split(sources[3 * i : 3 * i + 3], official) for i in (0, 1))
        )
        self._table = instance_table(self.path, np.concatenate(labels), self.factor_sizes)
        self.num_instances = self._table.shape[-1]
        if official and self.num_instances != INSTANCES:
            raise DatasetFileError(f"{self.path}: {self.num_instances} instances, expected 10")
        self.factor_values = (
            np.arange(self.factor_sizes[0], dtype=np.float64),
            30.0 + 5.0 * np.arange(self.factor_sizes[1]),
            20.0 * np.arange(self.factor_sizes[2]),
            np.arange(self.factor_sizes[3], dtype=np.float64),
        )
        total = sum(len(d) for d in dats)
        lefts = (image for dat in dats for image in _left_images(dat))
        self._images = cached_array(
            "smallnorb64", sources, "lanczos64-v1", lambda: resize_images(lefts, total), cache_dir
        )

    @staticmethod
    def _read_split(paths: Sequence[Path], official: bool) -> tuple[np.ndarray, np.ndarray]:
        rows = ROWS_PER_SPLIT if official else None
        dat = read_norb(paths[0], np.uint8, (rows, 2, 96, 96))
        cat = read_norb(paths[1], np.int32, (len(dat),))
        info = read_norb(paths[2], np.int32, (len(dat), 4))
        info = np.asarray(info, dtype=np.int64)
        if (info[:, 2] % 2).any():
            row = int(np.flatnonzero(info[:, 2] % 2)[0])
            raise DatasetFileError(
                f"{paths[2]}: azimuth {info[row, 2]} in row {row} is odd; SmallNORB azimuths are "
                "0, 2, ..., 34"
            )
        labels = np.c_[cat, info[:, 0], info[:, 1], info[:, 2] // 2, info[:, 3]]
        return labels.astype(np.int64), dat

    def observations(self, factors: np.ndarray | Sequence, rng: RngLike = None) -> torch.Tensor:
        """Photographs of factor classes (n, 4), a random instance each: float32 (n, 1, 64, 64).

        ``rng`` draws the instances; ``None`` uses the fixed realisation.
        """
        arr = self.validate_factors(factors)
        draw = lambda gen, n: {"instance": gen.integers(0, self.num_instances, size=n)}  # noqa: E731
        instance = draw_nuisance(draw, arr @ self.factor_bases, self.seed, rng)["instance"]
        rows = self._table[tuple(arr.T) + (instance,)]
        return torch.from_numpy(np.asarray(self._images[rows])).unsqueeze(1).float().div_(255.0)

    def sample(self, n: int, rng: RngLike = None) -> tuple[np.ndarray, torch.Tensor]:
        """``n`` factor vectors and their photographs, factors and instances drawn from ``rng``."""
        gen = as_generator(rng)
        factors = self.sample_factors(n, gen)
        return factors, self.observations(factors, rng=gen)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}; {self.num_instances} instances; {self.path})"


def _left_images(dat: np.memmap, chunk: int = 1024):
    """The left images of a checked ``dat`` map, read in chunks with ordinary file reads: the
    map itself is never touched, so the pages read do not stay resident in this process."""
    with open(dat.filename, "rb") as fh:
        for start in range(0, len(dat), chunk):
            rows = min(chunk, len(dat) - start)
            fh.seek(dat.offset + start * dat[0].nbytes)
            block = np.frombuffer(fh.read(rows * dat[0].nbytes), dtype=np.uint8)
            yield from block.reshape(rows, *dat.shape[1:])[:, 0]
