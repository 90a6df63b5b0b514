"""Exact comparisons between a study's settings (``docs/studies.rst``).

:func:`permutation_test` compares the runs of two groups by the difference of their means. Under
the null hypothesis that the group labels are exchangeable (the setting makes no difference),
every split of the ``n1 + n2`` values into groups of ``n1`` and ``n2`` is equally likely, so the
p-value is the fraction of the ``C(n1 + n2, n1)`` splits whose statistic is at least as extreme
as the observed one (Fisher 1935; Good, *Permutation Tests*, 2005). All splits are enumerated
when there are at most ``max_exact``; beyond that a seeded Monte Carlo sample gives
``(1 + hits) / (1 + num_perm)``.

An exact test has a **smallest attainable p-value**: the observed split itself is one of the
``C(n1 + n2, n1)``, so ``p >= 1 / C(n1 + n2, n1)`` one-sided, and for ``n1 = n2`` the mirrored
split is as extreme, so two-sided ``p >= 2 / C(n1 + n2, n1)``. Three seeds against three:
``C(6, 3) = 20``, one-sided 0.05, two-sided 0.1. :func:`min_attainable_p` gives it, so that a
study can say when its design cannot separate two settings at a level, whatever the data.
"""

from __future__ import annotations

import itertools
from math import comb
from typing import Any

import numpy as np

__all__ = ["ALTERNATIVES", "min_attainable_p", "pairwise_settings", "permutation_test"]

ALTERNATIVES = ("two-sided", "greater", "less")


def min_attainable_p(n1: int, n2: int, alternative: str = "two-sided") -> float:
    """The smallest p-value an exact permutation test of ``n1`` against ``n2`` runs can give."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    if n1 < 1 or n2 < 1:
        raise ValueError(f"each group needs >= 1 run, got {n1} and {n2}")
    splits = comb(n1 + n2, n1)
    if alternative == "two-sided" and n1 == n2:
        return min(1.0, 2 / splits)
    return 1 / splits


def _splits(n: int, n1: int, max_exact: int, num_perm: int, rng) -> tuple[np.ndarray, bool]:
    """Boolean masks (S, n) of group 1 over every split (exact) or ``num_perm`` random ones."""
    if comb(n, n1) <= max_exact:
        masks = np.zeros((comb(n, n1), n), dtype=bool)
        for i, idx in enumerate(itertools.combinations(range(n), n1)):
            masks[i, list(idx)] = True
        return masks, True
    order = np.argsort(rng.random((num_perm, n)), axis=1)
    masks = np.zeros((num_perm, n), dtype=bool)
    np.put_along_axis(masks, order[:, :n1], True, axis=1)
    return masks, False


def permutation_test(
    x,
    y,
    *,
    alternative: str = "two-sided",
    max_exact: int = 200_000,
    num_perm: int = 99_999,
    seed: int = 0,
) -> dict[str, Any]:
    """Permutation test of ``mean(x) - mean(y)``; ``"greater"`` asks whether ``x`` is higher.

    Returns ``{"difference", "p_value", "exact", "splits", "min_p", "n1", "n2", "alternative"}``;
    ``splits`` is ``C(n1 + n2, n1)`` and ``min_p`` the smallest p the design allows.
    """
    x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("permutation_test needs finite values; drop the failed runs first")
    min_p = min_attainable_p(len(x), len(y), alternative)
    pooled = np.concatenate([x, y])
    masks, exact = _splits(len(pooled), len(x), max_exact, num_perm, np.random.default_rng(seed))
    means1 = (masks @ pooled) / len(x)
    means2 = ((~masks) @ pooled) / len(y)
    null = means1 - means2
    observed = float(x.mean() - y.mean())
    tol = 1e-12 * max(1.0, float(np.abs(pooled).max()))
    if alternative == "greater":
        hits = np.sum(null >= observed - tol)
    elif alternative == "less":
        hits = np.sum(null <= observed + tol)
    else:
        hits = np.sum(np.abs(null) >= abs(observed) - tol)
    p = hits / len(null) if exact else (1 + hits) / (1 + len(null))
    return {
        "difference": observed,
        "p_value": float(p),
        "exact": exact,
        "splits": comb(len(pooled), len(x)),
        "min_p": min_p,
        "n1": len(x),
        "n2": len(y),
        "alternative": alternative,
    }


def _holm(p: list[float]) -> list[float]:
    """Holm's step-down adjustment (family-wise error over the comparisons)."""
    order = np.argsort(p)
    adjusted = np.empty(len(p))
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def pairwise_settings(
    values: dict[str, list[float]], *, alpha: float = 0.05, seed: int = 0
) -> dict[str, Any]:
    """Every pair of settings (name -> its runs' values) by :func:`permutation_test`, two-sided,
    with Holm-adjusted p-values; ``separable`` says whether the design could reach ``alpha``."""
    names = [k for k, v in values.items() if len(v) >= 1]
    pairs = []
    for a, b in itertools.combinations(names, 2):
        test = permutation_test(values[a], values[b], seed=seed)
        pairs.append({"a": a, "b": b, **test, "separable": test["min_p"] <= alpha})
    for pair, adj in zip(pairs, _holm([p["p_value"] for p in pairs])):
        pair["p_holm"] = adj
    return {
        "alpha": alpha,
        "pairs": pairs,
        "significant": sum(p["p_holm"] <= alpha for p in pairs),
        "separable": sum(p["separable"] for p in pairs),
    }
