"""Deprecated alias of :mod:`pyrodis.training.optim_rates`, kept for one release."""

from pyrodis.inference._deprecated import warn_moved
from pyrodis.training.optim_rates import create_optimisers, scale_rates

__all__ = ["create_optimisers", "scale_rates"]

warn_moved(__name__, "pyrodis.training.optim_rates")
