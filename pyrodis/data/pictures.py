"""Looking at a ground-truth dataset: sample grids and one strip per factor.

:func:`save_data_figure` writes a PNG (matplotlib, Agg canvas, no global pyplot state) with a
grid of random samples and, per factor, a strip in which that factor alone varies over its
values while the others stay fixed.  :func:`strip_differences` is the numeric counterpart the
tests use: the mean absolute pixel change between neighbouring images of each strip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pyrodis.data.base import GroundTruthDataset
from pyrodis.figures import montage, new_figure, save_figure
from pyrodis.seeding import RngLike, as_generator


def factor_strips(
    dataset: GroundTruthDataset, base: np.ndarray | None = None, rng: RngLike = 0
) -> list[torch.Tensor]:
    """Per factor k, images (size_k, C, H, W) with factor k at each class, others at ``base``.

    ``base`` (K,) is a factor-class vector; by default one sampled from ``rng``.
    """
    if base is None:
        base = dataset.sample_factors(1, as_generator(rng))[0]
    base = dataset.validate_factors(base)[0]
    strips = []
    for k, size in enumerate(dataset.factor_sizes):
        factors = np.tile(base, (size, 1))
        factors[:, k] = np.arange(size)
        strips.append(dataset.observations(factors))
    return strips


def strip_differences(
    dataset: GroundTruthDataset, base: np.ndarray | None = None, rng: RngLike = 0
) -> list[np.ndarray]:
    """Per factor, mean |Δ pixel| between neighbouring values of its strip, (size_k − 1,)."""
    return [
        (strip[1:] - strip[:-1]).abs().flatten(1).mean(1).numpy().astype(np.float64)
        for strip in factor_strips(dataset, base, rng)
    ]


def save_data_figure(
    dataset: GroundTruthDataset,
    path: str | Path,
    num_samples: int = 32,
    base: np.ndarray | None = None,
    seed: int = 0,
    max_strip: int = 16,
) -> Path:
    """Save a PNG: ``num_samples`` random samples, then one strip per factor.

    Each strip shows at most ``max_strip`` values of its factor (evenly spaced, both ends
    included), the other factors fixed at ``base`` (default: a sample drawn with ``seed``).
    Returns the path written.
    """
    rng = as_generator(seed)
    samples = dataset.sample(num_samples, rng)[1]
    strips = factor_strips(dataset, base, rng)
    columns = max(max_strip, 8)
    panels = [("samples", montage(samples, columns))]
    for name, strip, values in zip(dataset.factor_names, strips, dataset.factor_values):
        keep = np.unique(np.linspace(0, len(strip) - 1, min(max_strip, len(strip))).round())
        keep = keep.astype(np.int64)
        label = f"{name}\n{values[keep[0]]:.3g}…{values[keep[-1]]:.3g}"
        panels.append((label, montage(strip[torch.from_numpy(keep)], len(keep))))
    heights = [p[1].shape[0] for p in panels]
    fig = new_figure((columns * 0.7 + 1.2, sum(heights) / 64 * 0.7 + 0.4), dpi=80)
    axes = fig.subplots(len(panels), 1, gridspec_kw={"height_ratios": heights})
    for ax, (label, canvas) in zip(np.atleast_1d(axes), panels):
        ax.imshow(np.clip(canvas, 0, 1), interpolation="nearest", aspect="equal")
        ax.set_anchor("W")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(repr(dataset), fontsize=9)
    return save_figure(fig, path, tight=True)
