"""Figures of the aggregate posterior: KL per latent, marginals against the prior, the latent ×
factor mutual-information heatmap and mean latents against factor values.

Every function writes one PNG and returns its path; ``figsize`` (inches) and ``dpi`` fix its size
in pixels exactly (``figsize · dpi``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pyrodis.figures import hide_unused, new_figure, panel_grid, save_figure

from .factor_mi import match_latents


def _names(latent_names: Sequence[str] | None, dim: int) -> list[str]:
    names = [f"z{j}" for j in range(dim)] if latent_names is None else list(latent_names)
    if len(names) != dim:
        raise ValueError(f"latent_names must have {dim} names, got {len(names)}")
    return names


def plot_kl_per_dim(
    kl: np.ndarray,
    path: str | Path,
    *,
    active: np.ndarray | None = None,
    latent_names: Sequence[str] | None = None,
    figsize: tuple[float, float] = (6.0, 3.5),
    dpi: float = 100,
) -> Path:
    """Bar chart of the KL (nats) of every latent, in decreasing order; active latents (a boolean
    mask, e.g. ``aggregate.active_units()``) in colour, inactive in grey; ``latent_names`` label
    the bars (default z0, z1, ...; ``aggregate.latent_names`` gives ``site[i]``)."""
    kl = np.asarray(kl, dtype=np.float64)
    order = np.argsort(-kl, kind="stable")
    active = np.ones(kl.shape, bool) if active is None else np.asarray(active, bool)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    colours = ["tab:blue" if active[j] else "tab:gray" for j in order]
    ax.bar(np.arange(kl.size), kl[order], color=colours)
    names = _names(latent_names, kl.size)
    ax.set_xticks(np.arange(kl.size), [names[j] for j in order], fontsize=8)
    ax.set_ylabel("KL (nats)")
    ax.set_title(f"KL per latent ({int(active.sum())} of {kl.size} active)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_marginals(
    aggregate,
    path: str | Path,
    *,
    dims: Sequence[int] | None = None,
    grid: np.ndarray | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
) -> Path:
    """One panel per latent (default all, by decreasing KL): q(z_j) (exact mixture over the points)
    against the model's real prior p(z_j) (its own density, whatever its family), on ``grid``
    (default :func:`marginal_grid`)."""
    dims = [int(j) for j in (aggregate.kl_order() if dims is None else dims)]
    if grid is None:
        grid = marginal_grid(aggregate)
    names = aggregate.latent_names
    q = aggregate.marginal_density(grid)
    p = aggregate.prior_density(grid)
    rows, cols = panel_grid(len(dims))
    fig = new_figure(figsize or (2.4 * cols, 1.9 * rows), dpi)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False))
    for ax, j in zip(axes.ravel(), dims):
        ax.fill_between(grid, q[j], alpha=0.4, label="q(z_j)")
        ax.plot(grid, p[j], color="k", lw=1, ls="--", label="prior")
        ax.set_title(names[j], fontsize=9)
        ax.tick_params(labelsize=7)
    axes.ravel()[0].legend(fontsize=7)
    hide_unused(axes, len(dims))
    fig.tight_layout()
    return save_figure(fig, path)


def marginal_grid(aggregate, size: int = 201, num_samples: int = 20_000, seed: int = 0):
    """A 1-D grid covering the central 99.8% of both q(z) and the prior, over all latents."""
    q = aggregate.sample(num_samples, seed=seed).numpy()
    p = aggregate.sample_prior(num_samples, seed=seed).numpy()
    both = np.concatenate([q, p]).ravel()
    low, high = np.quantile(both[np.isfinite(both)], [0.001, 0.999])
    return np.linspace(float(low), float(high), size)


def plot_mi_heatmap(
    mi: np.ndarray,
    path: str | Path,
    *,
    factor_names: Sequence[str] | None = None,
    latent_names: Sequence[str] | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
) -> Path:
    """Heatmap of the latent × factor MI matrix (d, K), latents reordered by
    :func:`~pyrodis.diagnostics.factor_mi.match_latents` so that a disentangled model shows a
    diagonal."""
    mi = np.asarray(mi, dtype=np.float64)
    d, k = mi.shape
    names = list(factor_names) if factor_names is not None else [f"factor{i}" for i in range(k)]
    order, _ = match_latents(mi)
    fig = new_figure(figsize or (1.2 + 0.8 * k, 1.0 + 0.4 * d), dpi)
    ax = fig.add_subplot()
    image = ax.imshow(mi[order], cmap="viridis", aspect="auto", vmin=0)
    bright = 0.6 * max(float(mi.max()), 1e-12)
    for r, j in enumerate(order):
        for c in range(k):
            colour = "k" if mi[j, c] > bright else "w"
            ax.text(c, r, f"{mi[j, c]:.2f}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(np.arange(k), names, rotation=30, ha="right", fontsize=8)
    latents = _names(latent_names, d)
    ax.set_yticks(np.arange(d), [latents[j] for j in order], fontsize=8)
    fig.colorbar(image, ax=ax, label="MI (nats)")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_latent_vs_factor(
    codes: np.ndarray,
    factors: np.ndarray,
    path: str | Path,
    *,
    factor_names: Sequence[str] | None = None,
    factor_values: Sequence[np.ndarray] | None = None,
    dims: Sequence[int] | None = None,
    latent_names: Sequence[str] | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
) -> Path:
    """One panel per factor: the mean code of every latent in ``dims`` (default all) against the
    factor's value (its class index, or ``factor_values[k][class]`` when given)."""
    codes = np.asarray(codes, dtype=np.float64)
    factors = np.asarray(factors, dtype=np.int64)
    if codes.ndim != 2 or factors.ndim != 2 or codes.shape[0] != factors.shape[0]:
        raise ValueError(
            f"codes (n, d) and factors (n, K) must have the same n, got {codes.shape} and "
            f"{factors.shape}"
        )
    k = factors.shape[1]
    names = list(factor_names) if factor_names is not None else [f"factor{i}" for i in range(k)]
    dims = list(range(codes.shape[1])) if dims is None else [int(j) for j in dims]
    latents = _names(latent_names, codes.shape[1])
    rows, cols = panel_grid(k, max_cols=3)
    fig = new_figure(figsize or (3.2 * cols, 2.4 * rows), dpi)
    axes = fig.subplots(rows, cols, squeeze=False)
    for f, ax in zip(range(k), axes.ravel()):
        classes = np.unique(factors[:, f])
        means = np.stack([codes[factors[:, f] == c].mean(0) for c in classes])
        x = classes if factor_values is None else np.asarray(factor_values[f])[classes]
        for j in dims:
            ax.plot(x, means[:, j], marker=".", lw=1, label=latents[j])
        ax.set_title(names[f], fontsize=9)
        ax.tick_params(labelsize=7)
    axes.ravel()[0].legend(fontsize=6, ncol=2)
    hide_unused(axes, k)
    fig.tight_layout()
    return save_figure(fig, path)
