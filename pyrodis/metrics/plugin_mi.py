"""Plug-in (discrete) entropy and mutual information in nats, vectorised over all pairs.

The estimates equal ``sklearn.metrics.mutual_info_score`` on each pair of label columns (the
reference's ``discrete_mutual_info``/``discrete_entropy``), but the whole matrix is computed from
one ``np.bincount`` over joint labels instead of one sklearn call per pair.
"""

from __future__ import annotations

import numpy as np

from .checks import check_factors

_MAX_CHUNK_ENTRIES = 20_000_000
_ROUNDING = 1e-12  # nats; plug-in MI of n points resolves ~1/n, far above this


def _encode(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relabel each column to 0..L_j-1; return (codes (n, m), number of labels per column)."""
    out = np.empty(labels.shape, dtype=np.int64)
    sizes = np.empty(labels.shape[1], dtype=np.int64)
    for j in range(labels.shape[1]):
        _, out[:, j] = np.unique(labels[:, j], return_inverse=True)
        sizes[j] = out[:, j].max() + 1
    return out, sizes


def _plugin_mi(joint: np.ndarray, n: int) -> np.ndarray:
    """Plug-in MI of contingency tables ``joint`` (..., A, B) with n points each."""
    a = joint.sum(-1, keepdims=True)
    b = joint.sum(-2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = joint * (np.log(joint) + np.log(n) - np.log(a) - np.log(b))
    mi = np.where(joint > 0, terms, 0.0).sum((-2, -1)) / n
    # rounding leaves ~1e-17 where the MI is exactly 0 (e.g. a constant column): make it 0
    return np.where(mi > _ROUNDING, mi, 0.0)


def mutual_info_matrix(labels_a, labels_b) -> np.ndarray:
    """Plug-in mutual information (nats) between every column of ``a`` and every column of ``b``.

    Args:
        labels_a: discrete labels (n, m), e.g. discretised codes.
        labels_b: discrete labels (n, k), e.g. factor classes.

    Returns:
        float64 array (m, k) with ``I(a_i; b_j)`` = Σ p log p / (p_a p_b) over the contingency
        table (exactly 0 when either column is constant; values below 1e-12 nats are rounding
        and count as 0).
    """
    a, size_a = _encode(check_factors(labels_a, name="labels_a"))
    b, size_b = _encode(check_factors(labels_b, a.shape[0], name="labels_b"))
    n, m = a.shape
    k = b.shape[1]
    la, lb = int(size_a.max()), int(size_b.max())
    out = np.empty((m, k))
    per_code = n * k
    step = max(1, _MAX_CHUNK_ENTRIES // max(per_code, 1))
    pair_offsets = np.arange(k, dtype=np.int64)[None, None, :] * (la * lb)
    for start in range(0, m, step):
        stop = min(m, start + step)
        block = stop - start
        code_offsets = np.arange(block, dtype=np.int64)[None, :, None] * (k * la * lb)
        idx = code_offsets + pair_offsets + a[:, start:stop, None] * lb + b[:, None, :]
        joint = np.bincount(idx.ravel(), minlength=block * k * la * lb)
        out[start:stop] = _plugin_mi(joint.reshape(block, k, la, lb).astype(np.float64), n)
    return out


def discrete_mutual_info(labels_a, labels_b) -> float:
    """Plug-in mutual information (nats) of two label vectors (n,)."""
    return float(mutual_info_matrix(np.ravel(labels_a), np.ravel(labels_b))[0, 0])


def discrete_entropy(labels) -> np.ndarray:
    """Plug-in entropy (nats) of each column of ``labels`` (n, k) → (k,); a vector gives (1,)."""
    lab, _ = _encode(check_factors(labels, name="labels"))
    n = lab.shape[0]
    out = np.empty(lab.shape[1])
    for j in range(lab.shape[1]):
        p = np.bincount(lab[:, j]) / n
        p = p[p > 0]
        out[j] = float(-(p * np.log(p)).sum())
    return out
