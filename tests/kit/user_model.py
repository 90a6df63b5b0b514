"""A user's own small Pyro model/guide pair (not pyrodis' VAE), for the training-loop tests."""

import pyro
import pyro.distributions as dist
import torch
from torch import nn


def make_user_model(num_data, dim=6, latent=2, seed=0, likelihood=dist.Laplace):
    """``(model, guide)`` with a linear encoder/decoder, a Normal prior on the site ``code`` and
    ``likelihood(decoder(z), 1)`` for the observations, in a data plate of size ``num_data``."""
    torch.manual_seed(seed)
    enc, dec = nn.Linear(dim, 2 * latent), nn.Linear(latent, dim)

    def model(x, indices=None):
        pyro.module("dec", dec)
        with pyro.plate("data", size=num_data, subsample=indices):
            z = pyro.sample("code", dist.Normal(torch.zeros(len(x), latent), 1.0).to_event(1))
            pyro.sample("obs", likelihood(dec(z), 1.0).to_event(1), obs=x)

    def guide(x, indices=None):
        pyro.module("enc", enc)
        with pyro.plate("data", size=num_data, subsample=indices):
            loc, log_scale = enc(x).chunk(2, -1)
            pyro.sample("code", dist.Normal(loc, log_scale.exp()).to_event(1))

    return model, guide
