import numpy as np
import pytest
import torch

from pyrodis.data.base import GroundTruthDataset
from pyrodis.seeding import as_generator


class Toy(GroundTruthDataset):
    factor_names = ("a", "b", "c")
    factor_sizes = (3, 4, 5)
    factor_values = (np.arange(3.0), np.linspace(0, 1, 4), np.linspace(-1, 1, 5))
    observation_shape = (1, 2, 2)

    def observations(self, factors):
        f = torch.as_tensor(self.validate_factors(factors), dtype=torch.float32)
        return f.sum(1).view(-1, 1, 1, 1).expand(-1, 1, 2, 2).clone()


def test_index_matches_row_major_formula_and_round_trips():
    ds = Toy()
    assert len(ds) == 60
    np.testing.assert_array_equal(ds.factor_bases, [20, 5, 1])
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in ds.factor_sizes], indexing="ij"), -1)
    grid = grid.reshape(-1, 3)
    np.testing.assert_array_equal(ds.index(grid), np.arange(60))
    np.testing.assert_array_equal(ds.factors(np.arange(60)), grid)


def test_bad_factors_name_the_factor():
    ds = Toy()
    with pytest.raises(ValueError, match="'b' has 4 classes"):
        ds.index([[0, 4, 0]])
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        ds.index([[0, 1]])
    with pytest.raises(IndexError):
        ds.factors([60])


def test_sample_factors_is_seeded_and_in_range():
    ds = Toy()
    a = ds.sample_factors(500, 3)
    b = ds.sample_factors(500, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int64 and a.shape == (500, 3)
    assert (a.max(0) == np.array(ds.factor_sizes) - 1).all() and (a.min(0) == 0).all()
    with pytest.raises(TypeError, match="default_rng"):
        as_generator("seed")


def test_getitem_returns_image_and_factors():
    ds = Toy()
    img, fac = ds[ds.index([[2, 3, 4]])[0]]
    assert img.shape == (1, 2, 2) and float(img[0, 0, 0]) == 9.0
    assert fac.tolist() == [2, 3, 4]
    items = ds.__getitems__([0, 59])
    assert items[1][1].tolist() == [2, 3, 4]
