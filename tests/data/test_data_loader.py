import numpy as np
import pytest
import torch

from pyrodis.data import DSprites, make_loader
from pyrodis.data.base import GroundTruthDataset


class Toy(GroundTruthDataset):
    factor_names = ("a", "b")
    factor_sizes = (5, 7)
    factor_values = (np.arange(5.0), np.arange(7.0))
    observation_shape = (1, 1, 2)

    def observations(self, factors):
        f = torch.as_tensor(self.validate_factors(factors), dtype=torch.float32)
        return f.view(-1, 1, 1, 2)


def test_length_and_drop_last():
    ds = Toy()
    assert len(make_loader(ds, batch_size=8)) == 4
    assert len(make_loader(ds, batch_size=8, drop_last=False)) == 5
    sizes = [len(b[2]) for b in make_loader(ds, batch_size=8, drop_last=False)]
    assert sizes == [8, 8, 8, 8, 3]
    assert all(len(b[2]) == 8 for b in make_loader(ds, batch_size=8))


def test_batches_hold_the_observations_of_their_indices():
    ds = Toy()
    for images, factors, indices in make_loader(ds, batch_size=6, seed=4):
        assert images.dtype == torch.float32 and images.shape == (6, 1, 1, 2)
        assert factors.dtype == torch.int64 and indices.dtype == torch.int64
        np.testing.assert_array_equal(factors.numpy(), ds.factors(indices.numpy()))
        assert torch.equal(images, ds.observations(factors.numpy()))


def test_epochs_are_permutations_seeded_by_seed_and_epoch():
    ds = Toy()

    def epoch(loader):
        return torch.cat([b[2] for b in loader]).numpy()

    loader = make_loader(ds, batch_size=5, seed=11, drop_last=False)
    e0, e1 = epoch(loader), epoch(loader)  # each loop is the next epoch
    assert sorted(e0) == list(range(35)) and sorted(e1) == list(range(35))
    assert not np.array_equal(e0, e1) and not np.array_equal(e0, np.arange(35))
    again = make_loader(ds, batch_size=5, seed=11, drop_last=False)
    again.set_epoch(1)
    np.testing.assert_array_equal(epoch(again), e1)  # epoch 1 alone reproduces
    again.set_epoch(0)
    np.testing.assert_array_equal(epoch(again), e0)
    other = make_loader(ds, batch_size=5, seed=12, drop_last=False)
    assert not np.array_equal(epoch(other), e0)


def test_no_shuffle_is_index_order_and_drop_last_drops_the_tail():
    ds = Toy()
    idx = torch.cat([b[2] for b in make_loader(ds, batch_size=4, shuffle=False)]).numpy()
    np.testing.assert_array_equal(idx, np.arange(32))


def test_bad_arguments_explain_the_fix():
    with pytest.raises(ValueError, match="drop_last=False"):
        make_loader(Toy(), batch_size=64)
    with pytest.raises(ValueError, match="positive integer"):
        make_loader(Toy(), batch_size=0)
    with pytest.raises(TypeError, match="GroundTruthDataset"):
        make_loader([1, 2, 3])


def test_dsprites_loader_batch():
    loader = make_loader(DSprites(), batch_size=64, seed=0)
    assert len(loader) == 737_280 // 64
    images, factors, indices = next(iter(loader))
    assert images.shape == (64, 1, 64, 64) and factors.shape == (64, 5)
