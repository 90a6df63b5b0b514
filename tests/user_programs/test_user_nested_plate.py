"""A user's model of items inside groups: ``plate("groups")`` holds ``plate("items")`` and each
item has its own latent code. A data point sits in exactly ONE data plate, so the nested program
is refused with how to flatten it; both flat versions then train and are inspected."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from inspection import train_and_inspect
from kit.user_programs import encoder_decoder, low_rank_data, normal_prior, user_guide, user_model
from pyro.infer import SVI
from pyro.optim import Adam

from pyrodis.inference import TCELBO, LatentSiteError

G, I, OBS, D = 128, 3, 4, 2  # groups, items per group, observed values per item, latents


def _data():
    return low_rank_data((G, I), OBS, seed=0, squash=torch.tanh)  # (G, I, OBS)


def nested_program():
    data = _data()
    enc, dec = encoder_decoder(OBS, D)

    def model(x, idx):
        pyro.module("dec", dec)
        with pyro.plate("groups", G, subsample=idx, dim=-2), pyro.plate("items", I, dim=-1):
            z = pyro.sample("z", dist.Normal(torch.zeros(len(idx), I, D), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(dec(z), 0.1).to_event(1), obs=x)

    def guide(x, idx):
        pyro.module("enc", enc)
        loc, log_scale = enc(x).chunk(2, -1)  # (B, I, D): already a product of univariates
        with pyro.plate("groups", G, subsample=idx, dim=-2), pyro.plate("items", I, dim=-1):
            pyro.sample("z", dist.Normal(loc, log_scale.exp()).to_event(1))

    return model, guide, data


def test_nested_plates_are_refused_with_how_to_flatten():
    model, guide, data = nested_program()
    svi = SVI(model, guide, Adam({"lr": 1e-2}), loss=TCELBO())
    idx = torch.arange(16)
    with pytest.raises(LatentSiteError) as err:
        svi.step(data[idx], idx)
    message = str(err.value)
    assert "one data plate" in message and "flatten" in message
    assert "product of univariate densities" not in message  # the guide already is one


def items_as_points():
    """Flat version 1: every item is a data point (one plate over the G·I items)."""
    data = _data().reshape(G * I, OBS)
    enc, dec = encoder_decoder(OBS, D)
    return user_model(dec, G * I, normal_prior(D)), user_guide(enc, G * I), data


def groups_as_points():
    """Flat version 2: a group is a data point and its items' codes are its latent vector."""
    data = _data()
    enc, dec = encoder_decoder(OBS, D)

    def model(x, idx):
        pyro.module("dec", dec)
        with pyro.plate("data", G, subsample=idx):
            z = pyro.sample("z", dist.Normal(torch.zeros(len(idx), I * D), 1.0).to_event(1))
            mean = dec(z.reshape(len(idx), I, D))
            pyro.sample("x", dist.Normal(mean, 0.1).to_event(2), obs=x)

    def guide(x, idx):
        pyro.module("enc", enc)
        loc, log_scale = enc(x).reshape(len(idx), I, 2, D).unbind(2)
        with pyro.plate("data", G, subsample=idx):
            scale = log_scale.exp().reshape(len(idx), I * D)
            pyro.sample("z", dist.Normal(loc.reshape(len(idx), I * D), scale).to_event(1))

    return model, guide, data


@pytest.mark.parametrize("program", [items_as_points, groups_as_points])
def test_both_flat_versions_train_and_are_inspected(program):
    agg = train_and_inspect(*program(), "tc")
    assert agg.latent_dim == (D if program is items_as_points else I * D)
