"""How pyrodis calls a user's model or guide on a batch: ``(x, indices)`` or ``(x,)``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["call_args_for", "takes_indices"]


def takes_indices(fn: Callable) -> bool:
    """Whether ``fn`` takes two or more positional parameters (whatever they are named) or
    ``*args``: then pyrodis calls it with ``(x, indices)``."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins, C callables
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in params if p.kind in kinds]
    return len(positional) >= 2 or any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params)


def call_args_for(fn: Callable) -> Callable[[Any, torch.Tensor], tuple]:
    """``(x, indices)`` for a callable that :func:`takes_indices`, else ``(x,)``; a callable
    that needs more than two positional arguments is refused with the option to use."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        params = []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    needed = [p.name for p in params if p.kind in kinds and p.default is inspect.Parameter.empty]
    if len(needed) > 2:
        name = getattr(fn, "__name__", type(fn).__name__)
        raise TypeError(
            f"{name}{tuple(needed)} needs {len(needed)} positional arguments; pyrodis calls a "
            "model or guide with (x, indices) or (x,): say how to call it with model_args= "
            "(training) or guide_args= (diagnostics), a function of (x, indices) returning its "
            f"arguments, e.g. model_args=lambda x, idx: (x, idx, ...)"
        )
    return (lambda x, idx: (x, idx)) if takes_indices(fn) else (lambda x, idx: (x,))
