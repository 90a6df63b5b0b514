"""pyrodis.models: Pyro model/guide pairs, their networks and likelihoods."""

from pyrodis.models.likelihoods import LIKELIHOODS, get_likelihood
from pyrodis.models.networks import ARCHITECTURES, build_networks
from pyrodis.models.pair_vae import PairVAE, aggregate_pair
from pyrodis.models.vae import VAE

__all__ = [
    "ARCHITECTURES",
    "LIKELIHOODS",
    "PairVAE",
    "VAE",
    "aggregate_pair",
    "build_networks",
    "get_likelihood",
]
