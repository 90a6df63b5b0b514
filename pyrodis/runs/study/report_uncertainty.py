"""The study report's claims with their uncertainty: the design's resolution, the crossed and
nested variance components, Spearman's ρ at a stated level, UDR against each metric, and exact
comparisons between settings; HTML from :func:`~pyrodis.runs.study.uncertainty.uncertainty_analysis`
(``docs/studies.rst``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pyrodis.runs.report import html
from pyrodis.runs.study.exact import min_attainable_p
from pyrodis.runs.study.report_figures import plot_interval_shares, plot_spearman
from pyrodis.runs.study.report_sections import figure

__all__ = [
    "comparisons_section",
    "design_paragraph",
    "nested_html",
    "spearman_section",
    "udr_levels_table",
    "variance_section",
]


def _ci(value: float, ci: list[float]) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def _p(p: float) -> str:
    return "–" if not math.isfinite(p) else f"{p:.2g}" if p < 0.01 else f"{p:.3f}"


def _noise(n: dict[str, float]) -> str:
    return f"{n['mean']:.2f} [{n['low']:.2f}, {n['high']:.2f}]"


def design_paragraph(unc: dict[str, Any]) -> str:
    """n, settings, seeds and the smallest p an exact test of two settings can reach."""
    d = unc["design"]
    per = sorted(set(d["runs_per_setting"].values()))
    k = per[0] if per else 0
    text = (
        f"{d['runs']} finished runs: {d['settings']} settings × seeds {d['seeds']} "
        f"({'–'.join(map(str, per)) if per else 0} runs per setting). With {k} runs against {k}, "
        f"an exact permutation test of two settings cannot give p below {_p(d['min_p_two_sided'])} "
        f"(two-sided; one-sided {_p(d['min_p_one_sided'])}), whatever the numbers."
    )
    if d["can_separate_two_settings"]:
        verdict = f"The design can separate two settings at the {d['alpha']:.0%} level."
    else:
        need = next(n for n in range(k + 1, 50) if min_attainable_p(n, n) <= d["alpha"])
        verdict = (
            f"This study cannot separate two settings at the {d['alpha']:.0%} level; that takes "
            f"at least {need} seeds per setting (floor {_p(min_attainable_p(need, need))})."
        )
    return f"<p><b>Design.</b> {html.esc(text)} <b>{html.esc(verdict)}</b></p>"


def _crossed_html(crossed: dict[str, Any], fig: Path, what: str) -> str:
    if not crossed:
        return html.missing("the crossed design needs >= 2 settings with >= 2 common seeds")
    bars = {
        m: {s: {"share": v["share"], "ci": v["share_ci"]} for s, v in c["sources"].items()}
        for m, c in crossed.items()
    }
    title = f"Crossed design ({what}): variance components' shares, 95% parametric bootstrap"
    rows = []
    for m, c in crossed.items():
        for s, v in c["sources"].items():
            t = c["f_tests"].get(s)
            f = f"F={t['F']:.3g} ({t['df'][0]}, {t['df'][1]}), p={_p(t['p_value'])}" if t else ""
            rows.append(
                [m, s, _ci(v["share"], v["share_ci"]), v["ss_share"], _noise(v["pure_noise"]), f]
            )
    header = ["metric", "source", "component share [95%]", "descriptive share",
              "pure noise: share [95%]", "F test"]  # fmt: skip
    n = next(iter(crossed.values()))
    note = (
        f"<p>{n['settings']} settings × {n['seeds']} seed indices = {n['runs']} runs, one per "
        "cell, so the residual holds the setting × seed interaction. Components by the ANOVA "
        "method of moments (negative estimates set to 0); a share near 0 with an interval "
        "reaching far up says the data cannot tell. The descriptive share SS/SS_total is shown "
        "beside the share pure noise would give.</p>"
    )
    return figure(plot_interval_shares(bars, title, fig), title) + note + html.table(header, rows)


def nested_html(nested: dict[str, Any], fig: Path, what: str) -> str:
    if not nested:
        return ""
    bars = {
        m: {
            s: {"share": v["ss_share"], "ci": v["ss_share_ci"], "noise": v["pure_noise"]}
            for s, v in c["sources"].items()
            if v["df"] > 0
        }
        for m, c in nested.items()
    }
    title = (f"Nested split ({what}): descriptive shares, 95% parametric bootstrap; "
             "black tick: pure noise (dotted: its 95% range)")  # fmt: skip
    rows = [
        [m, s, _ci(v["ss_share"], v["ss_share_ci"]), _noise(v["pure_noise"]),
         _ci(v["share"], v["share_ci"]), v["df"]]
        for m, c in nested.items()
        for s, v in c["sources"].items()
        if v["df"] > 0
    ]  # fmt: skip
    header = ["metric", "source", "descriptive share [95%]", "pure noise [95%]",
              "component share [95%]", "df"]  # fmt: skip
    return figure(plot_interval_shares(bars, title, fig), title) + html.table(header, rows)


def variance_section(unc: dict[str, Any], fig_dir: Path, with_dataset: dict | None = None) -> str:
    """Crossed and nested splits (all runs, then the unsupervised runs alone when both)."""
    body = _crossed_html(unc["crossed"], fig_dir / "crossed.png", "all runs")
    body += nested_html(unc["nested"], fig_dir / "nested.png", "all runs")
    if unc["crossed_unsupervised"] or unc["nested_unsupervised"]:
        body += "<p>The unsupervised runs alone (Locatello et al. 2019's question):</p>"
        body += _crossed_html(unc["crossed_unsupervised"], fig_dir / "crossed_u.png", "unsup.")
        body += nested_html(unc["nested_unsupervised"], fig_dir / "nested_u.png", "unsup.")
    if with_dataset:
        body += "<p>Every run, with the dataset as the outermost factor:</p>"
        body += nested_html(with_dataset, fig_dir / "nested_dataset.png", "dataset first")
    return body


def spearman_section(unc: dict[str, Any], fig_dir: Path) -> str:
    parts = []
    for level, found in unc["spearman"].items():
        fig = plot_spearman(found, fig_dir / f"spearman_{level}.png")
        unit = "runs" if level == "runs" else "setting medians"
        caption = (f"Spearman ρ between the supervised metrics over {found['n']} {unit}; "
                   f"interval: {found['interval']}")  # fmt: skip
        parts.append(figure(fig, caption))
    if not parts:
        return html.missing("needs at least two supervised metrics over >= 3 runs")
    return "".join(parts)


def udr_levels_table(unc: dict[str, Any]) -> str:
    """ρ(UDR, metric) over runs and over setting medians, all runs and unsupervised runs."""
    rows = []
    for which, levels in unc["udr"].items():
        metrics = list(next(iter(levels.values()), {}))
        for m in metrics:
            cells = []
            for level in ("runs", "settings"):
                c = levels.get(level, {}).get(m)
                cells.append(
                    f"{_ci(c['rho'], c['ci'])}, p={_p(c['p_value'])}, n={c['n']}" if c else "–"
                )
            rows.append([which, m, *cells])
    if not rows:
        return html.missing("no per-run UDR scores (UDR needs >= 2 finished seeds of a setting)")
    header = ["runs", "metric", "ρ(UDR, metric) over runs", "ρ over setting medians"]
    note = "<p>95% bootstrap intervals; p: permutation test of ρ = 0.</p>"
    return html.table(header, rows) + note


def comparisons_section(unc: dict[str, Any]) -> str:
    rows = []
    for m, c in unc["comparisons"].items():
        if not c:
            continue
        t = c["top_two"]
        rows.append(
            [m, t["a"], t["b"], t["difference"], _p(t["p_value"]), _p(t["min_p"]),
             f"{c['significant']} / {len(c['pairs'])}", f"{c['separable']} / {len(c['pairs'])}"]
        )  # fmt: skip
    if not rows:
        return html.missing("needs at least two settings with finished runs")
    header = ["metric", "best setting (median)", "second", "difference of means", "exact p",
              "smallest p possible", "pairs significant (Holm)", "pairs the design can separate"]  # fmt: skip
    note = (
        "<p>Exact permutation test (two-sided) of the difference of the two settings' mean; "
        "every pair of settings is tested in study.json, Holm-adjusted over the pairs.</p>"
    )
    return design_paragraph(unc) + html.table(header, rows) + note
