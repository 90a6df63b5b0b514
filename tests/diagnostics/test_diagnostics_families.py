"""Every factorised family the diagnostics accept: the KL per latent agrees with an independent
Monte-Carlo estimate written here with torch alone, and MI + TC + dwKL = KL."""

import numpy as np
import pyro.distributions as dist
import pytest
import torch
from pyro.distributions.transforms import Spline
from torch.distributions import AffineTransform

from pyrodis.diagnostics import AggregatePosterior

M, D = 60, 2
G = torch.Generator().manual_seed(0)


def _u(lo, hi):
    return lo + (hi - lo) * torch.rand(M, D, generator=G, dtype=torch.float64)


def _mixture(loc):
    weights = torch.tensor([0.3, 0.7], dtype=torch.float64).expand(*loc.shape, 2)
    locs = torch.stack([loc - 1.0, loc + 0.5], -1)
    return dist.MixtureSameFamily(dist.Categorical(weights), dist.Normal(locs, 0.6))


def _spline():
    torch.manual_seed(0)
    flow = Spline(D, count_bins=4, bound=3.0).to(torch.float64)
    for p in flow.parameters():
        p.requires_grad_(False)
    return dist.TransformedDistribution(dist.Normal(_u(-1, 1), _u(0.3, 0.8)), [flow])


#: family name -> (per-point posterior (M, D), a factorised prior of the same support)
CASES = {
    "normal": lambda: (dist.Normal(_u(-1, 1), _u(0.2, 0.9)), dist.Normal(0.0, 1.0)),
    "laplace": lambda: (dist.Laplace(_u(-1, 1), _u(0.2, 0.9)), dist.Normal(0.0, 1.0)),
    "student_t": lambda: (dist.StudentT(5.0, _u(-1, 1), _u(0.2, 0.9)), dist.StudentT(3.0)),
    "cauchy": lambda: (dist.Cauchy(_u(-1, 1), _u(0.2, 0.9)), dist.Cauchy(0.0, 1.0)),
    "gamma": lambda: (dist.Gamma(_u(2, 5), _u(1, 3)), dist.Gamma(2.0, 1.0)),
    "log_normal": lambda: (dist.LogNormal(_u(-0.5, 0.5), _u(0.2, 0.6)), dist.Gamma(2.0, 1.0)),
    "beta": lambda: (dist.Beta(_u(1, 5), _u(1, 5)), dist.Beta(2.0, 2.0)),
    "kumaraswamy": lambda: (dist.Kumaraswamy(_u(1, 4), _u(1, 4)), dist.Beta(2.0, 2.0)),
    "gumbel": lambda: (dist.Gumbel(_u(-1, 1), _u(0.3, 0.9)), dist.Normal(0.0, 1.0)),
    "mixture": lambda: (_mixture(_u(-1, 1)), _mixture(torch.zeros(D, dtype=torch.float64))),
    "spline_flow": lambda: (_spline(), dist.Normal(0.0, 1.0)),
    "affine": lambda: (
        dist.TransformedDistribution(
            dist.Normal(torch.zeros(M, D, dtype=torch.float64), 1.0),
            [AffineTransform(_u(-1, 1), _u(0.2, 0.9))],
        ),
        dist.Normal(0.0, 1.0),
    ),
}


def _independent_kl(q, p, num_samples=2000):
    """E_m KL(q(z_d|x_m) || p(z_d)) per d, and its standard error, from torch's own densities."""
    with torch.no_grad():
        z = q.sample((num_samples,))
        diff = q.log_prob(z) - p.log_prob(z)  # (S, M, D)
    per_point = diff.mean(0)
    se = (diff.var(0) / num_samples).sum(0).sqrt() / M
    return per_point.mean(0).numpy(), se.numpy()


@pytest.mark.parametrize("family", sorted(CASES))
def test_kl_per_latent_and_the_decomposition(family):
    posterior, prior = CASES[family]()
    agg = AggregatePosterior(posterior=posterior, prior=prior, kl_samples=400)
    kl, se = agg.kl_per_dim(), agg.kl_standard_errors()
    expected, expected_se = _independent_kl(posterior, prior)
    assert np.all(np.abs(kl - expected) < 5 * (se + expected_se) + 1e-3), (kl, expected)
    terms = agg.decomposition(samples_per_point=10, reference_size=M)
    assert all(np.isfinite(terms[k]) for k in ("mi", "tc", "dwkl", "kl"))
    assert abs(terms["mi"] + terms["tc"] + terms["dwkl"] - terms["kl"]) < 1e-9
    assert abs(terms["kl"] - kl.sum()) < 5 * (terms["kl_se"] + se.sum()) + 0.02
    assert agg.sample(50).shape == (50, D)
    assert np.isfinite(agg.mean_codes).all()


def test_a_transform_with_unknown_per_point_tensors_is_refused_with_the_reason():
    class Shift(torch.distributions.transforms.Transform):
        domain = codomain = torch.distributions.constraints.real
        bijective = True

        def __init__(self, shift):
            super().__init__()
            self.shift = shift

        def _call(self, x):
            return x + self.shift

        def _inverse(self, y):
            return y - self.shift

        def log_abs_det_jacobian(self, x, y):
            return torch.zeros_like(x)

    base = dist.Normal(torch.zeros(M, D, dtype=torch.float64), 1.0)
    posterior = dist.TransformedDistribution(base, [Shift(_u(-1, 1))])
    with pytest.raises(TypeError, match="AffineTransform"):
        AggregatePosterior(posterior=posterior)
