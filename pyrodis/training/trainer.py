"""Stochastic variational inference over a dataset: :class:`Trainer` (used by :func:`fit`).

The trainer runs exactly what :meth:`pyro.infer.SVI.step` runs (:mod:`pyrodis.training.step`) and
adds what a long run needs: seeded minibatches from anything a PyTorch user has
(:mod:`pyrodis.training.feed`), a learning-rate schedule that multiplies the optimiser's own rate,
global gradient-norm clipping, callbacks, a progress bar with the live ELBO terms, a history of
every term, interrupts that land on a step boundary (:mod:`pyrodis.training.loop`), and a complete
``state_dict`` (:mod:`pyrodis.training.state`) from which a resumed run continues with exactly the
losses of an uninterrupted one.

The trainer does not seed the global random generators: seed them once per run, before the
model is built (``pyro.set_rng_seed(seed)``); ``seed=`` seeds the batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyro
import pyro.optim
import torch

from pyrodis.training.feed import BatchFeed
from pyrodis.training.history import History
from pyrodis.training.interrupts import TrainingInterrupted
from pyrodis.training.loop import run_steps
from pyrodis.training.model_args import call_args_for
from pyrodis.training.param_state import trace_params
from pyrodis.training.schedules import Schedule, constant
from pyrodis.training.state import capture_state, restore_state
from pyrodis.training.step import svi_step

__all__ = ["Trainer", "TrainingInterrupted"]

Callback = Callable[["Trainer", dict[str, float]], None]


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
        schedule: step → multiplier of the learning rate (:mod:`pyrodis.training.schedules`).
        clip_norm: clip the global gradient norm over all parameters to this value.
        seed: seeds the batches (the global generators are the caller's: module docstring).
        log_every: steps between history rows (means of the terms over the interval).
        callbacks: ``(every, fn)`` pairs, ``fn(trainer, terms)`` running after every ``every``-th
            step, or callables run after every step, such as the trackers of
            :mod:`pyrodis.training.trackers` (a callback's ``on_run_end(trainer)``, if any, runs
            when :meth:`run` returns or stops).
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
        callbacks: Sequence[tuple[int, Callback] | Callback] = (),
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
        self.feed = BatchFeed(data, batch_size, seed, device)
        self.source, self.batches, self.device = self.feed.source, self.feed.rule, self.feed.device
        self.optim = optim or pyro.optim.Adam({"lr": 1e-4 if lr is None else lr, "betas": betas})
        self.schedule = schedule
        self.clip_norm = clip_norm
        self.seed = seed
        self.callbacks = [c if isinstance(c, tuple) else (1, c) for c in callbacks]
        self.progress = progress
        self.model_args = model_args or call_args_for(model)
        self.step = 0
        self.history = History(log_every)
        self._params: dict[str, torch.Tensor] = {}

    def batch(self, step: int) -> tuple[Any, torch.Tensor]:
        """``(x, indices)`` of global step ``step`` on the trainer's device (iterables: the next
        batch they yield)."""
        return self.feed.batch(step)

    @property
    def steps_per_epoch(self) -> int:
        return self.feed.steps_per_epoch

    def train_step(self, x: Any, indices: torch.Tensor) -> dict[str, float]:
        """One SVI step on the batch (:func:`~pyrodis.training.step.svi_step`); returns the
        ELBO's terms for it and ``lr``.

        A non-finite loss stops BEFORE the parameters change, with a FloatingPointError that
        names the step and the terms that went non-finite."""
        terms, self._params = svi_step(
            self.model,
            self.guide,
            self.elbo,
            self.optim,
            self.model_args(x, indices),
            lr_factor=self.schedule(self.step),
            clip_norm=self.clip_norm,
            step=self.step,
        )
        return terms

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
        return run_steps(self, steps, on_log=on_log, on_interrupt=on_interrupt)

    def _first_args(self) -> tuple:
        """Arguments of a small batch that creates the parameters (leaves iteration alone)."""
        x, idx = self.feed.first_batch()
        return self.model_args(x[:2], idx[:2])

    def params(self) -> dict[str, torch.Tensor]:
        """The parameters this trainer trains, by Pyro param-store name (unconstrained)."""
        if not self._params:
            self._params = trace_params(self.model, self.guide, self._first_args())
        return self._params

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: params, optimiser, ELBO state, RNGs, step
        (:mod:`pyrodis.training.state`)."""
        return capture_state(
            step=self.step,
            params=self.params(),
            optim=self.optim,
            elbo=self.elbo,
            history=self.history,
        )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (parameters through
        :func:`~pyrodis.training.param_state.restore_params`)."""
        self.step, self._params = restore_state(
            state,
            model=self.model,
            guide=self.guide,
            args=self._first_args(),
            optim=self.optim,
            elbo=self.elbo,
            history=self.history,
        )
