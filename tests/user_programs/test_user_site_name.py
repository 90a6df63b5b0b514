"""Nothing called ``z`` or ``data``: the latent site is ``code`` in a plate named ``rows``, and the
likelihood is a Laplace."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import inspect, train
from torch import nn

N, OBS, D = 256, 8, 3


def program():
    g = torch.Generator().manual_seed(3)
    data = torch.sin(torch.randn(N, 2, generator=g) @ torch.randn(2, OBS, generator=g))
    enc = nn.Sequential(nn.Linear(OBS, 16), nn.ReLU(), nn.Linear(16, 2 * D))
    dec = nn.Sequential(nn.Linear(D, 16), nn.ReLU(), nn.Linear(16, OBS))

    def model(x, idx):
        pyro.module("decoder", dec)
        with pyro.plate("rows", size=N, subsample=idx):
            code = pyro.sample("code", dist.Normal(x.new_zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("obs", dist.Laplace(dec(code), 0.1).to_event(1), obs=x)

    def guide(x, idx):
        pyro.module("encoder", enc)
        with pyro.plate("rows", size=N, subsample=idx):
            loc, log_scale = enc(x).chunk(2, dim=-1)
            pyro.sample("code", dist.Normal(loc, log_scale.exp()).to_event(1))

    return model, guide, data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_site_not_called_z(elbo):
    model, guide, data = program()
    train(model, guide, data, elbo)
    agg = inspect(guide, model, data, ["code"])
    assert agg.latent_names == ["code[0]", "code[1]", "code[2]"]
    assert agg.kl_method == "closed form"
