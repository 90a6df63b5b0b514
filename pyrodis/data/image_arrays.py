"""Images stored as one array: ``.npy``, ``.npz`` or HDF5, read without loading them whole.

Layouts (the rank and where the 1 or 3 channels are): ``(N, H, W)`` grey, ``(N, H, W, C)``
(numpy/Pillow order) or ``(N, C, H, W)`` (torch order), ``C`` in {1, 3}; when both the second
and the last axis could be channels, the torch order is taken (``layout=`` decides otherwise).
Values: uint8 (0..255), bool, or floats already in [0, 1] (checked once, in chunks).  The images
are used as stored, without resizing.

Memory: a ``.npy`` file is memory-mapped; an ``.npz`` member is copied once, streamed, into the
cache folder of :mod:`pyrodis.data.image_cache` (a zip member cannot be mapped) and mapped from
there; an HDF5 dataset stored contiguously without compression is mapped at its offset in the
file, any other (chunked, compressed) is read lazily with h5py, batch by batch.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from pyrodis.atomic import atomic_open
from pyrodis.data.image_cache import cache_root
from pyrodis.data.images import ImageDataset
from pyrodis.data.official_files import DatasetFileError

__all__ = ["ARRAY_SUFFIXES", "ImageArray"]

ARRAY_SUFFIXES = (".npy", ".npz", ".h5", ".hdf5")
LAYOUTS = ("NHW", "NHWC", "NCHW")
_CHUNK = 4096


def _layout(path: Path, shape: tuple, layout: str | None) -> str:
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS} or None, got {layout!r}")
    guess = layout
    if guess is None and len(shape) == 3:
        guess = "NHW"
    elif guess is None and len(shape) == 4:
        guess = "NCHW" if shape[1] in (1, 3) else "NHWC" if shape[3] in (1, 3) else None
    ok = guess is not None and len(shape) == len(guess)
    channels = 1 if guess == "NHW" else shape[guess.index("C")] if ok else None
    if not ok or channels not in (1, 3) or shape[0] < 1:
        raise DatasetFileError(
            f"{path}: an array of shape {tuple(shape)} is not a stack of images. Store N >= 1 "
            "images as (N, H, W) grey, (N, H, W, C) or (N, C, H, W) with C = 1 or 3 channels "
            "(drop an alpha channel first)"
        )
    return guess


def _check_dtype(path: Path, dtype: np.dtype) -> None:
    if dtype == np.uint8 or dtype == np.bool_ or np.issubdtype(dtype, np.floating):
        return
    raise DatasetFileError(
        f"{path}: images of dtype {dtype} are not supported. Store uint8 (0..255) or floats in "
        "[0, 1], e.g. (x / x.max()).astype('float32')"
    )


def _check_range(path: Path, store: Any) -> None:
    """Floats must be finite and in [0, 1]: checked chunk by chunk (bounded memory)."""
    for start in range(0, store.shape[0], _CHUNK):
        part = np.asarray(store[start : start + _CHUNK])
        if not np.all(np.isfinite(part)) or part.min() < 0 or part.max() > 1:
            raise DatasetFileError(
                f"{path}: float images must be finite and in [0, 1] (rows {start}.. hold values "
                f"in [{np.nanmin(part)}, {np.nanmax(part)}]). Divide by 255 if they are 0..255, "
                "or store uint8"
            )


def _one_key(path: Path, keys: list[str], key: str | None) -> str:
    if key is not None:
        if key not in keys:
            raise DatasetFileError(f"{path}: no array {key!r}; it holds {keys}. Pass key= one")
        return key
    if len(keys) != 1:
        raise DatasetFileError(
            f"{path}: holds {len(keys)} arrays {keys}; pass key= to say which are the images"
        )
    return keys[0]


def _npz_member(path: Path, key: str | None, cache_dir: Path | None) -> np.ndarray:
    """The member as a memory map of a streamed copy in the cache (bounded memory)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise DatasetFileError(f"{path}: not a readable .npz ({err}). Save it again") from None
    with archive:
        names = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
        name = _one_key(path, names, key)
        st = path.stat()
        tag = f"{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\0{name}".encode()
        parent = (cache_dir or cache_root() / "arrays") / hashlib.sha256(tag).hexdigest()[:32]
        target = parent / "images.npy"
        if not target.is_file():
            parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(name + ".npy") as src, atomic_open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 22)
            except (zipfile.BadZipFile, OSError, EOFError) as err:
                raise DatasetFileError(f"{path}: {name!r} cannot be read ({err})") from None
    return _load_npy(target)


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise DatasetFileError(f"{path}: not a readable .npy ({err}). Save it again") from None


def _hdf5(path: Path, key: str | None) -> Any:
    from pyrodis.data.hdf5_files import open_hdf5

    h5 = open_hdf5(path)
    found: list[str] = []
    h5.visititems(lambda name, node: found.append(name) if hasattr(node, "shape") else None)
    node = h5[_one_key(path, found, key)]
    plain = node.chunks is None and node.compression is None and not node.dtype.hasobject
    offset = node.id.get_offset() if plain else None
    if offset is None:
        return node  # read lazily, batch by batch
    shape, dtype = node.shape, node.dtype
    h5.close()
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


class ImageArray(ImageDataset):
    """Images from one array in a ``.npy``, ``.npz`` or HDF5 file (module docstring).

    Args:
        path: the file.
        key: the array's name in an ``.npz`` or HDF5 file holding several.
        layout: ``"NHW"``, ``"NHWC"`` or ``"NCHW"`` (default: from the shape).
        cache_dir: where an ``.npz`` member is unpacked (default ``cache_root() / "arrays"``).
    """

    def __init__(
        self,
        path: str | Path,
        key: str | None = None,
        layout: str | None = None,
        *,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DatasetFileError(f"{self.path}: no such file")
        self._key, self._cache_dir = key, cache_dir
        self._open_store()
        shape = tuple(int(s) for s in self._store.shape)
        self.layout = _layout(self.path, shape, layout)
        _check_dtype(self.path, np.dtype(self._store.dtype))
        if np.issubdtype(self._store.dtype, np.floating):
            _check_range(self.path, self._store)
        dims = dict(zip(self.layout, shape))
        self.observation_shape = (dims.get("C", 1), dims["H"], dims["W"])
        self.num_data = shape[0]
        self.file_names = tuple(f"{self.path.name}[{i}]" for i in range(self.num_data))

    def _open_store(self) -> None:
        suffix = self.path.suffix.lower()
        if suffix == ".npz":
            self._store = _npz_member(self.path, self._key, self._cache_dir)
        elif suffix in (".h5", ".hdf5"):
            self._store = _hdf5(self.path, self._key)
        else:
            self._store = _load_npy(self.path)
        if getattr(self._store, "dtype", None) is not None and self._store.dtype.hasobject:
            raise DatasetFileError(f"{self.path}: holds Python objects, not an image array")

    def _gather(self, indices: np.ndarray) -> np.ndarray:
        indices = indices % self.num_data
        if isinstance(self._store, np.ndarray):
            rows = self._store[indices]
        else:  # h5py reads increasing, distinct indices
            unique, inverse = np.unique(indices, return_inverse=True)
            rows = self._store[unique][inverse]
        if self.layout == "NHW":
            rows = rows[:, None]
        elif self.layout == "NHWC":
            rows = rows.transpose(0, 3, 1, 2)
        return rows.astype(np.float32) if rows.dtype == np.bool_ else rows

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_store"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._open_store()
