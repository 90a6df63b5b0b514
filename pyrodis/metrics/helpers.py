"""Helpers shared by the metrics: input checks, discretisation, top-two gaps, varying factors.

Codes are arrays (n, d) of floats, factors arrays (n, K) of integer classes.  Every metric module
imports these from here, and this module imports no metric.
"""

from __future__ import annotations

import numpy as np


def check_codes(codes, name: str = "codes") -> np.ndarray:
    """Return ``codes`` as a finite float64 array (n, d); a 1-D array is one latent (n, 1)."""
    if hasattr(codes, "detach"):  # a torch tensor
        codes = codes.detach().cpu().numpy()
    arr = np.asarray(codes, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n_points, n_codes), got {arr.shape}; "
            "flatten the representation to one row per observation."
        )
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} needs at least 2 points and 1 code, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} contain NaN or inf; check the representation function (e.g. a diverged "
            "encoder) before computing metrics."
        )
    return arr


def check_factors(factors, num_points: int | None = None, name: str = "factors") -> np.ndarray:
    """Return factor classes as an int64 array (n, K), checking they are integers."""
    arr = np.asarray(factors)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n_points, n_factors), got {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.mod(arr, 1) == 0):
            raise ValueError(
                f"{name} must be class indices (integers); discretise continuous factors first, "
                "e.g. with pyrodis.metrics.histogram_discretize."
            )
    arr = arr.astype(np.int64)
    if num_points is not None and arr.shape[0] != num_points:
        raise ValueError(
            f"{name} have {arr.shape[0]} rows but the codes have {num_points}; pass one row of "
            "factor classes per code row."
        )
    return arr


def check_pair(codes, factors) -> tuple[np.ndarray, np.ndarray]:
    """Validate codes (n, d) and factors (n, K) together."""
    z = check_codes(codes)
    return z, check_factors(factors, z.shape[0])


def histogram_discretize(codes, num_bins: int = 20) -> np.ndarray:
    """Discretise each column into ``num_bins`` equal-width bins over its own min–max.

    This is the discretisation of the reference protocols (``docs/metrics.rst``, discretisation):
    the bin edges are ``np.histogram(column, num_bins)`` edges and the label of a value is
    ``np.digitize(value, edges[:-1])``, so labels run 1..num_bins and the maximum falls in the last
    bin.  A constant column gets one bin (all labels equal), hence zero mutual information with
    anything.

    Args:
        codes: array (n, d) (a 1-D array is one column).
        num_bins: number of bins (20 in the reference).

    Returns:
        int64 array (n, d) of labels in 1..num_bins.
    """
    if int(num_bins) < 1:
        raise ValueError(f"num_bins must be a positive integer, got {num_bins}")
    z = check_codes(codes)
    labels = np.empty(z.shape, dtype=np.int64)
    for j in range(z.shape[1]):
        edges = np.histogram_bin_edges(z[:, j], bins=int(num_bins))
        labels[:, j] = np.digitize(z[:, j], edges[:-1])
    return labels


def top_two_gap(matrix: np.ndarray) -> np.ndarray:
    """Per column, the largest minus the second largest entry (the second is 0 with one row)."""
    ordered = np.sort(matrix, axis=0)[::-1]
    second = ordered[1] if ordered.shape[0] > 1 else np.zeros(ordered.shape[1])
    return ordered[0] - second


def varying_factors(factors: np.ndarray) -> np.ndarray:
    """Columns of ``factors`` with more than one value; error if there are none."""
    keep = np.flatnonzero(np.ptp(factors, axis=0) > 0)
    if keep.size == 0:
        raise ValueError(
            "every factor takes a single value on these points; the metric needs at least one "
            "varying factor (sample more points or check the dataset)."
        )
    return keep
