"""Training loader for ground-truth datasets: whole batches rendered at once, seeded epochs.

``make_loader`` is the torch.utils.data-style entry point.  Unlike a ``DataLoader`` with a
collate function, each batch is produced by one call of ``dataset.observations`` on the batch's
factor classes, so a procedural dataset renders a batch in a single vectorised pass.

Epoch ``e`` uses the permutation drawn from ``numpy.random.default_rng([seed, e])``: the order of
any epoch is reproducible on its own, whatever was iterated before.  Datasets that define
``draw_indices(n, rng)`` (e.g. :class:`~pyrodis.data.correlated.CorrelatedFactors`) are sampled
instead of permuted: each epoch draws ``len(dataset)`` indices from the dataset's own training
distribution with that same generator.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from pyrodis.data.base import GroundTruthDataset

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def epoch_permutation(num_items: int, seed: int, epoch: int) -> np.ndarray:
    """The visiting order of epoch ``epoch``: ``default_rng([seed, epoch]).permutation``, int64.

    The one rule behind every seeded epoch in pyrodis (this loader and the trainer's batches),
    so any epoch's order is reproducible on its own.
    """
    return np.random.default_rng([int(seed), int(epoch)]).permutation(num_items).astype(np.int64)


class GroundTruthLoader:
    """Re-iterable batches ``(images (B,C,H,W) float32, factors (B,K) int64, indices (B,) int64)``.

    Each ``for`` loop over the loader is one epoch; the epoch counter starts at 0 and advances
    after every loop, and :meth:`set_epoch` selects the epoch the next loop runs.
    """

    def __init__(
        self,
        dataset: GroundTruthDataset,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = True,
    ):
        if not hasattr(dataset, "observations") or not hasattr(dataset, "factors"):
            raise TypeError(
                "make_loader needs a ground-truth dataset with observations() and factors(), "
                f"got {type(dataset).__name__}; wrap your data in a GroundTruthDataset subclass"
            )
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size > len(dataset) and drop_last:
            raise ValueError(
                f"batch_size {batch_size} exceeds the dataset's {len(dataset)} observations, so "
                "drop_last=True leaves no batch; use a smaller batch_size or drop_last=False"
            )
        self.sampled = hasattr(dataset, "draw_indices")
        if self.sampled and not shuffle:
            raise ValueError(
                f"{type(dataset).__name__} draws training batches from its own distribution, "
                "so there is no unshuffled order; use shuffle=True (batches are seeded by `seed`)"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch that the next iteration runs (its order depends on (seed, epoch))."""
        if int(epoch) != epoch or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        self.epoch = int(epoch)

    def epoch_indices(self, epoch: int) -> np.ndarray:
        """The dataset indices of epoch ``epoch`` in order, int64 (len(dataset),)."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n, dtype=np.int64)
        if self.sampled:
            rng = np.random.default_rng([self.seed, int(epoch)])
            return np.asarray(self.dataset.draw_indices(n, rng), dtype=np.int64)
        return epoch_permutation(n, self.seed, epoch)

    def batch(self, indices: np.ndarray) -> Batch:
        """The batch of the given dataset indices."""
        indices = np.asarray(indices, dtype=np.int64)
        factors = self.dataset.factors(indices)
        images = self.dataset.observations(factors)
        return images, torch.from_numpy(factors), torch.from_numpy(indices)

    def __iter__(self) -> Iterator[Batch]:
        order = self.epoch_indices(self.epoch)
        self.epoch += 1
        for i in range(len(self)):
            yield self.batch(order[i * self.batch_size : (i + 1) * self.batch_size])

    def __repr__(self) -> str:
        return (
            f"GroundTruthLoader({self.dataset!r}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last}, "
            f"epoch={self.epoch})"
        )


def make_loader(
    dataset: GroundTruthDataset,
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int = 0,
    drop_last: bool = True,
) -> GroundTruthLoader:
    """A seeded, re-iterable training loader over ``dataset`` (see :class:`GroundTruthLoader`).

    Args:
        dataset: any :class:`~pyrodis.data.base.GroundTruthDataset`.
        batch_size: observations per batch (B).
        shuffle: permute the dataset each epoch (``False``: index order).
        seed: seed of every epoch's permutation (epoch ``e`` uses ``default_rng([seed, e])``).
        drop_last: drop the last partial batch (the MSS/MWS TC estimators need full batches).

    Returns:
        A loader whose iteration yields ``(images float32 (B,C,H,W), factors int64 (B,K),
        indices int64 (B,))`` and whose ``len`` is the number of batches per epoch.
    """
    return GroundTruthLoader(dataset, batch_size, shuffle, seed, drop_last)
