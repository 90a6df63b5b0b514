"""The one batch rule: which points the training batch of global step t holds.

Shared by :func:`~pyrodis.data.make_loader`, the trainer (:func:`pyrodis.training.fit`) and
anything else that needs seeded batches, so the same dataset and seed give the same batches
everywhere (``docs/data.rst``):

- a source visited by index: epoch ``e`` visits the N points in the order
  ``numpy.random.default_rng([seed, e]).permutation(N)`` (index order without shuffling), in
  batches of B; with ``drop_last`` the last partial batch is dropped (the minibatch TC estimators
  need full batches), so step ``t`` is batch ``t mod (N // B)`` of epoch ``t // (N // B)``;
- a source that samples its batches (correlated factors, image pairs): step ``t`` draws its B
  points with ``numpy.random.default_rng([seed, t])``.

Both are pure functions of the step: a run resumed at step t sees exactly the batches an
uninterrupted run would have seen, without replaying the others.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pyrodis.data.sources import ObservationSource

__all__ = ["BatchRule", "epoch_permutation"]


def epoch_permutation(num_items: int, seed: int, epoch: int) -> np.ndarray:
    """The visiting order of epoch ``epoch``: ``default_rng([seed, epoch]).permutation``, int64."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(num_items).astype(np.int64)


class BatchRule:
    """Seeded batches of an indexable or sampled :class:`ObservationSource` (module docstring).

    Args:
        source: the observations.
        batch_size: B.
        seed: the seed of every epoch's order (or of every step's draw).
        shuffle: permute each epoch (``False``: index order; not for sampled sources).
        drop_last: drop the last partial batch of an epoch.
    """

    def __init__(
        self,
        source: ObservationSource,
        batch_size: int,
        seed: int = 0,
        shuffle: bool = True,
        drop_last: bool = True,
    ) -> None:
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not source.indexable:
            raise TypeError("an iterable source yields its own batches; it has no batch rule")
        n = int(source.num_data)
        if batch_size > n and drop_last:
            raise ValueError(
                f"batch_size {batch_size} exceeds the {n} data points, so "
                "drop_last=True leaves no batch; use a smaller batch_size or drop_last=False"
            )
        if source.sampled and not shuffle:
            raise ValueError(
                "this dataset draws training batches from its own distribution, so there is no "
                "unshuffled order; use shuffle=True (batches are seeded by `seed`)"
            )
        self.source = source
        self.num_data = n
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._epoch: int | None = None
        self._order: np.ndarray | None = None

    @property
    def steps_per_epoch(self) -> int:
        n, b = self.num_data, self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def epoch_order(self, epoch: int) -> np.ndarray:
        """The indices of epoch ``epoch`` in visiting order (indexable sources), (N,) int64."""
        if epoch != self._epoch:
            if self.shuffle:
                self._order = epoch_permutation(self.num_data, self.seed, epoch)
            else:
                self._order = np.arange(self.num_data, dtype=np.int64)
            self._epoch = epoch
        return self._order

    def batch(self, step: int) -> tuple[Any, torch.Tensor]:
        """``(x, indices)`` of global step ``step``."""
        if self.source.sampled:
            return self.source.draw(self.batch_size, np.random.default_rng([self.seed, step]))
        epoch, pos = divmod(int(step), self.steps_per_epoch)
        idx = self.epoch_order(epoch)[pos * self.batch_size : (pos + 1) * self.batch_size]
        return self.source.observations(idx), torch.from_numpy(idx)
