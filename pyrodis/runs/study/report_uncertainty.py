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
from pyrodis.runs.study.report_sections import figure, wide

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
            f"at least {need} seeds per setting (smallest p then {_p(min_attainable_p(need, need))}; "
            "5 seeds give 0.008)."
        )
    return f"<p><b>Design.</b> {html.esc(text)} <b>{html.esc(verdict)}</b></p>"


def _crossed_html(crossed: dict[str, Any], fig: Path, what: str) -> str:
    if not crossed:
        return html.missing("the crossed design needs >= 2 settings with >= 2 common seeds")
    bars = {
        m: {s: {"share": v["share"], "ci": v["share_ci"]} for s, v in c["sources"].items()}
        for m, c in crossed.items()
    }
    title = f"Crossed design ({what}): shares of the variance components, 95% intervals"
    first = next(iter(crossed.values()))
    sources, tests = list(first["sources"]), list(first["f_tests"])
    rows = [
        ["pure noise would give", *("0" for _ in sources),
         *(f"{v['pure_noise']['mean']:.2f}" for v in first["sources"].values()), *("" for _ in tests)]
    ]  # fmt: skip
    for m, c in crossed.items():
        rows.append(
            [m, *(_ci(v["share"], v["share_ci"]) for v in c["sources"].values()),
             *(v["ss_share"] for v in c["sources"].values()),
             *(f"{_p(t['p_value'])} (F={t['F']:.3g})" for t in c["f_tests"].values())]
        )  # fmt: skip
    header = ["metric", *(f"{s} [95%]" for s in sources), *(f"SS share: {s}" for s in sources),
              *(f"p: {t}" for t in tests)]  # fmt: skip
    n = next(iter(crossed.values()))
    note = (
        f"<p>{n['settings']} settings × {n['seeds']} seed indices = {n['runs']} runs, one per "
        "cell (the residual holds the setting × seed interaction). First the variance "
        "components' shares with 95% parametric-bootstrap intervals (ANOVA method of moments, "
        "negative estimates set to 0; a share near 0 whose interval reaches far up says the data "
        "cannot tell), then the descriptive shares SS/SS_total, whose values under pure noise "
        "are the first row, then the two-way F tests of the setting and of the seed index (df "
        f"{first['f_tests']['setting']['df']} and {first['f_tests']['seed']['df']}).</p>"
    )
    caption = (
        "Bars: each component's share of the variance; whiskers: 95% parametric-bootstrap interval"
    )
    return (
        figure(plot_interval_shares(bars, title, fig), caption)
        + note
        + wide(html.table(header, rows))
    )


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
    title = f"Nested split ({what}): descriptive shares, 95% intervals"
    first = next(iter(nested.values()))
    sources = [s for s, v in first["sources"].items() if v["df"] > 0]
    noise = ["pure noise would give", *(_noise(first["sources"][s]["pure_noise"]) for s in sources)]
    rows = [noise] + [
        [m, *(_ci(c["sources"][s]["ss_share"], c["sources"][s]["ss_share_ci"]) for s in sources)]
        for m, c in nested.items()
    ]
    note = (
        f"<p>{first['runs']} runs, each level nested in the one before. Each cell: the "
        "descriptive share SS/SS_total with its 95% parametric-bootstrap interval; the first row "
        "is what pure noise would give (mean [95% range]). The variance components of the nested "
        "model (Henderson's method I) are in study.json.</p>"
    )
    caption = (
        "Bars: descriptive shares with 95% intervals; black tick: what pure noise would give "
        "(dotted: its 95% range). A bar is evidence only where it clears the dotted range."
    )
    fig_path = plot_interval_shares(bars, title, fig)
    header = ["metric", *(f"{s} [95%]" for s in sources)]
    return figure(fig_path, caption) + note + html.table(header, rows)


def variance_section(unc: dict[str, Any], fig_dir: Path, label: str = "all runs") -> str:
    """Crossed and nested splits (``label``'s runs, then its unsupervised runs alone when both)."""
    body = _crossed_html(unc["crossed"], fig_dir / "crossed.png", label)
    body += nested_html(unc["nested"], fig_dir / "nested.png", label)
    if unc["crossed_unsupervised"] or unc["nested_unsupervised"]:
        body += "<p>The unsupervised runs alone (Locatello et al. 2019's question):</p>"
        body += _crossed_html(unc["crossed_unsupervised"], fig_dir / "crossed_u.png", "unsup.")
        body += nested_html(unc["nested_unsupervised"], fig_dir / "nested_u.png", "unsup.")
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
            rows.append(["all" if which == "all" else "unsupervised only", m, *cells])
    if not rows:
        return html.missing("no per-run UDR scores (UDR needs >= 2 finished seeds of a setting)")
    header = ["which runs", "metric", "ρ(UDR, metric) over runs", "ρ over setting medians"]
    note = "<p>95% bootstrap intervals; p: permutation test of ρ = 0.</p>"
    return wide(html.table(header, rows)) + note


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
    header = ["metric", "best setting (median)", "second", "mean difference (best − second)", "exact p",
              "smallest p possible", "pairs significant (Holm)", "pairs the design can separate"]  # fmt: skip
    note = (
        "<p>Exact permutation test (two-sided) of the difference of the two settings' mean; "
        "every pair of settings is tested in study.json, Holm-adjusted over the pairs.</p>"
    )
    return design_paragraph(unc) + wide(html.table(header, rows)) + note
