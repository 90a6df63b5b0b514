"""The metrics that need only codes (unsupervised scores, UDR) run on observations without
factors; the others refuse them with a message that says what to do."""

import numpy as np
import pytest
import torch

from pyrodis.metrics import evaluate, udr, udr_from_codes, unsupervised_from_codes


class Observations:
    """Only ``len`` and ``observations(indices)``: images whose factors nobody knows."""

    def __init__(self, n=300, d=4, seed=0):
        rng = np.random.default_rng(seed)
        mixing = rng.normal(size=(d, d))
        self.x = torch.from_numpy(rng.normal(size=(n, d)) @ mixing).float()

    def __len__(self):
        return len(self.x)

    def observations(self, indices):
        return self.x[torch.as_tensor(np.asarray(indices))]


def identity(x):
    return x


def test_unsupervised_scores_are_those_of_the_codes_drawn_uniformly_by_row():
    data = Observations()
    result = evaluate(identity, data, metrics=["unsupervised"], seed=3, options={
        "unsupervised": {"num_train": 500}})  # fmt: skip
    # the reference draw: 500 rows, 16 at a time, uniformly with replacement from seed 3
    rng = np.random.default_rng(3)
    rows = np.concatenate([rng.integers(0, 300, size=min(16, 500 - i)) for i in range(0, 500, 16)])
    expected = unsupervised_from_codes(data.x[rows].double().numpy())
    assert result["unsupervised"] == pytest.approx(expected)
    assert expected["gaussian_total_correlation"] > 0.1  # the mixing correlates the codes


def test_udr_needs_only_the_codes_of_the_same_observations():
    data = Observations()
    perm = torch.tensor([2, 0, 3, 1])
    same = udr([identity, lambda x: -3 * x[:, perm]], data, seed=0, num_points=200)
    rng = np.random.default_rng(0)
    codes = data.x[rng.integers(0, 300, size=200)].double().numpy()
    expected = udr_from_codes([codes, -3 * codes[:, perm.numpy()]])
    assert same["udr"] == pytest.approx(expected["udr"], abs=1e-9)


def test_metrics_that_compare_with_factors_say_they_need_them():
    with pytest.raises(ValueError, match=r"\['mig', 'dci'\] compare codes with ground-truth"):
        evaluate(identity, Observations(), metrics=["mig", "dci", "unsupervised"])
    with pytest.raises(ValueError, match="at least 2 are needed"):
        evaluate(identity, Observations(n=1), metrics=["unsupervised"])
