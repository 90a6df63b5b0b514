"""Deprecated alias of :mod:`pyrodis.training.schedules`, kept for one release."""

from pyrodis.inference._deprecated import warn_moved
from pyrodis.training.schedules import (
    SCHEDULES,
    Schedule,
    constant,
    make_schedule,
    warmup_constant,
    warmup_cosine,
)

__all__ = ["SCHEDULES", "Schedule", "constant", "make_schedule", "warmup_constant", "warmup_cosine"]

warn_moved(__name__, "pyrodis.training.schedules")
