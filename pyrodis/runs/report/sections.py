"""The sections of a run's report page, built from the numbers of :mod:`pyrodis.runs.report.run_report`.

Pictures first (reconstructions, traversals, samples), the numbers next, the other figures, and
the config folded away (``<details>``) at the end.
"""

from __future__ import annotations

import numpy as np

from pyrodis.runs.report import html

__all__ = ["SECTIONS", "report_sections"]

#: Section anchors of the page, in order.
SECTIONS = (
    "pictures",
    "summary",
    "metrics",
    "decomposition",
    "kl-per-dim",
    "active-units",
    "figures",
    "config",
)
_TITLES = (
    "Reconstructions, traversals and samples",
    "Summary",
    "Metrics",
    "KL decomposition (MI, TC, dimension-wise KL)",
    "KL per dimension",
    "Active units",
    "Figures",
    "Configuration",
)
#: the figures of the first section (the rest go under "Figures")
PICTURES = ("reconstructions", "traversals", "samples")


def _summary(run, numbers: dict) -> str:
    return html.table(
        ["item", "value"],
        [
            ["run", str(run.path)],
            ["ELBO", run.elbo_name],
            *[[k, v] for k, v in numbers["aggregate_posterior"].items()],
            ["total KL (nats)", numbers["kl_total"]],
            ["active units", numbers["active_units"]["count"]],
            *_images_rows(run.dataset),
        ],
    )


def _images_rows(dataset) -> list[list]:
    """What a run on your own images was trained on: where, how many, skipped."""
    if getattr(dataset, "factor_sizes", None) is not None or not hasattr(dataset, "file_names"):
        return []
    c, h, w = dataset.observation_shape
    where = getattr(dataset, "root", getattr(dataset, "path", ""))
    rows = [["images", f"{len(dataset)} at {c}×{h}×{w} from {where} (no factor labels)"]]
    skipped = getattr(dataset, "skipped", None) or {}
    if skipped:
        rows.append(["files skipped", f"{len(skipped)}: {', '.join(list(skipped)[:5])}"])
    return rows


def _without_empty_columns(header: list, rows: list[list]) -> tuple[list, list[list]]:
    keep = [i for i in range(len(header)) if i == 0 or any(r[i] != "" for r in rows)]
    return [header[i] for i in keep], [[r[i] for i in keep] for r in rows]


def _metrics(run) -> str:
    if not run.metrics:
        return html.missing("No metrics for this run: run `pyrodis evaluate RUN` to compute them.")
    header, rows = _without_empty_columns(
        ["metric", "value", "mean", "std", "ci_low", "ci_high"], html.metric_rows(run.metrics)
    )
    body = html.table(header, rows) if rows else ""
    settings = html.metric_settings(run.metrics)
    for key in ("kl_per_latent", "active_latents"):  # the tables below show them
        settings.pop(key, None)
    labels = settings.pop("labels", None)
    if labels:
        factors = ", ".join(f"{k} ({v} classes)" for k, v in labels["factors"].items())
        body += (
            f"<p>Labels: {html.esc(labels['file'])} names {labels['labelled_images']} of the "
            f"{labels['images']} images; factors {html.esc(factors)}; scored with "
            f"{html.esc(', '.join(labels['metrics']) or 'no metric')}.</p>"
        )
    for key, what in (("needs_labels", "Needs labels"), ("not_applicable", "Not applicable")):
        waiting = settings.pop(key, None)
        if waiting:
            body += f"<p>{what}:</p>" + html.table(["metric", "why"], list(waiting.items()))
    return body + ("<p>Evaluation settings:</p>" + html.pretty_json(settings) if settings else "")


def _decomposition(numbers: dict) -> str:
    dec = numbers["decomposition"]
    rows = [[t, dec[t], dec[f"{t}_se"]] for t in ("mi", "tc", "dwkl", "kl")]
    method = numbers["aggregate_posterior"].get("kl_method", "closed form")
    rows.append([f"kl ({method})", dec["kl_analytic"], ""])
    return html.table(["term", "nats", "standard error"], rows) + (
        f"<p>Estimator: {html.esc(dec['estimator'])}; {dec['num_samples']} samples. MI + TC + dwKL "
        "equals the Monte-Carlo KL exactly; it estimates the average KL of the last row.</p>"
    )


def _kl_table(numbers: dict) -> str:
    kl, names = numbers["kl_per_dim"], numbers["latent_names"]
    se = numbers.get("kl_standard_errors") or [0.0] * len(kl)
    se = se if any(se) else [""] * len(kl)  # closed form: no error, no column
    dwkl, mvar = numbers["decomposition"]["dwkl_per_dim"], numbers["mean_variance_per_dim"]
    rows = [[names[j], kl[j], se[j], dwkl[j], mvar[j]] for j in np.argsort(kl)[::-1]]
    header, rows = _without_empty_columns(
        ["latent", "KL (nats)", "KL standard error", "dim-wise KL", "Var of mean"], rows
    )
    prior = numbers["aggregate_posterior"]["prior"]
    return html.table(header, rows) + f"<p>KL against the prior: {html.esc(prior)}.</p>"


def _active(numbers: dict) -> str:
    act, names = numbers["active_units"], numbers["latent_names"]
    body = (
        f"<p>{act['count']} of {len(act['mask'])} latents active "
        f"(Cov_x E[z_j|x] &gt; {act['threshold']}, Burda et al. 2016): "
        f"{html.esc(', '.join(act['latents']) or 'none')}.</p>"
    )
    if "mutual_information" not in numbers:
        return body
    mi = numbers["mutual_information"]
    matrix = np.asarray(mi["matrix"])
    rows = [
        [names[j], "yes" if act["mask"][j] else "no", m or "—", matrix[j].max()]
        for j, m in enumerate(mi["matched_factor"])
    ]
    return (
        body
        + html.table(["latent", "active", "matched factor", "max MI (nats)"], rows)
        + (
            "<p>Each factor is matched to one latent by maximal total discretised MI; a match "
            "of an inactive latent or with a small MI means nothing.</p>"
        )
    )


def _figures(figures: list, absent: list) -> str:
    shown = "".join(
        f'<figure id="fig-{html.esc(n)}">{html.image_tag(p, n)}<figcaption>{html.esc(c)}</figcaption>'
        "</figure>"
        for n, c, p in figures
    )
    return shown + "".join(html.missing(f"Not shown — {a}.") for a in absent)


def _is_picture(name: str) -> bool:
    return any(name == p or name.startswith(f"{p}_") for p in PICTURES)


def report_sections(run, numbers: dict, figures: list, absent: list) -> list[str]:
    """The HTML sections of the page, in the order of :data:`SECTIONS`."""
    bodies = [
        _figures([f for f in figures if _is_picture(f[0])], []),
        _summary(run, numbers),
        _metrics(run),
        _decomposition(numbers),
        _kl_table(numbers),
        _active(numbers),
        _figures([f for f in figures if not _is_picture(f[0])], absent),
        "<details><summary>The run's full configuration (click to open)</summary>"
        + html.pretty_json(numbers["config"])
        + "</details>",
    ]
    return [html.section(a, t, b) for a, t, b in zip(SECTIONS, _TITLES, bodies)]
