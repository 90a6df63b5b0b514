"""A heavy-tailed prior: p(z) = Π_d StudentT(z_d; ν=4), a Gaussian guide. torch has no closed-form
KL(Normal || StudentT), so the diagnostics estimate it by Monte Carlo and say so."""

import pyro.distributions as dist
import pytest
import torch
from inspection import train_and_inspect
from kit.user_programs import encoder_decoder, low_rank_data, user_guide, user_model
from torch import nn

N, OBS, D = 256, 5, 3


def student_t_prior(x):
    return dist.StudentT(4.0, x.new_zeros(len(x), D), 1.0).to_event(1)


def softplus_posterior(params):
    loc, raw = params.chunk(2, -1)
    return dist.Normal(loc, nn.functional.softplus(raw) + 1e-3).to_event(1)


def program():
    data = low_rank_data(N, OBS, seed=2)
    enc, dec = encoder_decoder(OBS, D)
    model = user_model(dec, N, student_t_prior, noise=0.2)
    return model, user_guide(enc, N, softplus_posterior), data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_student_t_prior(elbo):
    agg = train_and_inspect(*program(), elbo)
    assert agg.kl_method == "monte carlo" and (agg.kl_standard_errors() > 0).all()
    grid = torch.linspace(-3, 3, 5).numpy()
    expected = torch.distributions.StudentT(4.0).log_prob(torch.linspace(-3, 3, 5)).exp()
    assert abs(agg.prior_density(grid)[1] - expected.numpy()).max() < 1e-6
