"""pyrodis.models: Pyro model/guide pairs, their networks and likelihoods."""

from pyrodis.models.likelihoods import LIKELIHOODS, get_likelihood
from pyrodis.models.networks import ARCHITECTURES, build_networks
from pyrodis.models.vae import VAE

__all__ = ["ARCHITECTURES", "LIKELIHOODS", "VAE", "build_networks", "get_likelihood"]
