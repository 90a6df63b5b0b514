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

    # ------------------------------------------------------------------- index hooks (metrics)
    #: which factors are continuous (discretised into classes); a grid has none
    @property
    def continuous_factors(self) -> tuple[bool, ...]:
        return (False,) * self.num_factors

    def sample_indices(self, n: int, rng: RngLike = None) -> np.ndarray:
        """Indices (n,) of ``n`` points drawn uniformly: the grid draws factor vectors first, so the
        random numbers are those of :meth:`sample_factors`."""
        return self.index(self.sample_factors(n, rng))

    @property
    def grid_index_hooks(self) -> bool:
        """Whether the index hooks are the grid's own (not overridden): indices are drawn as factor
        vectors and a point sharing factor k is the point with k overwritten. The BetaVAE and
        FactorVAE scores then draw their batches in one pass (``docs/metrics.rst``)."""
        hooks = ("sample_indices", "indices_sharing", "factors", "index")
        return all(getattr(type(self), h) is getattr(GroundTruthDataset, h) for h in hooks)

    def observations_at(self, indices: np.ndarray | Sequence) -> torch.Tensor:
        """Observations of the points at ``indices`` (n,)."""
        return self.observations(self.factors(indices))

    def indices_sharing(
        self, indices: np.ndarray, k: int, values: np.ndarray, rng: RngLike = None
    ) -> np.ndarray:
        """For each point, a point whose factor ``k`` has class ``values[i]`` and whose other
        factors are drawn as the dataset draws them: on a grid, point i with factor k replaced
        (no random numbers are used)."""
        factors = self.factors(indices)
        factors[:, k] = values
        return self.index(factors)

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

    @staticmethod
    def from_arrays(
        observations: torch.Tensor | np.ndarray,
        factors: np.ndarray,
        factor_names: Sequence[str] | None = None,
        num_bins: int = 20,
    ) -> ArrayGroundTruth:
        """A ground-truth dataset of your own: observations (N, ...) and their factors (N, K).

        A factor column of integers (or of floats that are all whole numbers) is discrete: its
        distinct values are its classes. Any other column is continuous and is discretised into
        ``num_bins`` equal-width bins over its range, as the metric protocols discretise
        (``docs/metrics.rst``). Every metric runs on such a dataset; the BetaVAE and FactorVAE
        scores need discrete factors (they hold one factor's value fixed) and say so.
        """
        return ArrayGroundTruth(observations, factors, factor_names, num_bins)


def _classes(column: np.ndarray, num_bins: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Classes (N,), the value of each class, and whether the column is continuous."""
    if np.issubdtype(column.dtype, np.integer) or np.issubdtype(column.dtype, np.bool_):
        values, classes = np.unique(column, return_inverse=True)
        return classes.astype(np.int64), values.astype(np.float64), False
    if not np.all(np.isfinite(column)):
        raise ValueError("factor values must be finite; drop or impute the rows with NaN or inf")
    if np.all(np.mod(column, 1) == 0):
        values, classes = np.unique(column, return_inverse=True)
        return classes.astype(np.int64), values, False
    edges = np.histogram_bin_edges(column, bins=num_bins)
    classes = np.clip(np.digitize(column, edges[1:-1]), 0, num_bins - 1).astype(np.int64)
    return classes, (edges[:-1] + edges[1:]) / 2.0, True


class ArrayGroundTruth(GroundTruthDataset):
    """Observations and factors given as arrays (see :meth:`GroundTruthDataset.from_arrays`).

    Rows are not a grid of factor combinations: points are addressed by row index
    (:meth:`observations_at`, :meth:`factors`), and :meth:`indices_sharing` draws, among the rows
    whose factor k has the wanted class, one uniformly.
    """

    def __init__(self, observations, factors, factor_names=None, num_bins: int = 20) -> None:
        obs = torch.as_tensor(observations)
        if not obs.is_floating_point():
            obs = obs.float()
        fac = np.asarray(factors)
        if fac.ndim == 1:
            fac = fac[:, None]
        if fac.ndim != 2 or fac.shape[0] != obs.shape[0] or obs.shape[0] < 2:
            raise ValueError(
                f"observations (N, ...) and factors (N, K) need the same N >= 2 rows, got "
                f"{tuple(obs.shape)} and {fac.shape}"
            )
        names = (
            [f"factor{k}" for k in range(fac.shape[1])] if factor_names is None else factor_names
        )
        if len(names) != fac.shape[1]:
            raise ValueError(f"factor_names has {len(names)} names for {fac.shape[1]} factors")
        columns = [_classes(fac[:, k], int(num_bins)) for k in range(fac.shape[1])]
        self._observations = obs
        self._classes = np.stack([c[0] for c in columns], 1)
        self.factor_names = tuple(str(n) for n in names)
        self.factor_values = tuple(c[1] for c in columns)
        self.factor_sizes = tuple(len(c[1]) for c in columns)
        self._continuous = tuple(c[2] for c in columns)
        self.observation_shape = tuple(obs.shape[1:])
        self._by_class = [np.argsort(self._classes[:, k], kind="stable") for k in range(len(names))]

    def __len__(self) -> int:
        return int(self._observations.shape[0])

    @property
    def continuous_factors(self) -> tuple[bool, ...]:
        return self._continuous

    def factors(self, index) -> np.ndarray:
        idx = np.atleast_1d(np.asarray(index, dtype=np.int64))
        if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise IndexError(f"index out of range for a dataset of {len(self)} observations")
        return self._classes[idx].copy()

    def index(self, factors) -> np.ndarray:
        raise TypeError(
            "the rows of an array dataset are not a grid of factor combinations: address points "
            "by row (observations_at(indices), factors(indices), sample_indices(n, rng))"
        )

    def observations(self, factors) -> torch.Tensor:
        return self.index(factors)  # raises: factor vectors do not name rows here

    def observations_at(self, indices) -> torch.Tensor:
        return self._observations[torch.as_tensor(np.asarray(indices, dtype=np.int64))]

    def sample_indices(self, n: int, rng: RngLike = None) -> np.ndarray:
        return as_generator(rng).integers(0, len(self), size=int(n), dtype=np.int64)

    def sample_factors(self, n: int, rng: RngLike = None) -> np.ndarray:
        return self._classes[self.sample_indices(n, rng)]

    def indices_sharing(self, indices, k, values, rng: RngLike = None) -> np.ndarray:
        order = self._by_class[k]
        column = self._classes[order, k]
        values = np.broadcast_to(np.asarray(values, dtype=np.int64), (len(indices),))
        start = np.searchsorted(column, values, side="left")
        count = np.searchsorted(column, values, side="right") - start
        if np.any(count == 0):
            raise ValueError(
                f"factor {self.factor_names[k]!r} has no row of class {values[count == 0][0]}"
            )
        return order[start + (as_generator(rng).random(len(values)) * count).astype(np.int64)]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._observations[int(i)], torch.from_numpy(self._classes[int(i)])

    def __getitems__(self, indices):
        return [self[i] for i in indices]
