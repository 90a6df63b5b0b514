"""Learning rates under a schedule, on any :class:`pyro.optim.PyroOptim` a user brings.

A schedule multiplies each parameter group's OWN initial rate (recorded once as
``initial_lr``, as torch's LR schedulers do), so a user's ``pyro.optim.Adam({"lr": 1e-2})`` trains
at 1e-2 times the schedule, and a resumed run re-derives every rate from its step.
"""

from __future__ import annotations

import math

import pyro
import pyro.optim
import torch

__all__ = ["create_optimisers", "scale_rates"]


def create_optimisers(optim: pyro.optim.PyroOptim, params: list[torch.Tensor]) -> None:
    """Create the per-parameter optimisers of new parameters as ``PyroOptim.__call__`` would
    (loading any state waiting from ``set_state``), so that their rate can be set before their
    first step."""
    store = pyro.get_param_store()
    for p in params:
        if p not in optim.optim_objs:
            optim.optim_objs[p] = optim._get_optim(p)
            optim.grad_clip[p] = optim._get_grad_clip(p)
            waiting = optim._state_waiting_to_be_consumed.pop(store.param_name(p), None)
            if waiting is not None:
                optim.optim_objs[p].load_state_dict(waiting)


def scale_rates(optim: pyro.optim.PyroOptim, factor: float) -> float:
    """Set every group's rate to ``initial_lr · factor``; return the last rate set (NaN if none)."""
    lr = math.nan
    for opt in optim.optim_objs.values():
        for group in getattr(opt, "optimizer", opt).param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = lr = group["initial_lr"] * factor
    return lr
