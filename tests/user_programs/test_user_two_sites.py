"""Two latent sites in the data plate, of different families: ``content`` (Gaussian) and ``style``
(Laplace guide and prior). Diagnostics run over both jointly and per site."""

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import train_and_inspect
from kit.user_programs import low_rank_data
from torch import nn

N, OBS = 256, 6


def program():
    data = low_rank_data(N, OBS, seed=4, rank=3)
    enc = nn.Linear(OBS, 2 * 2 + 2 * 1)
    dec = nn.Linear(3, OBS)

    def model(x, idx):
        pyro.module("dec", dec)
        with pyro.plate("data", N, subsample=idx):
            c = pyro.sample("content", dist.Normal(x.new_zeros(len(idx), 2), 1.0).to_event(1))
            s = pyro.sample("style", dist.Laplace(x.new_zeros(len(idx), 1), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(torch.cat([c, s], -1)), 0.2).to_event(1), obs=x)

    def guide(x, idx):
        pyro.module("enc", enc)
        h = enc(x)
        with pyro.plate("data", N, subsample=idx):
            pyro.sample("content", dist.Normal(h[:, :2], h[:, 2:4].exp()).to_event(1))
            pyro.sample("style", dist.Laplace(h[:, 4:5], h[:, 5:].exp()).to_event(1))

    return model, guide, data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_two_latent_sites(elbo):
    agg = train_and_inspect(*program(), elbo, ["content", "style"])
    assert agg.latent_names == ["content[0]", "content[1]", "style[0]"]
    style = agg.site("style")
    assert style.latent_dim == 1 and isinstance(style.posterior.parts[0], dist.Laplace)
    np.testing.assert_allclose(style.kl_per_dim(), agg.kl_per_dim()[2:])
    np.testing.assert_allclose(agg.site("content").loc.numpy(), agg.loc[:, :2].numpy())
    idata = agg.to_inference_data(num_samples=30)
    assert idata.posterior["style"].dims == ("chain", "draw", "latent_style")
