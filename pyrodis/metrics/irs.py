"""Interventional Robustness Score (Suter et al. 2019), protocol of Locatello et al. 2019.

Factors are discretised into 20 equal-width bins; constant codes are dropped.  For each factor i
and each of its (binned) values, the 99th percentile of |z - E[z | value]| per code; averaged over
the values and divided by each code's maximum deviation max |z - E z|; IRS = weighted mean over
codes (weights = maximum deviation) of max over factors of (1 - normalised deviation).  No
non-constant code → 0.  (The reference's ``num_active_dims`` sums code values; here it counts the
non-constant codes.)
"""

from __future__ import annotations

import numpy as np

from .checks import check_pair, varying_factors
from .discretize import histogram_discretize
from .sampling import Representation, code_sets


def irs_from_codes(
    codes, factors, diff_quantile: float = 0.99, num_bins: int = 20
) -> dict[str, float]:
    """IRS and the number of non-constant codes (module docstring).

    Single-valued factors are left out (the reference drops them from the dataset).
    """
    z, y = check_pair(codes, factors)
    y = histogram_discretize(y[:, varying_factors(y)], num_bins)
    z = z[:, z.var(0) > 0]
    if z.shape[1] == 0:
        return {"irs": 0.0, "num_active_dims": 0.0}
    max_dev = np.abs(z - z.mean(0)).max(0)
    cum_dev = np.zeros((z.shape[1], y.shape[1]))
    for i in range(y.shape[1]):
        values = np.unique(y[:, i])
        for value in values:
            group = z[y[:, i] == value]
            diffs = np.abs(group - group.mean(0))
            cum_dev[:, i] += np.percentile(diffs, diff_quantile * 100, axis=0)
        cum_dev[:, i] /= len(values)
    scores = (1.0 - cum_dev / max_dev[:, None]).max(1)
    avg = np.average(scores, weights=max_dev) if max_dev.sum() > 0 else scores.mean()
    return {"irs": float(avg), "num_active_dims": float(z.shape[1])}


def irs(
    representation: Representation,
    dataset,
    seed: int | np.random.Generator | None = 0,
    *,
    num_train: int = 10_000,
    batch_size: int = 16,
    diff_quantile: float = 0.99,
    num_bins: int = 20,
) -> dict[str, float]:
    """IRS of a representation on ``num_train`` points sampled in batches of ``batch_size``
    from ``seed`` (Suter et al. 2019; Locatello et al. 2019 protocol)."""
    ((codes, factors),) = code_sets(representation, dataset, seed, [num_train], batch_size)
    return irs_from_codes(codes, factors, diff_quantile, num_bins)
