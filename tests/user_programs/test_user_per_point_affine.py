"""A user's guide written as a per-point affine transform of a standard normal:
q(z|x) = Affine(loc(x), scale(x))_# N(0, I), the same densities as Normal(loc(x), scale(x))."""

import numpy as np
import pyro.distributions as dist
import pytest
import torch
from inspection import train_and_inspect
from kit.user_programs import encoder_decoder, low_rank_data, normal_prior, user_guide, user_model
from torch.distributions import AffineTransform, TransformedDistribution

from pyrodis.diagnostics import AggregatePosterior

N, OBS, D = 256, 6, 2


def affine_posterior(params):
    loc, log_scale = params.chunk(2, -1)
    base = dist.Normal(torch.zeros_like(loc), 1.0)
    affine = AffineTransform(loc, log_scale.exp())
    return dist.TransformedDistribution(base, [affine]).to_event(1)


def program():
    data = low_rank_data(N, OBS, seed=0, squash=torch.tanh)
    enc, dec = encoder_decoder(OBS, D, hidden=16)
    return user_model(dec, N, normal_prior(D)), user_guide(enc, N, affine_posterior), data


@pytest.mark.parametrize("elbo", ["beta", "tc"])
def test_per_point_affine_guide(elbo):
    agg = train_and_inspect(*program(), elbo)
    assert agg.sample(100).shape == (100, D)


def _pair(m=300, seed=0, cls=dist.TransformedDistribution):
    """The same per-point Gaussians as Normal(loc, scale) and as an affine transform of N(0, 1)."""
    g = torch.Generator().manual_seed(seed)
    loc = torch.randn(m, 3, generator=g, dtype=torch.float64) * torch.tensor([2.0, 1.0, 0.3])
    loc[:, 1] += 0.8 * loc[:, 0]  # correlated means: a total correlation to find
    scale = 0.2 + torch.rand(m, 3, generator=g, dtype=torch.float64)
    base = dist.Normal(torch.zeros(m, 3, dtype=torch.float64), 1.0)
    affine = cls(base, [AffineTransform(loc, scale)])
    return dist.Normal(loc, scale), affine


@pytest.mark.parametrize("cls", [dist.TransformedDistribution, TransformedDistribution])
def test_selected_rows_carry_their_own_transform(cls):
    """rows() indexes the transform's per-point parameters with the base's: every density of a
    selection agrees with the Gaussian's to float64 precision (Pyro's class and torch's)."""
    normal, affine = _pair(cls=cls)
    a, b = AggregatePosterior(posterior=normal), AggregatePosterior(posterior=affine)
    rows = torch.tensor([5, 17, 17, 299, 0])
    z = torch.randn(7, 1, 3, dtype=torch.float64)
    got = b.posterior.rows(rows).log_prob(z)
    assert torch.allclose(got, a.posterior.rows(rows).log_prob(z), atol=1e-10)
    draws = b.sample(20_000, seed=1).numpy()
    assert np.allclose(draws.mean(0), a.loc.mean(0).numpy(), atol=0.05)


def test_decomposition_matches_the_gaussian_one():
    """MI, TC and dimension-wise KL of the affine guide against those of the same Gaussians
    (closed-form KL, exact aggregate over the M points: reference_size = M)."""
    normal, affine = _pair()
    exact = AggregatePosterior(posterior=normal).decomposition(20, reference_size=300, seed=2)
    got = AggregatePosterior(posterior=affine).decomposition(20, reference_size=300, seed=3)
    for k in ("mi", "tc", "dwkl"):
        tol = 4 * (exact[f"{k}_se"] + got[f"{k}_se"])
        assert abs(got[k] - exact[k]) < tol, (k, got[k], exact[k], tol)
    assert np.allclose(got["kl_per_dim"], exact["kl_per_dim"], rtol=0.03, atol=0.01)
