"""Evaluate a run directory with :func:`pyrodis.metrics.evaluate` (``pyrodis evaluate RUN``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyrodis.metrics import METRICS, evaluate
from pyrodis.runs.config import ConfigError
from pyrodis.runs.run_directory import RunDirectory
from pyrodis.runs.tracking import log_evaluation
from pyrodis.runs.trained_run import load_run


def evaluate_run(
    run_dir: str | Path,
    *,
    metrics: list[str] | None = None,
    repeats: int | None = None,
    seed: int | None = None,
    representation: str = "mean",
    options: dict[str, dict[str, Any]] | None = None,
    device: str | None = "cpu",
) -> Any:
    """Compute the metrics of the run's trained encoder and write them to ``RUN/metrics.json``.

    Defaults come from the run's ``[eval]`` table (``eval.seed``, else the run's seed); ``options`` (metric -> keyword
    overrides of its protocol) update the table's ``options`` and are recorded in the file. The dataset is the independent factor
    grid, also for runs trained on correlated factors. ``device`` is where the encoder runs
    (``"cpu"`` by default; ``"auto"`` takes an accelerator). Returns the
    :class:`~pyrodis.metrics.EvaluationResult`.
    """
    run = load_run(run_dir, device=device)
    cfg = run.config
    names = metrics or cfg.eval.metrics
    for metric in options or {}:
        if metric not in METRICS:
            raise ConfigError(
                f"--set {metric}.…: unknown metric {metric!r}; choose one of {sorted(METRICS)}"
            )
    if repeats is not None and repeats < 1:
        raise ConfigError(f"repeats must be >= 1, got {repeats}")
    merged = {k: dict(v) for k, v in cfg.eval.options.items()}
    for metric, values in (options or {}).items():
        merged.setdefault(metric, {}).update(values)
    options = {k: v for k, v in merged.items() if k in names}
    if seed is None:  # the config's evaluation seed, else the run's own (docs/runs.rst)
        seed = cfg.seed if cfg.eval.seed is None else cfg.eval.seed
    try:
        result = evaluate(
            run.vae.representation(representation),
            run.dataset,
            metrics=names,
            seed=seed,
            repeats=repeats or cfg.eval.repeats,
            options=options,
        )
    except (TypeError, ValueError) as err:  # unknown metric or protocol keyword
        raise ConfigError(f"cannot evaluate {run_dir}: {err}") from err
    record = {
        "step": run.step,
        "representation": representation,
        "seed": seed,
        "protocol_overrides": options,
        **result.to_dict(),
    }
    RunDirectory(run_dir).write_metrics(record)
    log_evaluation(run, result)  # to the run's trackers ([train] track), if any
    return result
