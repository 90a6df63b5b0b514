"""Discretisation and plug-in entropy / mutual information against closed forms and sklearn."""

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from pyrodis.metrics import (
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
    mutual_info_matrix,
)


def test_discretize_matches_reference_histogram_digitize():
    z = np.random.default_rng(0).normal(size=(500, 3))
    labels = histogram_discretize(z, 20)
    for j in range(3):
        expected = np.digitize(z[:, j], np.histogram(z[:, j], 20)[1][:-1])
        assert np.array_equal(labels[:, j], expected)
    assert labels.min() == 1 and labels.max() == 20


def test_discretize_constant_code_is_one_bin():
    z = np.c_[np.full(50, 3.0), np.linspace(0, 1, 50)]
    labels = histogram_discretize(z)
    assert len(np.unique(labels[:, 0])) == 1
    assert mutual_info_matrix(labels[:, :1], labels[:, 1:])[0, 0] == 0.0


def test_mutual_information_closed_forms():
    n = 4000
    y = np.repeat(np.arange(4), n // 4)
    assert discrete_entropy(y)[0] == pytest.approx(np.log(4))
    assert discrete_mutual_info(y, y) == pytest.approx(np.log(4))
    # independent on a full product table: exactly zero
    a, b = np.meshgrid(np.arange(5), np.arange(8), indexing="ij")
    assert discrete_mutual_info(a.ravel(), b.ravel()) == pytest.approx(0.0, abs=1e-12)
    # binary symmetric channel with flip probability 1/4 on a balanced input
    x = np.repeat([0, 1], 400)
    noisy = x.copy()
    noisy[np.r_[0:100, 400:500]] ^= 1
    p = 0.25
    h = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    assert discrete_mutual_info(x, noisy) == pytest.approx(np.log(2) - h)


def test_mutual_info_matrix_matches_sklearn_per_pair():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 7, size=(300, 4))
    b = np.c_[a[:, 0] // 2, rng.integers(0, 3, 300), a[:, 2] + a[:, 3]]
    mi = mutual_info_matrix(a, b)
    for i in range(4):
        for j in range(3):
            assert mi[i, j] == pytest.approx(mutual_info_score(a[:, i], b[:, j]), abs=1e-12)


def test_mutual_info_rejects_fractional_labels():
    with pytest.raises(ValueError, match="class indices"):
        mutual_info_matrix(np.array([0.5, 1.0]), np.array([0, 1]))
