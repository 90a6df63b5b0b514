"""MI / TC / dimension-wise KL decomposition of the average KL (Chen et al. 2018)."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal

from pyrodis.diagnostics import AggregatePosterior
from pyrodis.diagnostics import kl_decomposition as _decomposition


def kl_decomposition(loc, scale, **kwargs):
    """The decomposition of Gaussian posteriors N(loc, scale) (M, D) against N(0, I)."""
    posterior = torch.distributions.Normal(
        torch.as_tensor(loc, dtype=torch.float64),
        torch.as_tensor(scale, dtype=torch.float64),
        validate_args=False,
    )
    return _decomposition(posterior, **kwargs)


def _random_posteriors(m=300, d=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    loc = torch.randn(m, d, generator=gen, dtype=torch.float64)
    loc[:, 1] = 0.8 * loc[:, 0] + 0.3 * loc[:, 1]  # correlated means: TC > 0
    scale = 0.2 + torch.rand(m, d, generator=gen, dtype=torch.float64)
    return loc, scale


@pytest.mark.parametrize("reference_size,samples_per_point", [(300, 1), (40, 1), (64, 3)])
def test_terms_sum_exactly_to_the_monte_carlo_kl(reference_size, samples_per_point):
    loc, scale = _random_posteriors()
    out = kl_decomposition(
        loc, scale, reference_size=reference_size, samples_per_point=samples_per_point
    )
    assert out["mi"] + out["tc"] + out["dwkl"] == pytest.approx(out["kl"], abs=1e-10)
    assert sum(out["dwkl_per_dim"]) == pytest.approx(out["dwkl"], abs=1e-10)
    assert out["num_samples"] == 300 * samples_per_point
    assert out["reference_size"] == min(reference_size, 300)


def test_monte_carlo_kl_agrees_with_the_analytic_kl_within_its_error():
    loc, scale = _random_posteriors(m=500)
    out = kl_decomposition(loc, scale, samples_per_point=8, reference_size=128, seed=3)
    analytic = torch.distributions.kl_divergence(
        torch.distributions.Normal(loc, scale), torch.distributions.Normal(0.0, 1.0)
    )
    assert out["kl_analytic"] == pytest.approx(float(analytic.sum(1).mean()), rel=1e-12)
    assert abs(out["kl"] - out["kl_analytic"]) < 4 * out["kl_se"]
    assert out["tc"] > 0.1  # the planted correlation shows up


def test_identical_posteriors_have_no_mi_and_no_tc():
    # q(z) = q(z|x_n) for every n, so per sample log q(z) = log q(z|x) = Σ_j log q(z_j) exactly.
    loc = torch.tensor([0.5, -1.0]).expand(50, 2)
    scale = torch.tensor([0.3, 2.0]).expand(50, 2)
    out = kl_decomposition(loc, scale, reference_size=10)
    assert out["mi"] == pytest.approx(0.0, abs=1e-12)
    assert out["tc"] == pytest.approx(0.0, abs=1e-12)
    assert out["dwkl"] == pytest.approx(out["kl"], abs=1e-12)


def test_well_separated_points_have_mi_log_m():
    m = 40
    loc = (torch.arange(m, dtype=torch.float64) * 100.0)[:, None]
    out = kl_decomposition(loc, torch.ones(m, 1), reference_size=8)
    assert out["mi"] == pytest.approx(math.log(m), abs=1e-9)
    assert out["tc"] == pytest.approx(0.0, abs=1e-12)  # one latent: no total correlation


def test_product_grid_of_means_has_zero_tc_with_the_exact_aggregate():
    # Means on a product grid with equal scales: q(z) = q(z_0) q(z_1) exactly.
    a, b = torch.meshgrid(torch.linspace(-2, 2, 7), torch.linspace(-1, 1, 5), indexing="ij")
    loc = torch.stack([a.ravel(), b.ravel()], 1)
    out = kl_decomposition(loc, torch.full_like(loc, 0.4), reference_size=loc.shape[0])
    assert out["tc"] == pytest.approx(0.0, abs=1e-10)
    assert out["mi"] > 0.5


def _brute_force_terms(loc, scale, samples_per_point, seed):
    """Exact aggregate over all M points, O(M²), computed independently with numpy/scipy."""
    from scipy.special import logsumexp
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    loc, scale = loc.numpy(), scale.numpy()
    m = loc.shape[0]
    n = np.repeat(np.arange(m), samples_per_point)
    z = loc[n] + scale[n] * rng.standard_normal((n.size, loc.shape[1]))
    lp = norm.logpdf(z[:, None, :], loc[None], scale[None])  # (S, M, D)
    log_qzx = lp[np.arange(n.size), n].sum(-1)
    log_qz = logsumexp(lp.sum(-1), axis=1) - np.log(m)
    log_qzj = logsumexp(lp, axis=1) - np.log(m)
    log_pz = norm.logpdf(z).sum(-1)
    mi, tc = log_qzx - log_qz, log_qz - log_qzj.sum(-1)
    dw = log_qzj.sum(-1) - log_pz
    return {
        k: (v.mean(), v.std() / np.sqrt(v.size)) for k, v in (("mi", mi), ("tc", tc), ("dwkl", dw))
    }


def test_exact_estimator_matches_a_brute_force_aggregate_posterior():
    loc, scale = _random_posteriors(m=200, seed=1)
    ours = kl_decomposition(loc, scale, reference_size=200, samples_per_point=10, seed=0)
    ref = _brute_force_terms(loc, scale, samples_per_point=10, seed=1)
    for term in ("mi", "tc", "dwkl"):
        mean, se = ref[term]
        assert abs(ours[term] - mean) < 4 * math.hypot(se, ours[f"{term}_se"]), term


def test_subsampled_reference_is_consistent_with_the_exact_aggregate():
    loc, scale = _random_posteriors(m=2000, seed=2)
    exact = kl_decomposition(loc, scale, reference_size=2000, seed=5)
    sub = kl_decomposition(loc, scale, reference_size=400, seed=5)
    for term in ("mi", "tc", "dwkl"):
        assert sub[term] == pytest.approx(exact[term], abs=0.03), term


def test_aggregate_uses_its_prior_in_the_decomposition():
    loc, scale = _random_posteriors(m=100)
    agg = AggregatePosterior(loc, scale, prior_loc=1.0, prior_scale=2.0)
    out = agg.decomposition(samples_per_point=4)
    kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(loc, scale), torch.distributions.Normal(1.0, 2.0)
    )
    assert out["kl_analytic"] == pytest.approx(float(kl.sum(1).mean()), rel=1e-12)
    assert np.allclose(out["kl_per_dim"], kl.mean(0).numpy())
    assert abs(out["kl"] - out["kl_analytic"]) < 4 * out["kl_se"]


@pytest.mark.parametrize(
    "loc,scale,kwargs,match",
    [
        (torch.zeros(1, 2), torch.ones(1, 2), {}, "at least 2 points"),
        (torch.zeros(4, 2), torch.zeros(4, 2), {}, "strictly positive"),
        (torch.zeros(4, 2), torch.ones(4, 2), {"reference_size": 1}, "reference"),
        (torch.zeros(4, 2), torch.ones(4, 2), {"prior": Normal(torch.zeros(3), 1.0)}, "prior"),
        (torch.zeros(4, 0), torch.ones(4, 0), {}, "no latent dimension"),
        (torch.full((4, 2), math.nan), torch.ones(4, 2), {}, "not finite"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(loc, scale, kwargs, match):
    with pytest.raises(ValueError, match=match):
        kl_decomposition(loc, scale, **kwargs)


def test_laplace_posteriors_against_a_student_t_prior_use_their_own_densities():
    """Identical Laplace posteriors: q(z) = q(z|x), so MI = TC = 0 and dwKL = KL, estimated with
    the Laplace and Student-t log-densities (a Gaussian reading would give another KL)."""
    from torch.distributions import Laplace, StudentT

    q = Laplace(torch.full((60, 2), 0.5, dtype=torch.float64), 0.7)
    prior = StudentT(torch.tensor([3.0, 5.0], dtype=torch.float64), 0.0, 1.0)
    out = _decomposition(q, prior, samples_per_point=20, reference_size=16, kl_samples=400)
    assert out["kl_method"] == "monte carlo"
    assert out["mi"] == pytest.approx(0.0, abs=1e-12) and out["tc"] == pytest.approx(0, abs=1e-12)
    z = q.sample((4000,))
    direct = (q.log_prob(z) - prior.log_prob(z)).mean((0, 1)).sum()
    assert out["kl"] == pytest.approx(float(direct), abs=4 * out["kl_se"] + 0.01)
    assert out["kl_analytic"] == pytest.approx(float(direct), abs=0.02)


def test_decomposition_of_a_small_neural_guide():
    import pyro
    import pyro.distributions as dist
    from kit.tiny_bars import TinyBars

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 6))

    def guide(x):
        pyro.module("encoder", net)
        out = net(x)
        with pyro.plate("data", size=30, subsample=torch.arange(x.shape[0])):
            loc, scale = out[:, :3], torch.nn.functional.softplus(out[:, 3:]) + 0.05
            pyro.sample("z", dist.Normal(loc, scale).to_event(1))

    agg = AggregatePosterior.from_guide(guide, TinyBars(), batch_size=8)
    out = agg.decomposition(samples_per_point=50, reference_size=30)
    assert out["mi"] + out["tc"] + out["dwkl"] == pytest.approx(out["kl"], abs=1e-10)
    assert abs(out["kl"] - out["kl_analytic"]) < 4 * out["kl_se"]
    assert out["kl_analytic"] == pytest.approx(agg.kl_per_dim().sum(), rel=1e-12)
    assert 0 < out["mi"] <= np.log(30) + 1e-9  # index-code MI is at most log M
