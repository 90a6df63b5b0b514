"""Variance components of a study's CROSSED design: setting × seed index (``docs/studies.rst``).

A study trains every setting with seeds ``0 .. b-1``, and a run is evaluated with its own
training seed, so the runs of seed ``k`` share evaluation draws (and, for equal architectures,
initialisation and batch order): seeds are *crossed* with settings, not nested in them. With one
run per cell, the two-way random-effects model is

.. math::

    y_{ij} = \\mu + a_i + b_j + e_{ij}, \\quad a_i \\sim N(0, \\sigma^2_A),\\;
    b_j \\sim N(0, \\sigma^2_B),\\; e_{ij} \\sim N(0, \\sigma^2_E)

for setting ``i`` (``a`` levels) and seed index ``j`` (``b`` levels); the residual holds the
setting × seed interaction, which one run per cell cannot separate from noise. The ANOVA mean
squares have expectations ``E[MS_A] = σ²_E + b σ²_A``, ``E[MS_B] = σ²_E + a σ²_B`` and
``E[MS_E] = σ²_E``, so the method-of-moments (ANOVA) estimates are
``σ²_A = (MS_A - MS_E) / b``, ``σ²_B = (MS_B - MS_E) / a``, ``σ²_E = MS_E``, a negative estimate
truncated at 0 (Searle, Casella & McCulloch, *Variance Components*, 1992, ch. 4). The seed
index is tested by ``F = MS_B / MS_E`` on ``(b - 1, (a - 1)(b - 1))`` degrees of freedom.

Intervals come from a **parametric bootstrap**: tables are drawn from the fitted model and
re-estimated. A bootstrap over seeds is not used: with 3 seeds it has 10 distinct resamples and
a resample that repeats a seed column makes the seed and residual components degenerate.

Descriptive shares ``SS / SS_total`` are given beside the components, with what they are under
pure noise: for Gaussian noise ``SS_A / SS_total ~ Beta((a-1)/2, (ab-a)/2)``, mean
``(a-1)/(ab-1)`` (and likewise for the seed index and the residual).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from pyrodis.runs.study.results_table import finite

__all__ = ["crossed_components", "crossed_table", "pure_noise_shares"]

SOURCES = ("setting", "seed", "residual")


def crossed_table(
    rows: list[dict[str, Any]], metric: str
) -> tuple[np.ndarray, list[str], list[Any]]:
    """The complete block ``(settings × seeds)`` of ``metric`` over the finished runs: the
    largest set of cells made of some seed indices and the settings that have all of them (the
    other runs are left out, so the design stays balanced)."""
    cells: dict[str, dict[Any, float]] = {}
    for row in rows:
        if row.get("status") == "done" and finite(row.get(metric)):
            cells.setdefault(row["setting"], {})[row["seed"]] = float(row[metric])
    if not cells:
        return np.zeros((0, 0)), [], []
    counts: dict[Any, int] = {}
    for by_seed in cells.values():
        for s in by_seed:
            counts[s] = counts.get(s, 0) + 1
    best: tuple[int, list[Any], list[str]] = (0, [], [])
    for c in sorted(set(counts.values())):  # the largest block of seeds present >= c times
        seeds = sorted(s for s, n in counts.items() if n >= c)
        names = [name for name, by_seed in cells.items() if all(s in by_seed for s in seeds)]
        if len(seeds) * len(names) > best[0]:
            best = (len(seeds) * len(names), seeds, names)
    _, seeds, settings = best
    table = np.array([[cells[name][s] for s in seeds] for name in settings])
    return table, settings, seeds


def pure_noise_shares(dfs: dict[str, int], level: float = 0.95) -> dict[str, dict[str, float]]:
    """Each source's descriptive share ``SS / SS_total`` under pure Gaussian noise: its mean
    ``df / df_total`` and central ``level`` range (``Beta(df/2, (df_total - df)/2)``)."""
    from scipy.stats import beta

    total = sum(dfs.values())
    out = {}
    for name, df in dfs.items():
        if df <= 0 or df >= total:
            mean = lo = hi = float(df >= total and df > 0)
        else:
            dist = beta(df / 2, (total - df) / 2)
            mean = df / total
            lo, hi = (float(q) for q in dist.ppf([(1 - level) / 2, (1 + level) / 2]))
        out[name] = {"mean": float(mean), "low": float(lo), "high": float(hi)}
    return out


def _anova(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums of squares ``(..., 3)`` (setting, seed, residual) of tables ``(..., a, b)``, and dfs."""
    a, b = y.shape[-2:]
    grand = y.mean(axis=(-2, -1), keepdims=True)
    rows = y.mean(axis=-1, keepdims=True)
    cols = y.mean(axis=-2, keepdims=True)
    ss_a = b * ((rows - grand) ** 2).sum(axis=(-2, -1))
    ss_b = a * ((cols - grand) ** 2).sum(axis=(-2, -1))
    ss_e = ((y - rows - cols + grand) ** 2).sum(axis=(-2, -1))
    dfs = np.array([a - 1, b - 1, (a - 1) * (b - 1)], dtype=np.float64)
    return np.stack([ss_a, ss_b, ss_e], axis=-1), dfs


def _components(ss: np.ndarray, dfs: np.ndarray, a: int, b: int) -> np.ndarray:
    """ANOVA estimates ``(..., 3)`` of σ²_A, σ²_B, σ²_E, truncated at 0."""
    ms = ss / dfs
    comp = np.stack(
        [(ms[..., 0] - ms[..., 2]) / b, (ms[..., 1] - ms[..., 2]) / a, ms[..., 2]], axis=-1
    )
    return np.maximum(comp, 0.0)


def _shares(parts: np.ndarray) -> np.ndarray:
    total = parts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, parts / np.where(total > 0, total, 1.0), np.nan)


def _bootstrap(comp: np.ndarray, a: int, b: int, num_boot: int, seed: int) -> np.ndarray:
    """Components re-estimated on ``num_boot`` tables drawn from the fitted model."""
    rng = np.random.default_rng(seed)
    sd = np.sqrt(comp)
    sims = (
        rng.normal(0, sd[0], (num_boot, a, 1))
        + rng.normal(0, sd[1], (num_boot, 1, b))
        + rng.normal(0, sd[2], (num_boot, a, b))
    )
    return _components(*_anova(sims), a, b)


def _f_tests(ms: np.ndarray, dfs: np.ndarray) -> dict[str, dict[str, Any]]:
    """``F = MS / MS_E`` of the setting and of the seed index, with its p-value."""
    from scipy.stats import f as f_dist

    out = {}
    for k, name in enumerate(SOURCES[:2]):
        stat = ms[k] / ms[2] if ms[2] > 0 else float("nan")
        p = float(f_dist.sf(stat, dfs[k], dfs[2])) if np.isfinite(stat) else float("nan")
        out[name] = {"F": float(stat), "df": [int(dfs[k]), int(dfs[2])], "p_value": p}
    return out


def crossed_components(
    table: np.ndarray,
    *,
    num_boot: int = 2_000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Two-way ANOVA of a complete ``(settings, seeds)`` table: components, shares, F tests.

    Returns plain dicts: per source (``setting``, ``seed``, ``residual``) the component
    (``variance``), its ``share`` of their sum with a parametric-bootstrap ``share_ci``, the
    descriptive ``ss_share`` and its ``pure_noise`` expectation; ``f_tests`` for the setting and
    the seed index; the design (``settings``, ``seeds``, ``runs``).
    """
    y = np.asarray(table, dtype=np.float64)
    if y.ndim != 2 or min(y.shape) < 2 or not np.all(np.isfinite(y)):
        raise ValueError(
            f"crossed_components needs a finite table of >= 2 settings × >= 2 seeds, got shape "
            f"{y.shape}; build it with crossed_table(rows, metric)"
        )
    a, b = y.shape
    ss, dfs = _anova(y)
    comp = _components(ss, dfs, a, b)
    shares = _shares(comp)
    boot_comp = _bootstrap(comp, a, b, num_boot, seed)
    q = [(1 - level) / 2, (1 + level) / 2]
    with warnings.catch_warnings():  # a table with no variance at all has no share
        warnings.simplefilter("ignore", RuntimeWarning)
        share_ci = np.nanquantile(_shares(boot_comp), q, axis=0)
    comp_ci = np.quantile(boot_comp, q, axis=0)
    ss_total = ss.sum()
    noise = pure_noise_shares(dict(zip(SOURCES, dfs.astype(int).tolist())), level)
    ms = ss / dfs
    sources = {}
    for k, name in enumerate(SOURCES):
        sources[name] = {
            "variance": float(comp[k]),
            "variance_ci": [float(comp_ci[0, k]), float(comp_ci[1, k])],
            "share": float(shares[k]),
            "share_ci": [float(share_ci[0, k]), float(share_ci[1, k])],
            "ss_share": float(ss[k] / ss_total) if ss_total > 0 else float("nan"),
            "df": int(dfs[k]),
            "mean_square": float(ms[k]),
            "pure_noise": noise[name],
        }
    f_tests = _f_tests(ms, dfs)
    return {
        "sources": sources,
        "f_tests": f_tests,
        "settings": a,
        "seeds": b,
        "runs": a * b,
        "interval": f"parametric bootstrap, {num_boot} tables, {level:.0%} percentile",
    }
