"""The study report (``pyrodis study report DIR [--out OUT]``): ``OUT/study.html``, one
self-contained page with figures embedded, and ``OUT/study.json`` with every number on it
(``docs/runs.rst``, ``docs/studies.rst``).

Sections: the trials and the evaluation protocol; each metric's distribution per setting; the
Spearman rank correlation between metrics over runs and over setting medians, with intervals; the
variance of each metric, descriptive shares beside the crossed (setting × seed index) and nested
components with intervals and what pure noise would give; exact comparisons between settings with
the smallest p the design allows; UDR against each metric at both levels and the UDR-selected
setting; and, when the study trains on correlated factors, the pair's latent × factor MI against
σ. A study that crosses datasets gets every analysis per dataset.

The report is rebuilt from ``results.csv`` alone when the run directories are gone: what needs
the trained encoders (UDR, the correlated pair) is then read from the ``study.json`` an earlier
report saved, and that file is not overwritten unless ``--out`` names the study directory.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from pyrodis.runs.report import html
from pyrodis.runs.study import report_sections as sec
from pyrodis.runs.study import report_uncertainty as unc_html
from pyrodis.runs.study.file import StudyError
from pyrodis.runs.study.report_inputs import JSON_FILE, encoder_values
from pyrodis.runs.study.report_numbers import HEADLINE, analyse
from pyrodis.runs.study.results_table import read_results
from pyrodis.runs.study.tracking import log_study_report

__all__ = ["HEADLINE", "SECTIONS", "write_study_report"]

SECTIONS = (
    "trials", "distributions", "rank-correlation", "variance", "comparisons", "udr", "correlated"
)  # fmt: skip
TITLES = ("Trials", "Metric distributions", "Rank correlation", "Variance explained",
          "Comparisons between settings", "UDR model selection", "Correlated factors")  # fmt: skip
HTML_FILE, FIG_DIR = "study.html", "figures"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _part_sections(part: dict[str, Any], fig_dir: Path, label: str) -> dict[str, str]:
    """The analysis sections of one set of runs (the study, or one of its datasets)."""
    unc = part["uncertainty"]
    none = html.missing("no finished runs")
    out = {"distributions": sec.distributions_section(part["distributions"], fig_dir)}
    out["rank-correlation"] = unc_html.spearman_section(unc, fig_dir) if unc else none
    shares = part["variance_shares"]
    variance = "<p>Descriptive shares (law of total variance over nested groups):</p>"
    variance += sec.shares_table(shares) if shares else html.missing("needs >= 2 finished runs")
    alone = part["variance_shares_unsupervised"]
    if alone:
        variance += (
            "<p>The unsupervised trials alone (the supervision share above is the gap between "
            "weak supervision and the unsupervised objectives):</p>" + sec.shares_table(alone)
        )
    out["variance"] = variance + (unc_html.variance_section(unc, fig_dir, label) if unc else "")
    out["comparisons"] = unc_html.comparisons_section(unc) if unc else none
    udr = unc_html.udr_levels_table(unc) if unc else none
    out["udr"] = udr + sec.udr_selection_section(part["udr"])
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)


def _sections(data: dict[str, Any], rows: list[dict], fig_dir: Path) -> list[str]:
    parts = {"trials": sec.trials_section(rows, data)}
    if not data["datasets"]:
        parts.update(_part_sections(data, fig_dir, "all runs"))
    else:
        each = {
            n: _part_sections(p, fig_dir / _slug(n), f"{n} runs")
            for n, p in data["by_dataset"].items()
        }
        for name in ("distributions", "rank-correlation", "variance", "comparisons", "udr"):
            parts[name] = "".join(
                f"<h3>dataset {html.esc(n)}</h3>{body[name]}" for n, body in each.items()
            )
        whole = data["variance_with_dataset"]
        if whole:
            title = "every run, dataset as a factor"
            fig = fig_dir / "nested_dataset.png"
            parts["variance"] = (
                "<h3>all datasets, the dataset as the outermost factor</h3>"
                + unc_html.nested_html(whole, fig, title)
                + parts["variance"]
            )
        parts["trials"] += f"<p>The study crosses the datasets {html.esc(data['datasets'])}; "
        parts["trials"] += "every analysis below is given per dataset.</p>"
    parts["correlated"] = sec.correlated_section(data["correlated_pair_mi"], fig_dir)
    if data["uncertainty"]:
        parts["trials"] += unc_html.design_paragraph(data["uncertainty"])
    return [html.section(name, t, parts[name]) for name, t in zip(SECTIONS, TITLES)]


def _output_dir(study_dir: Path, out: str | Path | None, encoder: dict[str, Any]) -> Path:
    """``out``, or the study directory when that loses nothing (its study.json is the only copy
    of the per-run values when the run directories are gone)."""
    if out is not None:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise StudyError(f"--out {out} is a file; give a directory for the study report")
        out.mkdir(parents=True, exist_ok=True)
        return out
    if encoder["source"] == "saved" and (encoder["udr"] or encoder["pair"]):
        raise StudyError(
            f"{study_dir} holds a study's saved tables without its run directories, and its "
            f"{JSON_FILE} is the only copy of their per-run values (UDR); write the report "
            f"elsewhere with --out DIR (or --out {study_dir} to replace it)"
        )
    return study_dir


def write_study_report(
    study_dir: str | Path, out: str | Path | None = None, *, num_boot: int = 2_000
) -> Path:
    """Write ``study.html`` and ``study.json`` for the study in ``study_dir`` into ``out``
    (default: ``study_dir``); return the page's path. ``num_boot``: bootstrap draws of every
    interval."""
    study_dir = Path(study_dir)
    rows = read_results(study_dir)
    if not rows:
        raise StudyError(f"{study_dir}/results.csv has no trials; run `pyrodis study run` first")
    varies_pair = any(k in rows[0] for k in ("data.correlation_sigma", "data.correlated"))
    encoder = encoder_values(study_dir, rows, varies_pair)
    target = _output_dir(study_dir, out, encoder)
    data = analyse(rows, encoder, num_boot=num_boot)
    sections = _sections(data, rows, target / FIG_DIR)
    write_atomic(target / JSON_FILE, json.dumps(data, indent=2, default=float))
    path = target / HTML_FILE
    write_atomic(path, html.page(f"Study {data['study']}", sections))
    figures = sorted((target / FIG_DIR).glob("*.png"))
    log_study_report(study_dir, [path, target / JSON_FILE, study_dir / "results.csv", *figures])
    return path
