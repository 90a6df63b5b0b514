"""Runs that never left the collapsed start (``docs/studies.rst``, "Collapsed runs").

A VAE trained on dSprites first learns the mean image with every latent at the prior (KL ≈ 0)
and leaves that plateau after a number of steps that depends on the seed. A run stopped before
it has no active latent: every metric then scores its noise, at chance. Such runs are a property
of the budget, not of the objective, and a reader comparing settings needs to know how many
there are. They stay in every analysis: dropping them after seeing the results would be a choice
made on the outcome.

A finished run is collapsed when its representation has no active unit (the evaluation's
``num_active_dims``, Burda et al. 2016's rule: Var_x E_q[z_j | x] > 0.01); without such a column,
when its final KL per image is below ``kl_floor`` nats.
"""

from __future__ import annotations

from typing import Any

from pyrodis.runs.study.results_table import finite

__all__ = ["ACTIVE_COLUMNS", "collapsed_runs"]

#: the evaluation's active-unit counts, in the order they are trusted
ACTIVE_COLUMNS = ("unsupervised.num_active_dims", "factor_vae.num_active_dims")


def _active_units(row: dict[str, Any]) -> float | None:
    for column in ACTIVE_COLUMNS:
        if finite(row.get(column)):
            return float(row[column])
    return None


def collapsed_runs(rows: list[dict[str, Any]], *, kl_floor: float = 0.5) -> list[dict[str, Any]]:
    """The finished runs of ``rows`` (a study's results table) that collapsed, in table order:
    trial, setting, seed, active units (None when not evaluated), final KL and the rule that
    decided."""
    if not kl_floor > 0:
        raise ValueError(f"kl_floor must be > 0 nats, got {kl_floor}")
    found = []
    for row in rows:
        if row.get("status") != "done":
            continue
        active = _active_units(row)
        kl = float(row["final.kl"]) if finite(row.get("final.kl")) else None
        if active is not None:
            collapsed, rule = active == 0, "active units = 0"
        elif kl is not None:
            collapsed, rule = kl < kl_floor, f"final KL < {kl_floor:g} nats"
        else:
            continue
        if collapsed:
            found.append({"trial": row["trial"], "setting": row["setting"], "seed": row["seed"],
                          "active_units": active, "kl": kl, "rule": rule})  # fmt: skip
    return found
