"""TensorBoard: the run's curves, pictures and hyperparameters as event files (``pip install
"pyrodis[tensorboard]"``; open them with ``tensorboard --logdir DIR``, ``docs/runs.rst``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from pyrodis.training.trackers.base import Tracker, TrackerUnavailable, flatten

__all__ = ["TensorBoardTracker"]


def _summary_writer() -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:  # torch's writer needs the tensorboard package
        raise TrackerUnavailable(
            'tracking to TensorBoard needs the tensorboard package: pip install "pyrodis[tensorboard]"'
        ) from err
    return SummaryWriter


def _after_existing_event_files(logdir: Path) -> None:
    """Wait (at most a second) until a new event file's name sorts after the folder's existing
    ones: readers take the files in name order (``events.out.tfevents.SECONDS.HOST.PID...``), so
    a resumed run's file written in the same second as its predecessor could be read first."""
    stamps = [p.name.split(".")[3] for p in logdir.glob("events.out.tfevents.*")]
    newest = max((int(t) for t in stamps if t.isdigit()), default=None)
    while newest is not None and int(time.time()) <= newest:
        time.sleep(0.05)


def _hparam_value(value: Any) -> Any:
    """TensorBoard's hparams take numbers, strings and booleans: anything else as its text."""
    if isinstance(value, (bool, int, float, str)):
        return value
    return "none" if value is None else str(value)


class TensorBoardTracker(Tracker):
    """Write the run to TensorBoard event files in ``logdir``.

    Scalars go under the names of :func:`~pyrodis.training.trackers.base.metric_names`
    (``elbo/kl``, ``train/lr``, ...), pictures under their own names, the configuration through
    the hparams plugin (one flat dotted key per value). Writing is asynchronous (TensorBoard's
    own writer thread), so a step waits for nothing.

    Args:
        logdir: the folder of the event files (created if needed); one run per folder.
        purge_step: continuing a run from a checkpoint at this step: events at this step and
            later, written by the interrupted process after its checkpoint, are hidden, so the
            curves continue without a duplicate step.
        flush_secs: how often the writer thread flushes to disk.
    """

    kind = "tensorboard"

    def __init__(
        self, logdir: str | Path, *, purge_step: int | None = None, flush_secs: int = 30
    ) -> None:
        super().__init__()
        self.logdir = Path(logdir)
        writer = _summary_writer()
        _after_existing_event_files(self.logdir)
        self.writer = writer(str(self.logdir), purge_step=purge_step, flush_secs=flush_secs)

    def _scalars(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, step)

    def _images(self, step: int, images: dict[str, np.ndarray]) -> None:
        for name, image in images.items():
            self.writer.add_image(name, image, step, dataformats="HWC")

    def _params(self, params: dict[str, Any]) -> None:
        from torch.utils.tensorboard.summary import hparams

        flat = {k: _hparam_value(v) for k, v in flatten(params).items()}
        for summary in hparams(flat, {}):
            self.writer.file_writer.add_summary(summary)

    def _artifact(self, path: Path) -> None:
        # TensorBoard keeps no files: the path is recorded as text, where to find it
        self.writer.add_text("artifacts", str(Path(path).resolve()))

    def _link(self, name: str, target: str) -> None:
        self.writer.add_text(name, target)

    def _flush(self) -> None:
        self.writer.flush()

    def _close(self) -> None:
        self.writer.close()
