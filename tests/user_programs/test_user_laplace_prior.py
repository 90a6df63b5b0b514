"""A user's VAE with a sparse Laplace prior p(z) = Π_d Laplace(z_d; 0, 1) and a Gaussian guide."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import inspect, train
from torch import nn

N, OBS, D = 256, 6, 2


def program():
    g = torch.Generator().manual_seed(0)
    data = torch.tanh(torch.randn(N, 2, generator=g) @ torch.randn(2, OBS, generator=g))
    enc = nn.Sequential(nn.Linear(OBS, 16), nn.Tanh(), nn.Linear(16, 2 * D))
    dec = nn.Sequential(nn.Linear(D, 16), nn.Tanh(), nn.Linear(16, OBS))

    def model(x, idx):
        pyro.module("dec", dec)
        with pyro.plate("data", N, subsample=idx):
            z = pyro.sample("z", dist.Laplace(torch.zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(z), 0.1).to_event(1), obs=x)

    def guide(x, idx):
        pyro.module("enc", enc)
        loc, log_scale = enc(x).chunk(2, -1)
        with pyro.plate("data", N, subsample=idx):
            pyro.sample("z", dist.Normal(loc, log_scale.exp()).to_event(1))

    return model, guide, data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_laplace_prior(elbo):
    model, guide, data = program()
    train(model, guide, data, elbo)
    agg = inspect(guide, model, data, ["z"])
    assert isinstance(agg.prior.parts[0], torch.distributions.Laplace)
    assert agg.kl_method == "closed form"  # torch registers KL(Normal || Laplace)
