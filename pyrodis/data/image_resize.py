"""Antialiased downsizing of official images to 64×64, as the reference loaders do.

disentanglement_lib resizes SmallNORB with ``PIL.Image.resize((64, 64), ANTIALIAS)`` and
thumbnails Cars3D's square 128×128 views to 64×64 with the same filter (Lanczos; ``ANTIALIAS``
is Pillow's old name for it, and a square thumbnail is a plain resize).  :func:`resize_images`
does exactly that, one image at a time, on uint8 pixels, so its result is uint8 (what the
caches of ``docs/data.rst`` hold; divided by 255 when observed).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["resize_images"]


def resize_images(images: Iterable[np.ndarray], count: int, size: int = 64) -> np.ndarray:
    """Resize ``count`` uint8 images (H, W) or (H, W, 3) to (size, size[, 3]) with Lanczos."""
    from PIL import Image

    out = None
    for i, image in enumerate(images):
        pic = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
        small = np.asarray(pic.resize((size, size), Image.Resampling.LANCZOS))
        if out is None:
            out = np.empty((count, *small.shape), dtype=np.uint8)
        out[i] = small
    if out is None:
        raise ValueError("no images to resize")
    return out
