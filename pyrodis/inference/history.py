"""Deprecated alias of :mod:`pyrodis.training.history`, kept for one release."""

from pyrodis.inference._deprecated import warn_moved
from pyrodis.training.history import History, ProgressBar

__all__ = ["History", "ProgressBar"]

warn_moved(__name__, "pyrodis.training.history")
