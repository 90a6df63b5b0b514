"""Reading one image file into a square uint8 array: the decoding rules of ``docs/data.rst``.

Every function here is plain (numpy and Pillow only, picklable arguments), so that the worker
processes of :mod:`pyrodis.data.image_cache` run it.  A file that cannot be used raises
:class:`UnusableImage` with a short reason; the caller skips it and names it in one warning.

Rules, for a file of mode ``m`` turned into ``channels`` channels of ``size × size`` pixels:

- **crop**: ``"center"`` takes the centred square of side ``min(width, height)`` (offsets
  rounded down), then resizes it; ``"none"`` resizes the whole image (the aspect ratio is not
  kept).
- **resize**: Pillow's bilinear filter, whose support widens with the reduction factor, so a
  downscale averages every source pixel (antialiasing) and never overshoots: a solid colour stays
  exactly that colour.  JPEGs are first decoded at the smallest DCT scale (1/2, 1/4, 1/8) that
  still covers ``size`` (Pillow's draft mode), which is what makes a large JPEG fast.
- **orientation**: a photograph whose EXIF orientation tag says it is turned or mirrored is
  turned upright first, as image viewers show it.
- **grey or colour**: modes ``1``, ``L``, ``LA``, ``I``, ``I;16``, ``F`` are grey, every other
  mode is colour.  A grey file asked for 3 channels is repeated on R, G and B; a colour file asked
  for 1 channel becomes its luma (ITU-R 601-2, ``L = 0.299 R + 0.587 G + 0.114 B``).
- **16-bit** (``I;16``, ``I``): values are divided by 65535 (0..65535 → 0..1), not clipped.
- **palette** (``P``): expanded to its RGB colours (with transparency, as alpha).
- **CMYK** (JPEG): Pillow's conversion to RGB (no colour profile is applied).
- **alpha** (``RGBA``, ``LA``, palettes with transparency): composited over black, i.e. each
  colour is multiplied by its opacity (resized premultiplied, so no halo).
- **too many pixels**: a file above ``max_pixels`` (Pillow's ``Image.MAX_IMAGE_PIXELS``, about
  89 million, by default) is refused before it is decoded: a decompression bomb.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

#: file name endings read as images (case-insensitive)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".jpe", ".webp", ".bmp")
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
CROPS = ("center", "none")
#: what a data path may be (for ``pyrodis datasets`` and ``--data`` help texts)
DATA_PATH_HELP = (
    "a folder of PNG/JPEG/WebP/BMP images (sub-folders too; decoded once into a cache, see "
    "docs/data.rst), or an array of images in a .npy, .npz or HDF5 file: (N, H, W), "
    "(N, H, W, C) or (N, C, H, W), uint8 or floats in [0, 1]"
)


class UnusableImage(Exception):
    """A file that cannot be used as an image; ``str(err)`` is the reason."""


def list_images(root: Path) -> tuple[list[tuple[str, int, int]], int]:
    """Every image file under ``root`` (recursive), sorted by relative POSIX path.

    Returns ``[(relative path, size in bytes, mtime_ns), ...]`` and the number of other files
    (ignored).  Symbolic links are followed, each folder listed once (a link back to a folder
    already listed is not entered again); hidden files and folders are not skipped.
    """
    found: list[tuple[str, int, int]] = []
    others = 0
    todo, seen = [(str(root), "")], set()
    while todo:
        folder, prefix = todo.pop()
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:  # a link back to a folder already listed
            continue
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = prefix + entry.name
                try:
                    if entry.is_dir():
                        todo.append((entry.path, rel + "/"))
                        continue
                    if not entry.name.lower().endswith(IMAGE_EXTENSIONS):
                        others += 1
                        continue
                    st = entry.stat()
                except OSError:  # a dangling link, a file removed meanwhile
                    others += 1
                    continue
                found.append((rel, int(st.st_size), int(st.st_mtime_ns)))
    found.sort(key=lambda item: item[0])
    return found, others


def _open(path: str, max_pixels: int | None):
    from PIL import Image, UnidentifiedImageError

    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            if max_pixels is not None and img.width * img.height > max_pixels:
                img.close()
                raise Image.DecompressionBombWarning("over the limit")
            return img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnusableImage(f"more than {max_pixels} pixels (decompression bomb?)") from None
    except UnidentifiedImageError:
        raise UnusableImage("not an image Pillow can read") from None
    except Exception as err:  # OSError, SyntaxError, struct.error ...: a damaged header
        raise UnusableImage(f"cannot be read ({type(err).__name__}: {err})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def probe(paths: list[str], max_pixels: int | None) -> list[tuple[bool | None, str]]:
    """For each file, ``(is_grey, "")`` from its header, or ``(None, reason)`` if unusable."""
    out: list[tuple[bool | None, str]] = []
    for path in paths:
        try:
            img = _open(path, max_pixels)
        except UnusableImage as err:
            out.append((None, str(err)))
            continue
        with img:
            grey = img.mode in GREY_MODES
        out.append((grey, ""))
    return out


def _as_float_grey(img) -> tuple[object, float]:
    """A 16-bit or 32-bit grey image as a Pillow ``F`` image and the value of white."""
    from PIL import Image

    arr = np.asarray(img, dtype=np.float32)
    white = 255.0 if img.mode == "F" and arr.size and arr.max() <= 255 else 65535.0
    return Image.fromarray(arr, mode="F"), white


def _normalised(img, channels: int):
    """(image in a mode Pillow resizes, white value, whether alpha is premultiplied in)."""
    mode = img.mode
    if mode.startswith("I") or mode == "F":
        return (*_as_float_grey(img), False)
    if mode == "P" or mode == "PA":
        img = img.convert("RGBA" if "transparency" in img.info or mode == "PA" else "RGB")
        mode = img.mode
    if mode in ("RGBA", "LA"):
        return img.convert("RGBa" if mode == "RGBA" else "La"), 255.0, True
    if mode == "1":
        img = img.convert("L")
    elif mode not in ("L", "RGB"):
        img = img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX
    return img, 255.0, False


def _crop(img, crop: str):
    """The centred square of side min(width, height) (offsets rounded down), or the image."""
    width, height = img.size
    if crop == "none" or width == height:
        return img
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return img.crop((left, top, left + side, top + side))


def decode(path: str, size: int, channels: int, crop: str, max_pixels: int | None) -> np.ndarray:
    """The file as uint8 ``(channels, size, size)`` (module docstring); raises UnusableImage."""
    from PIL import Image, ImageOps

    img = _open(path, max_pixels)
    try:
        with img:
            if img.format == "JPEG":
                img.draft(img.mode, (size, size))
            img.load()
            if img.getexif().get(0x0112, 1) != 1:  # a camera's orientation tag: turn it upright
                img = ImageOps.exif_transpose(img)
            norm, white, premultiplied = _normalised(img, channels)
            small = _crop(norm, crop).resize((size, size), Image.Resampling.BILINEAR)
    except UnusableImage:
        raise
    except Exception as err:  # OSError, SyntaxError, ValueError ...: truncated or corrupt data
        raise UnusableImage(f"truncated or corrupt ({type(err).__name__}: {err})") from None
    arr = np.asarray(small, dtype=np.float32 if white != 255.0 else np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if premultiplied:
        arr = arr[:, :, :-1]  # premultiplied colour = composited over black
    if white != 255.0:
        arr = np.clip(np.rint(arr * (255.0 / white)), 0, 255).astype(np.uint8)
    return _to_channels(arr, channels)


def _to_channels(arr: np.ndarray, channels: int) -> np.ndarray:
    """(H, W, c) uint8 → (channels, H, W): grey repeated, or colour to ITU-R 601-2 luma."""
    if arr.shape[2] == channels:
        return np.ascontiguousarray(arr.transpose(2, 0, 1))
    if channels == 3:
        return np.ascontiguousarray(np.repeat(arr.transpose(2, 0, 1), 3, axis=0))
    rgb = arr.astype(np.float32)  # elementwise, not a BLAS product: no threads in workers
    luma = 0.299 * rgb[:, :, 0] + 0.587 * rgb[:, :, 1] + 0.114 * rgb[:, :, 2]
    return np.clip(np.rint(luma), 0, 255).astype(np.uint8)[None]


def decode_many(
    paths: list[str], size: int, channels: int, crop: str, max_pixels: int | None
) -> tuple[np.ndarray, list[str]]:
    """Decode files into ``(n, channels, size, size)`` uint8; rows of unusable files are zero and
    their reasons are returned (``""`` for the good ones)."""
    out = np.zeros((len(paths), channels, size, size), dtype=np.uint8)
    reasons = []
    for i, path in enumerate(paths):
        try:
            out[i] = decode(path, size, channels, crop, max_pixels)
            reasons.append("")
        except UnusableImage as err:
            reasons.append(str(err))
    return out, reasons
