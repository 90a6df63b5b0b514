"""A user's VAE with a sparse Laplace prior p(z) = Π_d Laplace(z_d; 0, 1) and a Gaussian guide."""

import pyro.distributions as dist
import pytest
import torch
from inspection import train_and_inspect
from kit.user_programs import encoder_decoder, low_rank_data, user_guide, user_model

N, OBS, D = 256, 6, 2


def laplace_prior(x):
    return dist.Laplace(x.new_zeros(len(x), D), 1.0).to_event(1)


def program():
    data = low_rank_data(N, OBS, seed=0, squash=torch.tanh)
    enc, dec = encoder_decoder(OBS, D, hidden=16)
    return user_model(dec, N, laplace_prior), user_guide(enc, N), data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_laplace_prior(elbo):
    agg = train_and_inspect(*program(), elbo)
    assert isinstance(agg.prior.parts[0], torch.distributions.Laplace)
    assert agg.kl_method == "closed form"  # torch registers KL(Normal || Laplace)
