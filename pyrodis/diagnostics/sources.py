"""Reading observations (and factor labels when known) from the datasets diagnostics accept.

Three kinds of source are accepted:

* a :class:`~pyrodis.data.base.GroundTruthDataset`: points are dataset indices, observations are
  rendered through ``observations(factors(index))`` and the factor classes are known;
* a :class:`torch.Tensor` of observations (N, ...): points index its first axis;
* any map-style :class:`torch.utils.data.Dataset` with ``__len__`` whose items are an observation
  or a tuple whose first element is the observation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pyrodis.data.base import GroundTruthDataset


@dataclass
class PointSelection:
    """The points a diagnostic uses: dataset indices and, for ground-truth data, their factors."""

    indices: np.ndarray  # (M,) int64 indices into the source
    factors: np.ndarray | None  # (M, K) int64 factor classes, or None when unknown
    factor_names: tuple[str, ...] | None
    source_size: int  # N, the size of the whole source


def source_size(source: Any) -> int:
    """Number of observations in ``source`` (raising a clear error for unsupported objects)."""
    if isinstance(source, torch.Tensor):
        if source.ndim < 2:
            raise ValueError(
                f"a tensor of observations must have shape (N, ...), got {tuple(source.shape)}"
            )
        return int(source.shape[0])
    if hasattr(source, "__len__") and hasattr(source, "__getitem__"):
        return len(source)
    raise TypeError(
        f"dataset must be a GroundTruthDataset, a torch.Tensor of observations or a map-style "
        f"torch Dataset, got {type(source).__name__}"
    )


def select_points(source: Any, num_points: int | None = None, seed: int = 0) -> PointSelection:
    """Choose ``num_points`` distinct points uniformly (sorted), or all points when None."""
    size = source_size(source)
    if num_points is None or num_points >= size:
        indices = np.arange(size, dtype=np.int64)
    else:
        if num_points < 2:
            raise ValueError(f"num_points must be at least 2 (or None for all), got {num_points}")
        rng = np.random.default_rng(seed)
        indices = np.sort(rng.choice(size, size=int(num_points), replace=False)).astype(np.int64)
    if isinstance(source, GroundTruthDataset):
        factors = source.factors(indices)
        names = tuple(source.factor_names)
    else:
        factors, names = None, None
    return PointSelection(indices, factors, names, size)


def load_observations(
    source: Any, indices: np.ndarray, factors: np.ndarray | None = None
) -> torch.Tensor:
    """Observations of the given points as a float32 tensor (B, ...)."""
    if isinstance(source, GroundTruthDataset):
        return source.observations(source.factors(indices) if factors is None else factors)
    if isinstance(source, torch.Tensor):
        return source[torch.as_tensor(indices)].to(torch.float32)
    if hasattr(source, "__getitems__"):
        items = source.__getitems__([int(i) for i in indices])
    else:
        items = [source[int(i)] for i in indices]
    first = [item[0] if isinstance(item, (tuple, list)) else item for item in items]
    return torch.stack([torch.as_tensor(x, dtype=torch.float32) for x in first])
