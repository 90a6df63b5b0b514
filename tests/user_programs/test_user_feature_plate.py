"""A per-feature plate: the data plate at dim -2, features at dim -1 (the likelihood is a plate of
univariate Normals), so the latent site has batch shape (B, 1) and event (D,)."""

import pyro
import pyro.distributions as dist
import pytest
from inspection import train_and_inspect
from kit.user_programs import encoder_decoder, low_rank_data

N, OBS, D = 256, 6, 2


def program():
    data = low_rank_data(N, OBS, seed=6)
    enc, dec = encoder_decoder(OBS, D)

    def model(x, idx):
        pyro.module("dec", dec)
        with pyro.plate("data", N, subsample=idx, dim=-2):
            z = pyro.sample("z", dist.Normal(x.new_zeros(len(idx), 1, D), 1.0).to_event(1))
            with pyro.plate("features", OBS, dim=-1):
                pyro.sample("x", dist.Normal(dec(z.squeeze(-2)), 0.2), obs=x)

    def guide(x, idx):
        pyro.module("enc", enc)
        loc, log_scale = enc(x).unsqueeze(-2).chunk(2, -1)
        with pyro.plate("data", N, subsample=idx, dim=-2):
            pyro.sample("z", dist.Normal(loc, log_scale.exp()).to_event(1))

    return model, guide, data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_data_plate_at_dim_minus_two(elbo):
    agg = train_and_inspect(*program(), elbo)
    assert agg.loc.shape == (N, D)
