"""Pairs of observations that share all but k factors (weak supervision)."""

import numpy as np
import pytest
import torch
from scipy import stats

from pyrodis.data import CorrelatedFactors, PairedFactors
from pyrodis.data.base import GroundTruthDataset


class Toy(GroundTruthDataset):
    """Four factors, one of them constant: three can change."""

    factor_names = ("a", "const", "b", "c")
    factor_sizes = (5, 1, 7, 3)
    factor_values = (np.arange(5.0), np.zeros(1), np.arange(7.0), np.arange(3.0))
    observation_shape = (1, 1, 4)

    def __init__(self):
        self.calls = 0

    def observations(self, factors):
        self.calls += 1
        f = torch.as_tensor(self.validate_factors(factors), dtype=torch.float32)
        return f.view(-1, 1, 1, 4)


@pytest.mark.parametrize("k", [1, 2, 3, None])
def test_exactly_k_factors_change_each_to_a_different_value(k):
    pairs = PairedFactors(Toy(), k=k)
    f1, f2 = pairs.sample_pairs(5_000, np.random.default_rng(0))
    assert f1.dtype == f2.dtype == np.int64 and f1.shape == f2.shape == (5_000, 4)
    Toy().validate_factors(f2)  # every new value is on the grid
    changed = (f1 != f2).sum(1)
    if k is None:
        assert set(changed) == {1, 2}  # k uniform in 1..K-1 with K = 3 changeable factors
    else:
        assert (changed == k).all()
    assert (f1[:, 1] == f2[:, 1]).all()  # the constant factor never changes


def test_k_random_is_uniform_and_the_changes_are_uniform(dsprites):
    f1, f2 = PairedFactors(dsprites, k=None).sample_pairs(40_000, np.random.default_rng(1))
    counts = np.bincount((f1 != f2).sum(1), minlength=5)
    assert counts[0] == 0 and counts[1:].sum() == 40_000  # k in 1..4 for dSprites' 5 factors
    assert stats.chisquare(counts[1:]).pvalue > 1e-3
    f1, f2 = PairedFactors(dsprites, k=1).sample_pairs(40_000, np.random.default_rng(2))
    which = np.argmax(f1 != f2, axis=1)
    assert stats.chisquare(np.bincount(which, minlength=5)).pvalue > 1e-3
    # the new posX is uniform over the 31 other positions
    rows = which == 4
    offset = (f2[rows, 4] - f1[rows, 4]) % 32
    counts = np.bincount(offset, minlength=32)
    assert counts[0] == 0 and stats.chisquare(counts[1:]).pvalue > 1e-3


def test_pairs_are_reproducible_under_the_seed():
    pairs = PairedFactors(Toy(), k=None)
    a = pairs.sample_pairs(100, np.random.default_rng([3, 7]))
    b = pairs.sample_pairs(100, np.random.default_rng([3, 7]))
    c = pairs.sample_pairs(100, np.random.default_rng([3, 8]))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    np.testing.assert_array_equal(pairs.sample_pairs(50, 5)[1], pairs.sample_pairs(50, 5)[1])


def test_bad_k_and_n_are_clear_errors():
    with pytest.raises(ValueError, match="between 1 and 3"):
        PairedFactors(Toy(), k=0)
    with pytest.raises(ValueError, match="between 1 and 3"):
        PairedFactors(Toy(), k=4)
    with pytest.raises(ValueError, match="integer"):
        PairedFactors(Toy(), k=1.5)

    class OneFactor(Toy):
        factor_sizes = (5, 1, 1, 1)

    with pytest.raises(ValueError, match="k=None needs at least two"):
        PairedFactors(OneFactor(), k=None)
    assert (PairedFactors(OneFactor(), k=1).sample_pairs(10, 0)[1][:, 1:] == 0).all()
    with pytest.raises(ValueError, match="n must be"):
        PairedFactors(Toy()).sample_pairs(-1, 0)
    with pytest.raises(TypeError, match="ground-truth dataset"):
        PairedFactors(torch.zeros(3, 1, 2, 2))


def test_draw_batch_renders_both_images_in_one_call_each():
    toy = Toy()
    pairs = PairedFactors(toy, k=2)
    assert len(pairs) == len(toy) == 105 and pairs.factor_sizes == toy.factor_sizes
    x, indices, shared = pairs.draw_batch(16, np.random.default_rng([0, 5]), labels=True)
    assert toy.calls == 2
    assert x.dtype == torch.float32 and x.shape == (16, 2, 1, 1, 4)
    assert indices.dtype == torch.int64 and shared.dtype == torch.bool and shared.shape == (16, 4)
    f1, f2 = pairs.sample_pairs(16, np.random.default_rng([0, 5]))
    assert torch.equal(x[:, 0], toy.observations(f1)) and torch.equal(x[:, 1], toy.observations(f2))
    np.testing.assert_array_equal(indices.numpy(), toy.index(f1))
    np.testing.assert_array_equal(shared.numpy(), f1 == f2)
    x2, indices2 = pairs.draw_batch(16, np.random.default_rng([0, 5]))
    assert torch.equal(x, x2) and torch.equal(indices, indices2)


def test_pairs_compose_with_correlated_views(dsprites):
    view = CorrelatedFactors(dsprites, pairs=[("scale", "shape")], sigma=0.0)
    pairs = PairedFactors(view, k=1)
    f1, f2 = pairs.sample_pairs(2_000, np.random.default_rng(4))
    np.testing.assert_array_equal(f1, view.sample_factors(2_000, np.random.default_rng(4)))
    support = view.joint(("scale", "shape")) > 0
    assert support[f1[:, 1], f1[:, 0]].all()  # factors1 follow the view's joint
    assert ((f1 != f2).sum(1) == 1).all()
    x, _ = pairs.draw_batch(4, np.random.default_rng(0))
    assert x.shape == (4, 2, 1, 64, 64)
