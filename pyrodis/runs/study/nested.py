"""The NESTED split of a study's variance: supervision → objective → hyperparameter (setting) →
seed, with components, intervals and the pure-noise expectation (``docs/studies.rst``).

Levels ``l = 1 .. L`` group the runs ever more finely (a supervision regime, an objective within
it, a setting within that); the seed is the residual within a setting. With ``P_l`` the
projection onto level ``l``'s group means (``P_0`` the grand mean, ``P_{L+1} = I``),
``SS_l = y' (P_l - P_{l-1}) y``: the descriptive share ``SS_l / SS_total`` is exactly
:func:`pyrodis.runs.study.analyses.variance_shares`. Under pure Gaussian noise it is
``Beta(df_l / 2, (N - 1 - df_l) / 2)`` with mean ``df_l / (N - 1)``, ``df_l`` the number of
groups at level ``l`` less those at ``l - 1``: a 24-run study of 4 objectives × 2
hyperparameters × 3 seeds expects 0.13 / 0.17 / 0.70 when nothing matters.

Components: the random-effects model ``y = μ + Σ_k Z_k u_k + e`` (``u_k ~ N(0, σ²_k)`` per group
of level ``k``) has ``E[SS_l] = Σ_k σ²_k (t_{l,k} - t_{l-1,k})`` with
``t_{l,k} = Σ_g Σ_h n_{gh}² / n_g`` (``n_{gh}`` runs in group ``g`` of level ``l`` and ``h`` of
``k``); solving it is Henderson's method I, exact for unbalanced designs (Searle, Casella &
McCulloch 1992, ch. 5). Negative estimates are truncated at 0. Intervals: a parametric bootstrap
from the fitted components, as for the crossed design (:mod:`pyrodis.runs.study.crossed`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from pyrodis.runs.study.crossed import pure_noise_shares

__all__ = ["nested_components"]


def _codes(labels: list[Any]) -> tuple[np.ndarray, int]:
    index: dict[Any, int] = {}
    codes = np.array([index.setdefault(v, len(index)) for v in labels])
    return codes, len(index)


def _t(outer: np.ndarray, n_outer: int, inner: np.ndarray, n_inner: int) -> float:
    counts = np.zeros((n_outer, n_inner))
    np.add.at(counts, (outer, inner), 1.0)
    return float(((counts**2).sum(axis=1) / counts.sum(axis=1)).sum())


def _means(y: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """Group means of ``y`` (..., N) expanded back to (..., N)."""
    onehot = np.zeros((len(codes), n))
    onehot[np.arange(len(codes)), codes] = 1.0
    means = (y @ onehot) / onehot.sum(axis=0)
    return means[..., codes]


def _sums_of_squares(y: np.ndarray, levels: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """``(..., L + 1)``: SS of each level and of the residual (``levels`` include the grand mean
    first and the runs last)."""
    fitted = [_means(y, c, n) for c, n in levels[:-1]] + [y]
    return np.stack([((fitted[i] - fitted[i - 1]) ** 2).sum(-1) for i in range(1, len(fitted))], -1)


def _henderson(ss: np.ndarray, coef: np.ndarray, dfs: np.ndarray) -> np.ndarray:
    """Components (..., K) from SS (..., K); levels without degrees of freedom are 0."""
    keep = dfs > 0
    comp = np.zeros(ss.shape)
    sol = np.linalg.solve(coef[np.ix_(keep, keep)], ss[..., keep].T).T
    comp[..., keep] = sol
    return np.maximum(comp, 0.0)


def _shares(parts: np.ndarray) -> np.ndarray:
    total = parts.sum(axis=-1, keepdims=True)
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, parts / safe, np.nan)


def _bootstrap(
    comp: np.ndarray, levels: list[tuple[np.ndarray, int]], num_boot: int, seed: int
) -> np.ndarray:
    """Sums of squares of ``num_boot`` tables drawn from the fitted components."""
    rng = np.random.default_rng(seed)
    n = len(levels[0][0])
    sims = rng.normal(0, 1, (num_boot, n)) * np.sqrt(comp[-1])
    for (codes, m), var in zip(levels[1:-1], comp[:-1]):
        sims += rng.normal(0, np.sqrt(var), (num_boot, m))[:, codes]
    return _sums_of_squares(sims, levels)


def _levels(groups: dict[str, list[Any]], n: int) -> list[tuple[np.ndarray, int]]:
    """(codes, number of groups) per level: the grand mean, ``groups``, then every run."""
    levels = [(np.zeros(n, int), 1)] + [_codes(v) for v in groups.values()]
    levels.append((np.arange(n), n))
    for (outer, _), (inner, m) in zip(levels[:-1], levels[1:]):
        if len(set(zip(outer.tolist(), inner.tolist()))) != m:
            raise ValueError(
                f"the levels {list(groups)} are not nested: a group of one level falls in two "
                "groups of the level before; label each group with its parents' labels"
            )
    return levels


def nested_components(
    values: np.ndarray,
    groups: dict[str, list[Any]],
    *,
    residual: str = "seed",
    num_boot: int = 2_000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Nested variance split of ``values`` (N,) by ``groups`` (name -> N labels, outermost first,
    each nested in the one before; the residual within the last is ``residual``).

    Per source: the descriptive ``ss_share`` with its parametric-bootstrap ``ss_share_ci`` and its
    ``pure_noise`` expectation, the component ``variance``, its ``share`` and ``share_ci``, ``df``.
    """
    y = np.asarray(values, dtype=np.float64)
    n = len(y)
    if n < 3 or not np.all(np.isfinite(y)) or any(len(v) != n for v in groups.values()):
        raise ValueError(
            f"nested_components needs >= 3 finite values and one label per value for every "
            f"level; got {n} values and levels of lengths {[len(v) for v in groups.values()]}"
        )
    names = [*groups, residual]
    levels = _levels(groups, n)
    dfs = np.diff([m for _, m in levels]).astype(np.float64)
    t = np.array([[_t(*lev, *levels[k]) for k in range(1, len(levels))] for lev in levels])
    coef = np.diff(t, axis=0)  # (K, K): E[SS_l] = Σ_k coef[l, k] σ²_k
    ss = _sums_of_squares(y, levels)
    comp = _henderson(ss, coef, dfs)
    boot_ss = _bootstrap(comp, levels, num_boot, seed)
    boot_ss_shares = _shares(boot_ss)
    boot_shares = _shares(_henderson(boot_ss, coef, dfs))
    q = [(1 - level) / 2, (1 + level) / 2]
    with warnings.catch_warnings():  # a table with no variance at all has no share
        warnings.simplefilter("ignore", RuntimeWarning)
        ss_ci = np.nanquantile(boot_ss_shares, q, axis=0)
        sh_ci = np.nanquantile(boot_shares, q, axis=0)
    ss_shares, shares = _shares(ss), _shares(comp)
    noise = pure_noise_shares(dict(zip(names, dfs.astype(int).tolist())), level)
    sources = {
        name: {
            "ss_share": float(ss_shares[k]),
            "ss_share_ci": [float(ss_ci[0, k]), float(ss_ci[1, k])],
            "pure_noise": noise[name],
            "variance": float(comp[k]),
            "share": float(shares[k]),
            "share_ci": [float(sh_ci[0, k]), float(sh_ci[1, k])],
            "df": int(dfs[k]),
        }
        for k, name in enumerate(names)
    }
    return {
        "sources": sources,
        "runs": n,
        "interval": f"parametric bootstrap, {num_boot} tables, {level:.0%} percentile",
    }
