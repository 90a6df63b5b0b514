"""One observation source for everything a user may hand pyrodis: :func:`as_source`.

The trainer, :func:`~pyrodis.data.make_loader` and the diagnostics read observations only through
an :class:`ObservationSource`, so they agree on what a data point is (``docs/data.rst``):

========================================  ===========================================================
``data``                                   source
========================================  ===========================================================
a ground-truth dataset                     :class:`GroundTruthSource`: points are dataset indices,
                                           observations rendered in whole batches, factors known
a dataset that samples its batches         the same, ``sampled``: ``draw_batch(n, rng)`` (image pairs)
                                           or ``draw_indices(n, rng)`` (correlated factors)
a ``torch.Tensor`` or ``numpy`` array      :class:`TensorSource`: points index the first axis; the
                                           dtype is kept (a float64 model gets float64)
a map-style ``torch.utils.data.Dataset``   :class:`MapSource`: items are an observation or a tuple
                                           whose first element is one
a ``DataLoader`` or any other iterable     :class:`IterableSource`: batches ``x`` or ``(x, indices)``
                                           taken as they come (no random access)
========================================  ===========================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch

__all__ = [
    "GroundTruthSource",
    "IterableSource",
    "MapSource",
    "ObservationSource",
    "TensorSource",
    "as_source",
]


class ObservationSource:
    """Read access to N observations by index.

    Attributes:
        num_data: N, or ``None`` for an iterable of unknown length.
        factor_names: names of the known factors, or ``None``.
        sampled: True when training batches are drawn from a distribution (:meth:`draw`)
            rather than visited by index.
    """

    num_data: int | None = None
    factor_names: tuple[str, ...] | None = None
    sampled = False
    indexable = True

    def observations(self, indices: np.ndarray) -> torch.Tensor:
        """The observations of the points ``indices`` (n,), a tensor (n, ...)."""
        raise NotImplementedError

    def factors(self, indices: np.ndarray) -> np.ndarray | None:
        """Factor classes (n, K) of the points, or ``None`` when the source has no labels."""
        return None

    def draw(self, n: int, rng: np.random.Generator) -> tuple[Any, torch.Tensor]:
        """A batch ``(x, indices)`` of ``n`` points drawn with ``rng`` (sampled sources only)."""
        raise TypeError(f"{type(self).__name__} is visited by index; it does not draw batches")

    def select(self, num_points: int | None, seed: int = 0) -> np.ndarray:
        """``num_points`` distinct indices drawn uniformly with ``seed`` (sorted), or all points."""
        size = int(self.num_data)
        if num_points is None or num_points >= size:
            return np.arange(size, dtype=np.int64)
        if num_points < 2:
            raise ValueError(f"num_points must be at least 2 (or None for all), got {num_points}")
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(size, size=int(num_points), replace=False)).astype(np.int64)


class GroundTruthSource(ObservationSource):
    """A ground-truth dataset (or a view that samples from a joint of its factors)."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.num_data = len(dataset)
        names = getattr(dataset, "factor_names", None)
        self.factor_names = None if names is None else tuple(names)
        self.sampled = hasattr(dataset, "draw_batch") or hasattr(dataset, "draw_indices")

    def observations(self, indices: np.ndarray) -> torch.Tensor:
        indices = np.asarray(indices, dtype=np.int64)
        at = getattr(self.dataset, "observations_at", None)
        if at is not None:
            return at(indices)
        return self.dataset.observations(self.dataset.factors(indices))

    def factors(self, indices: np.ndarray) -> np.ndarray | None:
        if not hasattr(self.dataset, "factors"):
            return None
        return self.dataset.factors(np.asarray(indices, dtype=np.int64))

    def draw(self, n: int, rng: np.random.Generator) -> tuple[Any, torch.Tensor]:
        if hasattr(self.dataset, "draw_batch"):
            return self.dataset.draw_batch(n, rng)
        if not hasattr(self.dataset, "draw_indices"):
            return super().draw(n, rng)
        indices = np.asarray(self.dataset.draw_indices(n, rng), dtype=np.int64)
        return self.observations(indices), torch.from_numpy(indices)


class TensorSource(ObservationSource):
    """A tensor (or array) whose first axis indexes the data points; its dtype is kept."""

    def __init__(self, tensor: torch.Tensor) -> None:
        if tensor.ndim < 1 or tensor.shape[0] < 1:
            raise ValueError(
                f"a tensor of observations must have shape (N, ...) with N >= 1, got "
                f"{tuple(tensor.shape)}"
            )
        self.tensor = tensor
        self.num_data = int(tensor.shape[0])

    def observations(self, indices: np.ndarray) -> torch.Tensor:
        index = torch.as_tensor(np.asarray(indices, dtype=np.int64), device=self.tensor.device)
        return self.tensor[index]


def _first(item: Any) -> torch.Tensor:
    x = item[0] if isinstance(item, (tuple, list)) else item
    return torch.as_tensor(x)


class MapSource(ObservationSource):
    """A map-style dataset: ``len`` and ``[i]`` → an observation or ``(observation, ...)``."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.num_data = len(dataset)

    def observations(self, indices: np.ndarray) -> torch.Tensor:
        idx = [int(i) for i in indices]
        many = getattr(self.dataset, "__getitems__", None)
        items = many(idx) if many is not None else [self.dataset[i] for i in idx]
        return torch.stack([_first(item) for item in items])


def split_batch(batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``x`` or ``(x, indices, ...)`` → (x, indices or None): a second element counts as the
    points' indices when it is a 1-D integer tensor with one entry per row of ``x``."""
    if isinstance(batch, (tuple, list)):
        x = torch.as_tensor(batch[0])
        if len(batch) > 1:
            idx = torch.as_tensor(batch[1])
            if idx.dim() == 1 and len(idx) == len(x) and not idx.is_floating_point():
                return x, idx.long()
        return x, None
    return torch.as_tensor(batch), None


_NO_RANDOM_ACCESS = (
    "an iterable of batches has no random access; pass the observations as a tensor instead "
    "(e.g. torch.cat([x for x, *_ in loader])) or the dataset the loader reads"
)


class IterableSource(ObservationSource):
    """Batches from a ``DataLoader`` or any re-iterable: each pass over it is one epoch."""

    indexable = False

    def __init__(self, iterable: Iterable) -> None:
        self.iterable = iterable
        try:
            self.num_data = len(iterable.dataset)  # a DataLoader knows its dataset's size
        except (AttributeError, TypeError):
            self.num_data = None

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """One pass over the iterable as ``(x, indices or None)`` batches."""
        for batch in self.iterable:
            yield split_batch(batch)

    def observations(self, indices: np.ndarray) -> torch.Tensor:
        raise TypeError(_NO_RANDOM_ACCESS)

    def select(self, num_points: int | None, seed: int = 0) -> np.ndarray:
        raise TypeError(_NO_RANDOM_ACCESS)


def as_source(data: Any) -> ObservationSource:
    """The :class:`ObservationSource` of ``data`` (see the module docstring for what is taken)."""
    if isinstance(data, ObservationSource):
        return data
    if isinstance(data, np.ndarray):
        data = torch.from_numpy(data)
    if isinstance(data, torch.Tensor):
        return TensorSource(data)
    if hasattr(data, "draw_batch") or (hasattr(data, "observations") and hasattr(data, "factors")):
        return GroundTruthSource(data)
    if isinstance(data, torch.utils.data.DataLoader):
        return IterableSource(data)
    if hasattr(data, "__len__") and hasattr(data, "__getitem__") and not isinstance(data, str):
        return MapSource(data)
    if isinstance(data, Iterable):
        return IterableSource(data)
    raise TypeError(
        f"cannot read observations from {type(data).__name__}; pass a ground-truth dataset, a "
        "tensor or array (N, ...), a map-style torch Dataset, or a DataLoader / iterable of "
        "x or (x, indices) batches"
    )
