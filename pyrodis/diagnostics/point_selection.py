"""The points a diagnostic uses, read through the one observation source of ``pyrodis.data``.

Any data :func:`pyrodis.data.as_source` takes will do: a ground-truth dataset (factor labels
kept), a tensor or array (its dtype kept, so a float64 guide gets float64), a map-style dataset,
or a ``DataLoader``/iterable of ``x`` or ``(x, indices)`` batches, which is read once into memory
(up to the points asked for) since it has no random access.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pyrodis.data import ObservationSource, TensorSource, as_source

__all__ = ["PointSelection", "select_points"]


@dataclass
class PointSelection:
    """The points a diagnostic uses: indices into the source and, when known, their factors."""

    source: ObservationSource
    indices: np.ndarray  # (M,) int64 indices into the source
    factors: np.ndarray | None  # (M, K) int64 factor classes, or None when unknown
    factor_names: tuple[str, ...] | None
    source_size: int  # N, the size of the whole source

    def observations(self, part: slice | np.ndarray) -> torch.Tensor:
        """The observations of the selected points ``part`` (a slice of the selection)."""
        return self.source.observations(self.indices[part])


def _materialise(source: Any, num_points: int | None) -> TensorSource:
    batches, count = [], 0
    for x, _ in source.batches():
        batches.append(x)
        count += len(x)
        if num_points is not None and count >= num_points:
            break
    if not batches:
        raise ValueError("the iterable of batches is empty: nothing to encode")
    return TensorSource(torch.cat(batches))


def select_points(data: Any, num_points: int | None = None, seed: int = 0) -> PointSelection:
    """Choose ``num_points`` distinct points uniformly (sorted), or all points when None."""
    source = as_source(data)
    if not source.indexable:
        source = _materialise(source, num_points)
    indices = source.select(num_points, seed)
    factors = source.factors(indices)
    names = source.factor_names if factors is not None else None
    return PointSelection(source, indices, factors, names, int(source.num_data))
