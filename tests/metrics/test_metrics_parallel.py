"""Per-factor fits on threads: the values never depend on ``n_jobs``."""

import numpy as np
import pytest
import torch

from pyrodis.metrics.dci import dci_from_codes, importance_matrix
from pyrodis.metrics.modularity import explicitness_from_codes
from pyrodis.metrics.parallel import map_threads, resolve_jobs
from pyrodis.metrics.sap import sap_from_codes, sap_matrix


def _codes(n, seed=0):
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(0, k, n) for k in (2, 3, 5, 8)], 1)
    mix = rng.normal(size=(4, 6))
    codes = np.tanh(factors / factors.max(0) @ mix) + 0.1 * rng.normal(size=(n, 6))
    return codes, factors


def test_dci_is_the_same_on_one_or_several_threads():
    codes, factors = _codes(600)
    test_codes, test_factors = _codes(300, seed=1)
    one = importance_matrix(codes, factors, test_codes, test_factors, seed=3, n_jobs=1)
    two = importance_matrix(codes, factors, test_codes, test_factors, seed=3, n_jobs=3)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    assert dci_from_codes(codes, factors, test_codes, test_factors, n_jobs=2) == dci_from_codes(
        codes, factors, test_codes, test_factors, n_jobs=1
    )


def test_explicitness_is_the_same_on_one_or_several_threads():
    codes, factors = _codes(500)
    test_codes, test_factors = _codes(250, seed=1)
    one = explicitness_from_codes(codes, factors, test_codes, test_factors, n_jobs=1)
    assert explicitness_from_codes(codes, factors, test_codes, test_factors, n_jobs=4) == one
    assert 0.5 < one["explicitness"] <= 1.0


def test_sap_is_the_same_on_one_or_several_threads():
    codes, factors = _codes(500)
    test_codes, test_factors = _codes(250, seed=1)
    one = sap_matrix(codes, factors, test_codes, test_factors, n_jobs=1)
    np.testing.assert_array_equal(
        sap_matrix(codes, factors, test_codes, test_factors, n_jobs=3), one
    )
    assert one.shape == (6, 4) and (one > 0).all()
    sap = sap_from_codes(codes, factors, test_codes, test_factors, n_jobs=2)
    assert sap["sap"] == np.mean(np.diff(np.sort(one, 0)[-2:], axis=0))


def test_a_bad_n_jobs_is_an_error_on_the_continuous_sap_too():
    codes, factors = _codes(200)
    for bad in (0, -2, 1.5, "2"):
        with pytest.raises(ValueError, match="n_jobs must be"):
            sap_matrix(codes, factors, continuous=True, n_jobs=bad)
    assert sap_matrix(codes, factors, continuous=True, n_jobs=2).shape == (6, 4)


def test_map_threads_returns_results_in_the_items_order_whatever_their_cost():
    items = list(range(7))
    out = map_threads(lambda i: i * i, items, n_jobs=3, cost=[1, 9, 2, 8, 3, 7, 4])
    assert out == [i * i for i in items]


def test_resolve_jobs_follows_torch_threads_and_rejects_bad_values():
    assert resolve_jobs(None) == torch.get_num_threads()
    assert resolve_jobs(-1) >= 1
    assert resolve_jobs(2) == 2
    for bad in (0, -2, 1.5, "2"):
        with pytest.raises(ValueError, match="n_jobs must be"):
            resolve_jobs(bad)
