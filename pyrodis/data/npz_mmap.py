"""Memory-mapping one array of an ``.npz`` archive without reading it into memory.

``numpy.load(..., mmap_mode="r")`` ignores ``mmap_mode`` for ``.npz`` archives and reads the
whole member.  An ``.npz`` written by ``numpy.savez`` stores each member uncompressed, so its
bytes lie contiguous in the file: the member's data starts after the zip local header (30 bytes,
the file name and the extra field, whose lengths are read from that local header) and the
``.npy`` header.  :func:`map_npz_member` memory-maps exactly those bytes.  A compressed member
(``numpy.savez_compressed``) cannot be mapped; :func:`npz_member_to_cache` streams it once into
a ``.npy`` file in the cache (``docs/data.rst``), which is mapped instead.

Every problem raises :class:`~pyrodis.data.official_files.DatasetFileError` naming the file.
"""

from __future__ import annotations

import mmap
import os
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pyrodis.data import official_files as files
from pyrodis.data.data_home import cache_dir, source_digest

__all__ = ["map_npz_member", "npz_member_info", "npz_member_to_cache"]

_LOCAL_HEADER = struct.Struct("<4s5H3I2H")  # signature ... name length, extra length
_CHUNK = 1 << 24


def _open_zip(path: Path) -> zipfile.ZipFile:
    files.file_kind(path)  # missing file, not a zip, truncated (no central directory)
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise files.DatasetFileError(
            f"{path}: is not a readable zip archive ({err}). The file is truncated or corrupted: "
            "download it again"
        ) from None


def npz_member_info(path: Path, key: str, expected: Sequence) -> tuple[zipfile.ZipInfo, tuple]:
    """The zip entry of array ``key`` and its ``.npy`` shape, checked against ``expected``."""
    with _open_zip(path) as zf:
        info = zf.getinfo(files._npz_member(path, zf, key))
        with zf.open(info) as fh:
            shape, fortran, dtype = files._npy_header(path, key, fh)
    files.check_array(path, key, shape, dtype, expected)
    if fortran:
        raise files.DatasetFileError(f"{path}: {key!r} is stored in Fortran order; save it in C")
    return info, shape


def _data_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Offset in the file of the first byte of the member's stored data."""
    with path.open("rb") as fh:
        fh.seek(info.header_offset)
        raw = fh.read(_LOCAL_HEADER.size)
    if len(raw) != _LOCAL_HEADER.size or raw[:4] != b"PK\x03\x04":
        raise files.DatasetFileError(
            f"{path}: the zip entry of {info.filename!r} has no local header where the central "
            "directory says. The file is corrupted: download it again"
        )
    fields = _LOCAL_HEADER.unpack(raw)
    return info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]


def map_npz_member(path: str | Path, key: str, expected: Sequence) -> np.memmap:
    """Read-only memory map of the uncompressed array ``key`` of an ``.npz`` (no copy is read).

    Raises if the member is compressed (use :func:`npz_member_to_cache`), has the wrong shape
    or dtype, or if the file ends before the member's last byte (truncated).
    """
    path = Path(path)
    info, shape = npz_member_info(path, key, expected)
    if info.compress_type != zipfile.ZIP_STORED:
        raise files.DatasetFileError(f"{path}: {key!r} is compressed and cannot be mapped")
    start = _data_offset(path, info)
    with path.open("rb") as fh:
        fh.seek(start)
        version = np.lib.format.read_magic(fh)
        reader = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        _, _, dtype = reader(fh)
        offset = fh.tell()
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    size = path.stat().st_size
    if offset + nbytes > size or offset - start + nbytes != info.file_size:
        raise files.DatasetFileError(
            f"{path}: {key!r} needs {nbytes} bytes after offset {offset} but the file has "
            f"{size} bytes (zip entry {info.file_size}). The file is truncated: download it again"
        )
    images = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=tuple(shape))
    _random_access(images)
    return images


def _random_access(array: np.memmap) -> None:
    """Tell the kernel that rows are read in random order: no readahead around each row, so a
    batch reads (and maps) only its own pages (best effort; not every platform has madvise)."""
    try:
        array._mmap.madvise(mmap.MADV_RANDOM)
    except (AttributeError, OSError, ValueError):  # pragma: no cover - platform without it
        pass


def npz_member_to_cache(
    path: str | Path, key: str, expected: Sequence, directory: str | Path | None = None
) -> np.ndarray:
    """Stream a (compressed) member ``key`` once into ``{cache}/{name}-{digest}.npy``; map it."""
    path = Path(path)
    info, shape = npz_member_info(path, key, expected)
    target = cache_dir(directory) / f"{path.stem}-{key}-{source_digest([path], 'npz1')}.npy"
    if not target.is_file():
        _stream_to_npy(path, key, shape, target)
    return np.load(target, mmap_mode="r", allow_pickle=False)


def _stream_to_npy(path: Path, key: str, shape: tuple, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        flat = out.reshape(-1)
        with _open_zip(path) as zf, zf.open(files._npz_member(path, zf, key)) as fh:
            files._npy_header(path, key, fh)
            done = 0
            while done < flat.size:
                try:
                    chunk = fh.read(min(_CHUNK, flat.size - done))
                except (zipfile.BadZipFile, OSError, EOFError) as err:
                    raise files.DatasetFileError(
                        f"{path}: {key!r} cannot be read ({err})"
                    ) from None
                if not chunk:
                    raise files.DatasetFileError(
                        f"{path}: {key!r} ends early. The file is truncated: download it again"
                    )
                flat[done : done + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
                done += len(chunk)
        out.flush()
        del out, flat
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
