"""The fakes of ``kit.fake_codes`` are what the metrics tests assume they are."""

import numpy as np
import torch
from kit.fake_codes import FactorGrid, _factors, perfect


def test_fake_dataset_observations_are_the_factors():
    data = FactorGrid((2, 3))
    f = data.sample_factors(7, np.random.default_rng(0))
    obs = data.observations(f)
    assert obs.shape == (7, 1, 1, 2) and obs.dtype == torch.float32
    assert np.array_equal(_factors(obs), f)


def test_perfect_code_is_monotone_per_factor():
    sizes = (1, 3, 5)
    f = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1).reshape(-1, 3)
    z = perfect(sizes)(torch.from_numpy(f.astype(np.float32)))
    assert z.shape == (len(f), 2)
    for j, k in enumerate([1, 2]):
        order = np.argsort(f[:, k], kind="stable")
        assert np.all(np.diff(z[order, j]) >= 0)
