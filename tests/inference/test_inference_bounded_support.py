"""Bounded supports: where q(z_i | x_j) = 0 the pairwise log-density is −inf, and neither the
estimators' values nor their gradients may become NaN (``docs/contract.rst``)."""

import math

import pytest
import torch
from torch.distributions import Beta, Kumaraswamy, Uniform

from pyrodis.diagnostics import AggregatePosterior
from pyrodis.inference.tc_estimators import log_aggregate_posterior, pairwise_log_density


def _uniform(params):
    low, width = params
    return Uniform(low, low + width, validate_args=False)


def _beta(params):
    a, b = params
    return Beta(a, b, validate_args=False)


def _kumaraswamy(params):
    a, b = params
    return Kumaraswamy(a, b, validate_args=False)


def _case(family):
    """Per-point densities and samples where some z_i lies where q(.|x_j) is zero."""
    if family is _uniform:
        low = torch.tensor([[0.0, 0.0], [5.0, 1.0], [0.5, 10.0]])
        params = [low.requires_grad_(), torch.ones(3, 2, requires_grad=True)]
        z = torch.tensor([[0.5, 0.5], [5.5, 1.5], [0.9, 10.2]])
    else:
        conc = torch.tensor([[2.0, 30.0], [3.0, 2.0], [40.0, 5.0]])
        params = [conc.requires_grad_(), torch.full((3, 2), 2.0, requires_grad=True)]
        # z_0 on the float32 edge 1 − 6e-8; z_1 = 0.01 where q(.|x_2) ∝ z^39 underflows
        z = torch.tensor([[0.3, 1 - 6e-8], [0.01, 0.4], [0.95, 0.7]])
    return params, z


@pytest.mark.parametrize("family", [_uniform, _beta, _kumaraswamy], ids=lambda f: f.__name__)
@pytest.mark.parametrize("estimator", ["mss", "mws"])
def test_zero_densities_give_finite_estimates_and_gradients(family, estimator):
    params, z = _case(family)
    z = z.requires_grad_()
    pairs = pairwise_log_density(family(params), z)
    own = pairs[torch.arange(3), torch.arange(3)]
    assert bool(torch.isfinite(own).all())
    if family is _uniform:  # z_1 is outside point 0's support: a constructed −inf entry
        assert pairs[1, 0, 0] == -math.inf
    log_qz, log_prod = log_aggregate_posterior(pairs, dataset_size=10, estimator=estimator)
    assert bool(torch.isfinite(log_qz).all()) and bool(torch.isfinite(log_prod).all())
    (log_qz.sum() - log_prod.sum()).backward()
    for t in params:
        assert t.grad is not None and bool(torch.isfinite(t.grad).all()), t.grad
    # a Uniform density does not depend on z inside its support
    assert (z.grad is None) == (family is _uniform)
    assert z.grad is None or bool(torch.isfinite(z.grad).all()), z.grad


def test_a_minus_inf_entry_has_zero_weight_not_a_nan_gradient():
    """The double where: an entry evaluated outside its support contributes exactly 0."""
    low = torch.tensor([[0.0], [2.0]], requires_grad=True)
    q = Uniform(low, low + 1.0, validate_args=False)
    z = torch.tensor([[0.5], [2.5]])
    pairs = pairwise_log_density(q, z)
    assert pairs[0, 1, 0] == -math.inf and pairs[1, 0, 0] == -math.inf
    log_qz, _ = log_aggregate_posterior(pairs, dataset_size=2, estimator="mws")
    log_qz.sum().backward()
    assert torch.equal(low.grad, torch.zeros_like(low))  # −log(width) does not depend on low


def test_the_diagnostics_stay_finite_with_disjoint_supports():
    """Every point's Uniform posterior (a unit square on the diagonal) misses the others'
    samples: the decomposition is finite and exact."""
    m = 8
    low = torch.arange(m, dtype=torch.float64)[:, None].expand(m, 2) * 2.0
    agg = AggregatePosterior(posterior=Uniform(low, low + 1.0), prior=Uniform(-1.0, 20.0))
    terms = agg.decomposition(samples_per_point=20, reference_size=m)
    assert all(math.isfinite(terms[k]) for k in ("mi", "tc", "dwkl", "kl"))
    # q(z) is uniform on m disjoint unit squares: MI = log m exactly; each marginal q(z_d) is
    # uniform on m unit intervals, so TC = 2·log m − log m = log m and dwKL = 2·log(21/m).
    assert terms["mi"] == pytest.approx(math.log(m), abs=1e-9)
    assert terms["tc"] == pytest.approx(math.log(m), abs=1e-9)
    assert terms["dwkl"] == pytest.approx(2 * math.log(21 / m), abs=1e-9)
