"""Deprecated alias of :mod:`pyrodis.training.param_state`, kept for one release."""

from pyrodis.inference._deprecated import warn_moved
from pyrodis.training.param_state import (
    ParameterMismatch,
    restore_params,
    rng_state,
    set_rng_state,
    trace_params,
)

__all__ = ["ParameterMismatch", "restore_params", "rng_state", "set_rng_state", "trace_params"]

warn_moved(__name__, "pyrodis.training.param_state")
