"""Every number of the study report (the content of ``study.json``), from the results table and
the per-run values that need the encoders (:mod:`pyrodis.runs.study.report_inputs`).

The descriptive analyses (:mod:`pyrodis.runs.study.analyses`) and the same claims with their
uncertainty (:func:`~pyrodis.runs.study.uncertainty.uncertainty_analysis`, ``docs/studies.rst``),
for the whole study and, when it crosses datasets, for each dataset alone, with the nested
variance split that takes the dataset as its outermost factor.
"""

from __future__ import annotations

from typing import Any

from pyrodis.runs.study import analyses
from pyrodis.runs.study.collapse import collapsed_runs
from pyrodis.runs.study.nested import nested_components
from pyrodis.runs.study.report_inputs import DATASET_COLUMN, datasets, evaluation_protocol
from pyrodis.runs.study.results_table import finite, metric_columns
from pyrodis.runs.study.uncertainty import uncertainty_analysis

__all__ = ["HEADLINE", "analyse", "focus_metrics"]

#: the scores the figures and the uncertainty analysis use (study.json's descriptive parts have
#: every sub-score): each metric's own score, DCI's three and explicitness, not training
#: accuracies or latent counts
HEADLINE = (
    "beta_vae.beta_vae",
    "factor_vae.factor_vae",
    "mig.mig",
    "mig_chen.mig",
    "dci.disentanglement",
    "dci.completeness",
    "dci.informativeness",
    "sap.sap",
    "modularity.modularity",
    "modularity.explicitness",
    "irs.irs",
    "unsupervised.gaussian_total_correlation",
)


def focus_metrics(metrics: list[str]) -> list[str]:
    """The headline scores among ``metrics`` (all of them when there is none)."""
    return [m for m in metrics if m in HEADLINE] or list(metrics)


#: label-free columns shown beside each run's UDR
LABEL_FREE = ("unsupervised.num_active_dims", "unsupervised.gaussian_total_correlation")


def udr_runs(rows: list[dict], scores: dict[str, float]) -> list[dict[str, Any]]:
    """Each scored run: trial, setting, UDR and the label-free scores, by decreasing UDR."""
    found = [
        {"trial": r["trial"], "setting": r["setting"], "udr": scores[r["trial"]],
         **{k: r.get(k) for k in LABEL_FREE}}
        for r in rows if r["trial"] in scores
    ]  # fmt: skip
    return sorted(found, key=lambda e: -e["udr"])


def _part(rows: list[dict], metrics: list[str], udr: dict[str, float], num_boot: int) -> dict:
    """The analyses of one set of runs (the whole study or one dataset)."""
    done = [r for r in rows if r.get("status") == "done"]
    selection = analyses.udr_selection(rows, udr, metrics)
    setting_of = {r["trial"]: r["setting"] for r in done}
    pool = [t for t in udr if setting_of.get(t) in selection["settings"]]  # UDR's candidates
    part: dict[str, Any] = {
        "runs": len(done),
        "distributions": analyses.distributions(rows, metrics),
        "rank_correlation": analyses.rank_correlation(rows, metrics),
        "variance_shares": analyses.variance_shares(rows, metrics),
        "variance_shares_unsupervised": analyses.unsupervised_variance_shares(rows, metrics),
        "udr": {
            "model_scores": udr,
            "selected_run": max(pool, key=udr.get) if pool else None,
            "runs": udr_runs(rows, udr),
            **selection,
        },
        "uncertainty": None,
    }
    if done:
        part["uncertainty"] = uncertainty_analysis(
            rows,
            focus_metrics(metrics),
            udr_scores={t: s for t, s in udr.items() if any(r["trial"] == t for r in done)},
            num_boot=num_boot,
        )
    return part


def variance_with_dataset(rows: list[dict], metrics: list[str], num_boot: int) -> dict:
    """Nested split dataset → supervision → objective → hyperparameter → seed, per metric."""
    out = {}
    for metric in metrics:
        done = [r for r in rows if r.get("status") == "done" and finite(r.get(metric))]
        if len(done) < 3:
            continue
        data = [str(r[DATASET_COLUMN]) for r in done]
        regime = [f"{d}/{analyses.supervision(r)}" for d, r in zip(data, done)]
        groups = {
            "dataset": data,
            "supervision": regime,
            "objective": [f"{g}/{r['preset']}" for g, r in zip(regime, done)],
            "hyperparameter": [f"{g}/{r['preset']}/{r['setting']}" for g, r in zip(regime, done)],
        }
        values = [float(r[metric]) for r in done]
        out[metric] = nested_components(values, groups, residual="seed", num_boot=num_boot)
    return out


def analyse(
    rows: list[dict[str, Any]], encoder: dict[str, Any], *, num_boot: int = 2_000
) -> dict[str, Any]:
    """The content of ``study.json``; ``encoder`` is
    :func:`~pyrodis.runs.study.report_inputs.encoder_values`' answer."""
    metrics = metric_columns(rows)
    names = datasets(rows)
    data: dict[str, Any] = {
        "study": rows[0]["study"],
        "trials": len(rows),
        "done": sum(r["status"] == "done" for r in rows),
        "metrics": metrics,
        "evaluation": evaluation_protocol(rows),
        "encoder_values": encoder["source"],
        "collapsed": collapsed_runs(rows),
        **_part(rows, metrics, encoder["udr"], num_boot),
        "correlated_pair_mi": encoder["pair"],
        "datasets": names,
        "by_dataset": {},
        "variance_with_dataset": {},
    }
    if names:
        for name in names:
            subset = [r for r in rows if str(r.get(DATASET_COLUMN)) == name]
            trials = {r["trial"] for r in subset}
            udr = {t: s for t, s in encoder["udr"].items() if t in trials}
            data["by_dataset"][name] = _part(subset, metrics, udr, num_boot)
        focus = focus_metrics(metrics)
        data["variance_with_dataset"] = variance_with_dataset(rows, focus, num_boot)
    return data
