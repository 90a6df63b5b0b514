"""Reproducible nuisance: randomness in an observation that is not a generative factor.

Some datasets draw part of each image at random, independently of the factors: the colour of
colour-dSprites, the noise of noisy-dSprites, the background patch of scream-dSprites, the
object instance of SmallNORB (``docs/data.rst``).  Their ``observations(factors, rng=None)``
follow one rule, :func:`draw_nuisance`:

- ``rng`` given (a seed or a ``numpy.random.Generator``): the nuisance of the whole batch is
  drawn from it in one call, afresh at every call, as the reference implementations do.  A
  batch is reproducible from the caller's generator state.
- ``rng=None``: the nuisance of the image at dataset index ``i`` is drawn from
  ``numpy.random.default_rng([seed, i])``, ``seed`` being the dataset's own ``seed``.  The
  dataset is then one fixed realisation: ``dataset[i]``, ``observations_at`` and the training
  loader return the same image for the same index in every process, epoch and resumed run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pyrodis.seeding import RngLike, as_generator

__all__ = ["Draw", "check_seed", "draw_nuisance"]

#: ``draw(generator, n) -> dict of arrays with first axis n``
Draw = Callable[[np.random.Generator, int], dict[str, np.ndarray]]


def check_seed(seed: int) -> int:
    """``seed`` as an int, refusing what ``default_rng([seed, i])`` cannot take."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def draw_nuisance(
    draw: Draw, indices: np.ndarray, seed: int, rng: RngLike = None
) -> dict[str, np.ndarray]:
    """The nuisance of the images at dataset ``indices`` (n,), by the rule of this module.

    Args:
        draw: draws the nuisance of ``n`` images from a generator.
        indices: the images' dataset indices (used only when ``rng`` is None).
        seed: the dataset's seed (used only when ``rng`` is None).
        rng: the caller's generator or seed, or None for the fixed realisation.
    """
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if rng is not None:
        return draw(as_generator(rng), len(indices))
    if len(indices) == 0:
        return draw(np.random.default_rng(0), 0)
    rows = [draw(np.random.default_rng([int(seed), int(i)]), 1) for i in indices]
    return {key: np.concatenate([row[key] for row in rows]) for key in rows[0]}
