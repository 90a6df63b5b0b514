"""The pieces that the user-written Pyro programs of ``tests/user_programs`` share: their data,
their encoder/decoder pair, and the model and guide of one latent site in a data plate. A program
passes in what it is about (its prior, its posterior, its names) or writes that part by hand."""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
from torch import nn


def low_rank_data(shape, obs, seed, *, rank=2, squash=None, dtype=None):
    """Points of dimension ``obs``: Gaussian codes of size ``rank`` through a random linear map,
    then ``squash`` (``torch.tanh``, say) if given. ``shape`` is the number of points, or a tuple
    for points in groups. Drawn from a ``torch.Generator`` seeded with ``seed``."""
    g = torch.Generator().manual_seed(seed)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    codes = torch.randn(*shape, rank, generator=g, dtype=dtype)
    data = codes @ torch.randn(rank, obs, generator=g, dtype=dtype)
    return data if squash is None else squash(data)


def encoder_decoder(obs, latent, *, hidden=None, activation=nn.Tanh):
    """``(encoder, decoder)``: ``obs`` values to a location and a log-scale per latent (``2 * latent``
    outputs), and ``latent`` values back to ``obs``. Linear layers, or with ``hidden`` set, one
    hidden layer of that width after ``activation``. The encoder is built first."""
    if hidden is None:
        return nn.Linear(obs, 2 * latent), nn.Linear(latent, obs)
    return mlp(obs, hidden, 2 * latent, activation), mlp(latent, hidden, obs, activation)


def mlp(inputs, hidden, outputs, activation=nn.Tanh):
    """``Linear(inputs, hidden)``, ``activation()``, ``Linear(hidden, outputs)``."""
    return nn.Sequential(nn.Linear(inputs, hidden), activation(), nn.Linear(hidden, outputs))


def normal_prior(latent):
    """The prior ``N(0, I)`` on ``latent`` dimensions, one per point of the batch ``x`` (same dtype)."""
    return lambda x: dist.Normal(x.new_zeros(len(x), latent), 1.0).to_event(1)


def normal_posterior(params):
    """``Normal(loc, exp(log_scale))`` from the encoder's output, split in two halves."""
    loc, log_scale = params.chunk(2, -1)
    return dist.Normal(loc, log_scale.exp()).to_event(1)


def user_model(
    decoder,
    num_data,
    prior,
    *,
    noise=0.1,
    likelihood=dist.Normal,
    name="dec",
    plate="data",
    site="z",
    obs_site="x",
):
    """``model(x, idx)``: in the plate ``plate`` of ``num_data`` points subsampled by ``idx``, the
    latent ``site ~ prior(x)`` and the observed ``obs_site ~ likelihood(decoder(z), noise)`` (one
    event per point); the decoder is registered as the Pyro module ``name``."""

    def model(x, idx):
        pyro.module(name, decoder)
        with pyro.plate(plate, num_data, subsample=idx):
            z = pyro.sample(site, prior(x))
            pyro.sample(obs_site, likelihood(decoder(z), noise).to_event(1), obs=x)

    return model


def user_guide(
    encoder, num_data, posterior=normal_posterior, *, name="enc", plate="data", site="z"
):
    """``guide(x, idx)``: ``site ~ posterior(encoder(x))`` in the plate ``plate`` of ``num_data``
    points subsampled by ``idx``; the encoder is registered as the Pyro module ``name``."""

    def guide(x, idx):
        pyro.module(name, encoder)
        params = encoder(x)
        with pyro.plate(plate, num_data, subsample=idx):
            pyro.sample(site, posterior(params))

    return guide
