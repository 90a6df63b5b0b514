"""A study in MLflow (``[study] track = "mlflow[:URI]"``, ``docs/runs.rst``, Studies).

The study is one MLflow experiment named after it. Its own run (``DIR/tracking.json`` keeps its
id) holds the study's figures, tables and page as artefacts once ``pyrodis study report`` writes
them; each trial is a child run named by its id, with the whole config (and so the varied keys) as
parameters and the study, setting, preset and seed as tags, so MLflow's compare view shows the
grid. The trial runs log like any tracked run (:mod:`pyrodis.runs.tracking`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pyrodis.runs.config import parse_track
from pyrodis.runs.run_directory import _write_json
from pyrodis.runs.study.file import StudyError, StudySpec, Trial
from pyrodis.training.trackers import MLflowTracker

__all__ = [
    "log_study_report",
    "open_study_run",
    "study_tracking",
    "tracked_config",
    "trial_tracking",
]

TRACKING_FILE = "tracking.json"


def absolute_uri(uri: str | None) -> str | None:
    """A tracking URI every trial's worker reads the same way: a relative ``sqlite:///`` or
    ``file:`` path made absolute against this working directory."""
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or None
    if uri is None:
        return None
    for scheme in ("sqlite:///", "file:"):
        if uri.startswith(scheme) and not uri[len(scheme) :].startswith("/"):
            return scheme + str(Path(uri[len(scheme) :]).resolve())
    return uri if "://" in uri or uri.startswith("file:") else str(Path(uri).resolve())


def study_tracking(spec: StudySpec) -> str | None:
    """The tracker spec a study's trials get (``"mlflow:URI"`` or ``"mlflow"``), or None."""
    if spec.track is None:
        return None
    kind, target = parse_track(spec.track)
    if kind != "mlflow":
        raise StudyError(
            f'[study] track must be "mlflow" or "mlflow:URI" (trials can each write TensorBoard '
            f'with [base] "train.track" = ["tensorboard"]), got {spec.track!r}'
        )
    try:
        import mlflow
    except ImportError:
        raise StudyError(
            f'[study] track = {spec.track!r} needs the mlflow package: pip install "pyrodis[mlflow]"'
        ) from None
    # resolved here, once: the trials' workers may run in other working directories
    return f"mlflow:{absolute_uri(target or mlflow.get_tracking_uri())}"


def open_study_run(out: Path, spec: StudySpec) -> dict[str, Any] | None:
    """The study's own MLflow run (made once, kept in ``DIR/tracking.json``), or None."""
    track = study_tracking(spec)
    if track is None:
        return None
    path = out / TRACKING_FILE
    saved = json.loads(path.read_text()) if path.exists() else {}
    uri = saved.get("tracking_uri") or parse_track(track)[1]
    tracker = MLflowTracker(
        uri,
        experiment=spec.name,
        run_name=f"{spec.name} (study)",
        run_id=saved.get("run_id"),
        tags={"pyrodis.study": spec.name, "pyrodis.varied": ", ".join(spec.varied_keys)},
    )
    tracker.log_link("pyrodis.study_dir", str(out.resolve()))
    tracker.close()
    record = {"track": track, "tracking_uri": tracker.tracking_uri, "run_id": tracker.run_id}
    _write_json(path, record)
    return record


def trial_tracking(spec: StudySpec, trial: Trial, study_run: dict[str, Any]) -> dict[str, Any]:
    """What a trial's MLflow run gets (:class:`~pyrodis.runs.tracking.TrackingOptions` fields)."""
    tags = {
        "pyrodis.study": spec.name,
        "pyrodis.setting": trial.setting,
        "pyrodis.preset": trial.preset,
        "pyrodis.seed": str(trial.seed),
        "mlflow.parentRunId": study_run["run_id"],
    }
    return {"experiment": spec.name, "run_name": trial.trial_id, "tags": tags, "params": {}}


def tracked_config(trial: Trial, study_run: dict[str, Any] | None) -> dict[str, Any]:
    """The trial's config as its worker gets it: with the study's tracker added."""
    config = trial.config.to_dict()
    if study_run is not None:
        track = [t for t in config["train"]["track"] if parse_track(t)[0] != "mlflow"]
        config["train"]["track"] = [*track, study_run["track"]]
    return config


def log_study_report(out: Path, files: list[Path]) -> None:
    """The study report's files as artefacts of the study's run (when it is tracked)."""
    path = out / TRACKING_FILE
    if not path.exists():
        return
    saved = json.loads(path.read_text())
    try:
        tracker = MLflowTracker(saved["tracking_uri"], run_id=saved["run_id"])
    except Exception as err:  # a tracker never fails the report
        import warnings

        from pyrodis.training.trackers import TrackerWarning

        warnings.warn(f"cannot log the report to MLflow ({err})", TrackerWarning, stacklevel=2)
        return
    for file in files:
        if file.exists():
            tracker.log_artifact(file)
    tracker.close()
