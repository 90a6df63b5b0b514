"""Figure plumbing shared by every plotting module: pyplot-free Agg figures of an exact pixel size.

Figures are built on :class:`matplotlib.figure.Figure` with an Agg canvas (no global pyplot
state, no display needed) and saved at their own dpi without tight cropping, so a figure of
``figsize`` inches at ``dpi`` is exactly ``round(figsize · dpi)`` pixels.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pyrodis.atomic import atomic_path


def new_figure(figsize: tuple[float, float], dpi: float = 100) -> Figure:
    """A figure with an Agg canvas."""
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path, tight: bool = False) -> Path:
    """Save ``fig`` as a PNG at its own dpi (pixel size = figsize · dpi) and return the path.

    ``tight=True`` crops the figure to its drawn content instead (the pixel size then follows
    the content)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"figures are written as PNG; give a path ending in .png, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=fig.dpi, format="png", bbox_inches="tight" if tight else None)
    return path


def panel_grid(num_panels: int, max_cols: int = 4) -> tuple[int, int]:
    """(rows, cols) of a grid holding ``num_panels`` panels."""
    cols = max(1, min(max_cols, num_panels))
    return math.ceil(num_panels / cols), cols


def hide_unused(axes: np.ndarray, used: int) -> None:
    for ax in axes.ravel()[used:]:
        ax.set_visible(False)


def to_image(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """A (C, H, W) image in [0, 1] as an array imshow takes: (H, W) for one channel, else (H, W, C)."""
    arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if arr.ndim != 3:
        raise ValueError(f"images must have shape (C, H, W), got {arr.shape}")
    arr = np.clip(arr.astype(np.float64), 0.0, 1.0)
    return arr[0] if arr.shape[0] == 1 else np.moveaxis(arr, 0, -1)


def show_image(ax, image, label: str | None = None) -> None:
    img = to_image(image)
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0.0, vmax=1.0)
    ax.set_xticks([])
    ax.set_yticks([])
    if label is not None:
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)


def montage(images: torch.Tensor, columns: int, pad: int = 2) -> np.ndarray:
    """Tile (n, C, H, W) images in [0, 1] into one (rows·H, columns·W, 3) array, white gaps."""
    n, c, h, w = images.shape
    rows = -(-n // columns)
    rgb = images.expand(-1, 3, -1, -1) if c == 1 else images[:, :3]
    canvas = np.ones((rows * (h + pad) - pad, columns * (w + pad) - pad, 3))
    for i, img in enumerate(rgb.permute(0, 2, 3, 1).numpy()):
        r, col = divmod(i, columns)
        canvas[r * (h + pad) : r * (h + pad) + h, col * (w + pad) : col * (w + pad) + w] = img
    return canvas
