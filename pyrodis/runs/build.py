"""Build the dataset, the VAE and the ELBO that a :class:`~pyrodis.config.Config` describes."""

from __future__ import annotations

import inspect
from typing import Any

import pyro.infer

from pyrodis.config import Config, ConfigError

#: objective name -> (key of pyrodis.inference.ELBOS, fixed kwargs, description)
OBJECTIVES: dict[str, tuple[str, dict[str, Any], str]] = {
    "vae": ("vae", {}, "the plain ELBO (β = 1)"),
    "beta-vae": ("beta", {}, "β-VAE: R + β·KL"),
    "annealed-vae": ("capacity", {}, "capacity annealing: R + γ·|KL − C(t)|"),
    "beta-tcvae": ("tc", {}, "β-TCVAE: R + α·MI + β·TC + γ·dwKL"),
    "factor-vae": ("factor", {}, "FactorVAE: R + KL + γ·TC from a discriminator"),
    "dip-vae-i": ("dip", {"kind": "i"}, "DIP-VAE-I: covariance of the encoder means"),
    "dip-vae-ii": ("dip", {"kind": "ii"}, "DIP-VAE-II: covariance of q(z)"),
}


def _elbo_class(name: str) -> tuple[type, dict[str, Any]]:
    if name not in OBJECTIVES:
        raise ConfigError(f"unknown objective {name!r}; choose one of {sorted(OBJECTIVES)}")
    from pyrodis.inference import ELBOS

    key, fixed, _ = OBJECTIVES[name]
    return ELBOS[key], fixed


def build_elbo(config: Config) -> pyro.infer.ELBO:
    """The ELBO of ``config.objective`` (its params are checked against the class signature)."""
    cls, fixed = _elbo_class(config.objective.name)
    accepted = inspect.signature(cls).parameters
    for key in config.objective.params:
        if key in fixed:
            raise ConfigError(
                f"objective {config.objective.name!r} fixes {key}={fixed[key]!r}; remove it "
                "or choose another objective"
            )
        if key not in accepted:
            valid = sorted(k for k in accepted if k not in fixed and k != "kwargs")
            raise ConfigError(
                f"objective {config.objective.name!r} has no parameter {key!r}; valid: {valid}"
            )
    try:
        return cls(**fixed, **config.objective.params)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"objective {config.objective.name!r}: {err}") from err


def build_dataset(config: Config, training: bool = True) -> Any:
    """The ground-truth dataset; with ``training`` the correlated view, if configured."""
    from pyrodis.data import CorrelatedFactors, get_dataset

    try:
        dataset = get_dataset(config.data.name, path=config.data.path)
    except ValueError as err:  # unknown name, or a file that is not the official layout
        raise ConfigError(f"[data]: {err}") from err
    if training and config.data.correlated:
        if len(config.data.correlated) != 2:
            raise ConfigError(
                f"data.correlated names two factors, e.g. ['scale', 'shape'], "
                f"got {config.data.correlated}"
            )
        try:
            dataset = CorrelatedFactors(
                dataset, pairs=[tuple(config.data.correlated)], sigma=config.data.correlation_sigma
            )
        except ValueError as err:
            raise ConfigError(f"[data] correlated: {err}") from err
    return dataset


def build_model(config: Config, dataset: Any) -> Any:
    """The VAE for ``dataset`` (its image shape and size N)."""
    from pyrodis.models import VAE

    try:
        return VAE(
            latent_dim=config.model.latent_dim,
            image_shape=tuple(dataset.observation_shape),
            likelihood=config.model.likelihood,
            architecture=config.model.architecture,
            num_data=len(dataset),
        )
    except (KeyError, ValueError) as err:
        raise ConfigError(f"[model]: {err}") from err
