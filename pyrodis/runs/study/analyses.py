"""The Locatello et al. (2019) analyses of a study's results table (numbers only; figures and the
page are :mod:`pyrodis.runs.study.report`). Protocol: ``docs/runs.rst`` (Studies).

- :func:`distributions`: each metric per setting (objective + hyperparameters), every point, the
  median and a bootstrap percentile CI of the median.
- :func:`rank_correlation`: Spearman's ρ between metrics over the finished trials.
- :func:`variance_shares`: the law of total variance split into supervision (weakly-supervised
  presets against unsupervised ones), objective (between presets of the same supervision),
  hyperparameter (between settings of a preset) and seed (within a setting); the shares sum to 1.
- :func:`udr_selection`: UDR per setting (Duan et al. 2020, the median of its models' UDR) and the
  supervised metrics of the UDR-selected setting against the best setting and a random choice.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from pyrodis.runs.presets import WEAKLY_SUPERVISED
from pyrodis.runs.study.results_table import finite

__all__ = [
    "distributions",
    "median_ci",
    "rank_correlation",
    "supervised",
    "supervision",
    "udr_selection",
    "unsupervised_variance_shares",
    "variance_shares",
]

#: metrics that use no factor labels (everything else is a supervised score, higher = better)
UNSUPERVISED_METRICS = ("unsupervised", "udr")


def supervised(columns: list[str]) -> list[str]:
    return [c for c in columns if c.split(".")[0] not in UNSUPERVISED_METRICS]


def _done(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("status") == "done"]


def median_ci(
    values, level: float = 0.95, num_boot: int = 2_000, seed: int = 0
) -> tuple[float, float, float]:
    """(median, ci_low, ci_high): percentile bootstrap of the median (one value: no interval)."""
    x = np.asarray(values, dtype=np.float64)
    med = float(np.median(x))
    if len(x) < 2:
        return med, med, med
    boot = np.median(np.random.default_rng(seed).choice(x, (num_boot, len(x))), axis=1)
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return med, float(lo), float(hi)


def _by(rows: list[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return dict(out)


def distributions(rows: list[dict[str, Any]], metrics: list[str]) -> dict[str, list[dict]]:
    """Per metric, per setting: preset, every (seed, value), the median and its CI."""
    out: dict[str, list[dict]] = {}
    for metric in metrics:
        entries = []
        for setting, group in _by(_done(rows), "setting").items():
            pts = [(r["seed"], r[metric]) for r in group if finite(r.get(metric))]
            if not pts:
                continue
            med, lo, hi = median_ci([v for _, v in pts])
            entries.append(
                {
                    "setting": setting,
                    "preset": group[0]["preset"],
                    "seeds": [s for s, _ in pts],
                    "values": [v for _, v in pts],
                    "median": med,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
        out[metric] = entries
    return out


def rank_correlation(rows: list[dict[str, Any]], metrics: list[str]) -> dict[str, Any]:
    """Spearman's ρ between every pair of metrics over the trials where both are finite."""
    from scipy.stats import spearmanr

    done = _done(rows)
    matrix = np.full((len(metrics), len(metrics)), np.nan)
    for i, a in enumerate(metrics):
        for j, b in enumerate(metrics):
            pairs = [(r[a], r[b]) for r in done if finite(r.get(a)) and finite(r.get(b))]
            if len(pairs) >= 3 and np.ptp([p[0] for p in pairs]) and np.ptp([p[1] for p in pairs]):
                matrix[i, j] = spearmanr(*zip(*pairs)).statistic
    return {"metrics": metrics, "matrix": matrix.tolist()}


def supervision(row: dict[str, Any]) -> str:
    """``"weak"`` for a trial trained on pairs of observations, else ``"none"``: its
    ``model.aggregation`` when the study varies it, otherwise its preset's."""
    if "model.aggregation" in row:
        return "weak" if row["model.aggregation"] not in (None, "", "None") else "none"
    return "weak" if row.get("preset") in WEAKLY_SUPERVISED else "none"


def variance_shares(rows: list[dict[str, Any]], metrics: list[str]) -> dict[str, dict]:
    """Share of each metric's variance explained by supervision, objective, hyperparameter and
    seed (nested groups: the objective is the preset within a supervision, a setting fixes both).

    With weakly-supervised presets beside unsupervised ones, the supervision share holds the gap
    between the two regimes, so that "objective" compares objectives of the same regime (weak
    supervision would otherwise own it); without them it is 0.
    """
    out = {}
    for metric in metrics:
        done = [
            {**r, "supervision": regime, "objective": (regime, r["preset"])}
            for r in _done(rows)
            if finite(r.get(metric))
            for regime in [supervision(r)]
        ]
        if len(done) < 2:
            continue
        x = np.array([r[metric] for r in done])
        grand, total = x.mean(), x.var()
        levels = ("supervision", "objective", "setting")  # nested: a setting fixes both
        mean_of = {
            key: {k: np.mean([r[metric] for r in g]) for k, g in _by(done, key).items()}
            for key in levels
        }
        means = np.array([[mean_of[key][r[key]] for key in levels] for r in done])
        outer = np.c_[np.full(len(x), grand), means]  # each level's mean, then the value
        inner = np.c_[means, x]
        parts = np.mean((inner - outer) ** 2, axis=0)  # between each level and the one above
        shares = parts / total if total > 0 else np.full(4, np.nan)
        out[metric] = {
            "supervision": float(shares[0]),
            "objective": float(shares[1]),
            "hyperparameter": float(shares[2]),
            "seed": float(shares[3]),
            "variance": float(total),
            "trials": len(done),
        }
    return out


def unsupervised_variance_shares(rows: list[dict[str, Any]], metrics: list[str]) -> dict[str, dict]:
    """:func:`variance_shares` over the unsupervised trials alone (Locatello et al. 2019's
    question) when the study also has weakly-supervised ones; else empty (it is the whole
    study's)."""
    done = _done(rows)
    if {supervision(r) for r in done} != {"weak", "none"}:
        return {}
    return variance_shares([r for r in done if supervision(r) == "none"], metrics)


def udr_selection(
    rows: list[dict[str, Any]], udr_scores: dict[str, float], metrics: list[str]
) -> dict[str, Any]:
    """Compare the setting UDR selects (highest median UDR) with the best and a random setting.

    ``udr_scores`` maps trial -> its UDR model score. Per supervised metric: the median of the
    selected setting, the best setting's median (an oracle that sees the labels), the mean of all
    settings' medians (the expected value of a random choice) and Spearman's ρ between the
    settings' UDR and their metric medians. UDR selects among unsupervised models: when the
    study also has weakly-supervised settings, they take no part (not as candidates, not in the
    best or random baselines); ``pool`` says which settings did.
    """
    from scipy.stats import spearmanr

    done = _done(rows)
    pool = "unsupervised" if {supervision(r) for r in done} == {"weak", "none"} else "all"
    if pool == "unsupervised":
        done = [r for r in done if supervision(r) == "none"]
    settings: dict[str, float] = {}
    for setting, group in _by(done, "setting").items():
        scores = [udr_scores[r["trial"]] for r in group if r["trial"] in udr_scores]
        if scores:
            settings[setting] = float(np.median(scores))
    if not settings:
        return {"settings": {}, "selected": None, "metrics": {}, "pool": pool}
    selected = max(settings, key=settings.get)
    compare = {}
    for metric in supervised(metrics):
        medians = {}
        for setting, group in _by(done, "setting").items():
            vals = [r[metric] for r in group if finite(r.get(metric))]
            if vals and setting in settings:
                medians[setting] = float(np.median(vals))
        if selected not in medians:
            continue
        best = max(medians, key=medians.get)
        names = list(medians)
        rho = np.nan
        if (
            len(names) >= 3
            and np.ptp([settings[n] for n in names])
            and np.ptp(list(medians.values()))
        ):
            rho = spearmanr([settings[n] for n in names], [medians[n] for n in names]).statistic
        compare[metric] = {
            "udr_selected": medians[selected],
            "best": medians[best],
            "best_setting": best,
            "random": float(np.mean(list(medians.values()))),
            "spearman_udr": float(rho),
        }
    return {"settings": settings, "selected": selected, "metrics": compare, "pool": pool}
