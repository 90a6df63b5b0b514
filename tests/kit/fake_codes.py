"""Fake ground-truth data and designed representations for the metrics tests.

The observations of :class:`FactorGrid` are the factor classes themselves, so a representation
is any designed function of the factors: perfect (one monotone code per factor), rotated, noisy,
duplicated, with extra noise codes, pure noise.  ``tests/metrics/test_metrics_fakes.py``
checks the fakes.
"""

from __future__ import annotations

import numpy as np
import torch

from pyrodis.data.base import GroundTruthDataset

SMALL_SIZES = (3, 4, 5)
DSPRITES_SIZES = (1, 3, 6, 40, 32, 32)


class FactorGrid(GroundTruthDataset):
    """A ground-truth dataset whose observation of a factor vector is that vector, (n, 1, 1, K)."""

    def __init__(self, factor_sizes=SMALL_SIZES):
        self.factor_sizes = tuple(factor_sizes)
        self.factor_names = tuple(f"f{k}" for k in range(len(factor_sizes)))
        self.factor_values = tuple(np.arange(s, dtype=np.float64) for s in factor_sizes)
        self.observation_shape = (1, 1, len(factor_sizes))

    def observations(self, factors):
        arr = self.validate_factors(factors)
        return torch.from_numpy(arr.astype(np.float32)).reshape(len(arr), 1, 1, -1)


def small_options(votes=100, points=300, test=200, variance=300) -> dict:
    """Per-metric options for quick protocol runs (``evaluate(..., options=...)``)."""
    out = {name: {"num_train": points, "num_test": test} for name in ("dci", "sap", "modularity")}
    out.update({name: {"num_train": points} for name in ("mig", "irs", "unsupervised")})
    voting = {"num_train": votes, "num_eval": votes // 2}
    out["beta_vae"] = {**voting, "batch_size": 8}
    out["factor_vae"] = {**voting, "num_variance_estimate": variance}
    return out


def _factors(obs) -> np.ndarray:
    return obs.reshape(len(obs), -1).numpy().astype(np.float64)


def perfect(sizes):
    """One code per factor: a strictly increasing nonlinear function of its class (varying
    factors only)."""
    varying = [k for k, s in enumerate(sizes) if s > 1]

    def rep(obs):
        f = _factors(obs)[:, varying]
        scale = np.maximum(np.asarray(sizes, dtype=np.float64)[varying] - 1, 1)
        return np.tanh(2 * f / scale - 1) + 0.1 * f / scale

    return rep


def transformed(rep, fn):
    return lambda obs: fn(rep(obs))


def rotated(rep, dim, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    return transformed(rep, lambda z: z @ q)


def with_noise_codes(rep, num_noise, scale=1.0, seed=0):
    gen = np.random.default_rng(seed)
    return transformed(
        rep, lambda z: np.concatenate([z, scale * gen.normal(size=(len(z), num_noise))], 1)
    )


def noisy(rep, scale, seed=0):
    gen = np.random.default_rng(seed)
    return transformed(rep, lambda z: z + scale * gen.normal(size=z.shape))


def pure_noise(dim, seed=0):
    gen = np.random.default_rng(seed)
    return lambda obs: gen.normal(size=(len(obs), dim))


def duplicated(rep, index=0):
    return transformed(rep, lambda z: np.concatenate([z, z[:, index : index + 1]], 1))
