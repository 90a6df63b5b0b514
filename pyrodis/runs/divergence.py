"""A run that diverges, or cannot write a file, stops with one clear error (``docs/runs.rst``).

:func:`check_finite_parameters` runs after every step (the checkpoint saver of
:class:`~pyrodis.runs.run_directory.RunDirectory` refuses non-finite state too); a divergence
becomes one :class:`TrainingDiverged` error that says where, what went non-finite, which
checkpoint is the last good one and what to try. A file that cannot be written (a full disk)
becomes one :class:`~pyrodis.atomic.FileWriteError` from :func:`write_failed` that names the file
and what was kept.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from pyrodis.atomic import FileWriteError

__all__ = [
    "TrainingDiverged",
    "check_finite_parameters",
    "describe_divergence",
    "diverged",
    "write_failed",
]

_ADVICE = (
    "try a new run with a lower optim.lr (e.g. a tenth), gradient clipping "
    "(--set optim.clip_norm=1.0) or a warm-up (--set optim.schedule='warmup' "
    "--set optim.warmup_steps=500)"
)
_PYRO_INVALID = re.compile(r"Expected parameter (\w+) .*?of distribution (\w+)", re.S)


class TrainingDiverged(FloatingPointError):
    """Training produced non-finite values; the run keeps its last good checkpoint."""

    def __init__(self, message: str, step: int, last_good: int | None) -> None:
        super().__init__(message)
        self.step, self.last_good = step, last_good


def check_finite_parameters(trainer: Any, terms: dict[str, float]) -> None:
    """A trainer callback: raise FloatingPointError when a parameter went non-finite."""
    bad = [n for n, p in trainer.params().items() if not bool(torch.isfinite(p).all())]
    if bad:
        raise FloatingPointError(
            f"parameters became non-finite at step {trainer.step} (non-finite: "
            f"{', '.join(bad[:5])}{', ...' if len(bad) > 5 else ''})"
        )


def describe_divergence(err: BaseException, step: int, lr: float | None = None) -> str | None:
    """What went non-finite, for the trainer's FloatingPointError, a torch.distributions
    validation error about invalid (NaN/inf) parameters, or torch's optimiser step overflowing
    float32 (its multi-tensor Adam, a GPU's default, cannot convert lr / (1 - beta1) > 3.4e38);
    None for any other error."""
    text = str(err)
    if isinstance(err, FloatingPointError):
        return text.split("; lower the learning rate")[0]
    if isinstance(err, RuntimeError) and "without overflow" in text:
        rate = f" (optim.lr={lr:g} is far too large)" if lr is not None else ""
        return f"the optimiser's step overflowed float32 at step {step}{rate}"
    found = _PYRO_INVALID.search(text) if "invalid values" in text else None
    if isinstance(err, ValueError) and found:
        param, dist = found.groups()
        return f"the {dist} {param} of the model or guide became non-finite at step {step}"
    return None


def diverged(out: Path, what: str, step: int, last_good: int | None) -> TrainingDiverged:
    """The one error a diverged run stops with."""
    if last_good is None:
        kept = "No checkpoint had been written yet, so nothing was kept"
    else:
        kept = (
            f"The last good checkpoint, step {last_good} in {out / 'checkpoints'}, is kept: "
            "evaluate, report and --resume use it (resuming the same config diverges again)"
        )
    return TrainingDiverged(f"training diverged: {what}. {kept}; {_ADVICE}", step, last_good)


def write_failed(
    out: Path, err: FileWriteError, last_good: int | None, removed: bool
) -> FileWriteError:
    """The one error a run stops with when a file cannot be written (a full disk): the file,
    what the system said, what is kept and how to go on."""
    if removed:
        kept = "No checkpoint had been written yet, so what the run wrote was removed"
        then = f"train again with --out {out}"
    elif last_good is None:
        kept = "No checkpoint had been written yet"
        then = f"continue from step 0 with `pyrodis train --resume {out}`"
    else:
        kept = (
            f"The last good checkpoint, step {last_good} in {out / 'checkpoints'}, is kept: "
            "evaluate, report and --resume use it"
        )
        then = f"continue with `pyrodis train --resume {out}`"
    reason = f"{err.reason}. {kept}; free some space (or choose another --out) and {then}"
    return FileWriteError(err.path, OSError(err.errno, reason))
