"""An MLP VAE on tabular data generated from two known discrete factors; the labels go straight
to ``from_guide(..., factors=)`` and the latent × factor mutual information follows them."""

import numpy as np
import pytest
import torch
from inspection import train_and_inspect
from kit.user_programs import encoder_decoder, normal_prior, user_guide, user_model
from torch import nn

N, OBS, D = 256, 10, 3


def program():
    g = torch.Generator().manual_seed(7)
    factors = torch.randint(0, 4, (N, 2), generator=g)
    values = factors.float() / 3.0 * 2 - 1
    mixing = torch.randn(2, OBS, generator=g)
    data = torch.tanh(values @ mixing) + 0.05 * torch.randn(N, OBS, generator=g)
    enc, dec = encoder_decoder(OBS, D, hidden=32, activation=nn.ReLU)
    model = user_model(dec, N, normal_prior(D), name="mlp_dec")
    return model, user_guide(enc, N, name="mlp_enc"), data, factors.numpy()


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_tabular_mlp_with_known_factors(elbo):
    model, guide, data, factors = program()
    agg = train_and_inspect(model, guide, data, elbo, steps=40, factors=factors)
    np.testing.assert_array_equal(agg.factors, factors)
    assert agg.factor_names == ("factor0", "factor1")
    mi = agg.mutual_information()
    assert mi.shape == (D, 2) and mi.max() > 0.05
    idata = agg.to_inference_data(num_samples=20, latent_names="factor")
    assert {"factor0", "factor1"} & set(idata.posterior["latent"].values.tolist())
