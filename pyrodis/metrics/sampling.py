"""Drawing (codes, factors) samples from a ground-truth dataset through a representation function.

A *representation function* maps a float32 tensor of observations (n, C, H, W) to codes (n, d)
(numpy or torch): the encoder mean for the reference protocols, or a sample of q(z|x) if the
caller wants the "sampled" representation — the choice is the caller's function.  A
*ground-truth dataset* has ``factor_sizes`` and either the index hooks of
:class:`pyrodis.data.GroundTruthDataset` or ``sample_factors(n, rng)`` and
``observations(factors)`` (:mod:`~pyrodis.metrics.ground_truth`).

Reference protocol (Locatello et al. 2019, ``generate_batch_factor_code``): points are drawn
``batch_size`` (16) at a time from one seeded generator, the training set first and then the test
set.  Observations are rendered and encoded in chunks of ``chunk_size`` rows, which changes nothing
for a representation that encodes each row independently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from pyrodis.seeding import as_generator

from .ground_truth import FactorPoints, IndexPoints, check_dataset, points_of

Representation = Callable[..., object]
CHUNK_SIZE = 1024


def encode(
    representation: Representation, dataset, factors: np.ndarray, chunk_size: int = CHUNK_SIZE
) -> np.ndarray:
    """Codes (n, d) float64 of the observations of ``factors`` (n, K), in chunks."""
    return encode_points(representation, FactorPoints(dataset), factors, chunk_size)


def encode_points(
    representation: Representation, points: FactorPoints, keys: np.ndarray, chunk_size=CHUNK_SIZE
) -> np.ndarray:
    """Codes (n, d) float64 of the points ``keys`` (see :mod:`~pyrodis.metrics.ground_truth`)."""
    out = []
    for start in range(0, len(keys), chunk_size):
        obs = points.observations(keys[start : start + chunk_size])
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


def sample_batches(
    points: FactorPoints, num_points: int, rng: np.random.Generator, batch_size: int = 16
) -> np.ndarray:
    """Draw ``num_points`` points, ``batch_size`` at a time, as the reference does."""
    if int(num_points) < 1 or int(batch_size) < 1:
        raise ValueError(f"num_points and batch_size must be >= 1, got {num_points}, {batch_size}")
    batches = [
        points.draw(min(batch_size, num_points - i), rng) for i in range(0, num_points, batch_size)
    ]
    return np.concatenate(batches, axis=0)


def sample_codes(
    representation: Representation,
    dataset,
    num_points: int,
    rng: np.random.Generator,
    batch_size: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``num_points`` points and their codes: ``(codes (n, d), factor classes (n, K))``."""
    points = points_of(dataset)
    keys = sample_batches(points, num_points, rng, batch_size)
    return encode_points(representation, points, keys), points.factors(keys)


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


def encode_groups(representation: Representation, dataset, keys: np.ndarray) -> np.ndarray:
    """Codes (..., B, d) of groups of points (..., B[, K]) of :func:`points_of`, in chunks."""
    points = points_of(dataset)
    lead = keys.shape if isinstance(points, IndexPoints) else keys.shape[:-1]
    flat = keys.reshape(-1) if isinstance(points, IndexPoints) else keys.reshape(-1, keys.shape[-1])
    return encode_points(representation, points, flat).reshape(*lead, -1)
