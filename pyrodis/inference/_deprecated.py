"""The training loop's old import paths under ``pyrodis.inference``, kept for one release.

The loop moved to :mod:`pyrodis.training` after 0.2.0 (docs/api.rst, "Deprecated aliases"). The
alias modules beside this one (``pyrodis.inference.trainer``, ``.fit``, ``.schedules``, ...) and
the names ``pyrodis.inference.fit``, ``.Trainer``, ``.TrainingInterrupted`` and ``.History`` still
work and raise a :class:`DeprecationWarning` that names the new path.
"""

from __future__ import annotations

import warnings

__all__ = ["MOVED_MODULES", "MOVED_NAMES", "warn_moved"]

#: the modules that moved from pyrodis.inference to pyrodis.training, under the same names
MOVED_MODULES = frozenset(
    {
        "fit",
        "history",
        "interrupts",
        "model_args",
        "optim_rates",
        "param_state",
        "schedules",
        "trainer",
    }
)
#: the names pyrodis.inference exported that pyrodis.training exports now
MOVED_NAMES = frozenset({"History", "Trainer", "TrainingInterrupted", "fit"})


def warn_moved(old: str, new: str) -> None:
    """Warn that ``old`` is now ``new``, pointing the warning at the code that used ``old``.

    ``stacklevel=3`` skips the caller (an alias module's body, or the package's
    ``__getattr__``); :func:`warnings.warn` skips the import machinery's frames by itself. So
    Python's default filters, which show a DeprecationWarning raised in ``__main__``, show this
    one to a script's author.
    """
    warnings.warn(
        f"{old} moved to {new}; import it from there ({old} is removed in the next release)",
        DeprecationWarning,
        stacklevel=3,
    )
