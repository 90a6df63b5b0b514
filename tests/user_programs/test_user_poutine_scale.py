"""Model and guide under ``poutine.scale`` (a user down-weighting the whole ELBO): training and
the diagnostics are in nats per point whatever the scale."""

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import inspect, train
from pyro import poutine
from torch import nn

N, OBS, D = 256, 6, 2
SCALE = 0.01


def program():
    g = torch.Generator().manual_seed(11)
    data = torch.randn(N, 2, generator=g) @ torch.randn(2, OBS, generator=g)
    enc = nn.Linear(OBS, 2 * D)
    dec = nn.Linear(D, OBS)

    def model(x, idx):
        pyro.module("dec", dec)
        with pyro.plate("data", N, subsample=idx):
            z = pyro.sample("z", dist.Normal(x.new_zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(z), 0.2).to_event(1), obs=x)

    def guide(x, idx):
        pyro.module("enc", enc)
        loc, log_scale = enc(x).chunk(2, -1)
        with pyro.plate("data", N, subsample=idx):
            pyro.sample("z", dist.Normal(loc, log_scale.exp()).to_event(1))

    return poutine.scale(model, SCALE), poutine.scale(guide, SCALE), data, (model, guide)


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_poutine_scale(elbo):
    model, guide, data, (raw_model, raw_guide) = program()
    train(model, guide, data, elbo)  # Adam does not mind the scaled gradients
    scaled = inspect(guide, model, data, ["z"])
    plain = inspect(raw_guide, raw_model, data, ["z"])
    np.testing.assert_allclose(scaled.kl_per_dim(), plain.kl_per_dim())
