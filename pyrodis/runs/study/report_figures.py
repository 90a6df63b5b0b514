"""The figures of the study report (:mod:`pyrodis.runs.study.report`): pure functions of the
numbers in ``study.json``, each written as a PNG (``docs/studies.rst``).

- :func:`plot_distributions`: every run per setting, the median and its bootstrap CI.
- :func:`plot_interval_shares`: shares of variance per metric and source with their intervals
  and, where there is one, the share pure noise would give.
- :func:`plot_spearman`: Spearman's ρ between metrics with its interval in every cell, the level
  (runs or settings) and n in the title.
- :func:`plot_pair_mi`: the correlated pair's shared MI against σ.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from pyrodis.figures import hide_unused, new_figure, panel_grid, save_figure

__all__ = ["plot_distributions", "plot_interval_shares", "plot_pair_mi", "plot_spearman"]


def _labels(ax: Any, labels: list[str]) -> None:
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=6)


def plot_distributions(dist: dict[str, list[dict]], path: Path) -> Path:
    """One panel per metric of ``dist``: every run's value per setting, the median and its CI."""
    rows, cols = panel_grid(len(dist), max_cols=3)
    fig = new_figure((4.2 * cols, 3.6 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    rng = np.random.default_rng(0)
    for ax, (metric, entries) in zip(axes, dist.items()):
        for i, e in enumerate(entries):
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(e["values"])), e["values"], s=10, alpha=0.7)
            ax.errorbar(
                i, e["median"], [[e["median"] - e["ci_low"]], [e["ci_high"] - e["median"]]],
                fmt="_", color="k", capsize=3, markersize=14,
            )  # fmt: skip
        ax.set_title(metric, fontsize=9)
        _labels(ax, [e["setting"] for e in entries])
    hide_unused(axes, len(dist))
    fig.tight_layout()
    return save_figure(fig, path)


def plot_interval_shares(
    shares: dict[str, dict[str, dict[str, Any]]], title: str, path: Path
) -> Path:
    """Grouped bars: per metric (x) and source (colour) the ``share`` with its ``ci`` as an error
    bar and, when given, the pure-noise mean ``noise`` as a black tick with its range dashed."""
    metrics = list(shares)
    sources = list(next(iter(shares.values())))
    width = 0.8 / len(sources)
    fig = new_figure((max(6.0, 1.0 * len(metrics) + 2.5), 4.4))
    ax = fig.subplots()
    for k, source in enumerate(sources):
        x = np.arange(len(metrics)) - 0.4 + width * (k + 0.5)
        val = np.array([shares[m][source]["share"] for m in metrics], dtype=float)
        ci = np.array([shares[m][source]["ci"] for m in metrics], dtype=float)
        err = np.abs(np.nan_to_num(np.stack([val - ci[:, 0], ci[:, 1] - val])))
        ax.bar(x, np.nan_to_num(val), width, label=source, alpha=0.85)
        ax.errorbar(x, np.nan_to_num(val), err, fmt="none", ecolor="k", capsize=2, lw=0.8)
        noise = [shares[m][source].get("noise") for m in metrics]
        for xi, n in zip(x, noise):
            if n is not None:
                ax.plot([xi - width / 2, xi + width / 2], [n["mean"]] * 2, color="k", lw=2)
                ax.plot([xi, xi], [n["low"], n["high"]], color="k", lw=0.6, ls=":")
    ax.set_ylim(0, 1.2)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("share of variance")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, ncol=len(sources), loc="upper center", frameon=False)
    ax.set_xticks(range(len(metrics)))
    ax.set_xticklabels(metrics, rotation=30, ha="right", fontsize=7.5)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_spearman(spear: dict[str, Any], path: Path) -> Path:
    """Spearman matrix of :func:`~pyrodis.runs.study.correlation.spearman_intervals`: colour
    ρ, text ``ρ [low, high]`` per cell; the title names the level and n."""
    names = spear["metrics"]
    rho = np.array(spear["rho"], dtype=float)
    lo, hi = np.array(spear["ci_low"], dtype=float), np.array(spear["ci_high"], dtype=float)
    size = max(4.5, 0.85 * len(names) + 2.5)
    fig = new_figure((size, size * 0.85))
    ax = fig.subplots()
    im = ax.imshow(rho, vmin=-1, vmax=1, cmap="RdBu_r")
    for i in range(len(names)):
        for j in range(len(names)):
            if i != j and np.isfinite(rho[i, j]):
                text = f"{rho[i, j]:.2f}\n[{lo[i, j]:.2f}, {hi[i, j]:.2f}]"
                ink = "white" if abs(rho[i, j]) > 0.6 else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color=ink)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    unit = "runs" if spear["level"] == "runs" else "setting medians"
    ax.set_title(f"Spearman ρ over {spear['n']} {unit} [95% interval]", fontsize=9)
    fig.colorbar(im, ax=ax, label="Spearman ρ", shrink=0.8)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_pair_mi(entries: list[dict], path: Path) -> Path:
    """Each run's ``shared`` MI of the correlated pair against σ (∞: independent)."""
    sigmas = sorted({e["sigma"] for e in entries})
    fig = new_figure((4.5, 3.4))
    ax = fig.subplots()
    for i, s in enumerate(sigmas):
        vals = [e["shared"] for e in entries if e["sigma"] == s]
        ax.scatter([i] * len(vals), vals, s=12, alpha=0.7)
        ax.plot([i - 0.2, i + 0.2], [np.median(vals)] * 2, color="k")
    ax.set_xticks(range(len(sigmas)))
    ax.set_xticklabels(["∞" if math.isinf(s) else f"{s:g}" for s in sigmas])
    ax.set_xlabel("σ of the correlated pair")
    ax.set_ylabel("one latent's normalised MI with both")
    fig.tight_layout()
    return save_figure(fig, path)
