"""The training loop: steps until a total, callbacks, the progress bar, and interrupts that land
on a step boundary (:mod:`pyrodis.training.interrupts`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import torch

from pyrodis.training.history import History, ProgressBar
from pyrodis.training.interrupts import TrainingInterrupted, deferred_interrupts

__all__ = ["run_steps"]


class _Loopable(Protocol):
    """What the loop needs of a :class:`~pyrodis.training.Trainer`."""

    step: int
    history: History
    callbacks: Sequence[tuple[int, Callable]]
    progress: bool

    def batch(self, step: int) -> tuple[Any, torch.Tensor]: ...

    def train_step(self, x: Any, indices: torch.Tensor) -> dict[str, float]: ...


def _after_step(
    trainer: _Loopable,
    terms: dict[str, float],
    row: dict[str, float] | None,
    on_log: Callable[[dict[str, float]], None] | None,
    bar: ProgressBar | None,
) -> None:
    """Callbacks due at this step, then ``on_log`` for a new history row, then the bar."""
    for every, fn in trainer.callbacks:
        if trainer.step % every == 0:
            fn(trainer, terms)
    if row is not None and on_log is not None:
        on_log(row)
    if bar is not None:
        bar.update(row)


def run_steps(
    trainer: _Loopable,
    steps: int,
    *,
    on_log: Callable[[dict[str, float]], None] | None = None,
    on_interrupt: Callable[[Any], None] | None = None,
) -> History:
    """Step ``trainer`` until its global step reaches ``steps`` (a total, not an increment).

    SIGINT/SIGTERM during a step let the step finish; ``on_interrupt(trainer)`` then runs on the
    consistent state (e.g. to save a checkpoint) and :class:`TrainingInterrupted` is raised. A
    second signal stopping a step half-way raises KeyboardInterrupt, unsaved."""
    if steps < trainer.step:
        raise ValueError(f"steps={steps} is below the current step {trainer.step}")
    labels = getattr(trainer.elbo, "term_labels", None) or {}
    bar = ProgressBar(steps, trainer.step) if trainer.progress else None
    consistent = True  # False while a step is half-applied
    try:
        with deferred_interrupts() as signal_state:
            while trainer.step < steps:
                x, idx = trainer.batch(trainer.step)
                consistent = False
                terms = trainer.train_step(x, idx)
                trainer.step += 1
                named = {labels.get(k, k): v for k, v in terms.items()}
                row = trainer.history.add(trainer.step, named, len(x))
                consistent = True
                _after_step(trainer, terms, row, on_log, bar)
                if signal_state.requested is not None:
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        if not consistent:  # a second signal stopped a step half-way: never save that
            raise
        if on_interrupt is not None:
            on_interrupt(trainer)
        raise TrainingInterrupted(trainer.step) from None
    finally:
        if bar is not None:
            bar.close()
        for _, fn in trainer.callbacks:  # e.g. a tracker flushes what it buffered
            if hasattr(fn, "on_run_end"):
                fn.on_run_end(trainer)
    return trainer.history
