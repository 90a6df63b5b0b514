"""The descriptive sections of the study report: trials, distributions, the descriptive variance
shares, UDR's choice of setting, and the correlated pair (``docs/runs.rst``, Studies)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyrodis.runs.report import html
from pyrodis.runs.study.report_figures import plot_distributions, plot_pair_mi
from pyrodis.runs.study.report_numbers import focus_metrics

__all__ = [
    "collapsed_paragraph",
    "correlated_section",
    "distributions_section",
    "figure",
    "wide",
    "shares_table",
    "trials_section",
    "udr_selection_section",
]

SHARE_PARTS = ("supervision", "objective", "hyperparameter", "seed")


def figure(path: Path, caption: str) -> str:
    tag = html.image_tag(path, caption)
    return f"<figure>{tag}<figcaption>{html.esc(caption)}</figcaption></figure>"


def wide(table: str) -> str:
    """A table whose cells do not wrap, scrolling sideways when wider than the page."""
    style = "<style>.wide td{white-space:nowrap}</style>"
    return f'{style}<div class="wide" style="overflow-x:auto">{table}</div>'


def trials_section(rows: list[dict], data: dict[str, Any]) -> str:
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "failed", "pending")}
    failed = [[r["trial"], r["failures"], r["error"]] for r in rows if r["status"] != "done"]
    body = html.table(["status", "trials"], [[k, v] for k, v in counts.items()])
    if failed:
        body += html.table(["trial", "failures", "error"], failed)
    body += f"<p><b>Evaluation protocol.</b> {html.esc(data['evaluation']['text'])}</p>"
    source = {
        "runs": "UDR and the correlated pair's MI were computed from the trained encoders in "
        "the run directories.",
        "saved": "The run directories are gone: UDR and the correlated pair's MI are the per-run "
        "values saved in the study's earlier study.json; everything else is recomputed from "
        "results.csv.",
        "none": "The run directories are gone and no saved study.json holds their per-run "
        "values: the analyses that need the trained encoders (UDR) are left out.",
    }[data["encoder_values"]]
    return (
        body + f"<p>{html.esc(source)}</p>" + collapsed_paragraph(data["collapsed"], counts["done"])
    )


def collapsed_paragraph(collapsed: list[dict], done: int) -> str:
    """How many finished runs never left the collapsed start, and which (``collapse``)."""
    if not collapsed:
        return f"<p>None of the {done} finished runs was found collapsed.</p>"
    text = (
        f"<p><b>{len(collapsed)} of {done} finished runs collapsed</b>: no active latent, so "
        "every metric scores noise at chance. They are a property of the budget (the run "
        "stopped before leaving the mean-image plateau) and stay in every analysis below; "
        "dropping them would be a choice made on the outcome.</p>"
    )
    kl = ["" if e["kl"] is None else f"{e['kl']:.3g}" for e in collapsed]
    rows = [[e["trial"], e["setting"], e["seed"], e["active_units"], k, e["rule"]]
            for e, k in zip(collapsed, kl)]  # fmt: skip
    header = ["run", "setting", "seed", "active units", "final KL (nats)", "rule"]
    return text + html.table(header, [["" if v is None else v for v in r] for r in rows])


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


def distributions_section(dist: dict[str, list[dict]], fig_dir: Path) -> str:
    if not dist or not any(dist.values()):
        return html.missing("no finished trial has metrics yet")
    shown = {m: e for m, e in dist.items() if m in focus_metrics(list(dist)) and e}
    fig = plot_distributions(shown, fig_dir / "distributions.png")
    caption = "Each run (dots), the median and the 95% bootstrap CI of the median per setting"
    table = wide(_medians_table(dist))
    return figure(fig, caption) + "<p>Every sub-score: median [95% CI] (n runs)</p>" + table


def _share_parts(shares: dict[str, dict]) -> list[str]:
    """The sources to show: supervision only when the study has weakly-supervised presets."""
    return [p for p in SHARE_PARTS if p != "supervision" or any(s[p] > 0 for s in shares.values())]


def shares_table(shares: dict[str, dict]) -> str:
    parts = _share_parts(shares)
    shown = focus_metrics(list(shares))
    rows = [[m, *(s[p] for p in parts), s["trials"]] for m, s in shares.items() if m in shown]
    return html.table(["metric", *parts, "trials"], rows)


def udr_selection_section(udr: dict[str, Any]) -> str:
    if not udr["settings"]:
        return html.missing("UDR needs at least two finished seeds of a setting.")
    body = html.table(
        ["setting", "median UDR"], sorted(udr["settings"].items(), key=lambda kv: -kv[1])
    )
    body += f"<p>UDR selects <b>{html.esc(udr['selected'])}</b> (the highest median UDR)"
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
        if m in focus_metrics(list(udr["metrics"]))
    ]
    header = ["metric", "UDR-selected", "best", "best setting", "random (mean)", "ρ over settings"]
    note = (
        "<p>Medians per setting: of the UDR-selected setting, of the best one (an oracle that "
        "sees the labels) and their mean over all settings (a random choice). ρ is over the "
        "setting medians; its interval and the runs-level ρ are in the table above.</p>"
    )
    if udr.get("pool") == "unsupervised":
        note += (
            "<p>UDR selects among unsupervised models: the weakly-supervised settings take no "
            "part in the selection, the best or the random choice.</p>"
        )
    return body + html.table(header, rows) + note


def correlated_section(pair: list[dict], fig_dir: Path) -> str:
    if not pair:
        return html.missing("the study does not vary data.correlated / correlation_sigma")
    fig = plot_pair_mi(pair, fig_dir / "correlated_pair.png")
    return figure(fig, "Correlated pair: one latent's MI with both factors, per run, against σ")
