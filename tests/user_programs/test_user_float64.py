"""Everything in float64: data, networks and distributions (``torch.float64`` end to end)."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import inspect, train
from torch import nn

N, OBS, D = 256, 6, 2


def program():
    g = torch.Generator().manual_seed(10)
    data = torch.randn(N, 2, generator=g, dtype=torch.float64)
    data = data @ torch.randn(2, OBS, generator=g, dtype=torch.float64)
    enc = nn.Linear(OBS, 2 * D).double()
    dec = nn.Linear(D, OBS).double()

    def model(x, idx):
        pyro.module("dec64", dec)
        with pyro.plate("data", N, subsample=idx):
            z = pyro.sample("z", dist.Normal(x.new_zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(z), 0.2).to_event(1), obs=x)

    def guide(x, idx):
        pyro.module("enc64", enc)
        loc, log_scale = enc(x).chunk(2, -1)
        with pyro.plate("data", N, subsample=idx):
            pyro.sample("z", dist.Normal(loc, log_scale.exp()).to_event(1))

    return model, guide, data, enc


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_float64_program(elbo):
    model, guide, data, enc = program()
    train(model, guide, data, elbo)
    agg = inspect(guide, model, data, ["z"])
    with torch.no_grad():
        expected = enc(data).chunk(2, -1)[0]
    torch.testing.assert_close(agg.loc, expected)  # float64 kept exactly
