"""Runs on disk: configs, atomic checkpoints, training into a run directory, loading it back."""

from pyrodis.runs.checkpoint import CheckpointError, load_latest_checkpoint, save_checkpoint
from pyrodis.runs.run import Run, load_run
from pyrodis.runs.train import train_run

__all__ = [
    "CheckpointError",
    "Run",
    "load_latest_checkpoint",
    "load_run",
    "save_checkpoint",
    "train_run",
]
