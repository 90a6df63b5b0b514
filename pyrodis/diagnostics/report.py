"""The run report: one self-contained HTML page and the same numbers as JSON.

:func:`write_report` takes a run (anything with the attributes of :func:`pyrodis.load_run`'s
``Run``: ``path``, ``config``, ``vae``, ``dataset``, ``history``, ``metrics``, ``elbo_name``),
builds the aggregate posterior of its guide on a sample of the dataset, draws every figure into
``OUT/figures/`` and writes ``OUT/report.html`` (figures embedded) and ``OUT/report.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from . import report_html as H
from .aggregate import AggregatePosterior
from .decomposition import DEFAULT_REFERENCE_SIZE
from .factor_mi import match_latents
from .plots import plot_kl_per_dim, plot_latent_vs_factor, plot_marginals, plot_mi_heatmap
from .sources import load_observations
from .training_plots import history_terms, plot_discriminator_accuracy, plot_training_curves
from .traversals import plot_reconstructions, plot_traversals

#: Section anchors of the page, in order.
SECTIONS = (
    "summary",
    "config",
    "metrics",
    "decomposition",
    "kl-per-dim",
    "active-units",
    "figures",
)


def _device(vae) -> torch.device:
    params = getattr(vae, "parameters", None)
    first = next(iter(params()), None) if callable(params) else None
    return first.device if first is not None else torch.device("cpu")


def _decode(vae):
    device = _device(vae)

    def decode(z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return vae.decode(z.to(device, torch.float32)).cpu()

    return decode


def _figures(run, agg: AggregatePosterior, fig_dir: Path, mi) -> tuple[list, list]:
    """Draw every figure the run's data allows: ([(name, caption, path)], [missing reasons])."""
    decode = _decode(run.vae)
    made, absent = [], []

    def add(name, caption, draw):
        made.append((name, caption, draw(fig_dir / f"{name}.png")))

    add(
        "traversals",
        "Latent traversals from the first point, rows by decreasing KL, 5%–95% quantiles of q(z_j)",
        lambda p: plot_traversals(decode, agg, p),
    )
    n = min(8, agg.num_points)
    images = load_observations(run.dataset, agg.indices[:n])
    recon = decode(agg.loc[:n])
    add(
        "reconstructions",
        "Inputs (top) and reconstructions from the posterior mean (bottom)",
        lambda p: plot_reconstructions(images, recon, p),
    )
    add(
        "kl_per_dim",
        "Average KL per latent (grey: inactive)",
        lambda p: plot_kl_per_dim(agg.kl_per_dim(), p, active=agg.active_units()),
    )
    add(
        "marginals",
        "Marginals q(z_j) of the aggregate posterior against the prior",
        lambda p: plot_marginals(agg, p),
    )
    if mi is not None:
        add(
            "mi_heatmap",
            "Discretised MI (nats) between latents and factors, latents matched to factors",
            lambda p: plot_mi_heatmap(mi, p, factor_names=agg.factor_names),
        )
        values = getattr(run.dataset, "factor_values", None)
        active = np.flatnonzero(agg.active_units())
        add(
            "latent_vs_factor",
            "Mean code of each active latent against each factor's value",
            lambda p: plot_latent_vs_factor(
                agg.mean_codes,
                agg.factors,
                p,
                factor_names=agg.factor_names,
                factor_values=values,
                dims=active if active.size else None,
            ),
        )
    else:
        absent.append("MI heatmap and latent-vs-factor plots: the dataset has no factor labels")
    history = list(run.history or [])
    if history and history_terms(history):
        add(
            "training_curves",
            "Training curves of every logged ELBO term",
            lambda p: plot_training_curves(history, p),
        )
    else:
        absent.append("training curves: the run has no logged history")
    if any(np.isfinite(row.get("disc_acc", np.nan)) for row in history):
        add(
            "discriminator_accuracy",
            "FactorVAE discriminator accuracy (0.5 = chance)",
            lambda p: plot_discriminator_accuracy(history, p),
        )
    return made, absent


def report_numbers(agg: AggregatePosterior, decomposition: dict, mi) -> dict:
    """The report's numbers as a JSON-serialisable dict."""
    kl = agg.kl_per_dim()
    active = agg.active_units()
    out = {
        "aggregate_posterior": {
            "site": agg.site_name,
            "num_points": agg.num_points,
            "dataset_size": agg.dataset_size,
            "latent_dim": agg.latent_dim,
            "prior": agg.prior_source,
        },
        "kl_per_dim": kl.tolist(),
        "kl_total": float(kl.sum()),
        "mean_variance_per_dim": agg.mean_variances().tolist(),
        "active_units": {
            "threshold": 0.01,
            "count": int(active.sum()),
            "mask": active.tolist(),
            "latents": [f"z{j}" for j in np.flatnonzero(active)],
        },
        "decomposition": decomposition,
    }
    if mi is not None:
        _, matched = match_latents(mi)
        out["mutual_information"] = {
            "factor_names": list(agg.factor_names),
            "matrix": np.asarray(mi).tolist(),
            "matched_factor": [agg.factor_names[k] if k >= 0 else None for k in matched],
        }
    return out


def _sections(run, numbers: dict, figures: list, absent: list) -> list[str]:
    agg_info = numbers["aggregate_posterior"]
    dec = numbers["decomposition"]
    kl = numbers["kl_per_dim"]
    act = numbers["active_units"]
    summary = H.table(
        ["item", "value"],
        [
            ["run", str(run.path)],
            ["ELBO", run.elbo_name],
            *[[k, v] for k, v in agg_info.items()],
            ["total KL (nats)", numbers["kl_total"]],
            ["active units", act["count"]],
        ],
    )
    if run.metrics:
        metrics = H.table(
            ["metric", "value", "mean", "std", "ci_low", "ci_high"], H.metric_rows(run.metrics)
        )
        settings = H.metric_settings(run.metrics)
        if settings:
            metrics += "<p>Evaluation settings:</p>" + H.pretty_json(settings)
    else:
        metrics = H.missing("No metrics for this run: run `pyrodis evaluate RUN` to compute them.")
    dec_rows = [[t, dec[t], dec[f"{t}_se"]] for t in ("mi", "tc", "dwkl", "kl")]
    dec_rows.append(["kl (analytic)", dec["kl_analytic"], ""])
    decomposition = H.table(["term", "nats", "standard error"], dec_rows) + (
        f"<p>Estimator: {H.esc(dec['estimator'])}; {dec['num_samples']} samples. MI + TC + dwKL "
        "equals the Monte-Carlo KL exactly; it estimates the analytic average KL.</p>"
    )
    mvar = numbers["mean_variance_per_dim"]
    kl_rows = [[f"z{j}", kl[j], dec["dwkl_per_dim"][j], mvar[j]] for j in np.argsort(kl)[::-1]]
    kl_table = H.table(["latent", "KL (nats)", "dim-wise KL", "Var of mean"], kl_rows)
    active = (
        f"<p>{act['count']} of {len(act['mask'])} latents active "
        f"(Cov_x E[z_j|x] &gt; {act['threshold']}, Burda et al. 2016): "
        f"{H.esc(', '.join(act['latents']) or 'none')}.</p>"
    )
    if "mutual_information" in numbers:
        mi = numbers["mutual_information"]
        matrix = np.asarray(mi["matrix"])
        rows = [
            [f"z{j}", "yes" if act["mask"][j] else "no", m or "—", matrix[j].max()]
            for j, m in enumerate(mi["matched_factor"])
        ]
        active += H.table(["latent", "active", "matched factor", "max MI (nats)"], rows) + (
            "<p>Each factor is matched to one latent by maximal total discretised MI; a match "
            "of an inactive latent or with a small MI means nothing.</p>"
        )
    figs = "".join(
        f'<figure id="fig-{H.esc(n)}">{H.image_tag(p, n)}<figcaption>{H.esc(c)}</figcaption>'
        "</figure>"
        for n, c, p in figures
    ) + "".join(H.missing(f"Not shown — {a}.") for a in absent)
    bodies = [summary, H.pretty_json(run.config), metrics, decomposition, kl_table, active, figs]
    titles = [
        "Summary",
        "Configuration",
        "Metrics",
        "KL decomposition (MI, TC, dimension-wise KL)",
        "KL per dimension",
        "Active units",
        "Figures",
    ]
    return [H.section(a, t, b) for a, t, b in zip(SECTIONS, titles, bodies)]


def write_report(
    run,
    out_dir: str | Path | None = None,
    *,
    num_points: int = 10_000,
    batch_size: int = 256,
    reference_size: int = DEFAULT_REFERENCE_SIZE,
    seed: int = 0,
) -> Path:
    """Write ``report.html``, ``report.json`` and ``figures/*.png`` for a run; return the HTML path.

    Args:
        run: a run (``path``, ``config``, ``vae``, ``dataset``, ``history``, ``metrics``,
            ``elbo_name``); ``run.metrics`` is ``EvaluationResult.to_dict()`` output or None.
        out_dir: where to write; default ``run.path``.
        num_points: points of the dataset the aggregate posterior uses (uniform, seeded).
        batch_size: guide batch size.
        reference_size: reference points of the decomposition's estimator.
        seed: seeds the points, the decomposition and the ArviZ-style samples.
    """
    out = Path(run.path if out_dir is None else out_dir)
    fig_dir = out / "figures"
    vae = run.vae
    if getattr(vae, "training", False):
        vae.eval()
    agg = AggregatePosterior.from_guide(
        vae.guide,
        run.dataset,
        num_points=num_points,
        batch_size=batch_size,
        seed=seed,
        device=_device(vae),
    )
    decomposition = agg.decomposition(reference_size=reference_size, seed=seed)
    mi = agg.mutual_information() if agg.factors is not None else None
    numbers = report_numbers(agg, decomposition, mi)
    figures, absent = _figures(run, agg, fig_dir, mi)
    numbers["figures"] = {n: str(p.relative_to(out)) for n, _, p in figures}
    numbers["not_shown"] = absent
    numbers["metrics"] = run.metrics
    numbers["config"] = run.config
    numbers["elbo_name"] = run.elbo_name
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(numbers, indent=2, default=str))
    title = f"pyrodis report — {Path(run.path).name} ({run.elbo_name})"
    html_path = out / "report.html"
    html_path.write_text(H.page(title, _sections(run, numbers, figures, absent)), encoding="utf-8")
    return html_path
