"""How the protocols draw points from a ground-truth dataset: by row index or by factor vector.

A dataset with index hooks (``sample_indices(n, rng)``, ``factors(indices)`` giving factor
classes, ``observations_at(indices)`` and ``indices_sharing(indices, k, values, rng)``, as
:class:`pyrodis.data.GroundTruthDataset` and its ``from_arrays`` datasets have) is sampled by row
index: that serves factor grids and arrays of observations with measured factors alike.  A
duck-typed dataset with only ``factor_sizes``, ``sample_factors(n, rng)`` and
``observations(factors)`` is sampled by factor vector.  On a factor grid both paths draw the same
random numbers and give the same points (``docs/metrics.rst``).
"""

from __future__ import annotations

import numpy as np

INDEX_HOOKS = ("sample_indices", "factors", "observations_at", "indices_sharing")
FACTOR_HOOKS = ("sample_factors", "observations")
#: the metrics that apply when some factor is continuous (no two points share its value)
CONTINUOUS_METRICS = ("mig", "dci", "sap", "modularity", "irs", "unsupervised")


class FactorPoints:
    """A point is its factor vector (n, K): ``sample_factors`` and ``observations(factors)``."""

    def __init__(self, dataset):
        self.dataset = dataset

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self.dataset.sample_factors(int(n), rng), dtype=np.int64)

    def factors(self, keys: np.ndarray) -> np.ndarray:
        return keys

    def observations(self, keys: np.ndarray):
        return self.dataset.observations(keys)

    def sharing(self, keys: np.ndarray, k: int, values: np.ndarray, rng) -> np.ndarray:
        out = keys.copy()
        out[:, k] = values
        return out


class IndexPoints(FactorPoints):
    """A point is a row index (n,): the dataset's index hooks (module docstring)."""

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self.dataset.sample_indices(int(n), rng), dtype=np.int64)

    def factors(self, keys: np.ndarray) -> np.ndarray:
        return np.asarray(self.dataset.factors(keys), dtype=np.int64)

    def observations(self, keys: np.ndarray):
        return self.dataset.observations_at(keys)

    def sharing(self, keys: np.ndarray, k: int, values: np.ndarray, rng) -> np.ndarray:
        return np.asarray(self.dataset.indices_sharing(keys, k, values, rng), dtype=np.int64)


def check_dataset(dataset) -> tuple[int, ...]:
    """Return the dataset's factor sizes, raising a clear error if it is not a ground-truth set."""
    has_index = all(hasattr(dataset, a) for a in INDEX_HOOKS)
    missing = [a for a in ("factor_sizes", *FACTOR_HOOKS) if not hasattr(dataset, a)]
    if not hasattr(dataset, "factor_sizes") or (missing and not has_index):
        raise TypeError(
            f"dataset {type(dataset).__name__} lacks {missing}; a ground-truth dataset needs "
            "factor_sizes and either sample_indices(n, rng), factors(indices), "
            "observations_at(indices) and indices_sharing(indices, k, values, rng), or "
            "sample_factors(n, rng) and observations(factors) "
            "(see pyrodis.data.GroundTruthDataset and GroundTruthDataset.from_arrays)."
        )
    sizes = tuple(int(s) for s in dataset.factor_sizes)
    if not sizes or min(sizes) < 1:
        raise ValueError(f"dataset.factor_sizes must be positive integers, got {sizes}")
    return sizes


def points_of(dataset) -> FactorPoints:
    """The index path where the dataset has the index hooks, else the factor path."""
    check_dataset(dataset)
    if all(hasattr(dataset, a) for a in INDEX_HOOKS):
        return IndexPoints(dataset)
    return FactorPoints(dataset)


class ObservedPoints(FactorPoints):
    """A point is a row index of a dataset WITHOUT factors (your own images): only ``len`` and
    ``observations(indices)`` are needed; ``factors`` is ``None``.  Points are drawn uniformly
    with replacement, which is how the factor grids draw them too."""

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.integers(0, len(self.dataset), size=int(n), dtype=np.int64)

    def factors(self, keys: np.ndarray) -> None:
        return None

    def observations(self, keys: np.ndarray):
        return self.dataset.observations(keys)


def has_factors(dataset) -> bool:
    """Whether ``dataset`` says what its factors are (``factor_sizes``)."""
    return getattr(dataset, "factor_sizes", None) is not None


def observed_points(dataset) -> FactorPoints:
    """:func:`points_of` for a ground-truth dataset; :class:`ObservedPoints` for a dataset of
    observations without factors (the protocols that need only codes: unsupervised scores, UDR)."""
    if has_factors(dataset):
        return points_of(dataset)
    if not (hasattr(dataset, "observations") and hasattr(dataset, "__len__")):
        raise TypeError(
            f"dataset {type(dataset).__name__} has neither factor_sizes nor __len__ and "
            "observations(indices); pass a ground-truth dataset or an image dataset "
            "(pyrodis.data.open_images)"
        )
    if len(dataset) < 2:
        raise ValueError(f"the dataset has {len(dataset)} observations; at least 2 are needed")
    return ObservedPoints(dataset)


def informative_factors(dataset) -> np.ndarray:
    """Indices of the factors with more than one value (e.g. dSprites' colour is left out)."""
    idx = np.flatnonzero(np.asarray(check_dataset(dataset)) > 1)
    if idx.size == 0:
        raise ValueError(
            f"every factor of {type(dataset).__name__} has a single value; no metric can be "
            "computed without a varying factor."
        )
    return idx


def require_discrete(dataset, metric: str) -> None:
    """Raise if some factor is continuous: ``metric`` needs points that share a factor value."""
    flags = tuple(bool(c) for c in getattr(dataset, "continuous_factors", ()) or ())
    if any(flags):
        names = getattr(dataset, "factor_names", None) or range(len(flags))
        continuous = [str(n) for n, c in zip(names, flags) if c]
        raise ValueError(
            f"the {metric} score fixes one factor and draws points that share its value, which "
            f"needs discrete factors; {continuous} are continuous. Use the metrics that apply to "
            f"continuous factors: {', '.join(CONTINUOUS_METRICS)}."
        )


def fixed_factor_groups(
    dataset, num_points: int, rng: np.random.Generator, batch_size: int, paired: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Batches that share the value of one factor, for the BetaVAE and FactorVAE scores.

    Per point, a factor k is drawn uniformly among the factors with more than one value, then a
    batch of ``batch_size`` points.  ``paired=True`` (BetaVAE): a second batch is drawn and its
    row i is replaced by a point whose factor k equals row i's of the first batch.
    ``paired=False`` (FactorVAE): every row is replaced by a point whose factor k equals the
    first row's.  On a grid the replacement overwrites factor k (no random numbers); on an array
    dataset it is a uniform draw among the rows with that value.

    Returns:
        labels (num_points,) = k, and the points (num_points, G, batch_size[, K]) as keys of
        :func:`points_of` (row indices, or factor vectors), G = 2 if paired else 1.
    """
    points = points_of(dataset)
    candidates = informative_factors(dataset)
    if _overwrites_on_grid(dataset, points):
        return _grid_groups(dataset, points, candidates, num_points, rng, batch_size, paired)
    labels = np.empty(num_points, dtype=np.int64)
    groups = []
    for i in range(num_points):
        k = candidates[rng.integers(len(candidates))]
        first = points.draw(batch_size, rng)
        if paired:
            second = points.draw(batch_size, rng)
            values = points.factors(first)[:, k]
            groups.append(np.stack([first, points.sharing(second, k, values, rng)]))
        else:
            values = np.repeat(points.factors(first[:1])[0, k], batch_size)
            groups.append(points.sharing(first, k, values, rng)[None])
        labels[i] = k
    return labels, np.stack(groups)


def _overwrites_on_grid(dataset, points: FactorPoints) -> bool:
    """Whether a point sharing factor k is the point with factor k overwritten (no random numbers)
    and indices are drawn as factor vectors: the factor path, or a grid's own index hooks."""
    if not isinstance(points, IndexPoints):
        return True
    return getattr(dataset, "grid_index_hooks", False) is True  # pyrodis' own grids say so


def _grid_groups(dataset, points, candidates, num_points, rng, batch_size, paired):
    """:func:`fixed_factor_groups` on a grid: the same random numbers in the same order, with the
    overwrites and the index arithmetic done once for all points instead of per point."""
    labels = np.empty(num_points, dtype=np.int64)
    draws = []
    for i in range(num_points):
        labels[i] = candidates[rng.integers(len(candidates))]
        draws.append(dataset.sample_factors(batch_size, rng))
        if paired:
            draws.append(dataset.sample_factors(batch_size, rng))
    groups = 2 if paired else 1
    factors = np.asarray(np.stack(draws), dtype=np.int64)
    factors = factors.reshape(num_points, groups, batch_size, -1)
    rows = np.arange(num_points)
    if paired:  # row i of the second batch takes row i's factor k from the first
        factors[rows, 1, :, labels] = factors[rows, 0, :, labels]
    else:  # every row takes the first row's factor k
        factors[rows, 0, :, labels] = factors[rows, 0, :1, labels]
    if isinstance(points, IndexPoints):
        return labels, dataset.index(factors.reshape(-1, factors.shape[-1])).reshape(
            factors.shape[:-1]
        )
    return labels, factors
