"""An ``AutoNormal`` guide with local latents in the data plate (``create_plates``), a global
latent beside them; AutoNormal samples a Delta at ``z`` fed by ``z_unconstrained``."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import train_and_inspect
from kit.user_programs import low_rank_data
from pyro.infer.autoguide import AutoNormal
from torch import nn

N, OBS, D = 128, 5, 2


def program():
    data = low_rank_data(N, OBS, seed=9)
    dec = nn.Linear(D, OBS)

    def model(x, idx):
        pyro.module("dec", dec)
        shift = pyro.sample("shift", dist.Normal(0.0, 1.0))
        with pyro.plate("data", N, subsample=idx):
            z = pyro.sample("z", dist.Normal(x.new_zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(z) + shift, 0.2).to_event(1), obs=x)

    guide = AutoNormal(model, create_plates=lambda x, idx: pyro.plate("data", N, subsample=idx))
    return model, guide, data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_autonormal_guide(elbo):
    agg = train_and_inspect(*program(), elbo)
    loc = pyro.param("AutoNormal.locs.z").detach().double()
    torch.testing.assert_close(agg.loc, loc)  # the means are the auxiliary Normal's locations
