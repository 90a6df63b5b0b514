"""What every experiment tracker shares: the training-loop callback, stable metric names, and the
rule that a tracker never stops or corrupts training (``docs/runs.rst``, Tracking).

A :class:`Tracker` is a callback of :class:`~pyrodis.training.Trainer` (``fit(...,
callbacks=[tracker])``): each time the trainer closes a history row (every ``log_every`` steps)
the row's means go to the tracker under stable names (:func:`metric_names`). Every write is
guarded: the first failure (a full disk, a tracking server that went away) is reported once with
a :class:`TrackerWarning`, the tracker stops writing for the rest of the run, and training goes
on unchanged — ``log.csv`` and the checkpoints stay the record. A tracker never draws random
numbers, so a tracked run trains exactly like an untracked one.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Tracker", "TrackerUnavailable", "TrackerWarning", "image_grid", "metric_names"]

#: history columns that are not ELBO terms: where each goes (every other term is ``elbo/NAME``)
NAMES = {
    "lr": "train/lr",
    "images_per_s": "train/images_per_s",
    "capacity": "schedule/capacity",
    "beta": "schedule/beta",
}


class TrackerUnavailable(ImportError):
    """The tracker's package is not installed; the message names the extra to install."""


class TrackerWarning(UserWarning):
    """A tracker failed during a run and stopped writing; training was not affected."""


def metric_names(row: Mapping[str, float]) -> dict[str, float]:
    """A history row under the trackers' stable names: ``elbo/recon``, ``elbo/kl``, ``elbo/tc_mss``,
    ... for the ELBO's terms, ``train/lr`` and ``train/images_per_s``, ``schedule/capacity``
    (C(t)) and ``schedule/beta`` (β(t)) where the objective schedules them. ``step`` is dropped."""
    return {NAMES.get(k, f"elbo/{k}"): float(v) for k, v in row.items() if k != "step"}


def image_grid(images: Any, pad: int = 1) -> np.ndarray:
    """Tile images ``(rows, cols, C, H, W)`` in [0, 1] into one ``(H', W', 3)`` uint8 picture
    with ``pad`` white pixels between cells (grey images are repeated over three channels)."""
    a = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=float)
    if a.ndim != 5:
        raise ValueError(f"images must be (rows, cols, C, H, W), got shape {a.shape}")
    rows, cols, c, h, w = a.shape
    a = np.repeat(a, 3, axis=2) if c == 1 else a[:, :, :3]
    out = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, 3))
    for r in range(rows):
        for k in range(cols):
            y, x = pad + r * (h + pad), pad + k * (w + pad)
            out[y : y + h, x : x + w] = a[r, k].transpose(1, 2, 0)
    return (np.clip(out, 0.0, 1.0) * 255).round().astype(np.uint8)


class Tracker:
    """Base class of the experiment trackers: a training-loop callback with guarded writes.

    Subclasses implement ``_scalars(step, values)``, ``_images(step, images)``,
    ``_params(params)``, ``_artifact(path)``, ``_flush()`` and ``_close()``; users call the
    public methods, which never raise for a failing tracker (see the module docstring).
    """

    #: the tracker's name in warnings and in ``[train] track``
    kind = "tracker"

    def __init__(self) -> None:
        self.failed: str | None = None  # the first error, once the tracker stopped
        self._last_step: int | None = None
        #: history rows up to this step are already in the tracker (a continued run): skipped
        self.resume_after: int | None = None

    # --- the training-loop callback -----------------------------------------------------------
    def __call__(self, trainer: Any, terms: Mapping[str, float]) -> None:
        """Log the trainer's newest history row when this step closed one."""
        rows = trainer.history.rows
        if rows and rows[-1].get("step") == trainer.step and trainer.step != self._last_step:
            self._last_step = trainer.step
            if self.resume_after is not None and trainer.step <= self.resume_after:
                return
            self.log_scalars(trainer.step, metric_names(rows[-1]))

    def on_run_end(self, trainer: Any) -> None:
        """Called by the training loop when ``run`` returns or stops: flush what is buffered."""
        self.flush()

    # --- guarded writes -----------------------------------------------------------------------
    def _guard(self, write: Callable[..., None], *args: Any) -> None:
        if self.failed is not None:
            return
        try:
            write(*args)
        except Exception as err:  # any failure of the tracker: never of training
            self.stop(err)

    def stop(self, err: BaseException) -> None:
        """Stop writing after the error ``err``, with one :class:`TrackerWarning`."""
        if self.failed is not None:
            return
        self.failed = f"{type(err).__name__}: {err}"
        warnings.warn(
            f"the {self.kind} tracker failed and stopped logging ({self.failed}); training goes "
            "on, and log.csv and the checkpoints remain the run's record",
            TrackerWarning,
            stacklevel=3,
        )

    def log_scalars(self, step: int, values: Mapping[str, float]) -> None:
        """Numbers at a global step, e.g. ``{"elbo/kl": 12.3}``."""
        self._guard(self._scalars, int(step), dict(values))

    def log_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """Pictures ``(H, W, 3)`` uint8 (e.g. :func:`image_grid`) at a global step, by name."""
        self._guard(self._images, int(step), dict(images))

    def log_params(self, params: Mapping[str, Any]) -> None:
        """The run's configuration as hyperparameters (flat dotted keys)."""
        self._guard(self._params, dict(params))

    def log_artifact(self, path: str | Path) -> None:
        """A file (a figure, a report) kept with the tracked run (where the tracker keeps files)."""
        self._guard(self._artifact, Path(path))

    def log_link(self, name: str, target: str) -> None:
        """Where something lives (e.g. the run directory), kept with the tracked run."""
        self._guard(self._link, name, str(target))

    def flush(self) -> None:
        self._guard(self._flush)

    def close(self) -> None:
        """Flush and release the tracker (it writes nothing afterwards)."""
        self._guard(self._close)
        self.failed = self.failed or "closed"

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- what a tracker implements ------------------------------------------------------------
    def _scalars(self, step: int, values: dict[str, float]) -> None:
        raise NotImplementedError

    def _images(self, step: int, images: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _params(self, params: dict[str, Any]) -> None:
        raise NotImplementedError

    def _artifact(self, path: Path) -> None:
        raise NotImplementedError

    def _link(self, name: str, target: str) -> None:
        raise NotImplementedError

    def _flush(self) -> None:
        pass

    def _close(self) -> None:
        pass


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level of dotted keys: ``{"optim": {"lr": 1e-4}}`` -> ``optim.lr``."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out
