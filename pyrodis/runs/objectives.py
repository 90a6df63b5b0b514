"""The objectives a run config can name: the one table from names to pyrodis ELBOs.

Presets, configs, the CLI and studies refer to objectives by these names; each maps to an ELBO
class of :mod:`pyrodis.inference` and the keyword arguments the name fixes (``docs/objectives.rst``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import pyro.infer

from pyrodis.inference import DIPELBO, TCELBO, VAEELBO, BetaELBO, CapacityELBO, FactorELBO
from pyrodis.runs.config import ConfigError

__all__ = ["OBJECTIVES", "Objective", "build_objective"]


@dataclass(frozen=True)
class Objective:
    """An objective: its ELBO class, the keyword arguments its name fixes, one line about it."""

    elbo: type
    description: str
    fixed: dict[str, Any] = field(default_factory=dict)


OBJECTIVES: dict[str, Objective] = {
    "vae": Objective(VAEELBO, "the plain ELBO (β = 1)"),
    "beta-vae": Objective(BetaELBO, "β-VAE: R + β·KL"),
    "annealed-vae": Objective(CapacityELBO, "capacity annealing: R + γ·|KL − C(t)|"),
    "beta-tcvae": Objective(TCELBO, "β-TCVAE: R + α·MI + β·TC + γ·dwKL"),
    "factor-vae": Objective(FactorELBO, "FactorVAE: R + KL + γ·TC from a discriminator"),
    "dip-vae-i": Objective(DIPELBO, "DIP-VAE-I: covariance of the encoder means", {"kind": "i"}),
    "dip-vae-ii": Objective(DIPELBO, "DIP-VAE-II: covariance of q(z)", {"kind": "ii"}),
}


def build_objective(name: str, params: dict[str, Any]) -> pyro.infer.ELBO:
    """The ELBO of objective ``name`` with ``params`` (checked against the class signature)."""
    if name not in OBJECTIVES:
        raise ConfigError(f"unknown objective {name!r}; choose one of {sorted(OBJECTIVES)}")
    objective = OBJECTIVES[name]
    accepted = inspect.signature(objective.elbo).parameters
    for key, value in params.items():
        if key in objective.fixed:
            raise ConfigError(
                f"objective {name!r} fixes {key}={objective.fixed[key]!r}; remove it "
                "or choose another objective"
            )
        if key not in accepted:
            valid = sorted(k for k in accepted if k not in objective.fixed and k != "elbo_kwargs")
            raise ConfigError(f"objective {name!r} has no parameter {key!r}; valid: {valid}")
        if isinstance(value, bool) and not isinstance(accepted[key].default, bool):
            raise ConfigError(f"objective.{key} must be a number, got {value!r}")
    try:
        return objective.elbo(**objective.fixed, **params)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"objective {name!r}: {err}") from err
