"""Stochastic variational inference over a dataset: :class:`Trainer` and :func:`fit`.

The trainer runs exactly what :meth:`pyro.infer.SVI.step` runs (``elbo.loss_and_grads`` under a
param-capturing trace, an optimiser step over the touched parameters, zeroed gradients) and adds
what a long run needs: deterministic minibatches per step (:mod:`pyrodis.inference.batches`), a
learning-rate schedule, global gradient-norm clipping, callbacks, a progress bar with the live ELBO
terms and throughput, a history of every term, and a complete ``state_dict`` (parameters, optimiser
states, ELBO state such as a FactorVAE discriminator, RNG states, step) from which a resumed run
continues with exactly the losses of an uninterrupted one.

The ELBO's own auxiliary updates (the FactorVAE discriminator) happen inside its
``loss_and_grads``; the trainer needs no special case for them.
"""

from __future__ import annotations

import copy
import inspect
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyro
import pyro.optim
import torch
from pyro import poutine
from pyro.infer.util import zero_grads

from pyrodis.inference.batches import StepBatches
from pyrodis.inference.schedules import Schedule, constant

Callback = Callable[["Trainer", dict[str, float]], None]


class TrainingInterrupted(Exception):
    """Raised by :meth:`Trainer.run` after Ctrl-C, once the ``on_interrupt`` hook has run."""

    def __init__(self, step: int) -> None:
        super().__init__(f"training interrupted at step {step}")
        self.step = step


@dataclass
class History:
    """The ELBO terms logged every ``log_every`` steps (means over the interval)."""

    rows: list[dict[str, float]] = field(default_factory=list)

    def column(self, name: str) -> np.ndarray:
        return np.array([r.get(name, math.nan) for r in self.rows], dtype=float)

    def __len__(self) -> int:
        return len(self.rows)


def _terms_of(elbo: Any, loss: float) -> dict[str, float]:
    terms = dict(getattr(elbo, "last_terms", None) or {})
    terms.setdefault("loss", loss)
    return {k: float(v) for k, v in terms.items()}


def _default_args(model: Callable) -> Callable[[torch.Tensor, torch.Tensor], tuple]:
    try:
        params = inspect.signature(model).parameters
    except (TypeError, ValueError):  # builtins, C callables
        return lambda x, idx: (x,)
    return (lambda x, idx: (x, idx)) if "indices" in params else (lambda x, idx: (x,))


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


class Trainer:
    """SVI over minibatches of ``data`` with schedules, clipping, callbacks and resumable state.

    Args:
        model, guide: a Pyro model/guide pair. Each step calls them with ``(x, indices)`` when the
            model has a parameter named ``indices`` (pyrodis' VAE does) and with ``(x,)``
            otherwise; pass ``model_args(x, indices) -> tuple`` to choose.
        elbo: any :class:`pyro.infer.ELBO`; its ``last_terms`` (if any) are logged.
        data: a ground-truth dataset, a tensor or a map-style dataset (see
            :class:`~pyrodis.inference.batches.StepBatches`).
        batch_size: minibatch size B; the last partial batch of an epoch is dropped.
        lr, betas: Adam settings used when ``optim`` is None.
        optim: a :class:`pyro.optim.PyroOptim`; its learning rate is multiplied by ``schedule``.
        schedule: step → learning-rate multiplier (:mod:`pyrodis.inference.schedules`).
        clip_norm: clip the global gradient norm over all parameters to this value.
        seed: seeds Pyro (torch, random, numpy) and the batch order.
        log_every: steps between history rows (means of the terms over the interval).
        callbacks: ``(every, fn)`` pairs; ``fn(trainer, terms)`` runs after every ``every``-th step.
        progress: show a tqdm progress bar with the live terms and images per second.
    """

    def __init__(
        self,
        model: Callable,
        guide: Callable,
        elbo: pyro.infer.ELBO,
        data: Any,
        *,
        batch_size: int = 64,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.999),
        optim: pyro.optim.PyroOptim | None = None,
        schedule: Schedule = constant,
        clip_norm: float | None = None,
        seed: int = 0,
        log_every: int = 100,
        callbacks: Sequence[tuple[int, Callback]] = (),
        progress: bool = True,
        model_args: Callable[[torch.Tensor, torch.Tensor], tuple] | None = None,
    ) -> None:
        if clip_norm is not None and not clip_norm > 0:
            raise ValueError(f"clip_norm must be > 0 or None, got {clip_norm}")
        if log_every < 1:
            raise ValueError(f"log_every must be >= 1, got {log_every}")
        self.model, self.guide, self.elbo = model, guide, elbo
        self.batches = StepBatches(data, batch_size, seed)
        self.base_lr = lr
        self._lr = lr
        self.optim = optim or pyro.optim.Adam(lambda name, p: {"lr": self._lr, "betas": betas})
        self.schedule = schedule
        self.clip_norm = clip_norm
        self.seed = seed
        self.log_every = log_every
        self.callbacks = list(callbacks)
        self.progress = progress
        self.model_args = model_args or _default_args(model)
        self.step = 0
        self.history = History()
        self._sums: dict[str, float] = {}
        self._count = 0
        pyro.set_rng_seed(seed)

    # ---------------------------------------------------------------------------------- one step
    def _set_lr(self) -> None:
        factor = self.schedule(self.step)
        self._lr = self.base_lr * factor
        for opt in self.optim.optim_objs.values():
            for group in getattr(opt, "optimizer", opt).param_groups:
                group["lr"] = self._lr

    def train_step(self, x: torch.Tensor, indices: torch.Tensor) -> dict[str, float]:
        """One SVI step on the batch ``x``; returns the ELBO's terms for it."""
        args = self.model_args(x, indices)
        with poutine.trace(param_only=True) as capture:
            loss = self.elbo.loss_and_grads(self.model, self.guide, *args)
        # sorted by name: a deterministic order makes clipping and optimiser creation reproducible
        params = [site["value"].unconstrained() for _, site in sorted(capture.trace.nodes.items())]
        if self.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, self.clip_norm)
        self._set_lr()
        self.optim(params)
        zero_grads(params)
        loss = float(loss)
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"the loss became {loss} at step {self.step}; lower the learning rate "
                "(optim.lr), set optim.clip_norm, or check the data for NaNs"
            )
        terms = _terms_of(self.elbo, loss)
        terms["lr"] = self._lr
        return terms

    def _accumulate(self, terms: dict[str, float]) -> dict[str, float] | None:
        for key, value in terms.items():
            self._sums[key] = self._sums.get(key, 0.0) + value
        self._count += 1
        if self.step % self.log_every != 0:
            return None
        row = {"step": self.step, **{k: v / self._count for k, v in self._sums.items()}}
        self._sums, self._count = {}, 0
        self.history.rows.append(row)
        return row

    # ---------------------------------------------------------------------------------- the loop
    def run(
        self,
        steps: int,
        *,
        on_log: Callable[[dict[str, float]], None] | None = None,
        on_interrupt: Callable[[Trainer], None] | None = None,
    ) -> History:
        """Train until the global step reaches ``steps`` (a total, not an increment)."""
        if steps < self.step:
            raise ValueError(f"steps={steps} is below the current step {self.step}")
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            # in a log file (not a terminal) redraw every 30 s instead of ten times a second
            interval = 0.1 if sys.stderr.isatty() else 30.0
            bar = tqdm(
                total=steps,
                initial=self.step,
                unit="step",
                dynamic_ncols=True,
                mininterval=interval,
            )
        tick, images = time.perf_counter(), 0
        try:
            while self.step < steps:
                x, idx = self.batches.batch(self.step)
                terms = self.train_step(x, idx)
                self.step += 1
                images += len(x)
                row = self._accumulate(terms)
                for every, fn in self.callbacks:
                    if self.step % every == 0:
                        fn(self, terms)
                if row is not None:
                    now = time.perf_counter()
                    row["images_per_s"] = images / max(now - tick, 1e-9)
                    tick, images = now, 0
                    if on_log is not None:
                        on_log(row)
                    if bar is not None:
                        shown = {k: f"{v:.4g}" for k, v in row.items() if k not in ("step", "lr")}
                        bar.set_postfix(shown, refresh=False)
                if bar is not None:
                    bar.update(1)
        except KeyboardInterrupt:
            if on_interrupt is not None:
                on_interrupt(self)
            raise TrainingInterrupted(self.step) from None
        finally:
            if bar is not None:
                bar.close()
        return self.history

    # -------------------------------------------------------------------------- resumable state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: params, optimiser, ELBO state, RNGs, step."""
        store = pyro.get_param_store()
        elbo_state = self.elbo.state_dict() if hasattr(self.elbo, "state_dict") else {}
        return copy.deepcopy(
            {
                "step": self.step,
                "params": {name: p.detach() for name, p in store.named_parameters()},
                "optim": self.optim.get_state(),
                "elbo": elbo_state,
                "rng": rng_state(),
                "history": self.history.rows,
                "interval": {"sums": self._sums, "count": self._count},
            }
        )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`. Parameters are created first by tracing one batch."""
        x, idx = self.batches.batch(0)
        args = self.model_args(x[:2], idx[:2])
        with torch.no_grad():
            guide_trace = poutine.trace(self.guide).get_trace(*args)
            poutine.trace(poutine.replay(self.model, trace=guide_trace)).get_trace(*args)
        store = dict(pyro.get_param_store().named_parameters())
        missing = sorted(set(state["params"]) - set(store))
        if missing:
            raise KeyError(
                f"checkpoint parameters {missing[:5]} do not exist in this model/guide; "
                "it was written by a different model (check the run's config)"
            )
        with torch.no_grad():
            for name, value in state["params"].items():
                store[name].copy_(value)
        optim_state = state["optim"]
        lr = self.base_lr * self.schedule(int(state["step"]))
        for param_state in optim_state.values():  # the saved lr is that of the last step
            for group in param_state.get("param_groups", []):
                group["lr"] = lr
        self.optim.set_state(optim_state)
        if state.get("elbo") and hasattr(self.elbo, "load_state_dict"):
            self.elbo.load_state_dict(state["elbo"])
        self.step = int(state["step"])
        self.history = History(list(state["history"]))
        self._sums = dict(state["interval"]["sums"])
        self._count = int(state["interval"]["count"])
        set_rng_state(state["rng"])


def fit(
    model: Callable,
    guide: Callable,
    elbo: pyro.infer.ELBO,
    data: Any,
    *,
    steps: int | None = None,
    epochs: int | None = None,
    **trainer_kwargs: Any,
) -> History:
    """Train ``model``/``guide`` with ``elbo`` on ``data`` for ``steps`` steps or ``epochs`` epochs.

    A convenience over :class:`Trainer` (which takes the same keyword arguments:
    ``batch_size``, ``lr``, ``optim``, ``schedule``, ``clip_norm``, ``seed``, ``log_every``,
    ``callbacks``, ``progress``, ``model_args``). Returns the :class:`History` of the terms.

    Example::

        vae = pyrodis.models.VAE(num_data=len(data))
        history = fit(vae.model, vae.guide, TCELBO(beta=6.0), data, steps=10_000)
    """
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps= or epochs=")
    trainer = Trainer(model, guide, elbo, data, **trainer_kwargs)
    if epochs is not None:
        steps = epochs * trainer.batches.steps_per_epoch
    return trainer.run(steps)
