"""A user's guide with an element-wise spline flow: q(z|x) = Spline_#(Normal(loc(x), scale(x))),
one Pyro ``TransformedDistribution`` per point whose spline parameters are shared (global)."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import train_and_inspect
from kit.user_programs import encoder_decoder, low_rank_data, normal_prior, user_model
from pyro.distributions.transforms import Spline

N, OBS, D = 256, 6, 2


def program():
    data = low_rank_data(N, OBS, seed=0, squash=torch.tanh)
    enc, dec = encoder_decoder(OBS, D, hidden=16)
    flow = Spline(D, count_bins=4, bound=4.0)

    def guide(x, idx):
        pyro.module("enc", enc)
        pyro.module("flow", flow)
        loc, log_scale = enc(x).chunk(2, -1)
        with pyro.plate("data", N, subsample=idx):
            base = dist.Normal(loc, log_scale.exp())
            pyro.sample("z", dist.TransformedDistribution(base, [flow]).to_event(1))

    return user_model(dec, N, normal_prior(D)), guide, data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_spline_flow_guide(elbo):
    agg = train_and_inspect(*program(), elbo)
    assert isinstance(agg.posterior.parts[0], torch.distributions.TransformedDistribution)
    assert agg.kl_method == "monte carlo"  # no closed form for a flow
    assert agg.sample(100).shape == (100, D)
    assert agg.marginal_density(torch.linspace(-3, 3, 7).numpy()).shape == (D, 7)
