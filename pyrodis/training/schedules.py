"""Learning-rate schedules as pure functions of the step.

A schedule maps the global step ``t`` (0-based) to a multiplier of the base learning rate. Being a
pure function of ``t`` (no hidden state) makes a resumed run use exactly the rates an uninterrupted
one would have used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

__all__ = [
    "SCHEDULES",
    "Schedule",
    "constant",
    "make_schedule",
    "warmup_constant",
    "warmup_cosine",
]

#: a schedule: the global step (0-based) → the multiplier of the base learning rate
Schedule = Callable[[int], float]


def constant(step: int) -> float:
    """Multiplier 1 at every step."""
    return 1.0


def warmup_cosine(
    step: int, *, total_steps: int, warmup_steps: int = 0, floor: float = 0.0
) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``floor`` at ``total_steps``."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_constant(step: int, *, warmup_steps: int) -> float:
    """Linear warm-up over ``warmup_steps``, then constant."""
    return min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0


#: the schedules :func:`make_schedule` builds by name, with what each does
SCHEDULES = {
    "constant": "the base learning rate at every step",
    "cosine": "linear warm-up over warmup_steps, then cosine decay to lr_floor·lr at the last step",
    "warmup": "linear warm-up over warmup_steps, then constant",
}


def make_schedule(
    name: str, *, total_steps: int, warmup_steps: int = 0, floor: float = 0.0
) -> Schedule:
    """Build a schedule by name (see :data:`SCHEDULES`); ``floor`` is a fraction in [0, 1]."""
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"the learning-rate floor is a fraction of lr in [0, 1], got {floor}")
    if name == "constant":
        if warmup_steps:
            raise ValueError(
                f"the 'constant' schedule has no warm-up, got warmup_steps={warmup_steps}; use "
                "schedule 'warmup' (warm-up then constant) or set warmup_steps to 0"
            )
        return constant
    if name == "warmup":
        return partial(warmup_constant, warmup_steps=warmup_steps)
    if name == "cosine":
        return partial(
            warmup_cosine, total_steps=total_steps, warmup_steps=warmup_steps, floor=floor
        )
    raise ValueError(f"unknown learning-rate schedule {name!r}; choose one of {sorted(SCHEDULES)}")
