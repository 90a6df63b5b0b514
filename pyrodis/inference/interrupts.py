"""Deprecated alias of :mod:`pyrodis.training.interrupts`, kept for one release."""

from pyrodis.inference._deprecated import warn_moved
from pyrodis.training.interrupts import Deferred, deferred_interrupts

__all__ = ["Deferred", "deferred_interrupts"]

warn_moved(__name__, "pyrodis.training.interrupts")
