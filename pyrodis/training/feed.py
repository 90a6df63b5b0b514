"""The batch of each training step, on the training device.

Indexable data (a ground-truth dataset, a tensor or array, a map-style dataset) follows the one
batch rule of :mod:`pyrodis.data.batches`: the batch of global step ``t`` is a pure function of
the data, the batch size, the seed and ``t``, so a resumed run draws exactly the batches an
uninterrupted one would. A ``DataLoader`` or another iterable of batches is read in order, a
finished pass starting the next epoch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from pyrodis.data.batches import BatchRule
from pyrodis.data.sources import as_source
from pyrodis.devices import resolve_device

__all__ = ["BatchFeed"]


class BatchFeed:
    """``(x, indices)`` per global step from anything :func:`pyrodis.data.as_source` takes.

    Args:
        data: a ground-truth dataset, a tensor or array, a map-style dataset, or a
            ``DataLoader`` / iterable of ``x`` or ``(x, indices)`` batches.
        batch_size: minibatch size B for indexable data (a DataLoader has its own).
        seed: seeds the batches of indexable data.
        device: move every batch there (``"cuda"``, ``"auto"``, ...); ``None`` leaves batches
            where the data made them. Batches of an iterable without indices get
            ``arange(len(x))``.
    """

    def __init__(
        self,
        data: Any,
        batch_size: int = 64,
        seed: int = 0,
        device: str | torch.device | None = None,
    ) -> None:
        self.source = as_source(data)
        self.rule = BatchRule(self.source, batch_size, seed) if self.source.indexable else None
        self.device = None if device is None else resolve_device(device)
        self._stream: Iterator | None = None

    def batch(self, step: int) -> tuple[Any, torch.Tensor]:
        """``(x, indices)`` of global step ``step`` on the device (iterables: the next batch they
        yield, whatever ``step`` is)."""
        return self._to_device(*self._host_batch(step))

    def first_batch(self) -> tuple[Any, torch.Tensor]:
        """A batch to create parameters with, leaving the iteration of an iterable alone."""
        if self.rule is not None:
            return self.batch(0)
        x, idx = next(iter(self.source.batches()))
        return self._to_device(x, torch.arange(len(x)) if idx is None else idx)

    @property
    def steps_per_epoch(self) -> int:
        if self.rule is not None:
            return self.rule.steps_per_epoch
        try:
            return len(self.source.iterable)
        except TypeError:
            raise ValueError("epochs= needs data of known length; pass steps= instead") from None

    def _to_device(self, x: Any, idx: torch.Tensor) -> tuple[Any, torch.Tensor]:
        if self.device is None:
            return x, idx
        pinned = self.device.type == "cuda" and not x.is_cuda
        x = (x.pin_memory() if pinned else x).to(self.device, non_blocking=pinned)
        return x, idx.to(self.device)

    def _host_batch(self, step: int) -> tuple[Any, torch.Tensor]:
        if self.rule is not None:
            return self.rule.batch(step)
        for _ in range(2):  # a finished pass starts the next epoch
            self._stream = self._stream or self.source.batches()
            for x, idx in self._stream:
                return x, torch.arange(len(x)) if idx is None else idx
            self._stream = None
        raise ValueError("the iterable of batches is empty (or not re-iterable); pass data")
