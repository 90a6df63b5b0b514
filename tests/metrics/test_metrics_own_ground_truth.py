"""Metrics on datasets sampled by row index: factor grids and "bring your own" arrays.

The fakes here implement the optional index hooks of a ground-truth dataset (``sample_indices``,
``factors``, ``observations_at``, ``indices_sharing``, ``continuous_factors``) without pyrodis.data:
on a factor grid the index path must give exactly the numbers of the factor path; on arrays of
observations with measured factors every metric that applies must run, and the BetaVAE and
FactorVAE scores must refuse continuous factors with an error naming the metrics that apply.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kit.fake_codes import small_options

from pyrodis.data.base import GroundTruthDataset
from pyrodis.metrics import (
    beta_vae_score,
    chen_mig,
    evaluate,
    factor_vae_score,
    mutual_information_gap,
    udr,
)
from pyrodis.metrics.ground_truth import _overwrites_on_grid, fixed_factor_groups, points_of

SIZES = (3, 4, 5)
SMALL = small_options(votes=200, points=600, test=200, variance=500)


class DuckGrid:
    """Factor path only: ``factor_sizes``, ``sample_factors`` and ``observations(factors)``."""

    def __init__(self, sizes=SIZES):
        self.factor_sizes = tuple(sizes)
        self.factor_names = tuple(f"f{k}" for k in range(len(sizes)))

    def sample_factors(self, n, rng):
        return np.stack([rng.integers(0, s, size=n) for s in self.factor_sizes], 1)

    def observations(self, factors):
        arr = np.asarray(factors, dtype=np.float32)
        return torch.from_numpy(arr).reshape(len(arr), 1, 1, -1)


class IndexGrid(DuckGrid):
    """The same grid with the index hooks' grid defaults (row-major flat indices)."""

    continuous_factors = (False, False, False)

    def __len__(self):
        return int(np.prod(self.factor_sizes))

    def index(self, factors):
        return np.ravel_multi_index(np.asarray(factors).T, self.factor_sizes)

    def sample_indices(self, n, rng):
        return self.index(self.sample_factors(n, rng))

    def factors(self, indices):
        return np.stack(np.unravel_index(np.asarray(indices), self.factor_sizes), 1)

    def observations_at(self, indices):
        return self.observations(self.factors(indices))

    def indices_sharing(self, indices, k, values, rng):
        f = self.factors(indices)
        f[:, k] = values
        return self.index(f)


class PyrodisGrid(GroundTruthDataset):
    """The same grid as a pyrodis dataset: its own index hooks, so the batched sampling applies."""

    factor_sizes = SIZES
    factor_names = ("f0", "f1", "f2")
    factor_values = tuple(np.arange(s, dtype=np.float64) for s in SIZES)
    observation_shape = (1, 1, len(SIZES))

    def observations(self, factors):
        return DuckGrid().observations(factors)


class ArrayData:
    """Observations (N, 1, 1, K) = the measured factors; continuous factors get 20 bins."""

    def __init__(self, values, continuous):
        self.values = np.asarray(values, dtype=np.float64)
        self.continuous_factors = tuple(continuous)
        self.factor_names = tuple(f"v{k}" for k in range(self.values.shape[1]))
        classes = []
        for k, cont in enumerate(continuous):
            col = self.values[:, k]
            if cont:
                edges = np.histogram_bin_edges(col, bins=20)
                classes.append(np.clip(np.digitize(col, edges[1:-1]), 0, 19))
            else:
                classes.append(np.unique(col, return_inverse=True)[1])
        self.classes = np.stack(classes, 1).astype(np.int64)
        self.factor_sizes = tuple(int(c.max()) + 1 for c in self.classes.T)

    def __len__(self):
        return len(self.values)

    def sample_indices(self, n, rng):
        return rng.integers(0, len(self), size=n)

    def factors(self, indices):
        return self.classes[np.asarray(indices)]

    def observations_at(self, indices):
        arr = self.values[np.asarray(indices)].astype(np.float32)
        return torch.from_numpy(arr).reshape(len(arr), 1, 1, -1)

    def indices_sharing(self, indices, k, values, rng):
        out = np.empty(len(indices), dtype=np.int64)
        for i, v in enumerate(values):
            rows = np.flatnonzero(self.classes[:, k] == v)
            out[i] = rows[rng.integers(len(rows))]
        return out


def perfect_rep(obs):
    f = obs.reshape(len(obs), -1).numpy().astype(np.float64)
    return np.tanh(f / np.maximum(f.max(0, initial=1.0), 1.0)) + 0.1 * f


def noisy_rep(obs):
    gen = np.random.default_rng(int(obs.sum()) % 1000)
    return perfect_rep(obs) + 0.3 * gen.normal(size=(len(obs), obs[0].numel()))


def _values(result):
    return {m: result[m] for m in result.values}


@pytest.mark.parametrize("rep", [perfect_rep, noisy_rep], ids=["perfect", "noisy"])
def test_index_path_gives_the_factor_path_numbers_on_a_grid(rep):
    ours = evaluate(rep, IndexGrid(), seed=3, options=SMALL)
    duck = evaluate(rep, DuckGrid(), seed=3, options=SMALL)
    assert _values(ours) == _values(duck)


def test_index_path_chen_mig_and_udr_match_the_factor_path():
    def posterior(obs):
        return perfect_rep(obs), np.full((len(obs), 3), 0.05)

    assert chen_mig(posterior, IndexGrid(), 0) == chen_mig(posterior, DuckGrid(), 0)
    assert chen_mig(posterior, IndexGrid(), 0, num_points=50) == chen_mig(
        posterior, DuckGrid(), 0, num_points=50
    )
    reps = [perfect_rep, noisy_rep]
    assert udr(reps, IndexGrid(), 1, num_points=200) == udr(reps, DuckGrid(), 1, num_points=200)


def _discrete_arrays(seed=0):
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in SIZES], indexing="ij"), -1).reshape(-1, 3)
    rows = np.random.default_rng(seed).permutation(np.repeat(grid, 3, axis=0))
    return ArrayData(rows * np.array([1.5, -2.0, 0.7]), continuous=(False, False, False))


@pytest.mark.parametrize("paired", [True, False])
def test_batched_grid_sampling_draws_the_per_point_paths_points(paired):
    """On a grid the BetaVAE/FactorVAE groups are drawn in one pass: same numbers, same points."""
    grid, index_grid, duck = PyrodisGrid(), IndexGrid(), DuckGrid()
    assert _overwrites_on_grid(grid, points_of(grid))
    assert not _overwrites_on_grid(index_grid, points_of(index_grid))  # the per-point loop
    rows = GroundTruthDataset.from_arrays(np.zeros((4, 1, 1, 1)), np.array([[0], [1], [0], [1]]))
    assert grid.grid_index_hooks and not rows.grid_index_hooks  # rows draw their own partners
    fast = fixed_factor_groups(grid, 40, np.random.default_rng(3), 8, paired)
    slow = fixed_factor_groups(index_grid, 40, np.random.default_rng(3), 8, paired)
    vectors = fixed_factor_groups(duck, 40, np.random.default_rng(3), 8, paired)
    assert fast[1].shape == (40, 2 if paired else 1, 8)
    np.testing.assert_array_equal(fast[0], slow[0])
    np.testing.assert_array_equal(fast[1], slow[1])
    np.testing.assert_array_equal(fast[0], vectors[0])
    np.testing.assert_array_equal(grid.factors(fast[1].ravel()), vectors[1].reshape(-1, 3))
    for k, group in zip(fast[0], fast[1]):  # the protocol's invariant, checked directly
        shared = grid.factors(group.ravel())[:, k].reshape(group.shape)
        assert (shared == shared[0]).all() if not paired else (shared[0] == shared[1]).all()


def test_shared_value_points_come_from_rows_with_that_class():
    data = _discrete_arrays()
    rng = np.random.default_rng(0)
    labels, keys = fixed_factor_groups(data, 30, rng, 8, paired=True)
    assert keys.shape == (30, 2, 8)
    for k, (first, second) in zip(labels, keys):
        assert np.array_equal(data.factors(first)[:, k], data.factors(second)[:, k])
    labels, keys = fixed_factor_groups(data, 30, rng, 8, paired=False)
    for k, (group,) in zip(labels, keys):
        assert len(np.unique(data.factors(group)[:, k])) == 1


def test_every_metric_runs_on_discrete_arrays():
    result = evaluate(perfect_rep, _discrete_arrays(), seed=0, options=SMALL)
    assert result["beta_vae"]["beta_vae"] > 0.95
    assert result["factor_vae"]["factor_vae"] > 0.95
    assert result["mig"]["mig"] > 0.9
    assert result["dci"]["disentanglement"] > 0.9
    assert result["unsupervised"]["num_active_dims"] == 3


def _continuous_arrays(seed=0, n=3000):
    gen = np.random.default_rng(seed)
    return ArrayData(
        np.c_[gen.uniform(-1, 1, size=(n, 2)), gen.integers(0, 4, size=n)], (True, True, False)
    )


@pytest.mark.parametrize("score", [beta_vae_score, factor_vae_score])
def test_fixed_factor_scores_refuse_continuous_factors(score):
    with pytest.raises(ValueError, match=r"\['v0', 'v1'\] are continuous") as err:
        score(perfect_rep, _continuous_arrays(), 0, num_train=10, num_eval=10)
    assert "mig, dci, sap, modularity, irs, unsupervised" in str(err.value)


def test_continuous_metrics_run_on_continuous_factors():
    data = _continuous_arrays()
    names = ["mig", "dci", "sap", "modularity", "irs", "unsupervised"]
    good = evaluate(perfect_rep, data, names, seed=0, options=SMALL)
    mixed = evaluate(lambda o: perfect_rep(o) @ np.ones((3, 3)), data, names[:2], 0, options=SMALL)
    assert good["mig"]["mig"] > 0.7 and mixed["mig"]["mig"] < 0.2
    assert good["dci"]["disentanglement"] > mixed["dci"]["disentanglement"] + 0.3
    assert mutual_information_gap(perfect_rep, data, 0, num_train=600) == {
        "mig": good["mig"]["mig"]
    }
