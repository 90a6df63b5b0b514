"""The trainer's checkpointable state: everything a resumed run needs to continue exactly.

A state is a dict of tensors and plain values (``torch.load(weights_only=True)`` reads it back):

- ``step``: the number of steps taken;
- ``params``: the trained parameters by Pyro param-store name (unconstrained values);
- ``optim``: the optimiser states (:meth:`pyro.optim.PyroOptim.get_state`); learning rates are
  re-derived from the schedule at each step, so none is stored apart;
- ``elbo``: the ELBO's own state, e.g. a FactorVAE discriminator and its optimiser
  (``elbo.state_dict()``; ``{}`` for an ELBO without one);
- ``rng``: the torch, Python and NumPy global generators;
- ``history`` and ``interval``: the logged rows and the running sums of the open log interval.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pyro
import pyro.optim
import torch

from pyrodis.training.history import History
from pyrodis.training.param_state import restore_params, rng_state, set_rng_state

__all__ = ["capture_state", "restore_state"]


def capture_state(
    *,
    step: int,
    params: dict[str, torch.Tensor],
    optim: pyro.optim.PyroOptim,
    elbo: pyro.infer.ELBO,
    history: History,
) -> dict[str, Any]:
    """A deep copy of the state (module docstring), safe to save while training goes on."""
    elbo_state = elbo.state_dict() if hasattr(elbo, "state_dict") else {}
    return copy.deepcopy(
        {
            "step": step,
            "params": {name: p.detach() for name, p in params.items()},
            "optim": optim.get_state(),
            "elbo": elbo_state,
            "rng": rng_state(),
            "history": history.rows,
            "interval": history.interval_state(),
        }
    )


def restore_state(
    state: dict[str, Any],
    *,
    model: Callable,
    guide: Callable,
    args: tuple,
    optim: pyro.optim.PyroOptim,
    elbo: pyro.infer.ELBO,
    history: History,
) -> tuple[int, dict[str, torch.Tensor]]:
    """Put a :func:`capture_state` back: parameters (created by tracing ``model``/``guide`` on
    ``args``, :func:`~pyrodis.training.param_state.restore_params`), optimiser, ELBO state,
    history and the global generators. Returns ``(step, params)``."""
    params = restore_params(model, guide, args, state["params"])
    optim.set_state(state["optim"])  # rates are re-set from the schedule at each step
    if state.get("elbo") and hasattr(elbo, "load_state_dict"):
        elbo.load_state_dict(state["elbo"])
    history.restore(state["history"], state["interval"])
    set_rng_state(state["rng"])
    return int(state["step"]), params
