"""The run report: one self-contained HTML page and the same numbers as JSON.

The page leads with pictures (reconstructions, traversals, samples from the prior and from
q(z); :mod:`pyrodis.runs.report.pictures`), then the numbers, then the other figures, with the
config folded away at the end; a run without factors (your own images) gets no factor plots.

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

from pyrodis.atomic import write_text
from pyrodis.diagnostics import (
    AggregatePosterior,
    match_latents,
    plot_discriminator_accuracy,
    plot_kl_per_dim,
    plot_latent_vs_factor,
    plot_marginals,
    plot_mi_heatmap,
    plot_training_curves,
)
from pyrodis.diagnostics.decomposition import DEFAULT_SUBSET_SIZE
from pyrodis.diagnostics.latent_names import label_latents
from pyrodis.diagnostics.training_plots import history_terms
from pyrodis.runs.report import html
from pyrodis.runs.report.pair_runs import changed_latent_table, pair_section
from pyrodis.runs.report.pictures import picture_figures
from pyrodis.runs.report.sections import SECTIONS, report_sections
from pyrodis.runs.trained_run import single_image_pair

__all__ = ["SECTIONS", "report_numbers", "write_report"]


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


class _Figures:
    """The figures drawn so far (name, caption, path) and the reasons others are not shown."""

    def __init__(self, fig_dir: Path) -> None:
        self.fig_dir, self.made, self.absent = fig_dir, [], []

    def add(self, name: str, caption: str, draw) -> None:
        self.made.append((name, caption, draw(self.fig_dir / f"{name}.png")))


def _posterior_figures(run, agg: AggregatePosterior, figs: _Figures) -> None:
    names = agg.latent_names
    figs.add(
        "kl_per_dim",
        f"Average KL per latent, {agg.kl_method} (grey: inactive)",
        lambda p: plot_kl_per_dim(
            agg.kl_per_dim(), p, active=agg.active_units(), latent_names=names
        ),
    )
    figs.add(
        "marginals",
        f"Marginals q(z_j) of the aggregate posterior against the prior ({agg.prior_source})",
        lambda p: plot_marginals(agg, p),
    )


def _factor_figures(run, agg: AggregatePosterior, mi, figs: _Figures) -> None:
    if mi is None:
        figs.absent.append(
            "MI heatmap and latent-vs-factor plots: the dataset has no factor labels (for your own "
            "images, `pyrodis evaluate RUN --labels FILE.csv` scores the labels you have)"
        )
        return
    figs.add(
        "mi_heatmap",
        "Discretised MI (nats) between latents and factors, latents matched to factors",
        lambda p: plot_mi_heatmap(
            mi, p, factor_names=agg.factor_names, latent_names=agg.latent_names
        ),
    )
    values = getattr(run.dataset, "factor_values", None)
    active = np.flatnonzero(agg.active_units())
    figs.add(
        "latent_vs_factor",
        "Mean code of each active latent against each factor's value",
        lambda p: plot_latent_vs_factor(
            agg.mean_codes,
            agg.factors,
            p,
            factor_names=agg.factor_names,
            factor_values=values,
            dims=active if active.size else None,
            latent_names=agg.latent_names,
        ),
    )


def _training_figures(run, figs: _Figures) -> None:
    history = list(run.history or [])
    if history and history_terms(history):
        figs.add(
            "training_curves",
            "Training curves of every logged ELBO term",
            lambda p: plot_training_curves(history, p),
        )
    else:
        figs.absent.append("training curves: the run has no logged history")
    if any(np.isfinite(row.get("disc_acc", np.nan)) for row in history):
        figs.add(
            "discriminator_accuracy",
            "FactorVAE discriminator accuracy (0.5 = chance)",
            lambda p: plot_discriminator_accuracy(history, p),
        )


def report_numbers(agg: AggregatePosterior, decomposition: dict, mi) -> dict:
    """The report's numbers as a JSON-serialisable dict."""
    kl = agg.kl_per_dim()
    active = agg.active_units()
    names = agg.latent_names
    out = {
        "aggregate_posterior": {
            "site": agg.site_name,
            "num_points": agg.num_points,
            "dataset_size": agg.dataset_size,
            "latent_dim": agg.latent_dim,
            "prior": agg.prior_source,
            "kl_method": agg.kl_method,
        },
        "latent_names": names,
        "kl_per_dim": kl.tolist(),
        "kl_standard_errors": agg.kl_standard_errors().tolist(),
        "kl_total": float(kl.sum()),
        "mean_variance_per_dim": agg.mean_variances().tolist(),
        "active_units": {
            "threshold": 0.01,
            "count": int(active.sum()),
            "mask": active.tolist(),
            "latents": [names[j] for j in np.flatnonzero(active)],
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


def write_report(
    run,
    out_dir: str | Path | None = None,
    *,
    num_points: int = 10_000,
    batch_size: int = 256,
    reference_size: int = DEFAULT_SUBSET_SIZE,
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
    model, guide = single_image_pair(vae)
    agg = AggregatePosterior.from_guide(
        guide,
        run.dataset,
        num_points=num_points,
        batch_size=batch_size,
        seed=seed,
        device=_device(vae),
        model=model,  # the report states the model's own prior
    )
    decomposition = agg.decomposition(reference_size=reference_size, seed=seed)
    mi = agg.mutual_information() if agg.factors is not None else None
    numbers = report_numbers(agg, decomposition, mi)
    numbers["latent_names"] = label_latents(numbers["latent_names"], run.path)
    figs = _Figures(fig_dir)
    picture_figures(run, agg, _decode(vae), figs, seed=seed)
    _posterior_figures(run, agg, figs)
    _factor_figures(run, agg, mi, figs)
    _training_figures(run, figs)
    figures, absent = figs.made, figs.absent
    numbers["figures"] = {n: str(p.relative_to(out)) for n, _, p in figures}
    numbers["not_shown"] = absent
    numbers["metrics"] = run.metrics
    numbers["config"] = run.config.to_dict() if hasattr(run.config, "to_dict") else run.config
    numbers["elbo_name"] = run.elbo_name
    sections = report_sections(run, numbers, figures, absent)
    if hasattr(vae, "aggregate"):  # a pair model: which latents it treats as changed
        numbers["weak_supervision"] = changed_latent_table(vae, run.dataset, seed=seed)
        sections.insert(-1, pair_section(numbers["weak_supervision"]))
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "report.json", json.dumps(numbers, indent=2, default=str))
    title = f"pyrodis report — {Path(run.path).name} ({run.elbo_name})"
    html_path = out / "report.html"
    write_text(html_path, html.page(title, sections))
    return html_path
