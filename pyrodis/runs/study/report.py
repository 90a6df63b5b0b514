"""The study report (``pyrodis study report DIR``): ``DIR/study.html``, one self-contained page
with figures embedded, and ``DIR/study.json`` with every number on it (``docs/runs.rst``).

Sections: the trials, each metric's distribution per setting, the Spearman rank correlation
between metrics, the variance explained by objective / hyperparameter / seed, UDR per setting with
the UDR-selected setting against the best and a random one, and — when the study trains on
correlated factors — the correlated pair's latent × factor MI against σ.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from pyrodis.figures import hide_unused, new_figure, panel_grid, save_figure
from pyrodis.runs.report import html
from pyrodis.runs.study import analyses
from pyrodis.runs.study.encoder_analyses import correlated_pair_mi, udr_scores
from pyrodis.runs.study.file import StudyError
from pyrodis.runs.study.results_table import metric_columns, read_results

__all__ = ["SECTIONS", "write_study_report"]

SECTIONS = ("trials", "distributions", "rank-correlation", "variance", "udr", "correlated")
HTML_FILE, JSON_FILE, FIG_DIR = "study.html", "study.json", "figures"
#: the scores the distributions figure draws (the table under it has every sub-score): each
#: metric's own score, DCI's three and explicitness, not training accuracies or latent counts
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
SHARE_PARTS = ("supervision", "objective", "hyperparameter", "seed")


def _strip_axes(ax, labels: list[str]) -> None:
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=6)


def plot_distributions(dist: dict[str, list[dict]], path: Path) -> Path:
    """One panel per headline score (:data:`HEADLINE`; every score when the study has none of
    them): every trial's value per setting, the median and its CI."""
    dist = {m: e for m, e in dist.items() if m in HEADLINE} or dist
    rows, cols = panel_grid(len(dist), max_cols=3)
    fig = new_figure((4.2 * cols, 3.4 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    rng = np.random.default_rng(0)
    for ax, (metric, entries) in zip(axes, dist.items()):
        for i, e in enumerate(entries):
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(e["values"])), e["values"], s=10, alpha=0.7)
            ax.errorbar(
                i, e["median"], [[e["median"] - e["ci_low"]], [e["ci_high"] - e["median"]]],
                fmt="_", color="k", capsize=3, markersize=14,
            )  # fmt: skip
        ax.set_title(metric, fontsize=9)
        _strip_axes(ax, [e["setting"] for e in entries])
    hide_unused(axes, len(dist))
    fig.tight_layout()
    return save_figure(fig, path)


def plot_matrix(corr: dict[str, Any], path: Path) -> Path:
    names, m = corr["metrics"], np.array(corr["matrix"], dtype=float)
    size = max(4.0, 0.45 * len(names) + 2)
    fig = new_figure((size, size))
    ax = fig.subplots()
    im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=7)
    _strip_axes(ax, names)
    fig.colorbar(im, ax=ax, label="Spearman ρ")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_shares(shares: dict[str, dict], path: Path) -> Path:
    names = list(shares)
    fig = new_figure((max(4.0, 0.5 * len(names) + 2), 3.6))
    ax = fig.subplots()
    bottom = np.zeros(len(names))
    for part in _share_parts(shares):
        vals = np.nan_to_num([shares[n][part] for n in names])
        ax.bar(range(len(names)), vals, bottom=bottom, label=part)
        bottom += vals
    ax.set_ylabel("share of variance")
    ax.legend(fontsize=7)
    _strip_axes(ax, names)
    fig.tight_layout()
    return save_figure(fig, path)


def _share_parts(shares: dict[str, dict]) -> list[str]:
    """The sources to show: supervision only when the study has weakly-supervised presets."""
    return [p for p in SHARE_PARTS if p != "supervision" or any(s[p] > 0 for s in shares.values())]


def _shares_table(shares: dict[str, dict]) -> str:
    parts = _share_parts(shares)
    rows = [[m, *(s[p] for p in parts), s["trials"]] for m, s in shares.items()]
    return html.table(["metric", *parts, "trials"], rows)


def plot_pair_mi(entries: list[dict], path: Path) -> Path:
    sigmas = sorted({e["sigma"] for e in entries})
    fig = new_figure((4.5, 3.4))
    ax = fig.subplots()
    for i, s in enumerate(sigmas):
        vals = [e["shared"] for e in entries if e["sigma"] == s]
        ax.scatter([i] * len(vals), vals, s=12, alpha=0.7)
        ax.plot([i - 0.2, i + 0.2], [np.median(vals)] * 2, color="k")
    ax.set_xticks(range(len(sigmas)))
    ax.set_xticklabels(["∞" if math.isinf(s) else f"{s:g}" for s in sigmas])
    ax.set_xlabel("σ of the correlated pair")
    ax.set_ylabel("one latent's normalised MI with both")
    fig.tight_layout()
    return save_figure(fig, path)


def _figure(path: Path, caption: str) -> str:
    return f"<figure>{html.image_tag(path, caption)}<figcaption>{html.esc(caption)}</figcaption></figure>"


def _trials_section(rows: list[dict]) -> str:
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "failed", "pending")}
    failed = [[r["trial"], r["failures"], r["error"]] for r in rows if r["status"] != "done"]
    body = html.table(["status", "trials"], [[k, v] for k, v in counts.items()])
    if failed:
        body += html.table(["trial", "failures", "error"], failed)
    return body


def _medians_table(dist: dict[str, list[dict]]) -> str:
    """Settings × metrics: median [CI low, CI high] (n seeds)."""
    settings = list(dict.fromkeys(e["setting"] for entries in dist.values() for e in entries))
    cells = {(m, e["setting"]): e for m, entries in dist.items() for e in entries}

    def cell(metric: str, setting: str) -> str:
        e = cells.get((metric, setting))
        if e is None:
            return ""
        return f"{e['median']:.3g} [{e['ci_low']:.3g}, {e['ci_high']:.3g}] (n={len(e['values'])})"

    return html.table(["setting", *dist], [[s, *(cell(m, s) for m in dist)] for s in settings])


def analyse(out: Path, rows: list[dict]) -> dict[str, Any]:
    """Every number of the report (the content of ``study.json``)."""
    metrics = metric_columns(rows)
    scores = udr_scores(out, rows)
    varies_pair = any(k in rows[0] for k in ("data.correlation_sigma", "data.correlated"))
    return {
        "study": rows[0]["study"],
        "trials": len(rows),
        "done": sum(r["status"] == "done" for r in rows),
        "metrics": metrics,
        "distributions": analyses.distributions(rows, metrics),
        "rank_correlation": analyses.rank_correlation(rows, metrics),
        "variance_shares": analyses.variance_shares(rows, metrics),
        "variance_shares_unsupervised": analyses.unsupervised_variance_shares(rows, metrics),
        "udr": {
            "model_scores": scores,
            "selected_run": max(scores, key=scores.get) if scores else None,
            "runs": _udr_runs(rows, scores),
            **analyses.udr_selection(rows, scores, metrics),
        },
        "correlated_pair_mi": correlated_pair_mi(out, rows) if varies_pair else [],
    }


#: label-free columns shown beside each run's UDR
_LABEL_FREE = ("unsupervised.num_active_dims", "unsupervised.gaussian_total_correlation")


def _udr_runs(rows: list[dict], scores: dict[str, float]) -> list[dict[str, Any]]:
    """Each scored run: trial, setting, UDR and the label-free scores, by decreasing UDR."""
    found = [
        {"trial": r["trial"], "setting": r["setting"], "udr": scores[r["trial"]],
         **{k: r.get(k) for k in _LABEL_FREE}}
        for r in rows if r["trial"] in scores
    ]  # fmt: skip
    return sorted(found, key=lambda e: -e["udr"])


def _udr_section(udr: dict[str, Any], fig_dir: Path) -> str:
    if not udr["settings"]:
        return html.missing("UDR needs at least two finished seeds of a setting.")
    body = html.table(
        ["setting", "median UDR"], sorted(udr["settings"].items(), key=lambda kv: -kv[1])
    )
    body += f"<p>UDR selects <b>{html.esc(udr['selected'])}</b>"
    if udr.get("selected_run"):
        body += f"; the UDR-selected run is <b>{html.esc(udr['selected_run'])}</b>"
    body += ".</p>"
    if udr.get("runs"):
        header = ["run", "setting", "UDR", "active units", "Gaussian TC (nats)"]
        cells = [["" if v is None else v for v in e.values()] for e in udr["runs"]]
        body += html.table(header, cells)
    if not udr["metrics"]:
        return body + "<p>No supervised metric (no factor labels): UDR chose without them.</p>"
    rows = [
        [m, c["udr_selected"], c["best"], c["best_setting"], c["random"], c["spearman_udr"]]
        for m, c in udr["metrics"].items()
    ]
    header = ["metric", "UDR-selected", "best", "best setting", "random (mean)", "ρ(UDR, metric)"]
    return body + html.table(header, rows)


def _sections(data: dict[str, Any], rows: list[dict], fig_dir: Path) -> list[str]:
    dist, corr, shares = data["distributions"], data["rank_correlation"], data["variance_shares"]
    parts = {"trials": _trials_section(rows)}
    if dist and any(dist.values()):
        fig = plot_distributions(dist, fig_dir / "distributions.png")
        caption = "Each trial (dots), median and 95% bootstrap CI of the median"
        parts["distributions"] = _figure(fig, caption) + _medians_table(dist)
    else:
        parts["distributions"] = html.missing("no finished trial has metrics yet")
    if len(corr["metrics"]) >= 2:
        fig = plot_matrix(corr, fig_dir / "rank_correlation.png")
        parts["rank-correlation"] = _figure(fig, "Spearman rank correlation between metrics")
    else:
        parts["rank-correlation"] = html.missing("needs at least two metrics")
    if shares:
        fig = plot_shares(shares, fig_dir / "variance.png")
        parts["variance"] = _figure(fig, "Share of variance by source") + _shares_table(shares)
        alone = data["variance_shares_unsupervised"]
        if alone:
            parts["variance"] += (
                "<p>The unsupervised trials alone (the supervision share above is the gap "
                "between weak supervision and the unsupervised objectives):</p>"
                + _shares_table(alone)
            )
    else:
        parts["variance"] = html.missing("needs at least two finished trials")
    parts["udr"] = _udr_section(data["udr"], fig_dir)
    pair = data["correlated_pair_mi"]
    if pair:
        fig = plot_pair_mi(pair, fig_dir / "correlated_pair.png")
        parts["correlated"] = _figure(fig, "Correlated pair: one latent's MI with both factors")
    else:
        parts["correlated"] = html.missing(
            "the study does not vary data.correlated / correlation_sigma"
        )
    titles = dict(zip(SECTIONS, ("Trials", "Metric distributions", "Rank correlation",
                                  "Variance explained", "UDR model selection",
                                  "Correlated factors")))  # fmt: skip
    return [html.section(name, titles[name], parts[name]) for name in SECTIONS]


def write_study_report(out: str | Path) -> Path:
    """Write ``DIR/study.html`` and ``DIR/study.json`` from ``DIR/results.csv`` and the runs."""
    out = Path(out)
    rows = read_results(out)
    if not rows:
        raise StudyError(f"{out}/results.csv has no trials; run `pyrodis study run` first")
    data = analyse(out, rows)
    (out / JSON_FILE).write_text(json.dumps(data, indent=2, default=float))
    sections = _sections(data, rows, out / FIG_DIR)
    path = out / HTML_FILE
    path.write_text(html.page(f"Study {data['study']}", sections))
    return path
