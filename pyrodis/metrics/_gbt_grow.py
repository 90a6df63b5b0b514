"""Compiled boosting stage of :mod:`pyrodis.metrics._gbt`: residuals, trees, Newton leaf values.

sklearn's ``BestSplitter`` sorts a node's samples on each feature and scans them in order; here
every feature is sorted once per fit (``order``), and one pass over a feature's sorted order scans
all nodes of a tree level at once: each sample adds itself to the running (count, residual sum)
of its own node, and the split between two consecutive samples of a node is scored as sklearn
scores it, with the Friedman proxy

    P = (N G_l - n_l G)^2 / (n_l (N - n_l))

(N, G: the node's count and residual sum; n_l, G_l: those left of the split).  The cost is
O(depth x features x samples) per tree, with no per-node sorting.  Compiled with numba; ``nogil``
lets the class trees of a stage grow on several threads.

Arrays are laid out class-major: ``grad``, ``prob``, ``raw`` and ``leaves`` are (k, n).
"""

from __future__ import annotations

import numba
import numpy as np

# sklearn never separates a value from the next one if next <= value + 1e-7, computed in float32
# (its FEATURE_THRESHOLD is a float32 constant): near 1, neighbouring float32 values stay together
FEATURE_THRESHOLD = np.float32(1e-7)
_EPSILON = np.finfo(np.float64).eps
_TIE = 1e-12  # relative tolerance of a tie between features (their sums differ in rounding only)


@numba.njit(nogil=True, cache=True)
def residuals(raw, target, prob, grad):
    """Class probabilities and negative log-loss gradients (k, n) from raw scores (k, n).

    One row (k = 1): the binomial log-odds; several rows: the multinomial softmax.
    """
    k, n = raw.shape
    for s in range(n):
        if k == 1:
            prob[0, s] = 1.0 / (1.0 + np.exp(-raw[0, s]))
        else:
            top = raw[0, s]
            for c in range(1, k):
                top = max(top, raw[c, s])
            total = 0.0
            for c in range(k):
                prob[c, s] = np.exp(raw[c, s] - top)
                total += prob[c, s]
            for c in range(k):
                prob[c, s] /= total
        for c in range(k):
            grad[c, s] = target[c, s] - prob[c, s]


@numba.njit(nogil=True, cache=True)
def grow_trees(
    order, values, x, bins, use_bins, grad, keys, c0, c1, feature, threshold, leaves, gain
):
    """Grow the depth-limited regression trees of classes ``c0 <= c < c1`` (in place).

    Args:
        order: (d, n) int32 sample indices sorting each feature.
        values: (d, n) float32 feature values in that order (sklearn's float32 features).
        x: (n, d) float32 features.
        bins: (d, n) int32 quantile bin of each sorted value, used when ``use_bins``: splits
            only where the bin changes (the "binned" approximation).
        grad: (k, n) residuals, one tree per row.
        keys: (k, depth, 2**(depth-1), d) uniform keys: of the features tied for a node's best
            split the one with the largest key wins (sklearn visits features in random order).
        feature: (k, 2**(depth+1)) int64 out, heap-indexed (root 1), -1 at leaves (pre-filled).
        threshold: (k, 2**(depth+1)) float64 out: x <= threshold goes left.
        leaves: (k, n) int64 out: each sample's leaf (heap index).
        gain: (k, d) float64, accumulates per class tree P / N of each split: its impurity
            decrease times the node's size (sklearn's unnormalised importance times n).
    """
    d, n = order.shape
    depth_max = keys.shape[1]
    loc = np.empty(n, dtype=np.int32)  # each sample's node within the level; -1: at a leaf
    for c in range(c0, c1):
        g = grad[c]
        heap = leaves[c]
        loc[:] = 0
        for depth in range(depth_max):
            width = 1 << depth
            tot_n, tot_g, split = _level_totals(g, loc, heap, width)
            if split.any():
                _choose_splits(
                    order, values, bins, use_bins, g, loc, tot_n, tot_g, split,
                    keys[c, depth], width, feature[c], threshold[c], gain[c],
                )  # fmt: skip
            last = depth == depth_max - 1
            _route_samples(x, loc, heap, split, width, last, feature[c], threshold[c])


@numba.njit(nogil=True, cache=True)
def _level_totals(g, loc, heap, width):
    """Per node of a level: its size, residual sum and whether it splits (sklearn's leaf rules:
    a node with < 2 samples or no variance left is a leaf); samples of leaves are done."""
    n = loc.shape[0]
    tot_n = np.zeros(width)
    tot_g = np.zeros(width)
    tot_sq = np.zeros(width)
    for s in range(n):
        m = loc[s]
        if m >= 0:
            tot_n[m] += 1.0
            tot_g[m] += g[s]
            tot_sq[m] += g[s] * g[s]
    split = np.zeros(width, dtype=np.bool_)
    for m in range(width):
        if tot_n[m] >= 2.0:
            mean = tot_g[m] / tot_n[m]
            split[m] = tot_sq[m] / tot_n[m] - mean * mean > _EPSILON
    for s in range(n):
        m = loc[s]
        if m >= 0 and not split[m]:
            heap[s] = width + m
            loc[s] = -1
    return tot_n, tot_g, split


@numba.njit(nogil=True, cache=True)
def _route_samples(x, loc, heap, split, width, last, feature, threshold):
    """Send each sample of a split node to its child (its leaf at the last level)."""
    for s in range(loc.shape[0]):
        m = loc[s]
        if m < 0:
            continue
        node = width + m
        if not split[m]:
            heap[s] = node
            loc[s] = -1
            continue
        right = 1 if x[s, feature[node]] > threshold[node] else 0
        if last:
            heap[s] = 2 * node + right
        else:
            loc[s] = 2 * m + right


# fmt: off
@numba.njit(nogil=True, cache=True)
def _choose_splits(
    order, values, bins, use_bins, g, loc, tot_n, tot_g, split, keys, width, feature, threshold,
    gain
):
    # fmt: on
    """Best split of every open node of one level (``split`` in: open, out: split), by one scan
    per feature of its sorted order; see the module docstring."""
    d, n = order.shape
    best_num = np.full((width, d), -1.0)  # the proxy as a fraction: no division per sample
    best_den = np.ones((width, d))
    cut = np.zeros((width, d))
    left_n = np.zeros(width)
    left_g = np.zeros(width)
    last_x = np.zeros(width, dtype=np.float32)
    last_b = np.zeros(width, dtype=np.int32)
    for f in range(d):
        left_n[:] = 0.0
        left_g[:] = 0.0
        for p in range(n):
            s = order[f, p]
            m = loc[s]
            if m < 0:
                continue
            v = values[f, p]
            nl = left_n[m]
            if nl > 0.0 and v > last_x[m] + FEATURE_THRESHOLD:  # float32, as sklearn
                if not use_bins or bins[f, p] != last_b[m]:
                    total = tot_n[m]
                    diff = total * left_g[m] - nl * tot_g[m]
                    num = diff * diff
                    den = nl * (total - nl)
                    if num * best_den[m, f] > best_num[m, f] * den:  # the first best position
                        best_num[m, f] = num
                        best_den[m, f] = den
                        # sklearn's midpoint, in float64 (strictly between two float32s)
                        cut[m, f] = np.float64(last_x[m]) / 2.0 + np.float64(v) / 2.0
            left_n[m] = nl + 1.0
            left_g[m] += g[s]
            last_x[m] = v
            if use_bins:
                last_b[m] = bins[f, p]
    for m in range(width):
        if not split[m]:
            continue
        top = -1.0
        for f in range(d):
            if best_num[m, f] >= 0.0:
                top = max(top, best_num[m, f] / best_den[m, f])
        if top < 0.0:  # every feature constant on the node
            split[m] = False
            continue
        pick, key = -1, -1.0
        for f in range(d):
            if best_num[m, f] >= 0.0:
                proxy = best_num[m, f] / best_den[m, f]
                if proxy >= top * (1.0 - _TIE) and keys[m, f] > key:
                    pick, key = f, keys[m, f]
        feature[width + m] = pick
        threshold[width + m] = cut[m, pick]
        gain[pick] += best_num[m, pick] / best_den[m, pick] / tot_n[m]


@numba.njit(nogil=True, cache=True)
def newton_step(leaves, grad, prob, c0, c1, scale, learning_rate, value, raw):
    """Leaf values of classes ``c0 <= c < c1`` by one Newton step, scale Σg / Σp(1-p) (0 where
    Σp(1-p) < 1e-150), written to ``value`` (k, 2**(depth+1)); ``raw`` (k, n) moves by
    ``learning_rate`` times each sample's leaf value."""
    k, n = grad.shape
    size = value.shape[1]
    num = np.zeros(size)
    den = np.zeros(size)
    for c in range(c0, c1):
        num[:] = 0.0
        den[:] = 0.0
        for s in range(n):
            leaf = leaves[c, s]
            num[leaf] += grad[c, s]
            den[leaf] += prob[c, s] * (1.0 - prob[c, s])
        for leaf in range(size):
            value[c, leaf] = 0.0 if abs(den[leaf]) < 1e-150 else scale * num[leaf] / den[leaf]
        for s in range(n):
            raw[c, s] += learning_rate * value[c, leaves[c, s]]


@numba.njit(nogil=True, cache=True)
def predict_raw(x, init, learning_rate, feature, threshold, value):
    """Raw scores (n, k) of features ``x`` (n, d) float32: ``init`` plus ``learning_rate`` times
    the leaf value of each stage's tree, for trees stacked as (stages, k, 2**(depth+1))."""
    n = x.shape[0]
    stages, k, _ = feature.shape
    raw = np.empty((k, n))
    for c in range(k):
        raw[c, :] = init[c]
    for t in range(stages):  # one small tree at a time stays in cache
        for c in range(k):
            feat, thr, val = feature[t, c], threshold[t, c], value[t, c]
            for s in range(n):
                node = 1
                f = feat[node]
                while f >= 0:
                    node = 2 * node + (1 if x[s, f] > thr[node] else 0)
                    f = feat[node]
                raw[c, s] += learning_rate * val[node]
    return raw.T
