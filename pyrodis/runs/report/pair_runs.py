"""The weak-supervision part of a run's report: which latents the pair model treats as changed.

For a pair model (:class:`pyrodis.models.PairVAE`) ``num_pairs`` pairs that differ in exactly one
factor are drawn from the evaluation grid; the model's adaptive rule marks each latent shared or
changed per pair. The table gives, for every latent j and true changed factor k, the share of the
pairs with factor k changed in which latent j was treated as changed: a model that found the
factors shows one high entry per factor (``docs/weak_supervision.rst``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pyrodis.data import PairedFactors
from pyrodis.runs.report import html

__all__ = ["changed_latent_table", "pair_section"]


def changed_latent_table(vae: Any, dataset: Any, num_pairs: int = 1000, seed: int = 0) -> dict:
    """``{"factor_names", "matrix" (D × K shares), "num_pairs"}`` of the module docstring."""
    pairs = PairedFactors(dataset, k=1)
    x, _, shared_factors = pairs.draw_batch(num_pairs, np.random.default_rng(seed), labels=True)
    device = next(vae.parameters()).device
    with torch.no_grad():
        *_, shared = vae.aggregate(x.to(device))
    changed = (~shared).cpu().numpy().astype(np.float64)  # (n, D)
    which = np.argmax(~shared_factors.numpy(), axis=1)  # the one changed factor of each pair
    columns = list(pairs.changeable)
    matrix = np.stack(
        [
            changed[which == k].mean(0) if (which == k).any() else np.full(changed.shape[1], np.nan)
            for k in columns
        ],
        axis=1,
    )
    names = [dataset.factor_names[k] for k in columns]
    return {"factor_names": names, "matrix": matrix.tolist(), "num_pairs": int(num_pairs)}


def pair_section(table: dict) -> str:
    """The report section of :func:`changed_latent_table`'s result."""
    matrix = np.asarray(table["matrix"])
    rows = [[f"z{j}", *matrix[j]] for j in range(matrix.shape[0])]
    body = html.table(["latent", *table["factor_names"]], rows) + (
        f"<p>Share of {table['num_pairs']} pairs (exactly one factor changed) in which the "
        "model's adaptive rule treats each latent as changed, by the factor that really changed. "
        "A disentangled pair model has one high entry per factor column.</p>"
    )
    return html.section("weak-supervision", "Shared vs changed latents (weak supervision)", body)
