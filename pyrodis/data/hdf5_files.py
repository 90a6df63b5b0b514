"""Reading the HDF5 twins of the official dataset files (h5py, an optional dependency).

Every check raises :class:`~pyrodis.data.official_files.DatasetFileError` naming the file, the
problem and the fix, like the ``.npz`` readers of :mod:`pyrodis.data.official_files`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pyrodis.data.official_files import _CHUNK_ROWS, Convert, DatasetFileError, _fail, check_array

__all__ = ["hdf5_dataset", "open_hdf5", "read_hdf5_images"]


def open_hdf5(path: Path) -> Any:
    """Open an HDF5 file read-only with h5py (an optional dependency)."""
    try:
        import h5py
    except ImportError as err:  # pragma: no cover - h5py is installed in the test environment
        raise DatasetFileError(
            f"{path}: reading HDF5 files needs h5py; `pip install h5py` (or pyrodis[hdf5])"
        ) from err
    try:
        return h5py.File(path, "r")
    except OSError as err:  # truncated (eof below the stored size), corrupted superblock, ...
        raise _fail(
            path,
            f"cannot be opened as HDF5 ({err})",
            "The file is truncated or corrupted: download it again",
        ) from None


def hdf5_dataset(path: Path, h5: Any, name: str, expected: Sequence) -> Any:
    """The h5py dataset ``name``, checking that it exists and its shape and dtype."""
    if name not in h5:
        found: list[str] = []
        h5.visit(found.append)
        raise _fail(
            path,
            f"missing dataset {name!r} (found {sorted(found)})",
            "The file is not in the official layout",
        )
    node = h5[name]
    if not hasattr(node, "shape"):
        raise _fail(
            path, f"{name!r} is a group, not a dataset", "The file is not in the official layout"
        )
    check_array(path, name, node.shape, node.dtype, expected)
    return node


def read_hdf5_images(node: Any, convert: Convert) -> np.ndarray:
    """Read a whole h5py image dataset in chunks of rows, applying ``convert`` to each chunk."""
    total = node.shape[0]
    try:
        parts = [
            convert(node[s : min(s + _CHUNK_ROWS, total)]) for s in range(0, total, _CHUNK_ROWS)
        ]
    except OSError as err:  # a chunk past the end of a truncated file
        raise DatasetFileError(
            f"{node.file.filename}: {node.name!r} cannot be read ({err}). The file is truncated "
            "or corrupted: download it again"
        ) from None
    return np.concatenate(parts) if parts else np.zeros((0,), dtype=np.uint8)
