"""The discretisation of the reference protocols: equal-width bins per code."""

from __future__ import annotations

import numpy as np

from .checks import check_codes


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
