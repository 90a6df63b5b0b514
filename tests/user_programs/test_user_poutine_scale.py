"""Model and guide under ``poutine.scale`` (a user down-weighting the whole ELBO): training and
the diagnostics are in nats per point whatever the scale."""

import numpy as np
import pytest
from inspection import inspect, train
from kit.user_programs import encoder_decoder, low_rank_data, normal_prior, user_guide, user_model
from pyro import poutine

N, OBS, D = 256, 6, 2
SCALE = 0.01


def program():
    data = low_rank_data(N, OBS, seed=11)
    enc, dec = encoder_decoder(OBS, D)
    model, guide = user_model(dec, N, normal_prior(D), noise=0.2), user_guide(enc, N)
    return poutine.scale(model, SCALE), poutine.scale(guide, SCALE), data, (model, guide)


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_poutine_scale(elbo):
    model, guide, data, (raw_model, raw_guide) = program()
    train(model, guide, data, elbo)  # Adam does not mind the scaled gradients
    scaled = inspect(guide, model, data, ["z"])
    plain = inspect(raw_guide, raw_model, data, ["z"])
    np.testing.assert_allclose(scaled.kl_per_dim(), plain.kl_per_dim())
