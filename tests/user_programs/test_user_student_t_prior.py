"""A heavy-tailed prior: p(z) = Π_d StudentT(z_d; ν=4), a Gaussian guide. torch has no closed-form
KL(Normal || StudentT), so the diagnostics estimate it by Monte Carlo and say so."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import inspect, train
from torch import nn

N, OBS, D = 256, 5, 3


def program():
    g = torch.Generator().manual_seed(2)
    data = torch.randn(N, 2, generator=g) @ torch.randn(2, OBS, generator=g)
    enc = nn.Linear(OBS, 2 * D)
    dec = nn.Linear(D, OBS)

    def model(x, idx):
        pyro.module("dec", dec)
        with pyro.plate("data", N, subsample=idx):
            prior = dist.StudentT(4.0, torch.zeros(len(idx), D), 1.0).to_event(1)
            z = pyro.sample("z", prior)
            pyro.sample("x", dist.Normal(dec(z), 0.2).to_event(1), obs=x)

    def guide(x, idx):
        pyro.module("enc", enc)
        loc, raw = enc(x).chunk(2, -1)
        with pyro.plate("data", N, subsample=idx):
            pyro.sample("z", dist.Normal(loc, nn.functional.softplus(raw) + 1e-3).to_event(1))

    return model, guide, data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_student_t_prior(elbo):
    model, guide, data = program()
    train(model, guide, data, elbo)
    agg = inspect(guide, model, data, ["z"])
    assert agg.kl_method == "monte carlo" and (agg.kl_standard_errors() > 0).all()
    grid = torch.linspace(-3, 3, 5).numpy()
    expected = torch.distributions.StudentT(4.0).log_prob(torch.linspace(-3, 3, 5)).exp()
    assert abs(agg.prior_density(grid)[1] - expected.numpy()).max() < 1e-6
