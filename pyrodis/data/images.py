"""Images without factors: your own folder of pictures, decoded once and memory-mapped.

An :class:`ImageDataset` is an :class:`~pyrodis.data.sources.ObservationSource` and a map-style
torch ``Dataset`` at once, so the trainer, :func:`~pyrodis.data.make_loader` and a torch
``DataLoader`` all take it: a point is a row index, ``observations(indices)`` is a float32 batch
``(n, C, H, W)`` in [0, 1], ``factors(indices)`` is ``None`` (nothing is known about the
factors; :func:`~pyrodis.data.read_labels` attaches the labels you have) and ``item i`` is
``(image, i)``.  ``docs/data.rst`` ("Your own images") describes the folder rules and the cache.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from pyrodis.atomic import write_bytes
from pyrodis.data.image_cache import (
    CACHE_FORMAT,
    cache_key,
    cache_root,
    decode_files,
    open_executor,
    probe_files,
    read_index,
    remove_stale_temporaries,
)
from pyrodis.data.image_files import CROPS, IMAGE_EXTENSIONS, list_images
from pyrodis.data.official_files import DatasetFileError
from pyrodis.data.sources import ObservationSource

__all__ = ["ImageDataset", "ImageFolder"]

_SHOWN = 10  # files named in a warning


class ImageDataset(ObservationSource, Dataset):
    """N images without factors (module docstring); subclasses implement :meth:`uint8` or
    ``_gather``.

    Attributes:
        observation_shape: ``(C, H, W)``.
        file_names: the name of each image (relative POSIX paths for a folder), length N.
    """

    factor_names = None
    observation_shape: tuple[int, int, int]
    file_names: tuple[str, ...]

    def _gather(self, indices: np.ndarray) -> np.ndarray:
        """The stored rows ``(n, C, H, W)`` of ``indices`` (uint8, bool or float in [0, 1])."""
        raise NotImplementedError

    def observations(self, indices: np.ndarray) -> torch.Tensor:
        """Float32 images ``(n, C, H, W)`` in [0, 1] of the points ``indices`` (n,)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < -self.num_data or idx.max() >= self.num_data):
            raise IndexError(f"index out of range for a dataset of {self.num_data} images")
        rows = self._gather(idx)
        if rows.dtype == np.uint8:  # one pass, correctly rounded as x / 255 in float32
            return torch.from_numpy(np.divide(rows, np.float32(255), dtype=np.float32, order="C"))
        return torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))

    observations_at = observations

    def factors(self, indices: np.ndarray) -> None:
        """``None``: the factors of these images are unknown."""
        return None

    def __len__(self) -> int:
        return int(self.num_data)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -len(self) <= int(i) < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} images")
        i = int(i) % len(self)
        return self.observations(np.array([i]))[0], torch.tensor(i, dtype=torch.int64)

    def __getitems__(self, indices) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Batched item access (used by ``DataLoader``): one read for the whole batch."""
        idx = np.asarray(indices, dtype=np.int64)
        images = self.observations(idx)
        return [(images[j], torch.tensor(int(i))) for j, i in enumerate(idx)]

    def __repr__(self) -> str:
        c, h, w = self.observation_shape
        return f"{type(self).__name__}({self.num_data} images, {c}x{h}x{w})"


def _check_settings(size: Any, channels: Any, crop: Any) -> None:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(
            f"size must be a positive integer (32, 64 or 128 for the conv networks), got {size!r}"
        )
    if channels not in (None, 1, 3):
        raise ValueError(
            f"channels must be 1 (grey), 3 (RGB) or None (from the files), got {channels!r}"
        )
    if crop not in CROPS:
        raise ValueError(f"crop must be one of {CROPS}, got {crop!r}")


def _inside(path: Path, root: Path) -> bool:
    path, root = path.resolve(), root.resolve()
    return path == root or root in path.parents


def warn_skipped(skipped: dict[str, str], total: int, where: Path) -> None:
    """One warning naming (the first few of) the skipped files, with their reasons and count."""
    if not skipped:
        return
    shown = "; ".join(f"{name}: {why}" for name, why in list(skipped.items())[:_SHOWN])
    more = f"; and {len(skipped) - _SHOWN} more" if len(skipped) > _SHOWN else ""
    warnings.warn(
        f"{where}: skipped {len(skipped)} of {total} image files that cannot be used "
        f"({shown}{more}). The others are used; the full list is the dataset's `skipped`.",
        UserWarning,
        stacklevel=4,  # the user's call of ImageFolder(...)
    )


class ImageFolder(ImageDataset):
    """Every PNG, JPEG, WebP and BMP file under ``path``, as ``(channels, size, size)`` images.

    Files are found recursively and ordered by their relative POSIX path (``sorted``), so image
    ``i`` is the same file on every machine.  Each is center-cropped to a square (``crop="none"``:
    the whole image is squeezed), resized with an antialiasing bilinear filter and converted to
    grey or RGB by the rules of ``docs/data.rst``; ``channels=None`` takes 1 when every file is
    grey, else 3.  The first open decodes the folder on ``workers`` processes (a progress bar) into
    a uint8 cache that later opens and epochs memory-map; the folder itself is never written to.
    Files that cannot be used (not an image, truncated, too many pixels) are skipped with one
    warning naming them; ``skipped`` maps each to its reason.

    Args:
        path: the folder.
        size: side S of the square images (32, 64 or 128 for the conv networks).
        channels: 1, 3, or ``None`` (from the files).
        crop: ``"center"`` or ``"none"``.
        cache_dir: where the decoded caches live (default ``$PYRODIS_CACHE/images``, see
            ``docs/data.rst``); it must not be inside ``path``.
        workers: decoding processes on the first open (default: the usable cores).
        progress: show a progress bar while decoding.
        max_pixels: files with more pixels are refused (``"pillow"``: Pillow's
            ``PIL.Image.MAX_IMAGE_PIXELS`` now; ``None``: no limit).
    """

    def __init__(
        self,
        path: str | Path,
        size: int = 64,
        channels: int | None = None,
        crop: str = "center",
        *,
        cache_dir: str | Path | None = None,
        workers: int | None = None,
        progress: bool = True,
        max_pixels: int | None | str = "pillow",
    ) -> None:
        _check_settings(size, channels, crop)
        self.root = Path(path)
        if not self.root.is_dir():
            hint = " (an array file? use pyrodis.data.open_images)" if self.root.is_file() else ""
            raise DatasetFileError(f"{self.root}: not a folder{hint}. Pass the folder of images")
        if max_pixels == "pillow":
            from PIL import Image

            max_pixels = Image.MAX_IMAGE_PIXELS
        entries, others = list_images(self.root)
        if not entries:
            raise DatasetFileError(
                f"{self.root}: no image files (found {others} other files). ImageFolder reads "
                f"files ending in {', '.join(IMAGE_EXTENSIONS)} (in sub-folders too)"
            )
        channels = None if channels is None else int(channels)
        settings = dict(size=int(size), channels=channels, crop=crop, max_pixels=max_pixels)
        parent = Path(cache_dir) if cache_dir is not None else cache_root() / "images"
        if _inside(parent, self.root):
            raise ValueError(
                f"the image cache {parent} would be inside the folder {self.root}, which pyrodis "
                "never writes to; pass cache_dir= (or set PYRODIS_CACHE) to a folder outside it"
            )
        self.cache = parent / cache_key(entries, **settings)
        index = read_index(self.cache)
        if index is None:
            index = self._build([e[0] for e in entries], settings, workers, progress)
        self._open(index, len(entries))

    def _build(self, files: list[str], settings: dict, workers, progress: bool) -> dict:
        try:
            self.cache.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise DatasetFileError(
                f"cannot create the image cache {self.cache} ({err}). Set PYRODIS_CACHE or pass "
                "cache_dir= to a writable folder"
            ) from None
        remove_stale_temporaries(self.cache)
        try:
            return self._decode(files, settings, workers, progress)
        except BaseException:  # nothing half-made stays: an empty cache folder is removed
            if not any(self.cache.iterdir()):
                self.cache.rmdir()
            raise

    def _decode(self, files: list[str], settings: dict, workers, progress: bool) -> dict:
        paths = [str(self.root / f) for f in files]
        pool = open_executor(workers, len(files))
        try:
            flags = probe_files(paths, settings["max_pixels"], pool, progress)
            skipped = {f: why for f, (grey, why) in zip(files, flags) if grey is None}
            usable = [i for i, (grey, _) in enumerate(flags) if grey is not None]
            if not usable:
                _raise_none_usable(self.root, skipped)
            if settings["channels"] is None:
                settings = {**settings, "channels": 1 if all(flags[i][0] for i in usable) else 3}
            reasons = decode_files(self.cache, [paths[i] for i in usable], settings, pool, progress)
        finally:
            if pool is not None:  # on an error or Ctrl-C the chunks not started are dropped
                pool.shutdown(wait=True, cancel_futures=True)
        skipped.update({files[i]: why for i, why in zip(usable, reasons) if why})
        rows = [j for j, why in enumerate(reasons) if not why]
        if not rows:
            (self.cache / "images.npy").unlink(missing_ok=True)
            _raise_none_usable(self.root, skipped)
        index = {
            "format": CACHE_FORMAT,
            "folder": str(self.root.resolve()),
            **settings,
            "files": [files[i] for i in usable],
            "rows": rows,
            "skipped": dict(sorted(skipped.items())),
        }
        write_bytes(self.cache / "index.json", json.dumps(index).encode())
        return index

    def _open(self, index: dict, total: int) -> None:
        self._images = np.load(self.cache / "images.npy", mmap_mode="r")
        rows = np.asarray(index["rows"], dtype=np.int64)
        self._rows = None if np.array_equal(rows, np.arange(len(self._images))) else rows
        self.file_names = tuple(index["files"][r] for r in rows)
        self.skipped: dict[str, str] = dict(index["skipped"])
        self.num_data = len(self.file_names)
        self.channels, self.size, self.crop = index["channels"], index["size"], index["crop"]
        self.observation_shape = (int(self.channels), int(self.size), int(self.size))
        warn_skipped(self.skipped, total, self.root)

    def _gather(self, indices: np.ndarray) -> np.ndarray:
        return self._images[indices if self._rows is None else self._rows[indices]]

    def __getstate__(self) -> dict[str, Any]:  # a memory map is not pickled: it is reopened
        state = dict(self.__dict__)
        state["_images"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._images = np.load(self.cache / "images.npy", mmap_mode="r")


def _raise_none_usable(root: Path, skipped: dict[str, str]) -> None:
    shown = "; ".join(f"{name}: {why}" for name, why in list(skipped.items())[:_SHOWN])
    raise DatasetFileError(
        f"{root}: none of the {len(skipped)} image files can be used ({shown}). Check that the "
        "files are PNG, JPEG, WebP or BMP images and not truncated"
    )
