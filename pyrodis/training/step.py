"""One SVI step: exactly what :meth:`pyro.infer.SVI.step` runs, plus clipping and a schedule.

:func:`svi_step` runs ``elbo.loss_and_grads`` under a param-capturing trace, optionally clips the
global gradient norm, sets the learning rates from the schedule, steps the optimiser over the
parameters the step touched and zeroes their gradients. A non-finite loss stops before any
parameter changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pyro
import pyro.optim
import torch
from pyro import poutine
from pyro.infer.util import zero_grads

from pyrodis.training.optim_rates import create_optimisers, scale_rates

__all__ = ["svi_step"]


def _elbo_terms(elbo: pyro.infer.ELBO, loss: float) -> dict[str, float]:
    """The ELBO's ``last_terms`` (if it has any) as floats, with ``loss`` always present."""
    terms = {k: float(v) for k, v in (getattr(elbo, "last_terms", None) or {}).items()}
    terms.setdefault("loss", loss)
    return terms


def svi_step(
    model: Callable,
    guide: Callable,
    elbo: pyro.infer.ELBO,
    optim: pyro.optim.PyroOptim,
    args: tuple,
    *,
    lr_factor: float,
    clip_norm: float | None = None,
    step: int = 0,
) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """One optimisation step of ``elbo`` on ``model(*args)`` / ``guide(*args)``.

    Args:
        lr_factor: the schedule's multiplier of every parameter group's own initial rate.
        clip_norm: clip the global gradient norm over the touched parameters to this value.
        step: the 0-based global step, named in the error of a non-finite loss.

    Returns:
        ``(terms, params)``: the ELBO's terms for the batch plus ``lr`` (the rate used), and the
        touched parameters by Pyro param-store name (unconstrained, sorted by name).

    Raises:
        FloatingPointError: the loss is not finite; raised BEFORE the parameters change, naming
            the step and the terms that went non-finite.
    """
    with poutine.trace(param_only=True) as capture:
        loss = float(elbo.loss_and_grads(model, guide, *args))
    # sorted by name: a deterministic order makes clipping and optimiser creation reproducible
    named = {n: s["value"].unconstrained() for n, s in sorted(capture.trace.nodes.items())}
    params = list(named.values())
    terms = _elbo_terms(elbo, loss)
    if not math.isfinite(loss):
        zero_grads(params)
        bad = [k for k, v in terms.items() if not math.isfinite(v)] or ["loss"]
        raise FloatingPointError(
            f"the loss became {loss} at step {step + 1} (non-finite: {', '.join(bad)}); "
            "lower the learning rate (optim.lr), set optim.clip_norm, or check the data "
            "for NaNs"
        )
    if clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(params, clip_norm)
    create_optimisers(optim, params)
    terms["lr"] = scale_rates(optim, lr_factor)
    optim(params)
    zero_grads(params)
    return terms, named
