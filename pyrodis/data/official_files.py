"""Reading and checking the official dSprites and 3D Shapes files.

Every check raises :class:`DatasetFileError` (a ``ValueError``) whose message names the file,
what is wrong with it (not a zip / not HDF5, missing key, wrong shape, wrong dtype, factor classes
not on a row-major grid, ...) and what to do about it.  Images are read in chunks, so that a
full file never needs two copies in memory.

Files in the official layout but with a smaller factor grid (fewer values per factor, still one
image per combination, row-major) load as that smaller grid: the tests use such files.  The md5
of the official dSprites ``.npz`` is known (``docs/data.rst``) and is compared when ``verify`` asks
for it; see :func:`check_md5`.
"""

from __future__ import annotations

import hashlib
import warnings
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

DSPRITES_NPZ_MD5 = "7da33b31b13a06f4b04a70402ce90c2e"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_CHUNK_ROWS = 16384
Convert = Callable[[np.ndarray], np.ndarray]


class DatasetFileError(ValueError):
    """A dataset file is missing, unreadable, or not in the expected layout."""


def _fail(path: Path, problem: str, fix: str) -> DatasetFileError:
    return DatasetFileError(f"{path}: {problem}. {fix}")


def file_kind(path: str | Path) -> str:
    """``"npz"`` (a zip archive) or ``"hdf5"``, read from the file's magic bytes."""
    path = Path(path)
    if not path.is_file():
        raise DatasetFileError(
            f"{path}: no such file. Pass the path of the downloaded dataset file, or path=None "
            "for the procedural renderer (pyrodis never downloads data)."
        )
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK"):
        if not zipfile.is_zipfile(path):
            raise _fail(
                path,
                "starts like a zip archive (.npz) but has no central directory",
                "The file is truncated (an interrupted download?): download it again",
            )
        return "npz"
    if head == _HDF5_MAGIC:
        return "hdf5"
    raise _fail(
        path,
        f"neither a zip archive (.npz) nor an HDF5 file (first bytes {head!r})",
        "The file is probably truncated or is not the dataset: download it again",
    )


def md5sum(path: str | Path, block: int = 1 << 22) -> str:
    """Hex md5 digest of a file, read in blocks."""
    digest = hashlib.md5(usedforsecurity=False)
    with Path(path).open("rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def check_md5(path: Path, expected: str, verify: bool | None, full_size: bool) -> None:
    """Compare the file's md5 with ``expected``.

    ``verify=True`` raises on a mismatch; ``verify=None`` (default) checks only files with the
    full official grid and warns on a mismatch (a well-formed file from another release still
    loads); ``verify=False`` skips the check.
    """
    if verify is False or (verify is None and not full_size):
        return
    actual = md5sum(path)
    if actual == expected:
        return
    message = (
        f"{path}: md5 {actual} differs from the official file's {expected}; the file is a "
        "different release, was modified or is corrupted. Download it again if results must be "
        "comparable with published ones"
    )
    if verify:
        raise DatasetFileError(message + ", or pass verify=False to load it anyway.")
    warnings.warn(message + " (verify=True makes this an error).", UserWarning, stacklevel=3)


# -------------------------------------------------------------------------------------- arrays
def check_array(
    path: Path, name: str, shape: tuple, dtype: np.dtype | str, expected: Sequence
) -> None:
    """Check the shape (``None`` = any length) and dtype of array ``name`` of a file."""
    ok = len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))
    if not ok:
        want = "(" + ", ".join("N" if e is None else str(e) for e in expected) + ")"
        raise _fail(
            path,
            f"{name!r} has shape {tuple(shape)}, expected {want}",
            "This is not the expected dataset file (or it is truncated)",
        )
    kind = np.dtype(dtype)
    if name.endswith("imgs") or name.endswith("images"):
        if kind != np.uint8:
            raise _fail(
                path,
                f"{name!r} has dtype {kind}, expected uint8",
                "Images must be stored as uint8 as in the official file",
            )
    elif not (np.issubdtype(kind, np.integer) or np.issubdtype(kind, np.floating)):
        raise _fail(
            path,
            f"{name!r} has dtype {kind}, expected a numeric dtype",
            "This is not the expected dataset file",
        )


def grid_sizes(path: Path, classes: np.ndarray, what: str) -> tuple[int, ...]:
    """Factor sizes of a row-major grid of class indices (N, K); raise if ``classes`` is not one."""
    if classes.size == 0:
        raise _fail(path, f"{what} is empty", "The file holds no observations")
    if classes.min() < 0:
        raise _fail(
            path, f"{what} holds negative classes", "The file is not in the official layout"
        )
    sizes = classes.max(0).astype(np.int64) + 1
    bases = np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]])
    rows = classes.shape[0]
    if int(np.prod(sizes)) != rows or not np.array_equal(classes @ bases, np.arange(rows)):
        raise _fail(
            path,
            f"{what} is not the full row-major grid of sizes {tuple(int(s) for s in sizes)} "
            f"with the last factor fastest ({rows} rows)",
            "Observations must be stored one per factor combination in the official order; "
            "a shuffled or subsampled file cannot be indexed",
        )
    return tuple(int(s) for s in sizes)


def values_per_class(path: Path, classes: np.ndarray, values: np.ndarray) -> list[np.ndarray]:
    """Value of each class of each factor, checking that a class always has the same value."""
    check_finite(path, values, "the factor values")
    tables = []
    for k in range(classes.shape[1]):
        size = int(classes[:, k].max()) + 1
        first = np.zeros(size, dtype=np.int64)
        first[classes[::-1, k]] = np.arange(len(classes) - 1, -1, -1)  # first row of each class
        table = values[first, k].astype(np.float64)
        if not np.allclose(values[:, k], table[classes[:, k]], rtol=1e-9, atol=1e-12):
            raise _fail(
                path,
                f"factor column {k} maps one class to several values",
                "The values and classes arrays do not belong together",
            )
        tables.append(table)
    return tables


def classes_from_values(values: np.ndarray, decimals: int = 9) -> tuple[np.ndarray, list]:
    """Class indices (N, K) int64 and sorted distinct values per column of a value array."""
    classes = np.empty(values.shape, dtype=np.int64)
    tables = []
    for k in range(values.shape[1]):
        uniq, inverse = np.unique(np.round(values[:, k], decimals), return_inverse=True)
        classes[:, k] = inverse.reshape(-1)
        tables.append(uniq.astype(np.float64))
    return classes, tables


# ------------------------------------------------------------------------------------- readers
def _npz_member(path: Path, zf: zipfile.ZipFile, key: str) -> str:
    member = f"{key}.npy"
    if member not in zf.namelist():
        found = sorted(n.removesuffix(".npy") for n in zf.namelist())
        raise _fail(
            path,
            f"missing key {key!r} (found {found})",
            "The file is not the official dSprites .npz",
        )
    return member


def _npy_header(path: Path, key: str, fh: Any) -> tuple[tuple, bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` from the .npy header of member ``key``."""
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(fh)
        return np.lib.format.read_array_header_2_0(fh)
    except (ValueError, SyntaxError, EOFError, zipfile.BadZipFile):
        raise _fail(
            path,
            f"the .npy header of {key!r} is malformed",
            "The file is corrupted or truncated: download it again",
        ) from None


def read_npz_images(path: Path, key: str, expected: Sequence, convert: Convert) -> np.ndarray:
    """Stream array ``key`` of an .npz in chunks of rows, applying ``convert`` to each chunk."""
    with zipfile.ZipFile(path) as zf, zf.open(_npz_member(path, zf, key)) as fh:
        shape, fortran, dtype = _npy_header(path, key, fh)
        check_array(path, key, shape, dtype, expected)
        if fortran:
            raise _fail(path, f"{key!r} is stored in Fortran order", "Save it in C order")
        row = int(np.prod(shape[1:]))
        parts = []
        for start in range(0, shape[0], _CHUNK_ROWS):
            rows = min(_CHUNK_ROWS, shape[0] - start)
            buf = fh.read(rows * row * dtype.itemsize)
            if len(buf) != rows * row * dtype.itemsize:
                raise _fail(path, f"{key!r} ends early", "The file is truncated: download it again")
            parts.append(convert(np.frombuffer(buf, dtype=dtype).reshape((rows, *shape[1:]))))
    return np.concatenate(parts) if parts else np.zeros((0,), dtype=np.uint8)


def read_npz_array(path: Path, key: str, expected: Sequence) -> np.ndarray:
    """Read one (non-pickled) array of an .npz, checking its shape and dtype."""
    with zipfile.ZipFile(path) as zf, zf.open(_npz_member(path, zf, key)) as fh:
        shape, _, dtype = _npy_header(path, key, fh)
    if dtype.hasobject:  # an object array needs pickle
        raise _fail(path, f"{key!r} is a pickled object array", "Store it as numbers")
    check_array(path, key, shape, dtype, expected)
    with np.load(path, allow_pickle=False) as data:
        try:
            arr = data[key]
        except (ValueError, EOFError, OSError, zipfile.BadZipFile) as err:
            raise _fail(
                path, f"{key!r} cannot be read ({err})", "The file is corrupted: download it again"
            ) from None
    return arr


def require_npz_keys(path: Path, keys: Sequence[str]) -> None:
    """Raise if any of ``keys`` is missing from the .npz archive."""
    with zipfile.ZipFile(path) as zf:
        for key in keys:
            _npz_member(path, zf, key)


def read_npz_metadata(path: Path, key: str = "metadata") -> object:
    """The pickled metadata of the official dSprites .npz (a Python-2 pickle).

    Unpickling runs code stored in the file: call this only on files you trust.
    """
    with np.load(path, allow_pickle=True, encoding="latin1") as data:
        meta = data[key]
    return meta.item() if meta.dtype == object and meta.shape == () else meta


def check_finite(path: Path, values: np.ndarray, what: str, names: Sequence[str] = ()) -> None:
    """Raise if a factor value (rows of ``values``, columns ``names``) is NaN or infinite."""
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise _fail(
            path,
            f"{what} holds non-finite values ({int(bad.sum())} of them; the first is "
            f"{values[row, col]} in row {row}, factor {names[col] if names else col!r})",
            "Factor values must be finite numbers: the file is corrupted, download it again",
        )


def binary_to_bits(path: Path, name: str) -> Convert:
    """A chunk converter that checks 0/1 pixels and packs them 8 per byte along the width."""

    def convert(chunk: np.ndarray) -> np.ndarray:
        if chunk.size and chunk.max() > 1:
            raise _fail(
                path,
                f"{name!r} holds pixel values up to {chunk.max()}, expected 0/1",
                "dSprites images are binary; rescale 0/255 images to 0/1",
            )
        return np.packbits(chunk, axis=-1)

    return convert
