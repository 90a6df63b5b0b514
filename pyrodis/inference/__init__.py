"""pyrodis.inference: disentangling ELBOs, TC estimators and the latent-site contract.

Every ELBO is a :class:`pyro.infer.ELBO` usable as ``SVI(model, guide, optim, loss=elbo)`` on any
model/guide pair that follows the latent-site contract (:mod:`pyrodis.inference.latent_sites`).
The loop that trains them (``fit``, ``Trainer``, schedules) is :mod:`pyrodis.training`; its old
paths here still work for one release, with a DeprecationWarning (docs/api.rst lists them).
"""

from typing import Any

from pyrodis.inference.base import DisentanglingELBO, normalized_beta
from pyrodis.inference.beta_elbo import VAEELBO, BetaELBO
from pyrodis.inference.capacity_elbo import CapacityELBO
from pyrodis.inference.dip_elbo import DIPELBO, dip_covariance
from pyrodis.inference.discriminator import Discriminator
from pyrodis.inference.factor_elbo import FactorELBO
from pyrodis.inference.latent_sites import LatentSite, LatentSiteError, find_latent_sites
from pyrodis.inference.tc_elbo import TCELBO
from pyrodis.inference.tc_estimators import (
    log_aggregate_posterior,
    minibatch_stratified_log_qz,
    minibatch_weighted_log_qz,
    mss_log_weight_matrix,
    pairwise_log_density,
    permute_dims,
)

__all__ = [
    "BetaELBO",
    "CapacityELBO",
    "DIPELBO",
    "DisentanglingELBO",
    "Discriminator",
    "FactorELBO",
    "LatentSite",
    "LatentSiteError",
    "TCELBO",
    "VAEELBO",
    "dip_covariance",
    "find_latent_sites",
    "log_aggregate_posterior",
    "minibatch_stratified_log_qz",
    "minibatch_weighted_log_qz",
    "mss_log_weight_matrix",
    "normalized_beta",
    "pairwise_log_density",
    "permute_dims",
]


def __getattr__(name: str) -> Any:
    """The training loop's names and modules that moved to :mod:`pyrodis.training`."""
    import importlib

    from pyrodis.inference._deprecated import MOVED_MODULES, MOVED_NAMES, warn_moved

    if name not in MOVED_NAMES | MOVED_MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warn_moved(f"{__name__}.{name}", f"pyrodis.training.{name}")
    if name in MOVED_NAMES:  # `fit` is a name and a module: the function, as in 0.2
        return getattr(importlib.import_module("pyrodis.training"), name)
    return importlib.import_module(f"pyrodis.training.{name}")
