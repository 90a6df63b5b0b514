"""Discretised latent × factor MI and the latent–factor matching used by the heatmap."""

import numpy as np
import pytest
from kit.tiny_bars import TinyBars, tiny_guide

from pyrodis.diagnostics import AggregatePosterior, discretised_mutual_information, match_latents


def test_mi_of_a_copied_factor_is_its_entropy_and_independent_codes_score_near_zero():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 5, size=(20_000, 2))
    codes = np.stack(
        [factors[:, 1] * 0.7 + 3.0, rng.normal(size=20_000), np.full(20_000, 2.0)], axis=1
    )
    mi = discretised_mutual_information(codes, factors, num_bins=20)
    p = np.bincount(factors[:, 1]) / factors.shape[0]
    assert mi.shape == (3, 2)
    assert mi[0, 1] == pytest.approx(-(p * np.log(p)).sum(), rel=1e-12)
    assert mi[0, 0] < 0.01 and mi[1].max() < 0.01
    assert mi[2].max() == 0.0  # a constant code carries nothing


def test_matching_reveals_a_permutation_and_puts_unmatched_latents_last():
    mi = np.array([[0.0, 0.1, 2.0], [1.5, 0.2, 0.0], [0.05, 0.0, 0.0], [0.3, 1.0, 0.1]])
    order, matched = match_latents(mi)
    np.testing.assert_array_equal(order, [1, 3, 0, 2])
    np.testing.assert_array_equal(matched, [2, 0, -1, 1])


def test_aggregate_mi_matrix_follows_the_planted_structure():
    agg = AggregatePosterior.from_guide(tiny_guide, TinyBars())
    mi = agg.mutual_information()
    np.testing.assert_allclose(mi[0, 0], np.log(6), rtol=1e-12)  # z0 encodes the row exactly
    np.testing.assert_allclose(mi[1, 1], np.log(5), rtol=1e-12)  # z1 the column
    assert mi[0, 1] == pytest.approx(0, abs=1e-12) and mi[2:].max() == pytest.approx(0, abs=1e-12)
    with pytest.raises(ValueError, match="no factor labels"):
        AggregatePosterior(agg.loc, agg.scale).mutual_information()
