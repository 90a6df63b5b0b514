"""Experiment trackers as callbacks of the training loop: TensorBoard and MLflow
(``docs/runs.rst``, Tracking). Each is an optional extra; a missing one raises
:class:`TrackerUnavailable` naming it."""

from pyrodis.training.trackers.base import (
    Tracker,
    TrackerUnavailable,
    TrackerWarning,
    image_grid,
    metric_names,
)
from pyrodis.training.trackers.mlflow import MLflowTracker
from pyrodis.training.trackers.tensorboard import TensorBoardTracker

__all__ = [
    "MLflowTracker",
    "TensorBoardTracker",
    "Tracker",
    "TrackerUnavailable",
    "TrackerWarning",
    "image_grid",
    "metric_names",
]
