"""The ground-truth dataset interface shared by every dataset with known generative factors.

A ground-truth dataset is the full grid of factor combinations, one observation per combination,
laid out row-major over the factors in the order of ``factor_names`` (the last factor varies
fastest), exactly as the official dSprites and 3D Shapes files are.  Subclasses implement
:meth:`GroundTruthDataset.observations`; everything else (index arithmetic, sampling, item access,
loaders) is derived here from ``factor_sizes``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from pyrodis.seeding import RngLike, as_generator


class GroundTruthDataset(Dataset):
    """Base class of datasets whose observations are a deterministic function of known factors.

    Subclasses set ``factor_names`` (K names), ``factor_sizes`` (K ints),
    ``factor_values`` (K arrays, the physical value of each class) and ``observation_shape``
    ``(C, H, W)``, and implement :meth:`observations`.

    Indexing follows the official files: ``index = factors · bases`` with
    ``bases[k] = prod(factor_sizes[k+1:])``.
    """

    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]
    factor_values: tuple[np.ndarray, ...]
    observation_shape: tuple[int, int, int]

    # ----------------------------------------------------------------------------- grid arithmetic
    @property
    def num_factors(self) -> int:
        return len(self.factor_sizes)

    @property
    def factor_bases(self) -> np.ndarray:
        """Row-major strides of the factor grid, shape (K,), int64."""
        sizes = np.asarray(self.factor_sizes, dtype=np.int64)
        return np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]]).astype(np.int64)

    def __len__(self) -> int:
        return int(np.prod(self.factor_sizes, dtype=np.int64))

    def validate_factors(self, factors: np.ndarray | Sequence) -> np.ndarray:
        """Return ``factors`` as an int64 array (n, K), raising a clear error if out of the grid."""
        arr = np.asarray(factors)
        if arr.ndim == 1 and arr.shape[0] == self.num_factors:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.num_factors:
            raise ValueError(
                f"factors must have shape (n, {self.num_factors}) for factors {self.factor_names}, "
                f"got {arr.shape}"
            )
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            if not np.all(np.equal(np.mod(arr, 1), 0)):
                raise ValueError("factors are class indices and must be integers, got fractions")
        arr = arr.astype(np.int64, copy=False)
        sizes = np.asarray(self.factor_sizes)
        bad = (arr < 0) | (arr >= sizes)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"factor {self.factor_names[col]!r} has {sizes[col]} classes "
                f"(0..{sizes[col] - 1}), got {arr[row, col]} in row {row}"
            )
        return arr

    def index(self, factors: np.ndarray | Sequence) -> np.ndarray:
        """Flat dataset index of each row of factor classes, shape (n,), int64."""
        return self.validate_factors(factors) @ self.factor_bases

    def factors(self, index: np.ndarray | Sequence | int) -> np.ndarray:
        """Factor classes (n, K) int64 of flat dataset indices (inverse of :meth:`index`)."""
        idx = np.atleast_1d(np.asarray(index, dtype=np.int64))
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"index out of range for a dataset of {len(self)} observations")
        return (idx[:, None] // self.factor_bases) % np.asarray(self.factor_sizes, dtype=np.int64)

    def factor_physical_values(self, factors: np.ndarray) -> np.ndarray:
        """Physical value of each factor class, shape (n, K), float64."""
        arr = self.validate_factors(factors)
        return np.stack([self.factor_values[k][arr[:, k]] for k in range(self.num_factors)], 1)

    # ------------------------------------------------------------------------------------ sampling
    def sample_factors(self, n: int, rng: RngLike = None) -> np.ndarray:
        """Draw ``n`` factor vectors uniformly and independently from the grid, (n, K) int64."""
        gen = as_generator(rng)
        return np.stack(
            [gen.integers(0, size, size=n, dtype=np.int64) for size in self.factor_sizes], axis=1
        ).reshape(n, self.num_factors)

    def observations(self, factors: np.ndarray | Sequence) -> torch.Tensor:
        """Observations of factor classes (n, K): float32 tensor (n, C, H, W) in [0, 1]."""
        raise NotImplementedError

    def sample(self, n: int, rng: RngLike = None) -> tuple[np.ndarray, torch.Tensor]:
        """Sample ``n`` factor vectors and their observations."""
        factors = self.sample_factors(n, rng)
        return factors, self.observations(factors)

    # --------------------------------------------------------------------------------- item access
    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -len(self) <= int(i) < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} observations")
        factors = self.factors(int(i) % len(self))
        return self.observations(factors)[0], torch.from_numpy(factors[0])

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Batched item access (used by DataLoader): renders the whole batch at once."""
        factors = self.factors(np.asarray(indices, dtype=np.int64))
        images = self.observations(factors)
        fac = torch.from_numpy(factors)
        return [(images[j], fac[j]) for j in range(len(indices))]

    def __repr__(self) -> str:
        grid = ", ".join(f"{n}={s}" for n, s in zip(self.factor_names, self.factor_sizes))
        return f"{type(self).__name__}({grid}; {len(self)} observations)"
