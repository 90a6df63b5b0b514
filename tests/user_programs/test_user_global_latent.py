"""A global latent outside the data plate: the observation noise σ ~ LogNormal(0, 1), with a
LogNormal guide of its own. It is not a latent site; the diagnostics see only ``z``."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import train_and_inspect
from kit.user_programs import encoder_decoder, low_rank_data, user_guide
from torch.distributions import constraints

N, OBS, D = 256, 6, 2


def program():
    data = low_rank_data(N, OBS, seed=5)
    enc, dec = encoder_decoder(OBS, D)
    local_guide = user_guide(enc, N)

    def model(x, idx):
        pyro.module("dec", dec)
        sigma = pyro.sample("sigma", dist.LogNormal(0.0, 1.0))
        with pyro.plate("data", N, subsample=idx):
            z = pyro.sample("z", dist.Normal(x.new_zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(z), sigma).to_event(1), obs=x)

    def guide(x, idx):
        s_loc = pyro.param("sigma_loc", torch.tensor(-1.0))
        s_scale = pyro.param("sigma_scale", torch.tensor(0.1), constraint=constraints.positive)
        pyro.sample("sigma", dist.LogNormal(s_loc, s_scale))
        local_guide(x, idx)  # z in the data plate, as in any other program

    return model, guide, data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_global_latent_outside_the_plate(elbo):
    agg = train_and_inspect(*program(), elbo)
    assert agg.latent_dim == D
