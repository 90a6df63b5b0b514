"""Deprecated alias of :mod:`pyrodis.training.trainer`, kept for one release."""

from pyrodis.inference._deprecated import warn_moved
from pyrodis.training.trainer import Trainer, TrainingInterrupted

__all__ = ["Trainer", "TrainingInterrupted"]

warn_moved(__name__, "pyrodis.training.trainer")
