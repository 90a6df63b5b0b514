"""Evaluate a run trained on your own images, whose factors nobody labelled (``docs/runs.rst``).

Without labels the evidence is label-free: the unsupervised scores of the mean codes (Gaussian
and discrete total correlation, active units; :func:`pyrodis.metrics.unsupervised`) on all the
images, and the aggregate posterior's KL per latent, active units and MI / TC / dimension-wise
KL decomposition (:mod:`pyrodis.diagnostics`).  Every metric that compares codes with factors is
listed under ``needs_labels`` with the flag that supplies them, never silently dropped.

With a labels file (``--labels FILE.csv`` or ``data.labels``) exactly the metrics that apply to
observed labels (:data:`pyrodis.data.LABELLED_METRICS`) run on the labelled images; the BetaVAE
and FactorVAE scores, which intervene on the factors, are listed under ``not_applicable`` with
the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyrodis.data import LABELLED_METRICS, NEEDS_INTERVENTIONS, read_labels
from pyrodis.diagnostics import AggregatePosterior
from pyrodis.metrics import CODE_ONLY_METRICS, EvaluationResult, evaluate
from pyrodis.runs.config import ConfigError
from pyrodis.runs.trained_run import Run, single_image_pair

__all__ = ["LABELS_FLAG", "evaluate_images", "label_free_evidence"]

#: how a user supplies labels, named wherever a metric waits for them
LABELS_FLAG = "--labels FILE.csv"
_NEEDS = (
    "compares the codes with ground-truth factors, which your images do not have; label some "
    f"of them and pass {LABELS_FLAG} (one row per file name, a column per label)"
)


def label_free_evidence(run: Run, num_points: int, seed: int) -> dict[str, Any]:
    """KL per latent, active units and the MI / TC / dwKL decomposition of q(z) on
    ``num_points`` images (at most all of them), as report-ready scores and per-latent lists."""
    model, guide = single_image_pair(run.vae)
    agg = AggregatePosterior.from_guide(
        guide, run.dataset, num_points=min(num_points, len(run.dataset)), seed=seed, model=model
    )
    kl, active = agg.kl_per_dim(), agg.active_units()
    dec = agg.decomposition(seed=seed)
    scores = {
        "kl_total": {"value": float(kl.sum())},
        "active_units": {"value": int(active.sum())},
        **{f"{t}": {"value": float(dec[t])} for t in ("mi", "tc", "dwkl")},
    }
    names = agg.latent_names
    return {
        "label_free": scores,
        "kl_per_latent": {names[j]: float(kl[j]) for j in agg.kl_order()},
        "active_latents": [names[j] for j in range(len(names)) if active[j]],
    }


def _merge(parts: list[EvaluationResult], seeds: list[int]) -> EvaluationResult:
    values: dict = {}
    seconds: dict = {}
    for part in parts:
        values.update(part.values)
        seconds.update(part.seconds)
    return EvaluationResult(values, seeds, seconds=seconds)


def evaluate_images(
    run: Run,
    names: list[str],
    representation: Any,
    *,
    labels: str | Path | None,
    seed: int,
    repeats: int,
    options: dict[str, dict],
) -> tuple[EvaluationResult, dict[str, Any]]:
    """The scores of ``names`` that apply to the run's images (and labels), and the record's
    other entries: the label-free evidence, ``needs_labels`` or ``labels``/``not_applicable``."""
    code_only = [n for n in names if n in CODE_ONLY_METRICS]
    others = [n for n in names if n not in CODE_ONLY_METRICS]
    record: dict[str, Any] = {}
    parts = [
        evaluate(representation, run.dataset, metrics=code_only, seed=seed, repeats=repeats,
                 options={k: v for k, v in options.items() if k in code_only})
    ]  # fmt: skip
    if labels is None:
        if others:
            record["needs_labels"] = {n: _NEEDS for n in others}
    else:
        try:
            labelled = read_labels(labels, run.dataset)
        except ValueError as err:  # DatasetFileError: no header, no file found, ...
            raise ConfigError(f"--labels: {err}") from None
        applicable = [n for n in others if n in LABELLED_METRICS]
        parts.append(
            evaluate(representation, labelled, metrics=applicable, seed=seed, repeats=repeats,
                     options={k: v for k, v in options.items() if k in applicable})
        )  # fmt: skip
        record["labels"] = {
            "file": str(labels),
            "labelled_images": len(labelled),
            "images": len(run.dataset),
            "factors": dict(zip(labelled.factor_names, labelled.factor_sizes)),
            "metrics": applicable,
        }
        unusable = {n: NEEDS_INTERVENTIONS.get(n, "") for n in others if n not in applicable}
        record["not_applicable"] = {
            n: why or f"does not apply to observed labels (those that do: {LABELLED_METRICS})"
            for n, why in unusable.items()
        }
    result = _merge(parts, parts[0].seeds)
    record.update(label_free_evidence(run, run.config.eval.num_points, seed))
    return result, record
