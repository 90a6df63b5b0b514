"""Seeds and random generators: the one place that turns a user's ``seed`` into a generator.

Every public function that draws random numbers takes ``seed``/``rng`` as an int, ``None`` or a
:class:`numpy.random.Generator`; :func:`as_generator` turns it into a generator. This module sits
below every package of pyrodis (data, metrics, ...) so that none of them imports another for it.
"""

from __future__ import annotations

import numpy as np

RngLike = np.random.Generator | int | None

__all__ = ["RngLike", "as_generator"]


def as_generator(rng: RngLike) -> np.random.Generator:
    """Return ``rng`` as a :class:`numpy.random.Generator` (an int or None seeds a new one)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}; "
        "pass np.random.default_rng(seed)."
    )
