"""Drawing (codes, factors) samples from a ground-truth dataset through a representation function.

A *representation function* maps a float32 tensor of observations (n, C, H, W) to codes (n, d)
(numpy or torch): the encoder mean for the reference protocols, or a sample of q(z|x) if the
caller wants the "sampled" representation — the choice is the caller's function.  A
*ground-truth dataset* is any object with ``factor_sizes``, ``sample_factors(n, rng)`` and
``observations(factors)``.

Reference protocol (Locatello et al. 2019, ``generate_batch_factor_code``): factor vectors are drawn
``batch_size`` (16) at a time from one seeded generator, the training set first and then the test
set.  Observations are rendered and encoded in chunks of ``chunk_size`` rows, which changes nothing
for a representation that encodes each row independently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from pyrodis.seeding import as_generator

Representation = Callable[..., object]
CHUNK_SIZE = 1024


def check_dataset(dataset) -> tuple[int, ...]:
    """Return the dataset's factor sizes, raising a clear error if it is not a ground-truth set."""
    missing = [
        a for a in ("factor_sizes", "sample_factors", "observations") if not hasattr(dataset, a)
    ]
    if missing:
        raise TypeError(
            f"dataset {type(dataset).__name__} lacks {missing}; a ground-truth dataset needs "
            "factor_sizes, sample_factors(n, rng) and observations(factors) "
            "(see pyrodis.data.GroundTruthDataset)."
        )
    sizes = tuple(int(s) for s in dataset.factor_sizes)
    if not sizes or min(sizes) < 1:
        raise ValueError(f"dataset.factor_sizes must be positive integers, got {sizes}")
    return sizes


def informative_factors(dataset) -> np.ndarray:
    """Indices of the factors with more than one value (e.g. dSprites' colour is left out)."""
    idx = np.flatnonzero(np.asarray(check_dataset(dataset)) > 1)
    if idx.size == 0:
        raise ValueError(
            f"every factor of {type(dataset).__name__} has a single value; no metric can be "
            "computed without a varying factor."
        )
    return idx


def encode(
    representation: Representation, dataset, factors: np.ndarray, chunk_size: int = CHUNK_SIZE
) -> np.ndarray:
    """Codes (n, d) float64 of the observations of ``factors`` (n, K), in chunks."""
    out = []
    for start in range(0, len(factors), chunk_size):
        obs = dataset.observations(factors[start : start + chunk_size])
        out.append(as_code_rows(representation(obs), len(obs)))
    return np.concatenate(out, axis=0)


def as_code_rows(codes, num_rows: int) -> np.ndarray:
    """Check a representation's output: float64 (num_rows, d), finite, one row per observation."""
    if hasattr(codes, "detach"):
        codes = codes.detach().cpu().numpy()
    arr = np.asarray(codes, dtype=np.float64)
    if arr.ndim == 1 and num_rows > 1:
        arr = arr[:, None]
    arr = arr.reshape(arr.shape[0] if arr.ndim else 1, -1)
    if arr.shape[0] != num_rows:
        raise ValueError(
            f"the representation returned {arr.shape[0]} rows for {num_rows} observations; "
            "it must return one code row per observation, shape (n, d)."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            "the representation returned NaN or inf codes; check the encoder (e.g. a diverged "
            "model) before computing metrics."
        )
    return arr


def sample_factor_batches(
    dataset, num_points: int, rng: np.random.Generator, batch_size: int = 16
) -> np.ndarray:
    """Draw ``num_points`` factor vectors, ``batch_size`` at a time, as the reference does."""
    check_dataset(dataset)
    if int(num_points) < 1 or int(batch_size) < 1:
        raise ValueError(f"num_points and batch_size must be >= 1, got {num_points}, {batch_size}")
    batches = [
        np.asarray(dataset.sample_factors(min(batch_size, num_points - i), rng), dtype=np.int64)
        for i in range(0, num_points, batch_size)
    ]
    return np.concatenate(batches, axis=0)


def sample_codes(
    representation: Representation,
    dataset,
    num_points: int,
    rng: np.random.Generator,
    batch_size: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``num_points`` factor vectors and their codes: ``(codes (n, d), factors (n, K))``."""
    factors = sample_factor_batches(dataset, num_points, rng, batch_size)
    return encode(representation, dataset, factors), factors


class CachedRepresentation:
    """A representation function that remembers the code sets drawn for the protocols.

    The reference protocols that sample "a training set of ``num_train`` then a test set of
    ``num_test``" from a generator seeded with the same integer (MIG, DCI, SAP, modularity, IRS,
    unsupervised) draw exactly the same points.  Wrapping the representation in this class lets
    them share those codes: a request with an integer seed reuses every set already drawn with that
    seed, dataset and batch size, in order, and continues from the saved generator state
    otherwise, so each protocol still sees exactly the samples it would draw alone.
    ``evaluate`` wraps representations in it automatically.
    """

    def __init__(self, representation: Representation):
        self.representation = representation
        self._cache: dict[tuple, dict] = {}

    def __call__(self, observations):
        return self.representation(observations)

    def code_sets(self, dataset, seed: int, sizes: Sequence[int], batch_size: int):
        entry = self._cache.setdefault(
            (id(dataset), int(seed), int(batch_size)), {"sets": [], "rng": as_generator(int(seed))}
        )
        sets = entry["sets"]
        for i, num in enumerate(sizes):
            if i < len(sets):
                if sets[i][0].shape[0] != num:  # a different layout: draw it fresh, uncached
                    return _draw_sets(self.representation, dataset, int(seed), sizes, batch_size)
                continue
            sets.append(sample_codes(self.representation, dataset, num, entry["rng"], batch_size))
        return [sets[i] for i in range(len(sizes))]


def _draw_sets(representation, dataset, seed, sizes, batch_size):
    rng = as_generator(seed)
    return [sample_codes(representation, dataset, num, rng, batch_size) for num in sizes]


def code_sets(
    representation: Representation,
    dataset,
    seed: int | np.random.Generator | None,
    sizes: Sequence[int],
    batch_size: int = 16,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Draw consecutive (codes, factors) sets of the given sizes from one generator.

    ``seed`` is an int, ``None`` or a :class:`numpy.random.Generator` (consumed in place).  With a
    :class:`CachedRepresentation` and an integer seed, sets drawn before are reused.
    """
    check_dataset(dataset)
    if isinstance(representation, CachedRepresentation) and isinstance(seed, (int, np.integer)):
        return representation.code_sets(dataset, int(seed), list(sizes), batch_size)
    if isinstance(seed, np.random.Generator):
        return [sample_codes(representation, dataset, num, seed, batch_size) for num in sizes]
    return _draw_sets(representation, dataset, seed, sizes, batch_size)


def encode_groups(representation: Representation, dataset, factors: np.ndarray) -> np.ndarray:
    """Codes (..., B, d) of groups of factor vectors (..., B, K), encoded in chunks."""
    flat = factors.reshape(-1, factors.shape[-1])
    return encode(representation, dataset, flat).reshape(*factors.shape[:-1], -1)


def fixed_factor_groups(
    dataset, num_points: int, rng: np.random.Generator, batch_size: int, paired: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Batches that share the value of one factor, for the BetaVAE and FactorVAE scores.

    Per point, a factor k is drawn uniformly among the factors with more than one value, then a
    batch of ``batch_size`` factor vectors.  ``paired=True`` (BetaVAE): a second batch is drawn and
    its row i takes factor k from row i of the first.  ``paired=False`` (FactorVAE): every row of
    the batch takes factor k from its first row.  The random numbers are drawn in this order,
    as the reference does.

    Returns:
        labels (num_points,) = k, and factors (num_points, G, batch_size, K), G = 2 if paired
        else 1.
    """
    candidates = informative_factors(dataset)
    labels = np.empty(num_points, dtype=np.int64)
    groups = []
    for i in range(num_points):
        k = candidates[rng.integers(len(candidates))]
        first = np.asarray(dataset.sample_factors(batch_size, rng), dtype=np.int64)
        if paired:
            second = np.asarray(dataset.sample_factors(batch_size, rng), dtype=np.int64)
            second[:, k] = first[:, k]
            groups.append(np.stack([first, second]))
        else:
            first[:, k] = first[0, k]
            groups.append(first[None])
        labels[i] = k
    return labels, np.stack(groups)
