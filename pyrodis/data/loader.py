"""Training loader for ground-truth datasets: whole batches rendered at once, seeded epochs.

``make_loader`` is the torch.utils.data-style entry point.  Unlike a ``DataLoader`` with a
collate function, each batch is produced by one call of ``dataset.observations`` on the batch's
factor classes, so a procedural dataset renders a batch in a single vectorised pass.

The batches follow the one batch rule of :mod:`pyrodis.data.batches` (``docs/data.rst``): epoch
``e`` is steps ``e·len(loader)`` to ``(e+1)·len(loader) − 1``, so the loader and
:func:`pyrodis.training.fit` draw identical batches for the same dataset and seed, also for
datasets that sample their batches (:class:`~pyrodis.data.correlated.CorrelatedFactors`).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from pyrodis.data.base import GroundTruthDataset
from pyrodis.data.batches import BatchRule
from pyrodis.data.sources import GroundTruthSource

Batch = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]


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
        if not hasattr(dataset, "draw_batch") and not (
            hasattr(dataset, "observations") and hasattr(dataset, "factors")
        ):
            raise TypeError(
                "make_loader needs a ground-truth dataset with observations() and factors(), "
                f"got {type(dataset).__name__}; wrap your data in a GroundTruthDataset subclass "
                "(or train on it directly: pyrodis.training.fit takes tensors and DataLoaders)"
            )
        self.dataset = dataset
        self.source = GroundTruthSource(dataset)
        self.rule = BatchRule(self.source, batch_size, seed, shuffle, drop_last)
        self.batch_size, self.shuffle = self.rule.batch_size, self.rule.shuffle
        self.seed, self.drop_last = self.rule.seed, self.rule.drop_last
        self.epoch = 0

    def __len__(self) -> int:
        return self.rule.steps_per_epoch

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch that the next iteration runs (its order depends on (seed, epoch))."""
        if int(epoch) != epoch or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[Batch]:
        epoch, self.epoch = self.epoch, self.epoch + 1
        for step in range(epoch * len(self), (epoch + 1) * len(self)):
            x, indices = self.rule.batch(step)
            factors = self.source.factors(indices.numpy())
            yield x, None if factors is None else torch.from_numpy(factors), indices

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
        seed: seed of the batches (the batch rule of :mod:`pyrodis.data.batches`).
        drop_last: drop the last partial batch (the MSS/MWS TC estimators need full batches).

    Returns:
        A loader whose iteration yields ``(images float32 (B,C,H,W), factors int64 (B,K),
        indices int64 (B,))`` and whose ``len`` is the number of batches per epoch.
    """
    return GroundTruthLoader(dataset, batch_size, shuffle, seed, drop_last)
