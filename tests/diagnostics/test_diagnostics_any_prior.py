"""Regression tests of issue 10 (#1 non-Gaussian priors, #4 float64 guides, #5 self-subsampling
guides) and the edge cases of issue 11 (#7): each failed before the general AggregatePosterior."""

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from kit.tiny_bars import TinyBars, tiny_encoder, tiny_guide

from pyrodis.diagnostics import AggregatePosterior


def _laplace_model(x):
    with pyro.plate("data", size=30, subsample=torch.arange(x.shape[0])):
        pyro.sample("z", dist.Laplace(torch.zeros(x.shape[0], 5), 1.0).to_event(1))


def _mc_kl(loc, scale, prior, num=4000, seed=0):
    """Independent Monte-Carlo KL(N(loc, scale) || prior) per dimension, averaged over points."""
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn(num, *loc.shape, generator=g, dtype=torch.float64)
    z = loc + scale * eps
    log_q = torch.distributions.Normal(loc, scale).log_prob(z)
    return (log_q - prior.log_prob(z)).mean((0, 1)).numpy()


def test_a_laplace_prior_is_read_from_the_model_not_taken_for_a_gaussian():
    agg = AggregatePosterior.from_guide(tiny_guide, TinyBars(), model=_laplace_model)
    assert agg.prior_source == "model"
    loc, scale = (t.double() for t in tiny_encoder(TinyBars().observations(agg.factors)))
    expected = _mc_kl(loc, scale, torch.distributions.Laplace(0.0, 1.0))
    kl = agg.kl_per_dim()
    assert agg.kl_method == "closed form"  # torch registers KL(Normal || Laplace)
    np.testing.assert_allclose(kl, expected, atol=0.02)
    # Against N(0, 1) the dead latents z2, z3 (exactly N(0, 1)) would have KL 0; against the
    # Laplace prior they do not.
    assert kl[2] > 0.05
    grid = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(agg.prior_density(grid)[0], 0.5 * np.exp(-np.abs(grid)))


def test_a_student_t_prior_gets_a_monte_carlo_kl_with_standard_errors():
    prior = dist.StudentT(3.0, 0.0, 1.0)
    agg = AggregatePosterior.from_guide(tiny_guide, TinyBars(), prior=prior, kl_samples=200)
    loc, scale = (t.double() for t in tiny_encoder(TinyBars().observations(agg.factors)))
    expected = _mc_kl(loc, scale, torch.distributions.StudentT(3.0, 0.0, 1.0), seed=3)
    kl, se = agg.kl_per_dim(), agg.kl_standard_errors()
    assert agg.kl_method == "monte carlo"
    assert (se > 0).all() and (np.abs(kl - expected) < 5 * se + 0.005).all()
    # The same estimate at every call (seeded, computed once).
    np.testing.assert_array_equal(agg.kl_per_dim(), kl)


def test_a_given_laplace_prior_is_used_as_a_laplace():
    agg = AggregatePosterior.from_guide(tiny_guide, TinyBars(), prior=dist.Laplace(0.0, 1.0))
    ref = AggregatePosterior.from_guide(tiny_guide, TinyBars(), model=_laplace_model)
    np.testing.assert_allclose(agg.kl_per_dim(), ref.kl_per_dim())
    assert agg.prior_source == "given"
    terms = agg.decomposition(samples_per_point=20)
    assert terms["mi"] + terms["tc"] + terms["dwkl"] == pytest.approx(terms["kl"], abs=1e-9)
    assert abs(terms["kl"] - agg.kl_per_dim().sum()) < 4 * terms["kl_se"] + 0.02


def test_a_float64_guide_is_encoded():
    net = torch.nn.Linear(64, 4).double()

    def guide(x):
        pyro.module("enc64", net)
        out = net(x.flatten(1))
        with pyro.plate("data", size=x.shape[0], subsample=torch.arange(x.shape[0])):
            pyro.sample("z", dist.Normal(out[:, :2], out[:, 2:].exp()).to_event(1))

    x = torch.randn(40, 1, 8, 8, dtype=torch.float64)
    agg = AggregatePosterior.from_guide(guide, x, batch_size=40)
    out = net(x.flatten(1)).detach()
    torch.testing.assert_close(agg.loc, out[:, :2])
    assert agg.loc.dtype == torch.float64 and agg.num_points == 40


def _self_subsampling_guide(x, subsample=None):
    with pyro.plate("data", 512, subsample_size=64, subsample=subsample) as idx:
        pyro.sample("z", dist.Normal(torch.zeros(len(idx), 2), 1.0).to_event(1))


def test_a_self_subsampling_guide_is_refused_with_the_fix():
    x = torch.randn(512, 3)
    with pytest.raises(ValueError, match="subsample=indices"):
        AggregatePosterior.from_guide(
            _self_subsampling_guide, x, batch_size=128, guide_args=lambda x, i: (x,)
        )
    # With the same batch size the points would be random ones: caught from the indices.
    with pytest.raises(ValueError, match="subsample"):
        AggregatePosterior.from_guide(
            _self_subsampling_guide, x, batch_size=64, guide_args=lambda x, i: (x,)
        )
    agg = AggregatePosterior.from_guide(
        _self_subsampling_guide, x, batch_size=64, guide_args=lambda x, i: (x, i)
    )
    assert agg.num_points == 512 and agg.to_inference_data(num_samples=10) is not None
    # a guide taking (x, subsample) is called with the indices by default: the right points
    by_signature = AggregatePosterior.from_guide(_self_subsampling_guide, x, batch_size=64)
    torch.testing.assert_close(by_signature.loc, agg.loc)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"scale": torch.full((4, 2), float("inf"))}, "finite"),
        ({"prior_loc": float("nan")}, "prior"),
        ({"loc": torch.zeros(4, 0), "scale": torch.ones(4, 0)}, "no latent dimension"),
    ],
)
def test_edge_cases_are_clear_errors(kwargs, match):
    args = {"loc": torch.zeros(4, 2), "scale": torch.ones(4, 2)} | kwargs
    with pytest.raises(ValueError, match=match):
        AggregatePosterior(**args).kl_per_dim()


def test_huge_means_are_never_counted_as_active():
    loc = torch.tensor([[1e200, 0.0], [-1e200, 1.0], [1e200, 2.0]], dtype=torch.float64)
    agg = AggregatePosterior(loc, torch.ones(3, 2))
    assert not np.isfinite(agg.mean_variances()[0])
    np.testing.assert_array_equal(agg.active_units(), [False, True])


def test_priors_of_every_shape_and_their_errors():
    loc = torch.randn(50, 3, dtype=torch.float64)
    scale = torch.full((50, 3), 0.5, dtype=torch.float64)
    vector = dist.Normal(torch.zeros(3), torch.ones(3)).to_event(1)
    a, b = AggregatePosterior(loc, scale, prior=vector), AggregatePosterior(loc, scale)
    np.testing.assert_allclose(a.kl_per_dim(), b.kl_per_dim())
    assert a.prior_source == "given" and b.prior_source.startswith("N(0, I) (assumed")
    with pytest.raises(ValueError, match="not factorised"):
        AggregatePosterior(loc, scale, prior=dist.MultivariateNormal(torch.zeros(3), torch.eye(3)))
    with pytest.raises(ValueError, match="broadcast to the 3 latent dimensions"):
        AggregatePosterior(loc, scale, prior=dist.Normal(torch.zeros(2), 1.0))
    conditional = dist.Normal(torch.randn(50, 3), 1.0)
    with pytest.raises(ValueError, match="conditional prior"):
        AggregatePosterior(loc, scale, prior=conditional)


def test_a_cauchy_guide_uses_medians_for_its_codes():
    q = torch.distributions.Cauchy(torch.randn(40, 2, dtype=torch.float64), 0.3)
    agg = AggregatePosterior(posterior=q, prior=dist.StudentT(1.0))  # no closed form
    torch.testing.assert_close(agg.loc, q.loc)  # the mean is undefined
    assert agg.kl_method == "monte carlo" and np.isfinite(agg.kl_per_dim()).all()
    grid = np.linspace(-5, 5, 2001)
    np.testing.assert_allclose(np.trapezoid(agg.marginal_density(grid), grid, axis=1), 1, atol=0.1)


def test_an_autonormal_latent_on_a_positive_support():
    """AutoNormal under a Gamma prior samples exp(N(loc, scale)): KL, codes and marginals follow
    that pushforward (no density below 0)."""
    from pyro.infer.autoguide import AutoNormal

    def model(x, idx):
        with pyro.plate("data", 64, subsample=idx):
            z = pyro.sample("z", dist.Gamma(torch.full((len(idx), 2), 2.0), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(z, 1.0).to_event(1), obs=x)

    guide = AutoNormal(model, create_plates=lambda x, idx: pyro.plate("data", 64, subsample=idx))
    x = torch.rand(64, 2) * 3
    guide(x, torch.arange(64))
    agg = AggregatePosterior.from_guide(
        guide, x, batch_size=16, guide_args=lambda x, i: (x, i), model=model, kl_samples=400
    )
    loc = pyro.param("AutoNormal.locs.z").detach().double()
    scale = pyro.param("AutoNormal.scales.z").detach().double()
    torch.testing.assert_close(agg.loc, loc.exp().expand(64, 2))  # the median exp(loc)
    u = torch.distributions.Normal(loc, scale).sample((4000,))
    log_q = torch.distributions.Normal(loc, scale).log_prob(u) - u
    expected = (log_q - torch.distributions.Gamma(2.0, 1.0).log_prob(u.exp())).mean((0, 1))
    assert agg.kl_method == "monte carlo"
    assert (np.abs(agg.kl_per_dim() - expected.numpy()) < 5 * agg.kl_standard_errors() + 0.01).all()
    assert (agg.marginal_density(np.array([-1.0, -0.1])) == 0).all()


def test_a_non_factorised_model_prior_names_prior_as_the_fix():
    def model(x):
        with pyro.plate("data", size=30, subsample=torch.arange(x.shape[0])):
            pyro.sample("z", dist.MultivariateNormal(torch.zeros(x.shape[0], 5), torch.eye(5)))

    with pytest.raises(ValueError, match="'z'.*not factorised.*prior="):
        AggregatePosterior.from_guide(tiny_guide, TinyBars(), model=model)
    agg = AggregatePosterior.from_guide(
        tiny_guide, TinyBars(), model=model, prior=dist.Normal(0, 1)
    )
    assert agg.prior_source == "given"


def test_a_joint_density_of_two_families_can_be_given_directly():
    from pyrodis.diagnostics import JointDensity

    q = JointDensity(
        [dist.Normal(torch.randn(30, 2), 0.5), dist.Laplace(torch.randn(30, 1), 0.5)], ["a", "b"]
    )
    p = JointDensity(
        [dist.Normal(torch.zeros(2), 1.0), dist.Laplace(torch.zeros(1), 1.0)], ["a", "b"]
    )
    agg = AggregatePosterior(posterior=q, prior=p)
    assert agg.loc.dtype == torch.float64 and agg.latent_names == ["a[0]", "a[1]", "b[0]"]
    expected = torch.distributions.kl_divergence(q.parts[1], p.parts[1]).mean(0).double()
    np.testing.assert_allclose(agg.kl_per_dim()[2:], expected.numpy(), rtol=1e-6)
    terms = agg.decomposition(reference_size=30)
    assert terms["mi"] + terms["tc"] + terms["dwkl"] == pytest.approx(terms["kl"], abs=1e-9)
