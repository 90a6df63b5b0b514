"""Spearman's ρ between a study's metrics with intervals, at a stated level (``docs/studies.rst``).

Two levels answer two questions, and a figure must say which it is:

- ``"runs"``: over the finished runs (n = runs). Interval: percentile bootstrap over runs.
- ``"settings"``: over the settings' medians (n = settings). Interval: a two-stage bootstrap,
  settings resampled, then the runs of each drawn setting, medians recomputed (Davison &
  Hinkley 1997, §3.8), so both the choice of settings and the seed noise in each median count.

The p-value is a Monte Carlo permutation test of ρ = 0 (two-sided, ``(1 + #|ρ*| >= |ρ|) /
(1 + B)``), exact in its level where the t approximation is not (n = 9 settings). Both use the
runs where every metric of the matrix is finite, so all pairs share the same n.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from pyrodis.runs.study.results_table import finite

__all__ = ["LEVELS", "spearman_intervals"]

LEVELS = ("runs", "settings")


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x, axis=-2)


def _corr(x: np.ndarray) -> np.ndarray:
    """Spearman matrices (..., m, m) of samples (..., n, m); NaN where a column is constant."""
    r = _ranks(x)
    r = r - r.mean(axis=-2, keepdims=True)
    cov = np.swapaxes(r, -1, -2) @ r
    sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / (sd[..., :, None] * sd[..., None, :])


def _medians(x: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    return np.stack([np.median(x[codes == g], axis=0) for g in range(n_groups)])


def _boot_settings(
    x: np.ndarray, codes: np.ndarray, n_groups: int, num_boot: int, rng
) -> np.ndarray:
    members = [np.flatnonzero(codes == g) for g in range(n_groups)]
    out = np.empty((num_boot, n_groups, x.shape[1]))
    for b in range(num_boot):
        for i, g in enumerate(rng.integers(0, n_groups, n_groups)):
            idx = rng.choice(members[g], len(members[g]))
            out[b, i] = np.median(x[idx], axis=0)
    return out


def _permutation_p(x: np.ndarray, rho: np.ndarray, num_perm: int, rng) -> np.ndarray:
    """Two-sided permutation p of every pair (columns permuted independently)."""
    n, m = x.shape
    r = _ranks(x)
    r = (r - r.mean(0)) / np.where(r.std(0) > 0, r.std(0), 1.0)
    perm = np.argsort(rng.random((num_perm, n)), axis=1)
    p = np.full((m, m), np.nan)
    for j in range(m):
        shuffled = r[perm, j]  # (B, n)
        null = shuffled @ r / n  # (B, m): ρ of permuted column j with every column
        hits = (np.abs(null) >= np.abs(rho[j]) - 1e-12).sum(0)
        p[j] = (1 + hits) / (1 + num_perm)
    upper = np.triu(p, 1)  # pair (j, k), j < k: column j permuted
    p = upper + upper.T
    return np.where(np.isfinite(rho), p, np.nan)


def spearman_intervals(
    rows: list[dict[str, Any]],
    metrics: list[str],
    *,
    level: str = "runs",
    num_boot: int = 2_000,
    num_perm: int = 9_999,
    ci: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Spearman's ρ between ``metrics`` at ``level`` (``"runs"`` or ``"settings"``), with a
    bootstrap ``ci`` interval and a permutation p-value per pair; ``n`` is what ρ is over.

    Returns ``{"level", "n", "runs", "metrics", "rho", "ci_low", "ci_high", "p_value",
    "interval"}`` (matrices as nested lists, NaN where a metric is constant).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS} (what ρ is computed over), got {level!r}")
    done = [r for r in rows if r.get("status") == "done" and all(finite(r.get(m)) for m in metrics)]
    x = np.array([[float(r[m]) for m in metrics] for r in done]).reshape(len(done), len(metrics))
    settings: dict[Any, int] = {}
    codes = np.array([settings.setdefault(r["setting"], len(settings)) for r in done], dtype=int)
    sample = x if level == "runs" else _medians(x, codes, len(settings))
    if len(sample) < 3:
        raise ValueError(
            f"Spearman over {level} needs >= 3 {level} with every metric of {metrics} finite; "
            f"found {len(sample)}"
        )
    rng = np.random.default_rng(seed)
    rho = _corr(sample)
    if level == "runs":
        boot = _corr(x[rng.integers(0, len(x), (num_boot, len(x)))])
    else:
        boot = _corr(_boot_settings(x, codes, len(settings), num_boot, rng))
    q = [(1 - ci) / 2, (1 + ci) / 2]
    with warnings.catch_warnings():  # a pair constant in every resample has no interval
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(boot, q, axis=0)
    p = _permutation_p(sample, rho, num_perm, rng)

    def plain(m: np.ndarray) -> list[list[float]]:
        return [[float(v) for v in row] for row in m]

    how = "runs" if level == "runs" else "settings, then runs within each"
    return {
        "level": level,
        "n": len(sample),
        "runs": len(done),
        "metrics": list(metrics),
        "rho": plain(rho),
        "ci_low": plain(lo),
        "ci_high": plain(hi),
        "p_value": plain(p),
        "interval": f"bootstrap over {how}, {num_boot} resamples, {ci:.0%} percentile; "
        f"p: permutation test, {num_perm} permutations",
    }
