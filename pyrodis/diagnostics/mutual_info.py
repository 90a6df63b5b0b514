"""Discretised mutual information between latent codes and factors, and latent–factor matching.

The MI matrix follows the metric protocol of Locatello et al. (2019) (REFERENCE §3): every code is
cut into ``num_bins`` equal-width bins over its own min–max on the sample (a constant code falls
into one bin and has MI 0), and MI is the plug-in estimate of the contingency table, in nats.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def discretise(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """Equal-width bin labels 0..num_bins−1 of each column over its own range, (n, d) int64."""
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2:
        raise ValueError(f"codes must have shape (n, d), got {codes.shape}")
    if num_bins < 1:
        raise ValueError(f"num_bins must be positive, got {num_bins}")
    low, high = codes.min(0), codes.max(0)
    width = np.where(high > low, high - low, 1.0)
    labels = np.floor((codes - low) / width * num_bins).astype(np.int64)
    return np.clip(labels, 0, num_bins - 1)


def _plugin_mi(a: np.ndarray, b: np.ndarray, size_a: int, size_b: int) -> float:
    joint = np.bincount(a * size_b + b, minlength=size_a * size_b).reshape(size_a, size_b)
    p = joint / a.shape[0]
    pa, pb = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / (pa @ pb)[nz])))


def discretised_mutual_information(
    codes: np.ndarray, factors: np.ndarray, num_bins: int = 20
) -> np.ndarray:
    """Plug-in MI (nats) between each discretised code and each factor, shape (d, K).

    Args:
        codes: (n, d) continuous codes (e.g. posterior means).
        factors: (n, K) discrete factor labels (any integers).
        num_bins: equal-width bins per code (20 in the reference protocol).
    """
    factors = np.asarray(factors)
    codes = np.asarray(codes)
    if factors.ndim != 2 or codes.ndim != 2 or factors.shape[0] != codes.shape[0]:
        raise ValueError(
            f"codes (n, d) and factors (n, K) must have the same n, got {codes.shape} and "
            f"{factors.shape}"
        )
    z = discretise(codes, num_bins)
    fac = [
        np.unique(factors[:, k], return_inverse=True)[1].ravel() for k in range(factors.shape[1])
    ]
    sizes = [int(f.max()) + 1 for f in fac]
    return np.array(
        [
            [_plugin_mi(z[:, j], fac[k], num_bins, sizes[k]) for k in range(len(fac))]
            for j in range(z.shape[1])
        ]
    )


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
