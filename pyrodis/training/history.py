"""What a training run shows while it runs: the history of its ELBO terms and a progress bar."""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import numpy as np

__all__ = ["History", "ProgressBar"]


class History:
    """The ELBO terms, logged every ``log_every`` steps as means over the interval.

    ``rows`` are dicts with ``step``, every term's interval mean and ``images_per_s``, plus the
    values :meth:`annotate` attached to a step (e.g. the checkpoint's large-reference ``tc_ref``).
    """

    def __init__(self, log_every: int = 100, rows: list[dict[str, float]] | None = None) -> None:
        self.log_every = int(log_every)
        self.rows: list[dict[str, float]] = list(rows or [])
        self._sums: dict[str, float] = {}
        self._count = 0
        self._images = 0
        self._tick = time.perf_counter()
        self._pending: dict[str, float] = {}

    def column(self, name: str) -> np.ndarray:
        return np.array([r.get(name, math.nan) for r in self.rows], dtype=float)

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, step: int, terms: dict[str, float], images: int) -> dict[str, float] | None:
        """Accumulate one step's terms; return the new row when ``step`` closes an interval."""
        for key, value in terms.items():
            self._sums[key] = self._sums.get(key, 0.0) + value
        self._count += 1
        self._images += images
        if step % self.log_every != 0:
            return None
        now = time.perf_counter()
        row = {"step": step, **{k: v / self._count for k, v in self._sums.items()}}
        row["images_per_s"] = self._images / max(now - self._tick, 1e-9)
        row.update(self._pending)
        self._sums, self._count, self._images, self._tick = {}, 0, 0, now
        self._pending = {}
        self.rows.append(row)
        return row

    def annotate(self, step: int, values: dict[str, float]) -> None:
        """Attach ``values`` to the row of ``step`` (the newest row when it is that step's, else
        the next row to close): a value measured at a step, not averaged over an interval."""
        if self.rows and self.rows[-1]["step"] == step:
            self.rows[-1].update(values)
        else:
            self._pending.update(values)

    def interval_state(self) -> dict[str, Any]:
        return {"sums": dict(self._sums), "count": self._count, "pending": dict(self._pending)}

    def restore(self, rows: list[dict[str, float]], interval: dict[str, Any]) -> None:
        self.rows = list(rows)
        self._sums = dict(interval["sums"])
        self._count = int(interval["count"])
        self._pending = dict(interval.get("pending", {}))  # absent in checkpoints before 0.3
        self._images, self._tick = 0, time.perf_counter()


class ProgressBar:
    """A tqdm bar that shows the last logged row (redrawn every 30 s in a log file) under its
    column names: ``tc_mss`` for a minibatch estimate, ``tc_ref`` beside it at a checkpoint."""

    def __init__(self, total: int, initial: int) -> None:
        from tqdm.auto import tqdm

        interval = 0.1 if sys.stderr.isatty() else 30.0
        self._bar = tqdm(
            total=total, initial=initial, unit="step", dynamic_ncols=True, mininterval=interval
        )

    def update(self, row: dict[str, float] | None) -> None:
        if row is not None:
            shown = {k: f"{v:.4g}" for k, v in row.items() if k not in ("step", "lr")}
            self._bar.set_postfix(shown, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()
