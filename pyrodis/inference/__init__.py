"""pyrodis.inference: disentangling ELBOs, TC estimators and the latent-site contract.

Every ELBO is a :class:`pyro.infer.ELBO` usable as ``SVI(model, guide, optim, loss=elbo)`` on any
model/guide pair that follows the latent-site contract (:mod:`pyrodis.inference.latent_sites`).
"""

from pyrodis.inference.base import DisentanglingELBO, normalized_beta
from pyrodis.inference.beta_elbo import VAEELBO, BetaELBO
from pyrodis.inference.capacity_elbo import CapacityELBO
from pyrodis.inference.dip_elbo import DIPELBO, dip_covariance
from pyrodis.inference.discriminator import Discriminator
from pyrodis.inference.factor_elbo import FactorELBO
from pyrodis.inference.fit import fit
from pyrodis.inference.history import History
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
from pyrodis.inference.trainer import Trainer, TrainingInterrupted

__all__ = [
    "BetaELBO",
    "CapacityELBO",
    "DIPELBO",
    "DisentanglingELBO",
    "Discriminator",
    "FactorELBO",
    "History",
    "LatentSite",
    "LatentSiteError",
    "TCELBO",
    "Trainer",
    "TrainingInterrupted",
    "VAEELBO",
    "dip_covariance",
    "find_latent_sites",
    "fit",
    "log_aggregate_posterior",
    "minibatch_stratified_log_qz",
    "minibatch_weighted_log_qz",
    "mss_log_weight_matrix",
    "normalized_beta",
    "pairwise_log_density",
    "permute_dims",
]
