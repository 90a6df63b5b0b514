"""An MLP VAE on tabular data generated from two known discrete factors; the labels go straight
to ``from_guide(..., factors=)`` and the latent × factor mutual information follows them."""

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import inspect, train
from torch import nn

N, OBS, D = 256, 10, 3


def program():
    g = torch.Generator().manual_seed(7)
    factors = torch.randint(0, 4, (N, 2), generator=g)
    values = factors.float() / 3.0 * 2 - 1
    mixing = torch.randn(2, OBS, generator=g)
    data = torch.tanh(values @ mixing) + 0.05 * torch.randn(N, OBS, generator=g)
    enc = nn.Sequential(nn.Linear(OBS, 32), nn.ReLU(), nn.Linear(32, 2 * D))
    dec = nn.Sequential(nn.Linear(D, 32), nn.ReLU(), nn.Linear(32, OBS))

    def model(x, idx):
        pyro.module("mlp_dec", dec)
        with pyro.plate("data", N, subsample=idx):
            z = pyro.sample("z", dist.Normal(x.new_zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(z), 0.1).to_event(1), obs=x)

    def guide(x, idx):
        pyro.module("mlp_enc", enc)
        loc, log_scale = enc(x).chunk(2, -1)
        with pyro.plate("data", N, subsample=idx):
            pyro.sample("z", dist.Normal(loc, log_scale.exp()).to_event(1))

    return model, guide, data, factors.numpy()


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_tabular_mlp_with_known_factors(elbo):
    model, guide, data, factors = program()
    train(model, guide, data, elbo, steps=40)
    agg = inspect(guide, model, data, ["z"], factors=factors)
    np.testing.assert_array_equal(agg.factors, factors)
    assert agg.factor_names == ("factor0", "factor1")
    mi = agg.mutual_information()
    assert mi.shape == (D, 2) and mi.max() > 0.05
    idata = agg.to_inference_data(num_samples=20, latent_names="factor")
    assert {"factor0", "factor1"} & set(idata.posterior["latent"].values.tolist())
