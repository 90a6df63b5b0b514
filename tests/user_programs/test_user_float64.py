"""Everything in float64: data, networks and distributions (``torch.float64`` end to end)."""

import pytest
import torch
from inspection import train_and_inspect
from kit.user_programs import encoder_decoder, low_rank_data, normal_prior, user_guide, user_model

N, OBS, D = 256, 6, 2


def program():
    data = low_rank_data(N, OBS, seed=10, dtype=torch.float64)
    enc, dec = (net.double() for net in encoder_decoder(OBS, D))
    model = user_model(dec, N, normal_prior(D), noise=0.2, name="dec64")
    return model, user_guide(enc, N, name="enc64"), data, enc


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_float64_program(elbo):
    model, guide, data, enc = program()
    agg = train_and_inspect(model, guide, data, elbo)
    with torch.no_grad():
        expected = enc(data).chunk(2, -1)[0]
    torch.testing.assert_close(agg.loc, expected)  # float64 kept exactly
