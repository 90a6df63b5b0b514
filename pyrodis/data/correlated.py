"""Training on correlated factors while evaluating on the independent grid.

Locatello et al. (2019) and Träuble et al. (2021, "On Disentangled Representations Learned from
Correlated Data", ICML) show that disentanglement degrades when factors co-vary in the training
data.  :class:`CorrelatedFactors` reproduces that setting: each chosen pair of factors
``(a, b)`` is drawn from

    p(y_a, y_b) ∝ exp(−(y_a − y_b)² / (2σ²)),

with ``y`` the factor's values normalised to [0, 1] (min–max over its values; for a categorical
factor such as shape, its class order; a cyclic factor such as orientation is treated as a line,
so 0 and 2π sit at opposite ends), every other factor uniform and independent.  ``σ = inf``
is the independent grid; smaller ``σ`` means stronger co-variation.  ``σ = 0`` is deterministic
co-variation: uniform over the cells that pair each value with its nearest value(s) of the other
factor.  For two factors with equally many values that is exactly the ``σ → 0`` limit (the
diagonal); with different numbers of values the formal limit would keep only the exactly
matching values (e.g. the two ends), so ``σ = 0`` keeps every value of both factors instead
(e.g. scale (6 values) with shape (3): scales 0.5, 0.6 → square; 0.7, 0.8 → ellipse; ...).

The view keeps the dataset's interface: ``observations``, ``index``, ``__getitem__`` and
``len`` are those of the full grid (so evaluation on ``view.independent`` or on the grid is
unchanged); ``sample_factors`` and the training loader draw from the joint.  ``joint(pair)`` is
the exact table that ``sample_factors`` samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from pyrodis.data.base import GroundTruthDataset
from pyrodis.seeding import RngLike, as_generator

Pair = tuple[str, str]


def pair_table(ya: np.ndarray, yb: np.ndarray, sigma: float) -> np.ndarray:
    """Joint probabilities (len(ya), len(yb)) ∝ exp(−(ya − yb)²/(2σ²)) (σ = 0: nearest pairs)."""
    dist2 = (ya[:, None] - yb[None, :]) ** 2
    if np.isinf(sigma):
        table = np.ones_like(dist2)
    elif sigma == 0:
        nearest_b = np.isclose(dist2, dist2.min(1, keepdims=True), rtol=1e-9, atol=1e-12)
        nearest_a = np.isclose(dist2, dist2.min(0, keepdims=True), rtol=1e-9, atol=1e-12)
        table = (nearest_b | nearest_a).astype(np.float64)
    else:
        logits = -dist2 / (2.0 * sigma**2)
        table = np.exp(logits - logits.max())
    return table / table.sum()


def normalised_values(values: np.ndarray) -> np.ndarray:
    """Min–max normalisation of a factor's values to [0, 1] (a single value maps to 0)."""
    values = np.asarray(values, dtype=np.float64)
    span = values.max() - values.min()
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


class CorrelatedFactors(GroundTruthDataset):
    """A training view of ``dataset`` whose factor pairs co-vary with strength ``sigma``.

    Args:
        dataset: the ground-truth dataset (independent grid), kept as ``self.independent``.
        pairs: factor-name pairs ``(a, b)``; a factor may appear in one pair only.
        sigma: σ ≥ 0 of every pair, or one σ per pair (``float("inf")``: independent).

    Example:
        >>> view = CorrelatedFactors(DSprites(), pairs=[("scale", "shape")], sigma=0.2)
        >>> loader = make_loader(view, batch_size=64, seed=0)  # batches from the joint
    """

    def __init__(
        self,
        dataset: GroundTruthDataset,
        pairs: Sequence[Pair] = (("scale", "shape"),),
        sigma: float | Sequence[float] = 0.2,
    ):
        self.independent = dataset
        self.factor_names = tuple(dataset.factor_names)
        self.factor_sizes = tuple(dataset.factor_sizes)
        self.factor_values = tuple(dataset.factor_values)
        self.observation_shape = tuple(dataset.observation_shape)
        if isinstance(pairs, tuple) and len(pairs) == 2 and all(isinstance(p, str) for p in pairs):
            raise ValueError(f"pairs is a list of pairs: write [{pairs!r}], not {pairs!r}")
        self.pairs = [self._check_pair(p) for p in pairs]
        used = [name for pair in self.pairs for name in pair]
        if len(set(used)) != len(used):
            raise ValueError(
                f"a factor may belong to one pair only, got pairs {self.pairs}; "
                "merge the pairs or drop one"
            )
        sigmas = np.atleast_1d(np.asarray(sigma, dtype=np.float64))
        if sigmas.ndim != 1 or len(sigmas) not in (1, len(self.pairs)):
            raise ValueError(
                f"sigma is one number or one per pair ({len(self.pairs)} pairs), got {sigma!r}"
            )
        sigmas = np.broadcast_to(sigmas, (len(self.pairs),))
        if np.isnan(sigmas).any() or (sigmas < 0).any():
            raise ValueError(f"sigma must be >= 0 (or inf for independent factors), got {sigma}")
        self.sigmas = tuple(float(s) for s in sigmas)
        self._tables = {
            pair: pair_table(*(self._normalised(name) for name in pair), s)
            for pair, s in zip(self.pairs, self.sigmas)
        }

    def _check_pair(self, pair: Sequence[str]) -> Pair:
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(f"a pair names two different factors, got {pair!r}")
        for name in pair:
            if name not in self.factor_names:
                raise ValueError(f"unknown factor {name!r}; the factors are {self.factor_names}")
        return (str(pair[0]), str(pair[1]))

    def _normalised(self, name: str) -> np.ndarray:
        return normalised_values(self.factor_values[self.factor_names.index(name)])

    # -------------------------------------------------------------------------------- the joint
    def joint(self, pair: Sequence[str] | int = 0) -> np.ndarray:
        """Exact joint probability table (size_a, size_b) of a pair (by names or position)."""
        key = self.pairs[pair] if isinstance(pair, int) else tuple(pair)
        if key not in self._tables:
            raise KeyError(f"{key!r} is not a correlated pair; the pairs are {self.pairs}")
        return self._tables[key].copy()

    def correlation(self, pair: Sequence[str] | int = 0) -> float:
        """Pearson correlation of the pair's normalised values under the joint."""
        key = self.pairs[pair] if isinstance(pair, int) else tuple(pair)
        table = self.joint(key)
        ya, yb = (self._normalised(name) for name in key)
        ma, mb = table.sum(1) @ ya, table.sum(0) @ yb
        cov = ya @ table @ yb - ma * mb
        var_a, var_b = table.sum(1) @ (ya - ma) ** 2, table.sum(0) @ (yb - mb) ** 2
        return float(cov / np.sqrt(var_a * var_b)) if var_a > 0 and var_b > 0 else 0.0

    # ------------------------------------------------------------------------------- sampling
    def sample_factors(self, n: int, rng: RngLike = None) -> np.ndarray:
        """Draw ``n`` factor vectors from the joint: pairs from their tables, others uniform."""
        gen = as_generator(rng)
        factors = self.independent.sample_factors(n, gen)
        for pair, table in self._tables.items():
            a, b = (self.factor_names.index(name) for name in pair)
            cells = gen.choice(table.size, size=n, p=table.ravel())
            factors[:, a], factors[:, b] = np.divmod(cells, table.shape[1])
        return factors

    def draw_indices(self, n: int, rng: RngLike = None) -> np.ndarray:
        """Dataset indices of ``n`` draws from the joint (used by :func:`make_loader`)."""
        return self.index(self.sample_factors(n, rng))

    def observations(self, factors: np.ndarray | Sequence) -> torch.Tensor:
        return self.independent.observations(factors)

    def __repr__(self) -> str:
        pairs = ", ".join(f"{a}~{b} (sigma={s:g})" for (a, b), s in zip(self.pairs, self.sigmas))
        return f"CorrelatedFactors({self.independent!r}; {pairs})"
