"""A run's experiment trackers (``[train] track``): opened for training, continued on resume, and
reopened by ``pyrodis evaluate`` (``docs/runs.rst``, Tracking).

Where each tracker writes is fixed when the run starts and kept in ``RUN/tracking.json``
(replaced atomically): the TensorBoard folder (default ``RUN/tensorboard``) and the MLflow
tracking URI, experiment and run id. A resumed run continues the same TensorBoard run (events
after its checkpoint are purged, so no step appears twice) and the same MLflow run (rows it
already holds are not logged again), wherever the command runs from.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyrodis.data import as_source
from pyrodis.runs.config import Config, ConfigError, parse_track
from pyrodis.runs.run_directory import RunDirectory, _write_json
from pyrodis.runs.tracked_images import kl_per_latent
from pyrodis.training.trackers import (
    MLflowTracker,
    TensorBoardTracker,
    Tracker,
    TrackerUnavailable,
    TrackerWarning,
)

__all__ = [
    "TRACKING_FILE",
    "TrackingOptions",
    "check_trackers",
    "close_trackers",
    "log_evaluation",
    "open_trackers",
    "read_tracking",
    "remove_tracking",
]

TRACKING_FILE = "tracking.json"


@dataclass
class TrackingOptions:
    """What a caller adds to the run's MLflow run (a study: its experiment, tags, parameters)."""

    experiment: str | None = None
    run_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


def read_tracking(run_dir: RunDirectory) -> dict[str, Any]:
    """``RUN/tracking.json`` (an empty dict when the run has never been tracked)."""
    path = run_dir.path / TRACKING_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as err:
        warnings.warn(f"{path} is damaged ({err}); tracking starts afresh", stacklevel=2)
        return {}


def check_trackers(config: Config) -> None:
    """Refuse a tracker whose package is missing, before anything is written."""
    for spec in config.train.track:
        kind, _ = parse_track(spec)
        module = "torch.utils.tensorboard" if kind == "tensorboard" else "mlflow"
        try:
            __import__(module)
        except ImportError:
            raise ConfigError(
                f'train.track = {spec!r} needs the {kind} package: pip install "pyrodis[{kind}]"'
            ) from None


def _tensorboard(run_dir: RunDirectory, target: str | None, saved: dict, step: int) -> Tracker:
    logdir = saved.get("logdir") or str(Path(target or run_dir.path / "tensorboard").resolve())
    # events after the checkpoint the run continues from were written by a process that died
    return TensorBoardTracker(logdir, purge_step=step + 1 if saved else None)


def _mlflow(run_dir: RunDirectory, target: str | None, saved: dict, options) -> MLflowTracker:
    if saved.get("run_id"):
        return MLflowTracker(saved["tracking_uri"], run_id=saved["run_id"], tags=options.tags)
    uri = target or os.environ.get("MLFLOW_TRACKING_URI") or None
    experiment = options.experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME") or "pyrodis"
    name = options.run_name or run_dir.path.resolve().name
    return MLflowTracker(uri, experiment=experiment, run_name=name, tags=options.tags)


def _where(tracker: Tracker) -> dict[str, Any]:
    if isinstance(tracker, TensorBoardTracker):
        return {"logdir": str(tracker.logdir)}
    assert isinstance(tracker, MLflowTracker)
    return {
        "tracking_uri": tracker.tracking_uri,
        "experiment_id": tracker.experiment_id,
        "run_id": tracker.run_id,
    }


def open_trackers(
    run_dir: RunDirectory,
    config: Config,
    *,
    step: int = 0,
    options: TrackingOptions | None = None,
    training: bool = True,
) -> list[Tracker]:
    """The trackers ``config.train.track`` asks for, continuing the run's own (from ``step``).

    A new tracked run gets the configuration as hyperparameters and its directory as a link. A
    tracker that cannot be opened (a server that does not answer) is left out with a
    :class:`~pyrodis.training.trackers.TrackerWarning`: training never depends on a tracker.
    ``training=False`` (evaluation) opens only what the run already recorded.
    """
    options = options or TrackingOptions()
    record = read_tracking(run_dir)
    trackers, changed = [], False
    for spec in config.train.track:
        kind, target = parse_track(spec)
        saved = record.get(kind, {})
        if not training and not saved:
            continue
        try:
            if kind == "tensorboard":
                tracker = _tensorboard(run_dir, target, saved, step)
            else:
                tracker = _mlflow(run_dir, target, saved, options)
        except TrackerUnavailable:
            if training:  # evaluation goes on without it (its scores are in metrics.json)
                raise
            warnings.warn(f"{spec}: not installed; not logged", TrackerWarning, stacklevel=2)
            continue
        except Exception as err:  # the tracker's store or server: never training's problem
            what = "training goes on untracked" if training else "not logged"
            warnings.warn(f"{spec}: cannot open it ({err}); {what}", TrackerWarning, stacklevel=2)
            continue
        if not saved:
            _introduce(tracker, run_dir, config, options)
            record[kind], changed = _where(tracker), True
        trackers.append(tracker)
    if changed:
        _write_json(run_dir.path / TRACKING_FILE, record)
    return trackers


def _introduce(tracker: Tracker, run_dir: RunDirectory, config: Config, options) -> None:
    """A new tracked run: the config as hyperparameters, the run directory as a link."""
    tracker.log_params({**config.to_dict(), **options.params})
    tracker.log_link("pyrodis.run_dir", str(run_dir.path.resolve()))
    if isinstance(tracker, MLflowTracker):
        tracker.log_artifact(run_dir.config_file)


def log_evaluation(run: Any, result: Any, num_points: int = 1000) -> None:
    """Log ``pyrodis evaluate``'s scores (``metrics/METRIC.SCORE``) and the KL per latent
    (``kl/zJ``, mean over ``num_points`` fixed evaluation images) at the run's step, to the
    trackers the run has (none: nothing is done)."""
    trackers = open_trackers(RunDirectory(run.path), run.config, step=run.step, training=False)
    if not trackers:
        return
    values = {
        f"metrics/{metric}.{score}": float(summary["value"])
        for metric, scores in result.to_dict().items()
        for score, summary in scores.items()
    }
    source = as_source(run.dataset)
    images = source.observations(source.select(min(num_points, int(source.num_data)), seed=0))
    kl = kl_per_latent(run.vae, images)
    values.update({f"kl/z{j}": float(v) for j, v in enumerate(kl)})
    values["kl/total"] = float(kl.sum())
    for tracker in trackers:
        tracker.log_scalars(run.step, values)
    close_trackers(trackers)


def remove_tracking(run_dir: RunDirectory) -> None:
    """Remove what tracking wrote inside a fresh run that failed before its first checkpoint
    (``RUN/tracking.json`` and ``RUN/tensorboard``; a tracker's own store is left alone)."""
    (run_dir.path / TRACKING_FILE).unlink(missing_ok=True)
    shutil.rmtree(run_dir.path / "tensorboard", ignore_errors=True)


def close_trackers(trackers: list[Tracker], *, failed: bool = False) -> None:
    """Close the trackers; an MLflow run that stopped early is marked ``KILLED``."""
    for tracker in trackers:
        if failed and isinstance(tracker, MLflowTracker):
            tracker.end_status = "KILLED"
        tracker.close()
