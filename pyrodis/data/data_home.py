"""Where dataset files are found and where pyrodis caches what it derives from them.

**Files.**  A dataset that needs official files takes a ``path``; without one it looks in the
data directory named by the environment variable ``PYRODIS_DATA`` (``docs/data.rst`` lists the
file names each dataset expects there).  pyrodis never downloads anything: a missing file is a
:class:`~pyrodis.data.official_files.DatasetFileError` naming the file, where it comes from and
the variable.

**Cache.**  Resized copies (SmallNORB, Cars3D) and converted arrays (a compressed MPI3D
``.npz``) are written once as ``.npy`` files to ``cache_dir``, else to ``$PYRODIS_CACHE``, else
to ``$XDG_CACHE_HOME/pyrodis`` (``~/.cache/pyrodis``), and memory-mapped afterwards.  A cache
file's name holds a digest of the source files' names, sizes and modification times, so a
changed source is re-derived; every write goes to a temporary file that is fsynced and renamed
over the target (:func:`atomic_save_npy`), so an interrupted write never leaves a broken cache.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from pyrodis.atomic import atomic_open
from pyrodis.data.official_files import DatasetFileError

DATA_ENV = "PYRODIS_DATA"
CACHE_ENV = "PYRODIS_CACHE"

__all__ = [
    "CACHE_ENV",
    "DATA_ENV",
    "atomic_save_npy",
    "cache_dir",
    "cached_array",
    "missing_file_error",
    "resolve_path",
]


def missing_file_error(what: str, name: str, source: str, tried: Path | None) -> DatasetFileError:
    """The error for a dataset file that is not there: what, where from, and how to point to it."""
    where = f"{tried} does not exist" if tried is not None else f"${DATA_ENV} is not set"
    return DatasetFileError(
        f"{what}: {where}. Get {name} from {source} (pyrodis never downloads data), then pass "
        f"path=... or set the environment variable {DATA_ENV} to the directory holding {name}"
    )


def resolve_path(
    path: str | Path | None, default_name: str, what: str, source: str, is_dir: bool = False
) -> Path:
    """``path`` if given, else ``$PYRODIS_DATA/default_name``; raise if it does not exist."""
    if path is None:
        root = os.environ.get(DATA_ENV)
        if not root:
            raise missing_file_error(what, default_name, source, None)
        path = Path(root) / default_name
    path = Path(path).expanduser()
    exists = path.is_dir() if is_dir else path.is_file()
    if not exists:
        raise missing_file_error(what, default_name, source, path)
    return path


def cache_dir(override: str | Path | None = None) -> Path:
    """The cache directory: ``override``, ``$PYRODIS_CACHE`` or ``$XDG_CACHE_HOME/pyrodis``."""
    if override is not None:
        return Path(override).expanduser()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pyrodis"


def source_digest(sources: Sequence[Path], recipe: str) -> str:
    """A short digest of the source files' names, sizes and mtimes and of the derivation recipe."""
    digest = hashlib.sha256(recipe.encode())
    for src in sources:
        stat = Path(src).stat()
        digest.update(f"{Path(src).resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def atomic_save_npy(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` as ``.npy`` through a fsynced temporary file renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as fh:
        np.lib.format.write_array(fh, np.ascontiguousarray(array), allow_pickle=False)
    return path


def cached_array(
    name: str,
    sources: Sequence[Path],
    recipe: str,
    build: Callable[[], np.ndarray],
    directory: str | Path | None = None,
) -> np.ndarray:
    """The array ``build()`` derives from ``sources``, built once and memory-mapped from the cache.

    ``name`` and ``recipe`` (a version string of the derivation) make the file name
    ``{name}-{digest}.npy`` together with the sources' names, sizes and mtimes.
    """
    target = cache_dir(directory) / f"{name}-{source_digest(sources, recipe)}.npy"
    if not target.is_file():
        array = build()
        try:
            atomic_save_npy(target, array)
        except OSError as err:  # read-only or full disk, no permission
            raise DatasetFileError(
                f"{target}: the cache cannot be written ({err}). Pass cache_dir=... or set "
                f"{CACHE_ENV} to a writable directory with room for {array.nbytes >> 20} MiB"
            ) from None
    try:
        return np.load(target, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as err:  # damaged by something else: derive it again
        target.unlink(missing_ok=True)
        raise DatasetFileError(
            f"{target}: the cached array could not be read ({err}); it was removed and will be "
            "rebuilt on the next load"
        ) from None
