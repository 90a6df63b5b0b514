"""The run directory as a place to write: which ``--out`` is acceptable, one writer per run,
and no half-made run left behind.

:func:`check_fresh_out` refuses a directory that already holds a run or someone else's files
(naming it, before anything is written); :func:`make_run_dir` creates it or says why it cannot;
:func:`remove_half_made` removes what a fresh run wrote when it fails before its first checkpoint.

One writer per run: an exclusive lock on a run directory while it is trained.

``RUN/.lock`` is locked with ``fcntl.flock`` and holds the pid of the process that holds it. The
operating system releases the lock when that process ends in any way (normal exit, exception,
``kill -9``), so a lock file left by a dead process is stale by construction and is simply
taken over. Readers (evaluate, report) take no lock: checkpoints and their manifest are replaced
atomically, so they always read one consistent checkpoint (``docs/runs.rst``).
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyrodis.runs.config import ConfigError
from pyrodis.runs.run import CHECKPOINTS, CONFIG_FILE, LOG_FILE

LOCK_FILE = ".lock"

__all__ = [
    "LOCK_FILE",
    "RunLocked",
    "check_fresh_out",
    "is_run",
    "make_run_dir",
    "refuse_if_locked",
    "remove_half_made",
    "run_lock",
]


class RunLocked(ConfigError):
    """Another live process is training the run directory."""


def _holder(path: Path) -> str:
    try:
        pid = path.read_text().strip()
    except OSError:
        pid = ""
    return f"pid {pid}" if pid.isdigit() else "another process (pid not yet recorded)"


def _acquire(fd: int, run_dir: Path) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise
        raise RunLocked(
            f"{run_dir} is being trained by {_holder(run_dir / LOCK_FILE)}; one process trains "
            "a run at a time. Wait for it to finish (or stop it), then try again"
        ) from None


def refuse_if_locked(run_dir: Path) -> None:
    """Raise :class:`RunLocked` when a live process trains ``run_dir`` (writes nothing)."""
    try:
        fd = os.open(Path(run_dir) / LOCK_FILE, os.O_RDONLY)
    except OSError:  # no lock file: nobody trains it
        return
    try:
        _acquire(fd, Path(run_dir))
    finally:
        os.close(fd)


@contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``run_dir`` for the block; refuse if a live process holds it.

    A lock file whose process has died is not locked any more: it is taken over."""
    path = Path(run_dir) / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, Path(run_dir))
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        os.fsync(fd)
        yield
    finally:
        os.close(fd)  # closing releases the lock; the file stays, unlocked (stale)


def is_run(out: Path) -> bool:
    return any((out / name).exists() for name in (CONFIG_FILE, CHECKPOINTS, LOCK_FILE))


def check_fresh_out(out: Path) -> None:
    """Refuse an output directory that holds a run or someone else's files (before writing)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a directory; choose another --out")
    if (out / CONFIG_FILE).exists() or (out / CHECKPOINTS).exists():
        has_checkpoint = any((out / CHECKPOINTS).glob("step_*.pt"))
        hint = (
            ""
            if has_checkpoint
            else " (it stopped before its first checkpoint: --resume starts it again from step 0)"
        )
        raise FileExistsError(
            f"{out} already holds a run{hint}; continue it with `pyrodis train --resume {out}` "
            "(resume=True), or choose another output directory"
        )
    if out.is_dir() and not is_run(out) and any(out.iterdir()):
        raise FileExistsError(
            f"--out {out} is a non-empty directory that is not a pyrodis run; refusing to write "
            "into it. Choose a new or empty directory"
        )


def make_run_dir(out: Path) -> bool:
    """Create ``out`` (and parents); True when it did not exist before."""
    existed = out.is_dir()
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ConfigError(
            f"cannot write the run directory {out} ({err.strerror or err}); choose a writable --out"
        ) from None
    return not existed


def remove_half_made(out: Path, created: bool) -> None:
    """Remove what a fresh run wrote before failing ahead of its first checkpoint."""
    for name in (CONFIG_FILE, LOG_FILE, CONFIG_FILE + ".tmp", LOG_FILE + ".tmp", LOCK_FILE):
        (out / name).unlink(missing_ok=True)
    for directory in (out / CHECKPOINTS, out) if created else (out / CHECKPOINTS,):
        try:
            directory.rmdir()
        except OSError:  # not empty: keep what is not ours
            pass
