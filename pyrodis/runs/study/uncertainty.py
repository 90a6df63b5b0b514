"""Every claim of a study with its uncertainty: the whole analysis from a results table
(``docs/studies.rst``).

:func:`uncertainty_analysis` takes the rows of ``results.csv`` (as
:func:`~pyrodis.runs.study.results_table.read_results` reads them) and returns plain dicts:

- ``design``: settings, seed indices, runs, and the smallest p-value an exact test of two settings
  can reach with this many seeds (3 against 3: 0.1 two-sided) -- the design's resolution.
- ``crossed``: per metric, setting × seed-index variance components, intervals and F tests
  (:mod:`pyrodis.runs.study.crossed`); ``crossed_unsupervised``, the same over the unsupervised
  runs when weakly-supervised ones are present.
- ``nested`` / ``nested_unsupervised``: supervision → objective → hyperparameter → seed, the
  descriptive shares with intervals and their pure-noise expectation (:mod:`pyrodis.runs.study.nested`); the second over the unsupervised runs when weakly-supervised ones are present.
- ``spearman``: the supervised metrics' Spearman matrices over runs and over setting medians
  (:mod:`pyrodis.runs.study.correlation`).
- ``udr``: UDR against each supervised metric at both levels, over all runs and over the
  unsupervised ones, when per-run UDR scores are given (:func:`with_udr`; they need the trained
  encoders, so a table without run directories passes the saved ones, e.g. ``study.json``'s
  ``udr.model_scores``).
- ``comparisons``: per supervised metric, every pair of settings by an exact permutation test
  with Holm-adjusted p-values, and the two best settings by median (:mod:`pyrodis.runs.study.exact`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from pyrodis.runs.study.analyses import supervised, supervision
from pyrodis.runs.study.correlation import LEVELS, spearman_intervals
from pyrodis.runs.study.crossed import crossed_components, crossed_table
from pyrodis.runs.study.exact import min_attainable_p, pairwise_settings, permutation_test
from pyrodis.runs.study.nested import nested_components
from pyrodis.runs.study.results_table import finite

__all__ = ["UDR_COLUMN", "uncertainty_analysis", "with_udr"]

UDR_COLUMN = "udr"


def with_udr(rows: list[dict[str, Any]], scores: dict[str, float]) -> list[dict[str, Any]]:
    """``rows`` with a ``udr`` column from ``scores`` (trial -> UDR model score; None if absent)."""
    return [{**r, UDR_COLUMN: scores.get(r["trial"])} for r in rows]


def _done(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("status") == "done"]


def design(rows: list[dict[str, Any]], alpha: float = 0.05) -> dict[str, Any]:
    """Settings, seed indices, runs, and the resolution of a two-setting exact test."""
    done = _done(rows)
    per_setting = Counter(r["setting"] for r in done)
    k = min(per_setting.values()) if per_setting else 0
    two = min_attainable_p(k, k) if k else float("nan")
    one = min_attainable_p(k, k, "greater") if k else float("nan")
    return {
        "runs": len(done),
        "settings": len(per_setting),
        "seeds": sorted({r["seed"] for r in done}),
        "runs_per_setting": dict(per_setting),
        "min_p_two_sided": two,
        "min_p_one_sided": one,
        "can_separate_two_settings": bool(two <= alpha),
        "alpha": alpha,
    }


def _nested(rows: list[dict[str, Any]], metric: str, **kw: Any) -> dict[str, Any] | None:
    done = [r for r in _done(rows) if finite(r.get(metric))]
    if len(done) < 3:
        return None
    regimes = [supervision(r) for r in done]
    groups = {
        "supervision": regimes,
        "objective": [f"{g}/{r['preset']}" for g, r in zip(regimes, done)],
        "hyperparameter": [f"{g}/{r['preset']}/{r['setting']}" for g, r in zip(regimes, done)],
    }
    return nested_components([r[metric] for r in done], groups, residual="seed", **kw)


def _crossed(rows: list[dict[str, Any]], metric: str, **kw: Any) -> dict[str, Any] | None:
    table, settings, seeds = crossed_table(rows, metric)
    if len(settings) < 2 or len(seeds) < 2:
        return None
    return {**crossed_components(table, **kw), "setting_names": settings, "seed_indices": seeds}


def _udr(rows: list[dict[str, Any]], metrics: list[str], **kw: Any) -> dict[str, Any]:
    """Per level: per metric, ρ(UDR, metric) with its interval, p and n."""
    out = {}
    for level in LEVELS:
        try:
            found = spearman_intervals(rows, [UDR_COLUMN, *metrics], level=level, **kw)
        except ValueError:
            continue
        out[level] = {
            m: {
                "rho": found["rho"][0][j],
                "ci": [found["ci_low"][0][j], found["ci_high"][0][j]],
                "p_value": found["p_value"][0][j],
                "n": found["n"],
            }
            for j, m in enumerate(metrics, start=1)
        }
    return out


def _comparisons(rows: list[dict[str, Any]], metric: str, alpha: float, seed: int) -> dict:
    values: dict[str, list[float]] = {}
    for r in _done(rows):
        if finite(r.get(metric)):
            values.setdefault(r["setting"], []).append(float(r[metric]))
    if len(values) < 2:
        return {}
    out = pairwise_settings(values, alpha=alpha, seed=seed)
    best, second = sorted(values, key=lambda s: -np.median(values[s]))[:2]
    out["top_two"] = {"a": best, "b": second, **permutation_test(values[best], values[second])}
    return out


def uncertainty_analysis(
    rows: list[dict[str, Any]],
    metrics: list[str],
    *,
    udr_scores: dict[str, float] | None = None,
    num_boot: int = 2_000,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, Any]:
    """The study's analyses with intervals, tests and the design's resolution (module doc)."""
    if not _done(rows):
        raise ValueError("no finished runs in the table; run the study (`pyrodis study run`)")
    sup = supervised(metrics)
    boot = {"num_boot": num_boot, "seed": seed}
    regimes = {supervision(r) for r in _done(rows)}
    unsup = [r for r in _done(rows) if supervision(r) == "none"] if len(regimes) == 2 else []
    out: dict[str, Any] = {"design": design(rows, alpha)}
    out["crossed"] = {m: c for m in metrics if (c := _crossed(rows, m, **boot)) is not None}
    out["crossed_unsupervised"] = {
        m: c for m in metrics if unsup and (c := _crossed(unsup, m, **boot)) is not None
    }
    out["nested"] = {m: c for m in metrics if (c := _nested(rows, m, **boot)) is not None}
    out["nested_unsupervised"] = {
        m: c for m in metrics if unsup and (c := _nested(unsup, m, **boot)) is not None
    }
    out["spearman"] = {}
    for level in LEVELS:
        try:
            out["spearman"][level] = spearman_intervals(rows, sup, level=level, **boot)
        except ValueError:
            pass
    out["udr"] = {}
    if udr_scores:
        scored = with_udr(rows, udr_scores)
        out["udr"]["all"] = _udr(scored, sup, **boot)
        if unsup:
            out["udr"]["unsupervised"] = _udr(with_udr(unsup, udr_scores), sup, **boot)
    out["comparisons"] = {m: _comparisons(rows, m, alpha, seed) for m in sup}
    return out
