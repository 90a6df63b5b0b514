"""Saving and restoring what a Pyro training run holds outside the model code.

- :func:`rng_state` / :func:`set_rng_state`: the torch, Python and NumPy global generators in a
  form that ``torch.load(weights_only=True)`` reads back;
- :func:`restore_params`: the one way a checkpoint's parameters come back, for the trainer and
  for :func:`pyrodis.runs.load_run` alike: the model and guide are traced once on a batch (which
  creates their parameters in Pyro's param store, under the same names as when they were
  saved), then every saved value is copied into the parameter of that name.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from pyro import poutine

__all__ = ["ParameterMismatch", "rng_state", "restore_params", "set_rng_state", "trace_params"]


class ParameterMismatch(KeyError):
    """Saved parameters do not fit the model/guide they are restored into."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0])


def rng_state() -> dict[str, Any]:
    """Torch, Python and NumPy global RNG states in a ``weights_only``-loadable form."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 (saving global state)
    return {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))  # noqa: NPY002


def trace_params(model: Callable, guide: Callable, args: tuple, kwargs: dict | None = None):
    """Run guide and model once without gradients; return their parameters by store name
    (unconstrained tensors, sorted by name)."""
    kwargs = kwargs or {}
    with torch.no_grad(), poutine.trace(param_only=True) as capture:
        guide_trace = poutine.trace(guide).get_trace(*args, **kwargs)
        poutine.replay(model, trace=guide_trace)(*args, **kwargs)
    return {
        name: site["value"].unconstrained() for name, site in sorted(capture.trace.nodes.items())
    }


def restore_params(
    model: Callable,
    guide: Callable,
    args: tuple,
    params: dict[str, torch.Tensor],
    kwargs: dict | None = None,
) -> dict[str, torch.Tensor]:
    """Create the parameters by tracing model and guide on ``args``, then copy ``params``
    (store name → unconstrained value, as saved) into them. Returns the restored parameters."""
    live = trace_params(model, guide, args, kwargs)
    missing = sorted(set(params) - set(live))
    if missing:
        raise ParameterMismatch(
            f"checkpoint parameters {missing[:5]} do not exist in this model/guide (it has "
            f"{sorted(live)[:5]}...); it was written by a different model: check the run's config"
        )
    with torch.no_grad():
        for name, value in params.items():
            if live[name].shape != value.shape:
                raise ParameterMismatch(
                    f"checkpoint parameter {name!r} has shape {tuple(value.shape)} but the model "
                    f"built from the config has {tuple(live[name].shape)}; the config does not "
                    "match the checkpoint (was config.json edited?)"
                )
            live[name].copy_(value.to(live[name].device, live[name].dtype))
    return live
