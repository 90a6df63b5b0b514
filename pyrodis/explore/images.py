"""Images in [0, 1] as PNG bytes: one image, or a strip of several side by side."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

__all__ = ["png_bytes", "strip_png"]

GAP = 2  # pixels between the images of a strip (white)


def _to_uint8(image: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [0, 1] → (H, W) or (H, W, 3) uint8; C must be 1 or 3."""
    array = image.detach().float().clamp(0, 1).cpu().numpy()
    if array.ndim != 3 or array.shape[0] not in (1, 3):
        raise ValueError(f"images must be (C, H, W) with C = 1 or 3, got {tuple(array.shape)}")
    array = np.rint(array * 255).astype(np.uint8)
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)


def _encode(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def png_bytes(image: torch.Tensor) -> bytes:
    """One image (C, H, W) in [0, 1] as a PNG."""
    return _encode(_to_uint8(image))


def strip_png(images: torch.Tensor) -> bytes:
    """Images (n, C, H, W) side by side, ``GAP`` white pixels apart, as one PNG."""
    parts = [_to_uint8(im) for im in images]
    height = parts[0].shape[0]
    gap = np.full((height, GAP, *parts[0].shape[2:]), 255, dtype=np.uint8)
    row = [p for part in parts for p in (part, gap)][:-1]
    return _encode(np.concatenate(row, axis=1))
