"""A run directory on disk, owned by one class: :class:`RunDirectory`.

Layout (``docs/runs.rst``)::

    RUN/config.json        the full config, the library and torch/pyro versions, the history
    RUN/log.csv            one row per logged step: step and every ELBO term (pyrodis.runs.run_log)
    RUN/checkpoints/       step_XXXXXXXX.pt and latest.json (the format: pyrodis.runs.checkpoint)
    RUN/metrics.json       `pyrodis evaluate RUN`
    RUN/.lock              held by the process that trains it
    RUN/figures/, RUN/report.html, RUN/report.json    `pyrodis report RUN`

:class:`RunDirectory` owns that layout, the lock, ``config.json``, ``log.csv``, ``metrics.json``
and the checkpoint saver; every file is replaced atomically (written under a temporary name, then
renamed), so readers take no lock and always read one consistent state.

One writer per run: ``RUN/.lock`` is locked with ``fcntl.flock`` and holds the holder's pid. The
system releases the lock when that process ends in any way (exit, exception, ``kill -9``), so a
lock file left by a dead process is stale by construction and is simply taken over.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import platform
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyro
import torch

from pyrodis.atomic import remove_temporaries, write_text
from pyrodis.runs.checkpoint import (
    MANIFEST,
    CheckpointError,
    CheckpointSaver,
    foreign_run,
    load_latest_checkpoint,
    remove_stale_temporaries,
)
from pyrodis.runs.config import Config, ConfigError
from pyrodis.runs.run_log import LogAppender, read_log
from pyrodis.version import __version__

CONFIG_FILE, LOG_FILE, METRICS_FILE, CHECKPOINTS, LOCK_FILE = (
    "config.json",
    "log.csv",
    "metrics.json",
    "checkpoints",
    ".lock",
)

__all__ = ["CheckpointSaver", "RunDirectory", "RunLocked"]


class RunLocked(ConfigError):
    """Another live process is training the run directory."""


def _write_json(path: Path, record: dict[str, Any]) -> None:
    write_text(path, json.dumps(record, indent=2))


class RunDirectory:
    """The run directory at ``path``: its layout, lock and files (nothing is read or written
    until a method is called)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.config_file = self.path / CONFIG_FILE
        self.log_file = self.path / LOG_FILE
        self.metrics_file = self.path / METRICS_FILE
        self.checkpoints = self.path / CHECKPOINTS
        self.lock_file = self.path / LOCK_FILE

    # --- what it is ---------------------------------------------------------------------------
    def is_run(self) -> bool:
        """True when it holds a run (a config, checkpoints or a lock)."""
        return any(p.exists() for p in (self.config_file, self.checkpoints, self.lock_file))

    def check_fresh(self) -> None:
        """Refuse a directory that holds a run or someone else's files (before writing)."""
        out = self.path
        if out.exists() and not out.is_dir():
            raise ConfigError(f"--out {out} is a file, not a directory; choose another --out")
        if self.config_file.exists() or self.checkpoints.exists():
            hint = (
                ""
                if any(self.checkpoints.glob("step_*.pt"))
                else " (it stopped before its first checkpoint: --resume starts it again from "
                "step 0)"
            )
            raise FileExistsError(
                f"{out} already holds a run{hint}; continue it with `pyrodis train --resume "
                f"{out}` (resume=True), or choose another output directory"
            )
        if out.is_dir() and not self.is_run() and any(out.iterdir()):
            raise FileExistsError(
                f"--out {out} is a non-empty directory that is not a pyrodis run; refusing to "
                "write into it. Choose a new or empty directory"
            )

    def check_resumable(self) -> None:
        if not self.is_run():
            raise FileNotFoundError(
                f"{self.path} is not a pyrodis run (no {CONFIG_FILE}, no checkpoints); start one "
                f"with `pyrodis train --out {self.path}`"
            )

    # --- one writer ---------------------------------------------------------------------------
    def _acquire(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            try:
                pid = self.lock_file.read_text().strip()
            except OSError:
                pid = ""
            holder = f"pid {pid}" if pid.isdigit() else "another process (pid not yet recorded)"
            raise RunLocked(
                f"{self.path} is being trained by {holder}; one process trains a run at a time. "
                "Wait for it to finish (or stop it), then try again"
            ) from None

    def refuse_if_locked(self) -> None:
        """Raise :class:`RunLocked` when a live process trains the run (writes nothing)."""
        try:
            fd = os.open(self.lock_file, os.O_RDONLY)
        except OSError:  # no lock file: nobody trains it
            return
        try:
            self._acquire(fd)
        finally:
            os.close(fd)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the exclusive lock for the block; refuse if a live process holds it (a lock file
        whose process has died is not locked any more: it is taken over)."""
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._acquire(fd)
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            os.fsync(fd)
            yield
        finally:
            os.close(fd)  # closing releases the lock; the file stays, unlocked (stale)

    # --- creating and cleaning up -------------------------------------------------------------
    def create(self) -> bool:
        """Create the directory (and parents); True when it did not exist before."""
        existed = self.path.is_dir()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            raise ConfigError(
                f"cannot write the run directory {self.path} ({err.strerror or err}); choose a "
                "writable --out"
            ) from None
        return not existed

    def remove_half_made(self, created: bool) -> None:
        """Remove what a fresh run wrote before failing ahead of its first checkpoint (under the
        lock: a checkpoint file or manifest written before a later write failed, temporaries)."""
        ours = [self.config_file, self.log_file, self.lock_file, self.checkpoints / MANIFEST]
        if self.checkpoints.is_dir():
            ours += self.checkpoints.glob("step_*.pt")
            remove_temporaries(self.checkpoints)
        remove_temporaries(self.path)
        for path in ours:
            path.unlink(missing_ok=True)
        for directory in (self.checkpoints, self.path) if created else (self.checkpoints,):
            try:
                directory.rmdir()
            except OSError:  # not empty: keep what is not ours
                pass

    # --- config.json --------------------------------------------------------------------------
    @staticmethod
    def record(
        config: Config, history: list[dict[str, Any]], run_id: str | None = None
    ) -> dict[str, Any]:
        """What ``config.json`` holds (and every checkpoint, under ``"run"``): ``run_id`` tells
        this run's checkpoints from another run's."""
        versions = {
            "pyrodis": __version__,
            "pyro": str(pyro.__version__),
            "torch": str(torch.__version__),
            "python": platform.python_version(),
        }
        record = {"config": config.to_dict(), "versions": versions, "history": history}
        return record if run_id is None else {"run_id": run_id, **record}

    def write_config(self, record: dict[str, Any]) -> None:
        _write_json(self.config_file, record)

    def read_config(self) -> tuple[Config, dict[str, Any]]:
        """The run's :class:`Config` and the raw JSON (with versions) from ``config.json``."""
        if not self.config_file.exists():
            raise FileNotFoundError(
                f"{self.path} is not a pyrodis run (no {CONFIG_FILE}); train one with "
                "`pyrodis train --out DIR`"
            )
        try:
            raw = json.loads(self.config_file.read_bytes().decode("utf-8"))
            return Config.from_dict(raw["config"]), raw
        except (KeyError, TypeError, ValueError) as err:  # ValueError: JSON, UTF-8, ConfigError
            raise ConfigError(
                f"{self.config_file} is not a valid pyrodis run config: {err}"
            ) from err

    def read(self) -> tuple[Config, dict[str, Any], dict[str, Any] | None, int]:
        """``(config, record, state, step)``: the config, the config.json record (versions and
        history) and the newest good checkpoint with its step.

        A missing or damaged ``config.json`` is recovered from the record every checkpoint holds,
        with a warning naming the file; without one the error says what is wrong."""
        try:
            config, record = self.read_config()
        except (FileNotFoundError, ConfigError) as err:
            state, step = self.latest_checkpoint()
            saved = (state or {}).get("run")
            if not saved:
                raise
            warnings.warn(
                f"{err}; using the config stored in checkpoint step {step} instead (a resumed "
                f"run rewrites {CONFIG_FILE})",
                stacklevel=2,
            )
            return Config.from_dict(saved["config"]), dict(saved), state, step
        state, step = self.latest_checkpoint(lambda s: foreign_run(s.get("run"), record))
        return config, record, state, step

    # --- checkpoints --------------------------------------------------------------------------
    def latest_checkpoint(self, check: Any = None) -> tuple[dict[str, Any] | None, int]:
        """The newest good checkpoint (passing ``check``, see :func:`load_latest_checkpoint`), or
        ``(None, 0)`` when it has none yet (a run stopped before its first checkpoint); raises
        when checkpoints exist but none is usable."""
        try:
            return load_latest_checkpoint(self.checkpoints, check)
        except CheckpointError:
            if any(self.checkpoints.glob("step_*.pt")):
                raise
            return None, 0

    def checkpoint_saver(self, keep: int, record: dict, last: int | None) -> CheckpointSaver:
        """The saver of this run's checkpoints (stale temporaries of a killed writer removed)."""
        remove_stale_temporaries(self.checkpoints)
        return CheckpointSaver(self.checkpoints, keep, record, last)

    # --- log.csv and metrics.json -------------------------------------------------------------
    def read_log(self) -> list[dict[str, float]]:
        return read_log(self.log_file)

    def open_log(self, rows: list[dict[str, float]]) -> LogAppender:
        """``log.csv`` written afresh with ``rows``, ready to append."""
        return LogAppender(self.log_file, rows)

    def write_metrics(self, record: dict[str, Any]) -> None:
        _write_json(self.metrics_file, record)

    def read_metrics(self) -> dict[str, Any] | None:
        """``metrics.json``, or None when absent or damaged (with a warning)."""
        if not self.metrics_file.exists():
            return None
        try:
            return json.loads(self.metrics_file.read_bytes().decode("utf-8"))
        except ValueError as err:
            warnings.warn(
                f"{self.metrics_file} is damaged ({err}); ignoring it (run `pyrodis evaluate` "
                "again)",
                stacklevel=3,
            )
            return None
