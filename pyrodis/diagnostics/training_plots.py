"""Training-curve figures from a run's history (a list of dicts with ``step`` and ELBO terms).

A term logged twice, as a minibatch estimate during training (``tc_mss``, ``tc_mws``,
``tc_bank``) and as the large-reference estimate at checkpoints (``tc_ref``,
``docs/objectives.rst``), shares one panel: the minibatch curve as a line, the reference values as
points, so the estimator's bias reads at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from pyrodis.figures import hide_unused, new_figure, panel_grid, save_figure


def history_terms(history: Sequence[Mapping[str, float]]) -> list[str]:
    """ELBO terms present in a history, in first-seen order, without ``step``."""
    keys: dict[str, None] = {}
    for row in history:
        keys.update({k: None for k in row if k != "step"})
    return list(keys)


#: the suffix of the checkpoint's large-reference estimate
REFERENCE = "_ref"


def panel_layout(keys: Sequence[str]) -> list[tuple[str, list[str]]]:
    """The panels for ``keys``: (title, keys drawn on it). ``X_ref`` joins the panel of the one
    other key ``X_<estimator>`` and the title is ``X``; every other key has its own panel."""
    refs = {k[: -len(REFERENCE)]: k for k in keys if k.endswith(REFERENCE)}
    partners: dict[str, list[str]] = {}
    for key in keys:
        stem = key.rsplit("_", 1)[0] if "_" in key else None
        if stem in refs and key != refs[stem]:
            partners.setdefault(stem, []).append(key)
    joined = {stem: found[0] for stem, found in partners.items() if len(found) == 1}
    panels = []
    for key in keys:
        stem = key.rsplit("_", 1)[0] if "_" in key else None
        if stem in joined and key == joined[stem]:
            panels.append((stem, [key, refs[stem]]))
        elif not (key.endswith(REFERENCE) and key[: -len(REFERENCE)] in joined):
            panels.append((key, [key]))
    return panels


def _series(history, key: str) -> tuple[np.ndarray, np.ndarray]:
    pairs = [
        (float(r.get("step", i)), float(r[key]))
        for i, r in enumerate(history)
        if r.get(key) is not None and math.isfinite(float(r[key]))
    ]
    if not pairs:
        return np.zeros(0), np.zeros(0)
    steps, values = zip(*pairs)
    return np.asarray(steps), np.asarray(values)


def plot_training_curves(
    history: Sequence[Mapping[str, float]],
    path: str | Path,
    *,
    keys: Sequence[str] | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
) -> Path:
    """One panel per ELBO term (default: every key of the history but ``step``) against step; a
    minibatch estimate and its checkpoint reference share one (:func:`panel_layout`)."""
    keys = history_terms(history) if keys is None else list(keys)
    if not history or not keys:
        raise ValueError("the history is empty: it needs rows like {'step': 0, 'loss': ...}")
    panels = panel_layout(keys)
    rows, cols = panel_grid(len(panels), max_cols=3)
    fig = new_figure(figsize or (3.2 * cols, 2.2 * rows), dpi)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (title, drawn) in zip(axes.ravel(), panels):
        for key in drawn:
            steps, values = _series(history, key)
            if key.endswith(REFERENCE) and len(drawn) > 1:
                ax.plot(steps, values, "o", ms=3, color="C3", label=f"{key} (checkpoints)")
            else:
                ax.plot(steps, values, lw=1, label=key)
        if len(drawn) > 1:
            ax.legend(fontsize=6)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
    hide_unused(axes, len(panels))
    fig.tight_layout()
    return save_figure(fig, path)


def plot_discriminator_accuracy(
    history: Sequence[Mapping[str, float]],
    path: str | Path,
    *,
    figsize: tuple[float, float] = (5.0, 3.0),
    dpi: float = 100,
) -> Path:
    """FactorVAE's discriminator accuracy (history key ``disc_acc``) against step, with the 0.5
    chance line: at 0.5 the discriminator tells q(z) from Π_j q(z_j) no better than a coin."""
    steps, acc = _series(history, "disc_acc")
    if acc.size == 0:
        raise ValueError(
            "the history has no 'disc_acc' values; only FactorVAE (FactorELBO) runs log them"
        )
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    ax.plot(steps, acc, lw=1)
    ax.axhline(0.5, color="k", ls="--", lw=1, label="chance")
    ax.set_ylim(0, 1)
    ax.set_xlabel("step")
    ax.set_ylabel("discriminator accuracy")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
