"""Image figures: latent traversals and reconstructions beside their inputs.

A traversal fixes a base code (a point's posterior mean, or any code), sweeps one latent over a
range and decodes: one row per latent, rows ordered by decreasing KL so the informative latents
come first (Higgins et al. 2017, "β-VAE", Fig. 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from pyrodis.figures import new_figure, save_figure, show_image

Decode = Callable[[torch.Tensor], torch.Tensor]


def traversal_values(
    aggregate, dims: Sequence[int], num_steps: int, quantiles=(0.05, 0.95), value_range=None
) -> np.ndarray:
    """Values swept per latent, (len(dims), num_steps): a fixed ``value_range`` (low, high), or
    the ``quantiles`` of the aggregate posterior's marginal q(z_j)."""
    if value_range is not None:
        low, high = float(value_range[0]), float(value_range[1])
        return np.tile(np.linspace(low, high, num_steps), (len(dims), 1))
    q = aggregate.quantiles(quantiles)[:, list(dims)]  # (2, len(dims))
    return np.linspace(q[0], q[1], num_steps).T


def traversal_images(decode: Decode, base: torch.Tensor, dims, values: np.ndarray) -> torch.Tensor:
    """Decode the traversals: (len(dims), num_steps, C, H, W)."""
    rows, steps = values.shape
    codes = base.reshape(1, 1, -1).repeat(rows, steps, 1).clone()
    for r, j in enumerate(dims):
        codes[r, :, j] = torch.as_tensor(values[r], dtype=codes.dtype)
    with torch.no_grad():
        images = decode(codes.reshape(rows * steps, -1))
    return images.reshape(rows, steps, *images.shape[1:])


def plot_traversals(
    decode: Decode,
    aggregate,
    path: str | Path,
    *,
    point: int = 0,
    code: torch.Tensor | None = None,
    dims: Sequence[int] | None = None,
    num_steps: int = 9,
    quantiles: tuple[float, float] = (0.05, 0.95),
    value_range: tuple[float, float] | None = None,
    cell_inches: float = 0.8,
    dpi: float = 100,
) -> Path:
    """Latent traversals: row r sweeps latent ``dims[r]`` from a base code and decodes.

    Args:
        decode: maps codes (n, D) float32 to images (n, C, H, W) in [0, 1] (e.g. ``vae.decode``).
        aggregate: the :class:`AggregatePosterior` (KL order, quantile ranges, base codes).
        path: PNG file to write.
        point: the base code is the posterior mean of this point of the aggregate posterior...
        code: ...unless an explicit base code (D,) is given.
        dims: latents to traverse, default all, ordered by decreasing KL.
        num_steps: columns.
        quantiles: the range swept is these quantiles of q(z_j)...
        value_range: ...unless a fixed (low, high) is given.
        cell_inches, dpi: each image cell is ``cell_inches`` square; the figure is
            ``((num_steps + 1) · cell_inches, len(dims) · cell_inches)`` inches at ``dpi``.
    """
    dims = [int(j) for j in (aggregate.kl_order() if dims is None else dims)]
    if not dims:
        raise ValueError("dims is empty: pass the latents to traverse (or None for all)")
    base = aggregate.loc[int(point)] if code is None else torch.as_tensor(code)
    base = base.to(torch.float32)
    values = traversal_values(aggregate, dims, num_steps, quantiles, value_range)
    images = traversal_images(decode, base, dims, values)
    kl = aggregate.kl_per_dim()
    names = aggregate.latent_names
    fig = new_figure(((num_steps + 1) * cell_inches, len(dims) * cell_inches), dpi)
    axes = fig.subplots(len(dims), num_steps, squeeze=False)
    fig.subplots_adjust(
        left=1.0 / (num_steps + 1), right=1, bottom=0, top=1, wspace=0.04, hspace=0.04
    )
    for r, j in enumerate(dims):
        for c in range(num_steps):
            show_image(axes[r, c], images[r, c], f"{names[j]}\nKL {kl[j]:.2f}" if c == 0 else None)
    return save_figure(fig, path)


def plot_reconstructions(
    images: torch.Tensor,
    reconstructions: torch.Tensor,
    path: str | Path,
    *,
    max_images: int = 8,
    cell_inches: float = 1.0,
    dpi: float = 100,
) -> Path:
    """Inputs (top row) and their reconstructions (bottom row); the figure is
    ``(n · cell_inches, 2 · cell_inches)`` inches with n = min(len(images), max_images)."""
    if images.shape != reconstructions.shape:
        raise ValueError(
            f"images {tuple(images.shape)} and reconstructions {tuple(reconstructions.shape)} "
            "must have the same shape (n, C, H, W)"
        )
    n = min(int(images.shape[0]), max_images)
    if n < 1:
        raise ValueError("no images to plot")
    fig = new_figure((n * cell_inches, 2 * cell_inches), dpi)
    axes = fig.subplots(2, n, squeeze=False)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1, wspace=0.04, hspace=0.04)
    for c in range(n):
        show_image(axes[0, c], images[c])
        show_image(axes[1, c], reconstructions[c])
    return save_figure(fig, path)
