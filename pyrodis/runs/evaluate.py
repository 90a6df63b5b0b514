"""Evaluate a run directory with :func:`pyrodis.metrics.evaluate` (``pyrodis evaluate RUN``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyrodis.metrics import METRICS, evaluate
from pyrodis.metrics.ground_truth import has_factors
from pyrodis.runs.config import ConfigError
from pyrodis.runs.evaluate_images import evaluate_images
from pyrodis.runs.run_directory import RunDirectory
from pyrodis.runs.tracking import log_evaluation
from pyrodis.runs.trained_run import load_run


def _checked_options(run_dir, cfg, names: list[str], options, repeats) -> dict[str, dict]:
    """The run's ``[eval] options`` updated by ``options``, for the metrics ``names`` (checked)."""
    for metric in options or {}:
        if metric not in METRICS:
            raise ConfigError(
                f"--set {metric}.…: unknown metric {metric!r}; choose one of {sorted(METRICS)}"
            )
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ConfigError(f"cannot evaluate {run_dir}: unknown metrics {unknown}; choose from "
                          f"{sorted(METRICS)}")  # fmt: skip
    if repeats is not None and repeats < 1:
        raise ConfigError(f"repeats must be >= 1, got {repeats}")
    merged = {k: dict(v) for k, v in cfg.eval.options.items()}
    for metric, values in (options or {}).items():
        merged.setdefault(metric, {}).update(values)
    return {k: v for k, v in merged.items() if k in names}


def evaluate_run(
    run_dir: str | Path,
    *,
    metrics: list[str] | None = None,
    repeats: int | None = None,
    seed: int | None = None,
    representation: str = "mean",
    options: dict[str, dict[str, Any]] | None = None,
    device: str | None = "cpu",
    labels: str | Path | None = None,
) -> Any:
    """Compute the metrics of the run's trained encoder and write them to ``RUN/metrics.json``.

    Defaults come from the run's ``[eval]`` table (``eval.seed``, else the run's seed);
    ``options`` (metric -> keyword overrides of its protocol) update the table's ``options`` and
    are recorded in the file. The dataset is the independent factor grid, also for runs trained
    on correlated factors. ``device`` is where the encoder runs
    (``"cpu"`` by default; ``"auto"`` takes an accelerator). Returns the
    :class:`~pyrodis.metrics.EvaluationResult`.

    A run on your own images gets the label-free evidence and the metrics that need labels listed;
    ``labels`` (default ``data.labels``): :mod:`pyrodis.runs.evaluate_images`.
    """
    run = load_run(run_dir, device=device)
    cfg = run.config
    own_images = not has_factors(run.dataset)
    if labels is not None and not own_images:
        raise ConfigError(
            f"--labels is for runs on your own images; {run_dir} trained on {cfg.data.name!r}, "
            "whose factors are known"
        )
    names = metrics or cfg.eval.metrics
    options = _checked_options(run_dir, cfg, names, options, repeats)
    if seed is None:  # the config's evaluation seed, else the run's own (docs/runs.rst)
        seed = cfg.seed if cfg.eval.seed is None else cfg.eval.seed
    encoder, extra = run.vae.representation(representation), {}
    kwargs = dict(seed=seed, repeats=repeats or cfg.eval.repeats, options=options)
    try:
        if own_images:
            labels = labels or cfg.data.labels
            result, extra = evaluate_images(run, names, encoder, labels=labels, **kwargs)
        else:
            result = evaluate(encoder, run.dataset, metrics=names, **kwargs)
    except (TypeError, ValueError) as err:  # unknown metric or protocol keyword
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"cannot evaluate {run_dir}: {err}") from err
    record = {
        "step": run.step,
        "representation": representation,
        "seed": seed,
        "protocol_overrides": options,
        **result.to_dict(),
        **extra,
    }
    RunDirectory(run_dir).write_metrics(record)
    log_evaluation(run, result)  # to the run's trackers ([train] track), if any
    return result
