"""Split search of :mod:`pyrodis.metrics._gbt`: binned histograms, then exact splits inside bins.

Each feature is cut into at most ``max_bins`` quantile bins.  The best split at every bin edge
comes from cumulative histograms (residual sums, absolute residual sums and counts per node, feature
and bin).  A split strictly inside a bin can only win where the Friedman proxy

    P(n_l, G_l) = (N G_l - n_l G)^2 / (n_l (N - n_l))

(N, G: the node's count and residual sum; n_l, G_l: those left of the split) can exceed the best
edge value somewhere in the bin.  Inside bin b, n_l lies in [C + 1, C + n_b - 1] and G_l in
[S + (s_b - a_b) / 2, S + (s_b + a_b) / 2] (C, S: count and sum before the bin; n_b, s_b, a_b: the
bin's count, sum and sum of |residuals|), and |N G_l - n_l G| is largest at a corner of that box:
that bound prunes almost every bin.  The few bins left are scanned exactly, sample by sample in
the feature's sorted order, so the chosen split is sklearn's (``BestSplitter``) exact one.
"""

from __future__ import annotations

import numpy as np

FEATURE_THRESHOLD = 1e-7  # sklearn never separates values closer than this


def bin_feature(x: np.ndarray, max_bins: int | None) -> tuple[np.ndarray, bool]:
    """Cut points (float64, increasing) of one float32 feature (x <= cuts[b] means bin <= b) and
    whether some bin holds more than one value group (values closer than 1e-7 form a group)."""
    values, counts = np.unique(x, return_counts=True)
    keep = np.concatenate([[True], np.diff(values.astype(np.float64)) > FEATURE_THRESHOLD])
    group = np.cumsum(keep) - 1
    lows = values[keep].astype(np.float64)  # first value of each group
    highs = np.maximum.reduceat(values.astype(np.float64), np.flatnonzero(keep))
    gcounts = np.bincount(group, weights=counts)
    mids = highs[:-1] / 2.0 + lows[1:] / 2.0  # candidate thresholds between groups
    if max_bins is None or len(lows) <= max_bins:
        return mids, False
    cum = np.cumsum(gcounts)[:-1]
    targets = np.arange(1, max_bins) * (cum[-1] + gcounts[-1]) / max_bins
    pos = np.unique(np.clip(np.searchsorted(cum, targets), 0, len(mids) - 1))
    return mids[pos], True


def cumulate(hist: np.ndarray) -> np.ndarray:
    """Cumulative sum over the first (bin) axis (much faster than np.cumsum there), in place
    when ``hist`` is a writable float64 array (the callers' fresh histograms), else on a copy."""
    if hist.dtype != np.float64 or not hist.flags.writeable:
        hist = np.array(hist, dtype=np.float64)
    for b in range(1, hist.shape[0]):
        np.add(hist[b], hist[b - 1], out=hist[b])
    return hist


def edge_splits(cum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best proxy and bin edge per (feature, class tree, node) from cumulative histograms
    ``cum`` (nb, d, 3, k, width) = [residual sum, count, |residual| sum]; -inf when none."""
    g_left, c_left = cum[:, :, 0], cum[:, :, 1]  # (nb, d, k, width)
    g_tot, c_tot = g_left[-1:], c_left[-1:]
    c_right = c_tot - c_left
    with np.errstate(divide="ignore", invalid="ignore"):
        proxy = (c_right * g_left - c_left * (g_tot - g_left)) ** 2 / (c_left * c_right)
    proxy[(c_left < 1) | (c_right < 1)] = -np.inf
    b_best = proxy.argmax(0)  # (d, k, width)
    return np.take_along_axis(proxy, b_best[None], 0)[0], b_best


def candidate_bins(cum: np.ndarray, top: np.ndarray, multi: np.ndarray) -> tuple[np.ndarray, ...]:
    """(bin, feature, class tree, node) of the bins whose interior may beat ``top`` (k, width).

    Computed in float32 with a relative margin of 1e-4: it only decides which bins to scan.
    """
    cum32 = cum.astype(np.float32)
    prev = np.concatenate([np.zeros_like(cum32[:1]), cum32[:-1]])
    inner = cum32 - prev  # per-bin sums: (nb, d, 3, k, width)
    n_bin = inner[:, :, 1]
    total_n, total_g = cum32[-1, 0, 1], cum32[-1, 0, 0]  # (k, width)
    # |N G_l - n_l G| over the box: |value at the centre| + N half-width_G + |G| half-width_n
    centre = total_n * (prev[:, :, 0] + inner[:, :, 0] / 2) - total_g * (prev[:, :, 1] + n_bin / 2)
    num = np.abs(centre) + total_n * inner[:, :, 2] / 2 + np.abs(total_g) * (n_bin / 2 - 1)
    n_lo = prev[:, :, 1] + 1
    n_hi = prev[:, :, 1] + n_bin - 1
    den = np.minimum(n_lo * (total_n - n_lo), n_hi * (total_n - n_hi))
    ok = (n_bin >= 2) & (den > 0) & multi[:, :, None, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.nonzero(ok & (num * num * (1 + 1e-4) >= top.astype(np.float32) * den))


def _segments(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment id and offset within the segment of every element of concatenated segments."""
    seg = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.cumsum(lengths) - lengths
    return seg, np.arange(len(seg)) - starts[seg]


def refine(cand, cum, sorted_x, bin_start, heap, grad, width):
    """Exact best split inside each candidate bin (sklearn's scan restricted to the bin).

    Args:
        cand: (bin, feature, class tree, node) arrays from :func:`candidate_bins`.
        cum: cumulative histograms (nb, d, 3, k, width).
        sorted_x: (order (d, n) sample indices sorting each feature, values (d, n) float64).
        bin_start: (d, nb + 1) first sorted position of each bin.
        heap: (n, k) heap index of each sample's node; grad: (n, k) residuals.

    Returns:
        (candidate index, proxy, cut) of every candidate with a valid interior split, where the
        cut is the midpoint between the two neighbouring values of the node.
    """
    b, f, c, m = cand
    order, values = sorted_x
    n = order.shape[1]
    lengths = bin_start[f, b + 1] - bin_start[f, b]
    seg, offset = _segments(lengths)
    pos = f[seg] * n + bin_start[f, b][seg] + offset
    samples = order.ravel()[pos]
    keep = heap[samples, c[seg]] == width + m[seg]
    seg, samples, x = seg[keep], samples[keep], values.ravel()[pos[keep]]
    if len(seg) == 0:
        return seg, np.zeros(0), np.zeros(0)
    cs = np.cumsum(grad[samples, c[seg]])
    first = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    counts = np.diff(np.r_[first, len(seg)])
    base = np.repeat(cs[first] - grad[samples[first], c[seg[first]]], counts)
    rank = np.arange(len(seg)) - np.repeat(first, counts) + 1
    prev_g = cum[b - 1, f, 0, c, m] * (b > 0)
    prev_n = cum[b - 1, f, 1, c, m] * (b > 0)
    g_left = prev_g[seg] + cs - base
    n_left = prev_n[seg] + rank
    total_n, total_g = cum[-1, 0, 1, c, m][seg], cum[-1, 0, 0, c, m][seg]
    nxt = np.r_[x[1:], np.inf]
    valid = np.r_[seg[1:] == seg[:-1], False] & (nxt > x + FEATURE_THRESHOLD)
    with np.errstate(divide="ignore", invalid="ignore"):
        proxy = (total_n * g_left - n_left * total_g) ** 2 / (n_left * (total_n - n_left))
    proxy = np.where(valid, proxy, -np.inf)
    best = np.maximum.reduceat(proxy, first)
    at = np.flatnonzero(proxy == best[seg])
    ids, where = np.unique(seg[at], return_index=True)
    at = at[where]
    found = np.isfinite(proxy[at])
    ids, at = ids[found], at[found]
    return ids, proxy[at], x[at] / 2.0 + nxt[at] / 2.0


def node_thresholds(sorted_x, heap, tree, node, feature, cut, window: int = 32) -> np.ndarray:
    """sklearn's threshold per split node: the midpoint between the largest value of the node
    going left (x <= cut) and its smallest value going right (the left one if the midpoint rounds
    onto the right one).

    Both are found next to the cut in the feature's sorted order: the nearest positions on each
    side whose sample is in the node, looked up ``window`` positions at a time (the window grows
    until every node has found both).

    Args:
        sorted_x: (order (d, n) sample indices sorting each feature, values (d, n) float64).
        heap: (n, k) heap index of each sample's node; tree, node, feature, cut: (S,) per split.
    """
    order, values = sorted_x
    n = order.shape[1]
    start = np.empty(len(node), dtype=np.int64)  # first sorted position going right
    for f in np.unique(feature):
        at = feature == f
        start[at] = np.searchsorted(values[f], cut[at], side="right")
    sides = []
    for step in (-1, 1):  # left: positions start-1, start-2, ...; right: start, start+1, ...
        found = np.full(len(node), -1, dtype=np.int64)
        lo = 0
        while (found < 0).any() and lo < n:
            todo = np.flatnonzero(found < 0)
            offsets = np.arange(lo, lo + window)
            pos = start[todo, None] + (offsets if step > 0 else -1 - offsets)
            inside = (pos >= 0) & (pos < n)
            pos = np.clip(pos, 0, n - 1)
            sample = order[feature[todo, None], pos]
            hit = inside & (heap[sample, tree[todo, None]] == node[todo, None])
            first = hit.argmax(1)
            got = hit[np.arange(len(todo)), first]
            found[todo[got]] = pos[got, first[got]]
            lo, window = lo + window, 2 * window
        sides.append(np.where(found >= 0, values[feature, found], step * np.inf))
    left_max, right_min = sides
    with np.errstate(invalid="ignore"):
        mid = left_max / 2.0 + right_min / 2.0
    return np.where((mid == right_min) | ~np.isfinite(mid), left_max, mid)
