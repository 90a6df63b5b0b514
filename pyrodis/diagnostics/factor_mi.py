"""Discretised mutual information between latent codes and factors, and latent–factor matching.

The MI matrix follows the metric protocol of Locatello et al. (2019) (``docs/metrics.rst``),
computed by :mod:`pyrodis.metrics`: every code is cut into ``num_bins`` equal-width bins over its
own min–max on the sample (a constant code falls into one bin and has MI 0), and MI is the plug-in
estimate of the contingency table, in nats.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from pyrodis.metrics import histogram_discretize, mutual_info_matrix


def discretised_mutual_information(
    codes: np.ndarray, factors: np.ndarray, num_bins: int = 20
) -> np.ndarray:
    """Plug-in MI (nats) between each discretised code and each factor, shape (d, K).

    The reference protocol of :mod:`pyrodis.metrics` (the same numbers MIG and modularity use):
    :func:`~pyrodis.metrics.histogram_discretize` then :func:`~pyrodis.metrics.mutual_info_matrix`.

    Args:
        codes: (n, d) continuous codes (e.g. posterior means).
        factors: (n, K) discrete factor labels (any integers).
        num_bins: equal-width bins per code (20 in the reference protocol).
    """
    return mutual_info_matrix(histogram_discretize(codes, num_bins), factors)


def match_latents(mi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order latents to reveal the latent–factor permutation.

    Each factor is matched to a distinct latent by maximising the total MI (Hungarian assignment);
    the matched latents come first in factor order, the rest follow by decreasing maximal MI.

    Returns:
        ``(order, matched)``: a permutation of the d latents, and for every latent the index of
        its matched factor or −1.
    """
    mi = np.asarray(mi, dtype=np.float64)
    rows, cols = linear_sum_assignment(-mi)
    matched = np.full(mi.shape[0], -1, dtype=np.int64)
    keep = mi[rows, cols] > 0
    matched[rows[keep]] = cols[keep]
    first = rows[keep][np.argsort(cols[keep], kind="stable")]
    rest = [j for j in np.argsort(-mi.max(1), kind="stable") if matched[j] < 0]
    return np.concatenate([first, np.asarray(rest, dtype=np.int64)]).astype(np.int64), matched
