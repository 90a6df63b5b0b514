"""Deprecated alias of :mod:`pyrodis.training.model_args`, kept for one release."""

from pyrodis.inference._deprecated import warn_moved
from pyrodis.training.model_args import call_args_for, takes_indices

__all__ = ["call_args_for", "takes_indices"]

warn_moved(__name__, "pyrodis.training.model_args")
