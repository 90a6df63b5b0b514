"""Interrupts that land on a step boundary.

Ctrl-C (SIGINT) or a polite kill (SIGTERM) during a training step would otherwise stop the
step half-way: gradients computed, some parameters or optimiser moments updated, the random
generators advanced. :func:`deferred_interrupts` records the signal instead and lets the step
finish; the training loop then checks :attr:`Deferred.requested` between steps, saves a
checkpoint of a consistent state and stops. A second signal while the first is pending
interrupts at once (the user really wants out). Outside the main thread signals cannot be
caught, and nothing is deferred.

:func:`interrupting_signals` is the same promise for a process that waits on others (a study's
driver): SIGINT and SIGTERM raise :class:`KeyboardInterrupt` whatever the process inherited. A
job a non-interactive shell starts in the background (``cmd &`` in a script) begins with SIGINT
ignored, and SIGTERM would otherwise end the process without its clean-up.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Deferred", "TrainingInterrupted", "deferred_interrupts", "interrupting_signals"]


class TrainingInterrupted(Exception):
    """Raised by :meth:`Trainer.run <pyrodis.training.Trainer.run>` after Ctrl-C/SIGTERM, once
    ``on_interrupt`` has run; ``step`` is the last step completed."""

    def __init__(self, step: int) -> None:
        super().__init__(f"training interrupted at step {step}")
        self.step = step


class Deferred:
    """The signal received while deferring (``None`` while none was)."""

    def __init__(self) -> None:
        self.requested: int | None = None

    def handler(self, signum, frame) -> None:
        if self.requested is not None:  # second signal: stop now
            raise KeyboardInterrupt
        self.requested = signum


@contextmanager
def _handling(handler) -> Iterator[None]:
    """``handler`` on SIGINT and SIGTERM within the block, the previous handlers after it; outside
    the main thread (where signals cannot be caught) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def deferred_interrupts() -> Iterator[Deferred]:
    """Within the block, SIGINT and SIGTERM set ``requested`` instead of raising."""
    state = Deferred()
    with _handling(state.handler):
        yield state


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@contextmanager
def interrupting_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`KeyboardInterrupt`, even where SIGINT
    was inherited as ignored; the previous handlers come back after it (main thread only)."""
    with _handling(_raise_interrupt):
        yield
