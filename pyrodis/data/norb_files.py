"""Reading the NYU "binary matrix" files of SmallNORB (LeCun, Huang & Bottou 2004).

A file is a little-endian header followed by the array in C order::

    int32 magic     0x1E3D4C55 (507333717) uint8 · 0x1E3D4C54 (507333716) int32
                    0x1E3D4C51 (507333713) float32 · 0x1E3D4C53 (507333715) float64
    int32 ndim
    int32 dims[max(3, ndim)]     (a 1-D or 2-D array pads its dims to 3 with ones)
    data                         starts at byte 8 + 4·max(3, ndim)

:func:`read_norb` checks the magic number, the dimensions and the exact file size (a truncated
or padded file is refused) and memory-maps the data.  ``docs/data.rst`` names the six files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pyrodis.atomic import write_bytes
from pyrodis.data.official_files import DatasetFileError

__all__ = ["NORB_DTYPES", "read_norb", "write_norb"]

NORB_DTYPES = {
    507333717: np.dtype(np.uint8),
    507333716: np.dtype("<i4"),
    507333713: np.dtype("<f4"),
    507333715: np.dtype("<f8"),
}
_MAGIC = {dtype: magic for magic, dtype in NORB_DTYPES.items()}


def _fail(path: Path, problem: str) -> DatasetFileError:
    return DatasetFileError(
        f"{path}: {problem}. This is not an intact SmallNORB binary matrix file (a truncated "
        "download, a still-gzipped .mat.gz, or another file): download it again and gunzip it"
    )


def read_norb(path: str | Path, dtype: np.dtype | str, expected: Sequence) -> np.ndarray:
    """Memory-map a NORB binary matrix, checking magic (``dtype``), shape and size.

    ``expected`` is the shape, ``None`` for any length along an axis.
    """
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(20)
    if head[:2] == b"\x1f\x8b":
        raise _fail(path, "is gzip-compressed")
    if len(head) < 8:
        raise _fail(path, f"has only {len(head)} bytes, less than a header")
    magic, ndim = np.frombuffer(head[:8], dtype="<i4")
    if int(magic) not in NORB_DTYPES:
        raise _fail(
            path, f"starts with magic number {int(magic)}, not one of {sorted(NORB_DTYPES)}"
        )
    found = NORB_DTYPES[int(magic)]
    want = np.dtype(dtype).newbyteorder("<") if np.dtype(dtype).itemsize > 1 else np.dtype(dtype)
    if found != want:
        raise _fail(path, f"holds {found} (magic {int(magic)}), expected {want}")
    if not 1 <= ndim <= 16:
        raise _fail(path, f"declares {int(ndim)} dimensions")
    offset = 8 + 4 * max(3, int(ndim))
    with path.open("rb") as fh:
        fh.seek(8)
        dims = np.frombuffer(fh.read(4 * max(3, int(ndim))), dtype="<i4")
    if len(dims) < max(3, int(ndim)) or (dims < 0).any():
        raise _fail(path, "has a truncated or negative list of dimensions")
    shape = tuple(int(d) for d in dims[: int(ndim)])
    if len(shape) != len(expected) or any(
        e is not None and s != e for s, e in zip(shape, expected)
    ):
        want_shape = "(" + ", ".join("N" if e is None else str(e) for e in expected) + ")"
        raise _fail(path, f"has shape {shape}, expected {want_shape}")
    nbytes = int(np.prod(shape, dtype=np.int64)) * found.itemsize
    size = path.stat().st_size
    if size != offset + nbytes:
        problem = "ends early (truncated)" if size < offset + nbytes else "has trailing bytes"
        raise _fail(path, f"{problem}: {size} bytes, the header announces {offset + nbytes}")
    return np.memmap(path, dtype=found, mode="r", offset=offset, shape=shape)


def write_norb(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` in the NORB binary matrix format (the tests' files, exactly official)."""
    array = np.ascontiguousarray(array)
    dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    if dtype not in _MAGIC:
        raise ValueError(f"NORB files hold uint8, int32, float32 or float64, got {array.dtype}")
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    header = np.array([_MAGIC[dtype], array.ndim, *dims], dtype="<i4").tobytes()
    return write_bytes(path, header + array.astype(dtype, copy=False).tobytes())
