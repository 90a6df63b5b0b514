"""Nothing called ``z`` or ``data``: the latent site is ``code`` in a plate named ``rows``, and the
likelihood is a Laplace."""

import pyro.distributions as dist
import pytest
import torch
from inspection import train_and_inspect
from kit.user_programs import encoder_decoder, low_rank_data, normal_prior, user_guide, user_model
from torch import nn

N, OBS, D = 256, 8, 3


def program():
    data = low_rank_data(N, OBS, seed=3, squash=torch.sin)
    enc, dec = encoder_decoder(OBS, D, hidden=16, activation=nn.ReLU)
    model = user_model(
        dec,
        N,
        normal_prior(D),
        likelihood=dist.Laplace,
        name="decoder",
        plate="rows",
        site="code",
        obs_site="obs",
    )
    guide = user_guide(enc, N, name="encoder", plate="rows", site="code")
    return model, guide, data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_site_not_called_z(elbo):
    agg = train_and_inspect(*program(), elbo, ["code"])
    assert agg.latent_names == ["code[0]", "code[1]", "code[2]"]
    assert agg.kl_method == "closed form"
