"""Atomic file writes: every file pyrodis writes goes through this module (``docs/runs.rst``).

A file is written under a temporary name next to it (``.NAME.tmp-THREAD-PID``), flushed to disk and
renamed over the final name (``os.replace`` is atomic on POSIX), then the directory entry is
flushed too. A crash, ``kill -9`` or full disk at any moment therefore leaves either the old file
or the new one, never a cut-off one; when the write fails the temporary is removed and the error
is re-raised as :class:`FileWriteError`, which names the final file.

:func:`write_bytes` and :func:`write_text` write data; :func:`atomic_path` yields the temporary
path for writers that need one (``Figure.savefig``, ``DataFrame.to_parquet``);
:func:`atomic_open` yields an open file (a CSV writer).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = [
    "FileWriteError",
    "atomic_open",
    "atomic_path",
    "remove_temporaries",
    "temporary_name",
    "write_bytes",
    "write_text",
]

TEMPORARY_GLOB = ".*.tmp-*"


class FileWriteError(OSError):
    """A file could not be written; the previous version of it (if any) is intact.

    ``path`` is the final file, ``reason`` what the system said (``errno`` its code)."""

    def __init__(self, path: Path, err: OSError) -> None:
        self.reason = err.strerror or str(err)
        super().__init__(err.errno, f"cannot write {path}: {self.reason}")
        self.path, self.filename = path, str(path)

    def __str__(self) -> str:
        return self.strerror


def temporary_name(path: Path) -> Path:
    """The temporary a write of ``path`` by this thread of this process uses (the pid last)."""
    return path.with_name(f".{path.name}.tmp-{threading.get_ident()}-{os.getpid()}")


def _fsync_directory(directory: Path) -> None:
    try:  # make the rename itself durable
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:  # pragma: no cover - platforms or file systems without directory fsync
        pass


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write ``path`` through; on leaving the block it is flushed and
    renamed over ``path``. Any error (or interrupt) inside removes the temporary and leaves
    ``path`` as it was; an :class:`OSError` is re-raised as :class:`FileWriteError`."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and not isinstance(err, FileWriteError):
            raise FileWriteError(path, err) from err
        raise
    _fsync_directory(path.parent)


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs) -> Iterator[IO]:
    """``open(temporary, mode, **kwargs)`` for the block, then the atomic rename of
    :func:`atomic_path` (``mode`` is ``"w"`` or ``"wb"``)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a whole file: mode 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Replace ``path`` by ``data`` atomically; return the path."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Replace ``path`` by ``text`` atomically; return the path."""
    return write_bytes(path, text.encode(encoding))


def remove_temporaries(directory: str | Path) -> None:
    """Delete temporaries left in ``directory`` by a process killed while writing (call it only
    when no live process writes there, e.g. under the run's lock)."""
    for tmp in Path(directory).glob(TEMPORARY_GLOB):
        tmp.unlink(missing_ok=True)
