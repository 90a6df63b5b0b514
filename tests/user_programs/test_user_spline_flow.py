"""A user's guide with an element-wise spline flow: q(z|x) = Spline_#(Normal(loc(x), scale(x))),
one Pyro ``TransformedDistribution`` per point whose spline parameters are shared (global)."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import inspect, train
from pyro.distributions.transforms import Spline
from torch import nn

N, OBS, D = 256, 6, 2


def program():
    g = torch.Generator().manual_seed(0)
    data = torch.tanh(torch.randn(N, 2, generator=g) @ torch.randn(2, OBS, generator=g))
    enc = nn.Sequential(nn.Linear(OBS, 16), nn.Tanh(), nn.Linear(16, 2 * D))
    dec = nn.Sequential(nn.Linear(D, 16), nn.Tanh(), nn.Linear(16, OBS))
    flow = Spline(D, count_bins=4, bound=4.0)

    def model(x, idx):
        pyro.module("dec", dec)
        with pyro.plate("data", N, subsample=idx):
            z = pyro.sample("z", dist.Normal(torch.zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(z), 0.1).to_event(1), obs=x)

    def guide(x, idx):
        pyro.module("enc", enc)
        pyro.module("flow", flow)
        loc, log_scale = enc(x).chunk(2, -1)
        with pyro.plate("data", N, subsample=idx):
            base = dist.Normal(loc, log_scale.exp())
            pyro.sample("z", dist.TransformedDistribution(base, [flow]).to_event(1))

    return model, guide, data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_spline_flow_guide(elbo):
    model, guide, data = program()
    train(model, guide, data, elbo)
    agg = inspect(guide, model, data, ["z"])
    assert isinstance(agg.posterior.parts[0], torch.distributions.TransformedDistribution)
    assert agg.kl_method == "monte carlo"  # no closed form for a flow
    assert agg.sample(100).shape == (100, D)
    assert agg.marginal_density(torch.linspace(-3, 3, 7).numpy()).shape == (D, 7)
