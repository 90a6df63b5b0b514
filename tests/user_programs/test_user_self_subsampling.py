"""A guide that subsamples itself: ``pyro.plate("data", N, subsample_size=64)`` reads its own
points from the global data. Called without the indices it draws points of its own choosing:
inspecting it so must fail loudly (naming the fix); called as pyrodis calls a guide with two
positional arguments, ``(x, indices)``, its plate takes the indices and it encodes the right
points."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import ELBOS, inspect
from kit.user_programs import encoder_decoder, low_rank_data
from pyro.infer import SVI
from pyro.optim import Adam

from pyrodis.diagnostics import AggregatePosterior

N, OBS, D = 256, 6, 2


def program():
    data = low_rank_data(N, OBS, seed=12)
    enc, dec = encoder_decoder(OBS, D)

    def model(x=None, subsample=None):
        pyro.module("dec", dec)
        size = 64 if subsample is None else len(subsample)
        with pyro.plate("data", N, subsample_size=size, subsample=subsample) as idx:
            z = pyro.sample("z", dist.Normal(torch.zeros(len(idx), D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(z), 0.2).to_event(1), obs=data[idx])

    def guide(x=None, subsample=None):
        pyro.module("enc", enc)
        size = 64 if subsample is None else len(subsample)  # Pyro checks the two agree
        with pyro.plate("data", N, subsample_size=size, subsample=subsample) as idx:
            loc, log_scale = enc(data[idx]).chunk(2, -1)
            pyro.sample("z", dist.Normal(loc, log_scale.exp()).to_event(1))

    return model, guide, data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_self_subsampling_guide(elbo):
    model, guide, data = program()
    svi = SVI(model, guide, Adam({"lr": 1e-2}), loss=ELBOS[elbo]())
    for _ in range(20):
        svi.step()  # the user's own training loop: the plate picks the batch
    with pytest.raises(ValueError, match="subsample=indices"):
        AggregatePosterior.from_guide(guide, data, batch_size=128, guide_args=lambda x, i: (x,))
    with pytest.raises(ValueError, match="of its own choosing"):
        AggregatePosterior.from_guide(guide, data, batch_size=64, guide_args=lambda x, i: (x,))
    by_signature = AggregatePosterior.from_guide(guide, data, batch_size=64)
    explicit = AggregatePosterior.from_guide(
        guide, data, batch_size=64, guide_args=lambda x, i: (x, i)
    )
    torch.testing.assert_close(by_signature.loc, explicit.loc)
    inspect(guide, model, data, ["z"])  # passes (x, idx): the plate takes idx as its subsample
