"""One observation source and one batch rule: make_loader and the trainer agree, every kind of
data a PyTorch user has is read the same way, and array datasets work as ground truth."""

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from pyrodis.data import (
    ArrayGroundTruth,
    CorrelatedFactors,
    DSprites,
    GroundTruthDataset,
    as_source,
    make_loader,
)
from pyrodis.data.sources import GroundTruthSource, IterableSource, MapSource, TensorSource
from pyrodis.training import Trainer


def _recorded_batches(data, steps, batch_size, seed):
    seen = []

    def model(x, idx):
        seen.append(idx.clone())
        with pyro.plate("data", size=len(data), subsample=idx):
            pyro.sample(
                "obs", dist.Normal(pyro.param("m", torch.zeros(())), 1.0), obs=x.flatten(1).mean(1)
            )

    trainer = Trainer(
        model,
        lambda x, idx: None,
        pyro.infer.Trace_ELBO(),
        data,
        batch_size=batch_size,
        seed=seed,
        progress=False,
        log_every=1000,
    )
    trainer.run(steps)
    return seen


@pytest.mark.parametrize("correlated", [False, True])
def test_make_loader_and_fit_draw_identical_batches(correlated):
    data = DSprites()
    if correlated:
        data = CorrelatedFactors(data, pairs=[("scale", "shape")], sigma=0.2)
    loader = make_loader(data, batch_size=32, seed=5)
    from_loader = [idx for _, _, idx in [b for _, b in zip(range(3), loader)]]
    from_fit = _recorded_batches(data, 3, 32, 5)
    for a, b in zip(from_loader, from_fit):
        assert torch.equal(a, b)


def test_loader_epochs_of_a_sampled_view_continue_the_steps():
    """Epoch e of the loader is steps e·len(loader)...: the draws of step len(loader)."""
    view = CorrelatedFactors(DSprites(), pairs=[("scale", "shape")], sigma=0.2)
    loader = make_loader(view, batch_size=32, seed=1)
    loader.set_epoch(1)
    first_of_epoch_1 = next(iter(loader))[2]
    expected = view.draw_indices(32, np.random.default_rng([1, len(loader)]))
    np.testing.assert_array_equal(first_of_epoch_1.numpy(), expected)


def test_as_source_reads_every_kind_of_data():
    x = torch.randn(10, 3, dtype=torch.float64)
    tensor = as_source(x)
    assert (
        isinstance(tensor, TensorSource)
        and tensor.observations(np.array([2, 0])).dtype == torch.float64
    )
    assert torch.equal(as_source(x.numpy()).observations(np.array([1])), x[1:2])
    mapped = as_source(TensorDataset(x, torch.arange(10)))
    assert isinstance(mapped, MapSource) and torch.equal(
        mapped.observations(np.array([3, 4])), x[3:5]
    )
    loader = as_source(DataLoader(TensorDataset(x, torch.arange(10)), batch_size=4))
    assert isinstance(loader, IterableSource) and loader.num_data == 10
    batches = list(loader.batches())
    assert [len(b) for b, _ in batches] == [4, 4, 2] and torch.equal(batches[0][1], torch.arange(4))
    with pytest.raises(TypeError, match="no random access"):
        loader.observations(np.array([0]))
    assert isinstance(as_source(DSprites()), GroundTruthSource)
    with pytest.raises(TypeError, match="cannot read observations from int"):
        as_source(3)


def test_array_ground_truth_discrete_and_continuous_factors():
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(300, 4)).astype(np.float32)
    factors = np.stack([rng.integers(0, 3, 300), rng.uniform(0, 1, 300)], 1)
    ds = GroundTruthDataset.from_arrays(obs, factors, ["kind", "size"])
    assert isinstance(ds, ArrayGroundTruth) and len(ds) == 300
    assert ds.continuous_factors == (False, True) and ds.factor_sizes == (3, 20)
    idx = ds.sample_indices(50, 1)
    assert torch.equal(ds.observations_at(idx), torch.from_numpy(obs[idx]))
    np.testing.assert_array_equal(ds.factors(idx)[:, 0], factors[idx, 0].astype(int))
    shared = ds.indices_sharing(idx, 0, np.full(50, 2), rng=2)
    assert (ds.factors(shared)[:, 0] == 2).all() and len(set(shared)) > 10
    with pytest.raises(TypeError, match="not a grid"):
        ds.index(ds.factors(idx))
    with pytest.raises(ValueError, match="same N"):
        GroundTruthDataset.from_arrays(obs, factors[:10])


def test_grid_index_hooks_use_the_random_numbers_of_sample_factors():
    ds = DSprites()
    idx = ds.sample_indices(20, 3)
    np.testing.assert_array_equal(ds.factors(idx), ds.sample_factors(20, 3))
    moved = ds.indices_sharing(idx, 1, np.zeros(20, dtype=int))
    f = ds.factors(moved)
    assert (f[:, 1] == 0).all()
    np.testing.assert_array_equal(np.delete(f, 1, 1), np.delete(ds.factors(idx), 1, 1))
