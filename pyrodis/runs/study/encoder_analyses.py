"""Study analyses that need the trained encoders: UDR across seeds and the correlated pair's MI.

- :func:`udr_scores`: for every setting with at least two finished seeds, UDR (Duan et al. 2020;
  :func:`pyrodis.metrics.udr`, Lasso variant) of its models, all encoding the same points of the
  evaluation dataset; each trial gets its model score.
- :func:`correlated_pair_mi`: for trials trained on a correlated pair of factors (Träuble et al.
  2021), the normalised latent × factor mutual information of the pair on the independent grid:
  ``shared`` = max over latents of min(MI(z_j; a)/H(a), MI(z_j; b)/H(b)), how much ONE latent
  encodes both factors (it grows as σ falls when the models entangle the pair).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from pyrodis.diagnostics.factor_mi import discretised_mutual_information
from pyrodis.metrics import discrete_entropy, udr
from pyrodis.metrics.sampling import encode
from pyrodis.runs.study.trial import RUNS_DIR
from pyrodis.runs.trained_run import load_run

__all__ = ["correlated_pair_mi", "udr_scores"]


def udr_scores(
    out: str | Path, rows: list[dict[str, Any]], *, num_points: int = 1_000, seed: int = 0
) -> dict[str, float]:
    """Trial -> UDR model score, within each setting that has >= 2 finished trials."""
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.get("status") == "done":
            groups[row["setting"]].append(row["trial"])
    scores: dict[str, float] = {}
    for trials in groups.values():
        if len(trials) < 2:
            continue
        runs = [load_run(Path(out) / RUNS_DIR / t) for t in trials]
        reps = [run.vae.representation("mean") for run in runs]
        result = udr(reps, runs[0].dataset, seed, num_points=num_points)
        scores.update(zip(trials, result["udr"]))
    return scores


def _pair_mi(run: Any, num_points: int, seed: int) -> dict[str, float] | None:
    pair = run.config.data.correlated
    if len(pair) != 2:
        return None
    dataset = run.dataset
    names = list(dataset.factor_names)
    a, b = names.index(pair[0]), names.index(pair[1])
    factors = np.asarray(dataset.sample_factors(num_points, np.random.default_rng(seed)))
    codes = encode(run.vae.representation("mean"), dataset, factors)
    mi = discretised_mutual_information(codes, factors)
    entropy = discrete_entropy(factors)
    norm_a, norm_b = mi[:, a] / entropy[a], mi[:, b] / entropy[b]
    return {
        "pair": f"{pair[0]}×{pair[1]}",
        "sigma": float(run.config.data.correlation_sigma),
        "top_a": float(norm_a.max()),
        "top_b": float(norm_b.max()),
        "shared": float(np.minimum(norm_a, norm_b).max()),
    }


def correlated_pair_mi(
    out: str | Path, rows: list[dict[str, Any]], *, num_points: int = 2_000, seed: int = 0
) -> list[dict[str, Any]]:
    """One entry per finished trial trained on a correlated pair (empty when there is none)."""
    entries = []
    for row in rows:
        if row.get("status") != "done":
            continue
        run = load_run(Path(out) / RUNS_DIR / row["trial"])
        found = _pair_mi(run, num_points, seed)
        if found is not None:
            entries.append({"trial": row["trial"], "preset": row["preset"], **found})
    return entries
