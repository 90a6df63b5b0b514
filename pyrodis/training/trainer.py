"""Stochastic variational inference over a dataset: :class:`Trainer` and :func:`fit`.

The trainer runs exactly what :meth:`pyro.infer.SVI.step` runs (``elbo.loss_and_grads`` under a
param-capturing trace, an optimiser step over the touched parameters, zeroed gradients) and adds
what a long run needs: seeded minibatches from anything a PyTorch user has (the one batch rule of
:mod:`pyrodis.data.batches`), a learning-rate schedule that multiplies the optimiser's own rate,
global gradient-norm clipping, callbacks, a progress bar with the live ELBO terms, a history of
every term, interrupts that land on a step boundary, and a complete ``state_dict`` (parameters,
optimiser states, ELBO state such as a FactorVAE discriminator, RNG states, step) from which a
resumed run continues with exactly the losses of an uninterrupted one.

The trainer does not seed the global random generators: seed them once per run, before the
model is built (``pyro.set_rng_seed(seed)``); ``seed=`` seeds the batches.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyro
import pyro.optim
import torch
from pyro import poutine
from pyro.infer.util import zero_grads

from pyrodis.data.batches import BatchRule
from pyrodis.data.sources import as_source
from pyrodis.devices import resolve_device
from pyrodis.inference.history import History, ProgressBar
from pyrodis.inference.interrupts import deferred_interrupts
from pyrodis.inference.model_args import call_args_for
from pyrodis.inference.optim_rates import create_optimisers, scale_rates
from pyrodis.inference.param_state import restore_params, rng_state, set_rng_state, trace_params
from pyrodis.inference.schedules import Schedule, constant

__all__ = ["Trainer", "TrainingInterrupted"]

Callback = Callable[["Trainer", dict[str, float]], None]


class TrainingInterrupted(Exception):
    """Raised by :meth:`Trainer.run` after Ctrl-C/SIGTERM, once ``on_interrupt`` has run."""

    def __init__(self, step: int) -> None:
        super().__init__(f"training interrupted at step {step}")
        self.step = step


def _non_finite_terms(terms: dict[str, float]) -> list[str]:
    return [k for k, v in terms.items() if not math.isfinite(v)]


class Trainer:
    """SVI over minibatches of ``data`` with schedules, clipping, callbacks and resumable state.

    Args:
        model, guide: a Pyro model/guide pair, called with ``(x, indices)`` when the model takes
            two or more positional arguments (whatever they are named) and with ``(x,)``
            otherwise; ``model_args(x, indices) -> tuple`` chooses instead.
        elbo: any :class:`pyro.infer.ELBO`; its ``last_terms`` (if any) are logged.
        data: a ground-truth dataset, a tensor or array, a map-style dataset, or a
            ``DataLoader`` / iterable of ``x`` or ``(x, indices)`` batches
            (:func:`pyrodis.data.as_source`).
        batch_size: minibatch size B for indexable data (a DataLoader has its own).
        lr, betas: Adam settings used when ``optim`` is None (lr default 1e-4).
        optim: a :class:`pyro.optim.PyroOptim`, trained at its own learning rate (times the
            schedule); do not pass ``lr`` with it.
        schedule: step → multiplier of the learning rate (:mod:`pyrodis.inference.schedules`).
        clip_norm: clip the global gradient norm over all parameters to this value.
        seed: seeds the batches (the global generators are the caller's: module docstring).
        log_every: steps between history rows (means of the terms over the interval).
        callbacks: ``(every, fn)`` pairs; ``fn(trainer, terms)`` runs after every ``every``-th step.
        progress: show a progress bar with the live terms and images per second.
        device: move every batch there before the model sees it (``"cuda"``, ``"auto"``, ...;
            ``None`` leaves batches where the data made them). Put the model's parameters on
            the same device yourself (``vae.to(device)``).
    """

    def __init__(
        self,
        model: Callable,
        guide: Callable,
        elbo: pyro.infer.ELBO,
        data: Any,
        *,
        batch_size: int = 64,
        lr: float | None = None,
        betas: tuple[float, float] = (0.9, 0.999),
        optim: pyro.optim.PyroOptim | None = None,
        schedule: Schedule = constant,
        clip_norm: float | None = None,
        seed: int = 0,
        log_every: int = 100,
        callbacks: Sequence[tuple[int, Callback]] = (),
        progress: bool = True,
        model_args: Callable[[Any, torch.Tensor], tuple] | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        if clip_norm is not None and not clip_norm > 0:
            raise ValueError(f"clip_norm must be > 0 or None, got {clip_norm}")
        if log_every < 1:
            raise ValueError(f"log_every must be >= 1, got {log_every}")
        if optim is not None and lr is not None:
            raise ValueError(
                "pass the learning rate inside optim (e.g. pyro.optim.Adam({'lr': 1e-3})) or "
                "lr= without optim, not both"
            )
        self.model, self.guide, self.elbo = model, guide, elbo
        self.source = as_source(data)
        self.batches = BatchRule(self.source, batch_size, seed) if self.source.indexable else None
        self.optim = optim or pyro.optim.Adam({"lr": 1e-4 if lr is None else lr, "betas": betas})
        self.schedule = schedule
        self.clip_norm = clip_norm
        self.seed = seed
        self.callbacks = list(callbacks)
        self.progress = progress
        self.model_args = model_args or call_args_for(model)
        self.device = None if device is None else resolve_device(device)
        self.step = 0
        self.history = History(log_every)
        self._params: dict[str, torch.Tensor] = {}
        self._stream: Iterator | None = None

    # ---------------------------------------------------------------------------------- batches
    def batch(self, step: int) -> tuple[Any, torch.Tensor]:
        """``(x, indices)`` of global step ``step`` on the trainer's device (iterables: the next
        batch they yield)."""
        return self._to_device(*self._host_batch(step))

    def _to_device(self, x: Any, idx: torch.Tensor) -> tuple[Any, torch.Tensor]:
        if self.device is None:
            return x, idx
        pinned = self.device.type == "cuda" and not x.is_cuda
        x = (x.pin_memory() if pinned else x).to(self.device, non_blocking=pinned)
        return x, idx.to(self.device)

    def _host_batch(self, step: int) -> tuple[Any, torch.Tensor]:
        if self.batches is not None:
            return self.batches.batch(step)
        for _ in range(2):  # a finished pass starts the next epoch
            self._stream = self._stream or self.source.batches()
            for x, idx in self._stream:
                return x, torch.arange(len(x)) if idx is None else idx
            self._stream = None
        raise ValueError("the iterable of batches is empty (or not re-iterable); pass data")

    @property
    def steps_per_epoch(self) -> int:
        if self.batches is not None:
            return self.batches.steps_per_epoch
        try:
            return len(self.source.iterable)
        except TypeError:
            raise ValueError("epochs= needs data of known length; pass steps= instead") from None

    # ---------------------------------------------------------------------------------- one step
    def train_step(self, x: Any, indices: torch.Tensor) -> dict[str, float]:
        """One SVI step on the batch; returns the ELBO's terms for it.

        A non-finite loss stops BEFORE the parameters change, with a FloatingPointError that
        names the step and the terms that went non-finite."""
        args = self.model_args(x, indices)
        with poutine.trace(param_only=True) as capture:
            loss = float(self.elbo.loss_and_grads(self.model, self.guide, *args))
        # sorted by name: a deterministic order makes clipping and optimiser creation reproducible
        named = {n: s["value"].unconstrained() for n, s in sorted(capture.trace.nodes.items())}
        params = list(named.values())
        terms = {k: float(v) for k, v in (getattr(self.elbo, "last_terms", None) or {}).items()}
        terms.setdefault("loss", loss)
        if not math.isfinite(loss):
            zero_grads(params)
            bad = _non_finite_terms(terms) or ["loss"]
            raise FloatingPointError(
                f"the loss became {loss} at step {self.step + 1} (non-finite: {', '.join(bad)}); "
                "lower the learning rate (optim.lr), set optim.clip_norm, or check the data "
                "for NaNs"
            )
        if self.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, self.clip_norm)
        self._params = named
        create_optimisers(self.optim, params)
        terms["lr"] = scale_rates(self.optim, self.schedule(self.step))
        self.optim(params)
        zero_grads(params)
        return terms

    # ---------------------------------------------------------------------------------- the loop
    def run(
        self,
        steps: int,
        *,
        on_log: Callable[[dict[str, float]], None] | None = None,
        on_interrupt: Callable[[Trainer], None] | None = None,
    ) -> History:
        """Train until the global step reaches ``steps`` (a total, not an increment).

        SIGINT/SIGTERM during a step let the step finish; ``on_interrupt(trainer)`` then runs on
        the consistent state (e.g. to save a checkpoint) and :class:`TrainingInterrupted` is
        raised. A second signal stopping a step half-way raises KeyboardInterrupt, unsaved."""
        if steps < self.step:
            raise ValueError(f"steps={steps} is below the current step {self.step}")
        bar = ProgressBar(steps, self.step) if self.progress else None
        consistent = True  # False while a step is half-applied
        try:
            with deferred_interrupts() as signal_state:
                while self.step < steps:
                    x, idx = self.batch(self.step)
                    consistent = False
                    terms = self.train_step(x, idx)
                    self.step += 1
                    row = self.history.add(self.step, terms, len(x))
                    consistent = True
                    for every, fn in self.callbacks:
                        if self.step % every == 0:
                            fn(self, terms)
                    if row is not None and on_log is not None:
                        on_log(row)
                    if bar is not None:
                        bar.update(row)
                    if signal_state.requested is not None:
                        raise KeyboardInterrupt
        except KeyboardInterrupt:
            if not consistent:  # a second signal stopped a step half-way: never save that
                raise
            if on_interrupt is not None:
                on_interrupt(self)
            raise TrainingInterrupted(self.step) from None
        finally:
            if bar is not None:
                bar.close()
        return self.history

    # -------------------------------------------------------------------------- resumable state
    def _first_args(self) -> tuple:
        """Arguments of a small batch that creates the parameters (leaves iteration alone)."""
        if self.batches is not None:
            x, idx = self.batch(0)
        else:
            x, idx = next(iter(self.source.batches()))
            x, idx = self._to_device(x, torch.arange(len(x)) if idx is None else idx)
        return self.model_args(x[:2], idx[:2])

    def params(self) -> dict[str, torch.Tensor]:
        """The parameters this trainer trains, by Pyro param-store name (unconstrained)."""
        if not self._params:
            self._params = trace_params(self.model, self.guide, self._first_args())
        return self._params

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: params, optimiser, ELBO state, RNGs, step."""
        elbo_state = self.elbo.state_dict() if hasattr(self.elbo, "state_dict") else {}
        return copy.deepcopy(
            {
                "step": self.step,
                "params": {name: p.detach() for name, p in self.params().items()},
                "optim": self.optim.get_state(),
                "elbo": elbo_state,
                "rng": rng_state(),
                "history": self.history.rows,
                "interval": self.history.interval_state(),
            }
        )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (parameters through
        :func:`~pyrodis.inference.param_state.restore_params`)."""
        self._params = restore_params(self.model, self.guide, self._first_args(), state["params"])
        self.optim.set_state(state["optim"])  # rates are re-set from the schedule at each step
        if state.get("elbo") and hasattr(self.elbo, "load_state_dict"):
            self.elbo.load_state_dict(state["elbo"])
        self.step = int(state["step"])
        self.history.restore(state["history"], state["interval"])
        set_rng_state(state["rng"])
