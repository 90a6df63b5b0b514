"""One entry point for a data path: a folder of images or an array file (``docs/data.rst``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyrodis.data.image_arrays import ARRAY_SUFFIXES, ImageArray
from pyrodis.data.image_files import IMAGE_EXTENSIONS
from pyrodis.data.images import ImageDataset, ImageFolder
from pyrodis.data.official_files import DatasetFileError

__all__ = ["open_images"]


def _array_as_asked(cls: type, path: Path, kwargs: dict[str, Any]) -> ImageDataset:
    """An array file with the folder options: ``size``/``channels`` must match what it stores
    (arrays are not resized), the decoding options do not apply."""
    size, channels = kwargs.pop("size", None), kwargs.pop("channels", None)
    for name in ("crop", "workers", "progress", "max_pixels"):
        kwargs.pop(name, None)
    data = cls(path, **kwargs)
    c, h, w = data.observation_shape
    if (size is not None and (h, w) != (size, size)) or channels not in (None, c):
        raise DatasetFileError(
            f"{path}: holds {c}x{h}x{w} images, not the {channels or c}x{size}x{size} asked for. "
            "Arrays are used as stored: save them at that size, or ask for the stored one"
        )
    return data


def open_images(path: str | Path, **kwargs: Any) -> ImageDataset:
    """A folder → :class:`ImageFolder`; an ``.npy``/``.npz``/HDF5 file →
    :class:`~pyrodis.data.image_arrays.ImageArray`.

    ``kwargs`` are :class:`ImageFolder`'s; for an array, ``key``/``layout``/``cache_dir`` apply,
    ``size`` and ``channels`` (when given) must match the stored images and the decoding options
    are ignored."""
    path = Path(path)
    if path.is_dir():
        return ImageFolder(path, **kwargs)
    if path.is_file() and path.suffix.lower() in ARRAY_SUFFIXES:
        return _array_as_asked(ImageArray, path, kwargs)
    if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
        raise DatasetFileError(f"{path}: a single image. Pass the folder that holds the images")
    if not path.exists():
        raise DatasetFileError(f"{path}: no such file or folder")
    raise DatasetFileError(
        f"{path}: neither a folder of images nor an array file "
        f"({', '.join(ARRAY_SUFFIXES)}). Pass a folder, or save the images with numpy.save"
    )
