"""Pairs of observations that share all but k factors: the data of weak supervision.

Locatello et al. (2020, "Weakly-Supervised Disentanglement Without Compromises", ICML) train on
pairs ``(x1, x2)`` whose factors agree except for ``k`` of them; nobody says which.
:class:`PairedFactors` draws such pairs from any ground-truth dataset:

1. ``factors1`` from the dataset's own training distribution (``dataset.sample_factors``: the
   uniform grid, or the joint of a :class:`~pyrodis.data.correlated.CorrelatedFactors` view);
2. ``k`` distinct factors, uniformly among the factors that have more than one value;
3. each chosen factor of ``factors2`` moves to a value drawn uniformly among its OTHER values, so
   exactly ``k`` factors differ (the paper's generator may redraw the old value; it also draws from
   numpy's global generator; here every draw comes from the seeded one).

``k=None`` draws ``k`` uniformly in ``1..K−1`` for every pair, ``K`` the number of factors with
more than one value (the paper's "k random"; its generator instead tosses a coin between ``k = 1``
and a uniform ``k``). Protocol: ``docs/weak_supervision.rst``.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from pyrodis.data.base import GroundTruthDataset
from pyrodis.seeding import RngLike, as_generator

__all__ = ["PairedFactors"]


def _check_k(k: int | None, changeable: int) -> int | None:
    if k is None:
        if changeable < 2:
            raise ValueError(
                f"k=None needs at least two factors with more than one value to draw k in "
                f"1..K-1, the dataset has {changeable}; pass k=1"
            )
        return None
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"k is the integer number of factors that differ (or None), got {k!r}")
    if not 1 <= k <= changeable:
        raise ValueError(
            f"k must be between 1 and {changeable} (the number of factors with more than one "
            f"value), or None for k uniform in 1..{changeable - 1}; got k={k}"
        )
    return int(k)


class PairedFactors(GroundTruthDataset):
    """Pairs of observations of ``dataset`` whose factors differ in exactly ``k`` factors.

    Args:
        dataset: any ground-truth dataset (a correlated view included: ``factors1`` then follow
            its joint; ``factors2`` moves k factors uniformly and may leave the joint's support).
        k: number of factors that differ, in ``1..K`` with ``K`` the number of factors that have
            more than one value; ``None``: ``k`` uniform in ``1..K−1``, drawn per pair.

    The view keeps the single-image interface of ``dataset`` (``observations``, ``index``,
    ``factors``, ``__getitem__``, ``len`` — the data plate's size N), so evaluation treats it as
    the dataset. Training draws whole batches of pairs with :meth:`draw_batch`.

    Example:
        >>> pairs = PairedFactors(DSprites(), k=1)
        >>> x, indices = pairs.draw_batch(64, np.random.default_rng([seed, step]))
        >>> x.shape                           # (64, 2, 1, 64, 64)
    """

    def __init__(self, dataset: GroundTruthDataset, k: int | None = 1):
        if not hasattr(dataset, "observations") or not hasattr(dataset, "factor_sizes"):
            raise TypeError(
                "PairedFactors needs a ground-truth dataset (factor_sizes, observations), got "
                f"{type(dataset).__name__}; wrap your data in a GroundTruthDataset subclass"
            )
        self.dataset = dataset
        self.factor_names = tuple(dataset.factor_names)
        self.factor_sizes = tuple(int(s) for s in dataset.factor_sizes)
        self.factor_values = tuple(dataset.factor_values)
        self.observation_shape = tuple(dataset.observation_shape)
        #: positions of the factors that can change (more than one value), (K,) int64
        self.changeable = np.flatnonzero(np.asarray(self.factor_sizes) > 1).astype(np.int64)
        self.k = _check_k(k, len(self.changeable))

    def sample_factors(self, n: int, rng: RngLike = None) -> np.ndarray:
        """``n`` factor vectors from the wrapped dataset's training distribution."""
        return self.dataset.sample_factors(n, rng)

    def observations(self, factors) -> torch.Tensor:
        return self.dataset.observations(factors)

    def sample_pairs(self, n: int, rng: RngLike = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` pairs of factor vectors, each ``(n, K_all)`` int64 (all factors).

        Row ``i`` of ``factors2`` equals row ``i`` of ``factors1`` except in exactly ``k_i``
        changeable factors, each of which holds a different value. All draws come from ``rng``
        in a fixed order, so the same generator state gives the same pairs.
        """
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        gen = as_generator(rng)
        factors1 = np.asarray(self.sample_factors(int(n), gen), dtype=np.int64)
        num = len(self.changeable)
        if self.k is None:
            k = gen.integers(1, num, size=n, endpoint=False)
        else:
            k = np.full(n, self.k)
        # the k_i changeable factors of smallest random key: a uniform k_i-subset per row
        ranks = np.argsort(np.argsort(gen.random((n, num)), axis=1), axis=1)
        chosen = ranks < k[:, None]
        sizes = np.asarray(self.factor_sizes, dtype=np.int64)[self.changeable]
        shift = gen.integers(1, sizes, size=(n, num))  # 1..size-1: never the old value
        factors2 = factors1.copy()
        old = factors1[:, self.changeable]
        factors2[:, self.changeable] = np.where(chosen, (old + shift) % sizes, old)
        return factors1, factors2

    def render(self, factors1: np.ndarray, factors2: np.ndarray) -> torch.Tensor:
        """Images of given pairs, float32 ``(n, 2, C, H, W)`` (one ``observations`` call each)."""
        x1, x2 = self.observations(factors1), self.observations(factors2)
        return torch.stack([x1, x2], dim=1)

    def draw_batch(self, n: int, rng: RngLike = None, labels: bool = False):
        """A training batch of ``n`` pairs, rendered whole.

        Returns:
            ``(x, indices)``: ``x`` float32 ``(n, 2, C, H, W)`` (``x[:, 0]`` the first images),
            ``indices`` int64 ``(n,)`` the dataset indices of the first images (the data
            plate's subsample indices); with ``labels=True`` also ``shared``, bool ``(n, K_all)``,
            True where a factor is the same in both images (for the "-Labels" variants).
        """
        factors1, factors2 = self.sample_pairs(n, rng)
        x = self.render(factors1, factors2)
        indices = torch.from_numpy(np.asarray(self.dataset.index(factors1), dtype=np.int64))
        if labels:
            return x, indices, torch.from_numpy(factors1 == factors2)
        return x, indices

    def __repr__(self) -> str:
        k = "uniform in 1..K-1" if self.k is None else self.k
        return f"PairedFactors({self.dataset!r}; k={k})"
