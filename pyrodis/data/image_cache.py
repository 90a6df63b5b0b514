"""The decoded-image cache of :class:`~pyrodis.data.ImageFolder` (``docs/data.rst``).

A folder is decoded once, on worker processes, into ``images.npy``: uint8 ``(N, C, S, S)``,
written through :func:`numpy.lib.format.open_memmap` in chunks (RAM stays bounded whatever N is)
under a temporary name and renamed when complete; ``index.json`` (the files, the skipped files and
their reasons) is written the same way, last.  A cache counts only when both exist, so an
interrupted first pass leaves nothing that a later open would trust.

Where: ``$PYRODIS_CACHE/images/<key>/``, else ``$XDG_CACHE_HOME/pyrodis/images/<key>/``, else
``~/.cache/pyrodis/images/<key>/``; never inside the folder read.  The key is a SHA-256 of the
sorted list of (relative path, size in bytes, mtime in ns) and of the size, channels, crop and
pixel limit asked for, so adding, removing, replacing or touching a file gives a new key: the old
cache is not used again (delete the directory to reclaim the space).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from pyrodis.data.image_files import decode_many, probe
from pyrodis.data.official_files import DatasetFileError

#: bump when the decoding rules change, so old caches are not reused
CACHE_FORMAT = 1
_CHUNK = 256


def cache_root() -> Path:
    """The directory that holds pyrodis' caches (module docstring)."""
    if os.environ.get("PYRODIS_CACHE"):
        return Path(os.environ["PYRODIS_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pyrodis"


def cache_key(entries: Sequence[tuple[str, int, int]], **settings: Any) -> str:
    """SHA-256 (hex, first 32 digits) of the file list and the decoding settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"format": CACHE_FORMAT, **settings}, sort_keys=True).encode())
    for rel, size, mtime in entries:
        digest.update(f"\n{rel}\0{size}\0{mtime}".encode())
    return digest.hexdigest()[:32]


def remove_stale_temporaries(directory: Path) -> None:
    """Delete temporary files left by a process that no longer runs (killed mid-write)."""
    for tmp in directory.glob(".*.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
        except OSError:  # alive, under another user
            pass


def read_index(directory: Path) -> dict[str, Any] | None:
    """The cache's ``index.json`` when the cache is complete and readable, else ``None``."""
    try:
        index = json.loads((directory / "index.json").read_text())
    except (OSError, ValueError):
        return None
    if index.get("format") != CACHE_FORMAT:
        return None
    try:  # a damaged or replaced images.npy is decoded again, not trusted
        images = np.load(directory / "images.npy", mmap_mode="r")
    except (OSError, ValueError, EOFError):
        return None
    shape = (len(index["files"]), index["channels"], index["size"], index["size"])
    return index if images.shape == shape and images.dtype == np.uint8 else None


def _executor(workers: int) -> Executor | None:
    if workers <= 1:
        return None
    import multiprocessing

    # fork: workers start at once (the work is Pillow and numpy only, no torch or CUDA)
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread)


def _one_thread() -> None:
    """Worker start: one thread each for torch (if the parent had it) and the math libraries."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _chunks(n: int) -> list[tuple[int, int]]:
    return [(s, min(s + _CHUNK, n)) for s in range(0, n, _CHUNK)]


def _run(
    pool: Executor | None,
    fn: Callable,
    jobs: list[tuple],
    on_done: Callable[[int, Any], None],
    desc: str,
    total: int,
    progress: bool,
) -> None:
    """Run ``fn(*job)`` for every job (on ``pool`` if any), calling ``on_done(i, result)`` in the
    parent, with a tqdm bar counting ``total`` files."""
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit="img", disable=not progress, leave=False) as bar:
        if pool is None:
            for i, job in enumerate(jobs):
                on_done(i, fn(*job))
                bar.update(len(job[0]))
            return
        futures = {pool.submit(fn, *job): i for i, job in enumerate(jobs)}
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            i = futures[future]
            on_done(i, future.result())
            bar.update(len(jobs[i][0]))


def probe_files(
    paths: list[str], max_pixels: int | None, pool: Executor | None, progress: bool
) -> list[tuple[bool | None, str]]:
    """:func:`~pyrodis.data.image_files.probe` over all files, in chunks on ``pool``."""
    spans = _chunks(len(paths))
    results: list[Any] = [None] * len(spans)

    def keep(i: int, out: Any) -> None:
        results[i] = out

    jobs = [(paths[a:b], max_pixels) for a, b in spans]
    _run(pool, probe, jobs, keep, "reading headers", len(paths), progress)
    return [item for part in results for item in part]


def _decode_into(
    target: str, start: int, paths: list[str], size: int, channels: int, crop: str, limit: Any
) -> list[str]:
    """Worker: decode ``paths`` into rows ``start:`` of the .npy at ``target``; the reasons."""
    images, reasons = decode_many(paths, size, channels, crop, limit)
    out = np.load(target, mmap_mode="r+")
    out[start : start + len(paths)] = images
    out.flush()
    del out
    return reasons


def _reserve(path: Path) -> None:
    """Allocate the whole file now: a full disk is an error here, not a crash in a worker."""
    if not hasattr(os, "posix_fallocate"):  # pragma: no cover - macOS, Windows
        return
    with open(path, "rb+") as fh:
        try:
            os.posix_fallocate(fh.fileno(), 0, os.fstat(fh.fileno()).st_size)
        except OSError as err:
            if err.errno not in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                return  # a file system without preallocation
            path.unlink(missing_ok=True)
            raise DatasetFileError(
                f"no room for the image cache {path.parent} ({err}). Free space there, or set "
                "PYRODIS_CACHE (or pass cache_dir=) to a disk with room"
            ) from None


def decode_files(
    directory: Path,
    paths: list[str],
    settings: dict[str, Any],
    pool: Executor | None,
    progress: bool,
) -> list[str]:
    """Decode ``paths`` into ``directory/images.npy`` (atomically); the reason of each failure."""
    size, channels = settings["size"], settings["channels"]
    tmp = directory / f".images.npy.tmp-{os.getpid()}"
    out = np.lib.format.open_memmap(
        tmp, mode="w+", dtype=np.uint8, shape=(len(paths), channels, size, size)
    )
    del out  # the header is written; workers fill the rows
    _reserve(tmp)
    spans = _chunks(len(paths))
    reasons: list[Any] = [None] * len(spans)

    def keep(i: int, out: Any) -> None:
        reasons[i] = out

    args = (size, channels, settings["crop"], settings["max_pixels"])
    jobs = [(paths[a:b], str(tmp), a, *args) for a, b in spans]
    try:
        _run(pool, _decode_job, jobs, keep, "decoding images", len(paths), progress)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, directory / "images.npy")
    finally:
        tmp.unlink(missing_ok=True)
    return [r for part in reasons for r in part]


def _decode_job(paths, target, start, size, channels, crop, limit) -> list[str]:
    return _decode_into(target, start, paths, size, channels, crop, limit)


def open_executor(workers: int | None, num_files: int) -> Executor | None:
    """A process pool of ``workers`` (default: the usable CPU cores), or ``None`` for one."""
    if workers is None:
        try:
            workers = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - macOS, Windows
            workers = os.cpu_count() or 1
    return _executor(min(int(workers), max(1, -(-num_files // _CHUNK))))
