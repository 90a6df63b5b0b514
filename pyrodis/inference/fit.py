"""Deprecated alias of :mod:`pyrodis.training.fit`, kept for one release."""

import sys
import types

from pyrodis.inference._deprecated import warn_moved
from pyrodis.training.fit import fit

__all__ = ["fit"]


class _CallableModule(types.ModuleType):
    """Importing this module makes it the attribute ``pyrodis.inference.fit``, where 0.2 code
    expects the function: calling the module calls :func:`pyrodis.training.fit`."""

    def __call__(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN204
        return fit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
warn_moved(__name__, "pyrodis.training.fit")
