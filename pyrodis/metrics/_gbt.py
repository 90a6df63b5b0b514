"""Gradient-boosted trees that reproduce scikit-learn's ``GradientBoostingClassifier`` importances.

DCI (Eastwood & Williams 2018, as run by Locatello et al. 2019) fits one
``sklearn.ensemble.GradientBoostingClassifier()`` per factor with its defaults: log-loss
(multinomial deviance, one regression tree per class per stage; binomial with one tree for two
classes), 100 stages, learning rate 0.1, depth-3 ``friedman_mse`` trees, leaf values set by one
Newton step (times (K-1)/K for K > 2 classes), initial scores the log class priors, and importances
= the trees' impurity decreases averaged over the trees with a split, normalised to sum to 1.
That takes minutes on 10,000 points.  This module implements the same algorithm in numpy:

* **Exact splits from binned histograms.**  Each feature (cast to float32, as sklearn does) is cut
  into at most ``max_bins`` quantile bins (one bin per value where there are fewer values).  The
  best split at the bin edges comes from cumulative histograms; the few bins whose interior could
  hold a better split (a bound on the Friedman proxy, :mod:`pyrodis.metrics._gbt_splits`) are
  scanned sample by sample, so the split is sklearn's exact one.  ``exact=False`` skips the scan
  (the faster "binned" approximation, with a bias: ``pyrodis.metrics.dci.importance_matrix``).
  Thresholds are sklearn's: the midpoint between the two neighbouring values of the node.
* **Histograms for all class trees at once.**  The per-(class, node, feature, bin) residual sums and
  counts of a level of all K trees of a stage come from one sparse one-hot matrix product; the
  right child's histogram is its parent's minus the left child's.

Split choice follows sklearn's ``BestSplitter`` with the Friedman proxy ``n_l n_r (m_l - m_r)^2``,
the first best position within a feature and a uniformly random choice among features tied for
the best (sklearn visits features in a random order; duplicated codes then share importance).
A node is a leaf at depth 3, with fewer than 2 samples, or with residual variance <= machine
epsilon.  Values closer than 1e-7 are never separated (sklearn's ``FEATURE_THRESHOLD``).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ._gbt_splits import (
    bin_feature,
    candidate_bins,
    cumulate,
    edge_splits,
    node_thresholds,
    refine,
)

_EPSILON = np.finfo(np.float64).eps


class GradientBoostedTrees:
    """sklearn-equivalent gradient-boosted tree classifier (see the module docstring).

    Args:
        n_estimators: boosting stages (100 in sklearn).
        learning_rate: shrinkage (0.1).
        max_depth: tree depth (3).
        max_bins: at most this many bins per feature (256); more distinct values are
            quantile-binned.  ``None``: one bin per distinct value (memory and time grow with
            the number of distinct values).
        exact: scan inside the bins for sklearn's exact splits (default); ``False`` splits only
            at bin edges (faster, biased).
        seed: seeds the random choice among features tied for the best split.

    Attributes after :meth:`fit`: ``classes_``, ``feature_importances_`` (d,), ``train_accuracy_``.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        max_depth: int = 3,
        max_bins: int | None = 256,
        exact: bool = True,
        seed: int | np.random.Generator | None = 0,
    ):
        if n_estimators < 1 or max_depth < 1 or not learning_rate > 0 or (max_bins or 2) < 2:
            raise ValueError(
                "n_estimators and max_depth must be >= 1, max_bins >= 2 and learning_rate > 0"
            )
        self.n_estimators = int(n_estimators)
        self.learning_rate = float(learning_rate)
        self.max_depth = int(max_depth)
        self.max_bins = None if max_bins is None else int(max_bins)
        self.exact = bool(exact)
        self.seed = seed

    # ------------------------------------------------------------------------------------ fitting
    def fit(self, X, y) -> GradientBoostedTrees:
        X = np.asarray(X, dtype=np.float32)
        self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                "y has a single class; a classifier needs at least two (leave out constant factors)"
            )
        n, d = X.shape
        binned = [bin_feature(X[:, f], self.max_bins) for f in range(d)]
        self.cuts_ = [cuts for cuts, _ in binned]
        bins = np.stack(
            [np.searchsorted(c, X[:, f], side="left") for f, c in enumerate(self.cuts_)], 1
        )
        self._nb = max(1, max(len(c) + 1 for c in self.cuts_))
        self._cut_table = np.zeros((d, self._nb))
        for f, c in enumerate(self.cuts_):
            self._cut_table[f, : len(c)] = c
        self._x = X.astype(np.float64)
        order = np.argsort(X, axis=0, kind="stable").T  # (d, n)
        self._sorted = (np.ascontiguousarray(order), np.take_along_axis(self._x.T, order, 1))
        self._bin_start = np.stack(
            [np.searchsorted(bins[order[f], f], np.arange(self._nb + 1)) for f in range(d)]
        )
        counts = np.diff(self._bin_start, axis=1)
        self._multi = np.zeros((self._nb, d), dtype=bool)
        for f, (_, has_multi) in enumerate(binned):  # a bin with >1 value group: scan inside it
            self._multi[:, f] = has_multi & (counts[f] >= 2)
        rows = bins * d + np.arange(d)[None, :]
        self._onehot_t = sparse.csc_matrix(
            (np.ones(n * d), (rows.ravel(), np.repeat(np.arange(n), d))), shape=(d * self._nb, n)
        )
        self._rng = np.random.default_rng(self.seed)
        n_classes = len(self.classes_)
        self._k = 1 if n_classes == 2 else n_classes
        onehot = np.eye(n_classes)[y_idx]
        target = onehot[:, 1:] if n_classes == 2 else onehot
        prior = onehot.mean(0)
        # sklearn's link: the log-odds, or the symmetric multinomial logit log p - mean(log p)
        log_prior = np.log(prior)
        init = log_prior[1:] - log_prior[:1] if n_classes == 2 else log_prior - log_prior.mean()
        raw = init[None, :]
        self.init_ = raw[0].copy()
        raw = np.repeat(raw, n, axis=0)
        importances = np.zeros(d)
        self.trees_ = []
        for _ in range(self.n_estimators):
            prob = self._probabilities(raw)
            grad = target - prob  # negative gradient of the log-loss
            tree, leaves, imp = self._grow(grad)
            importances += imp
            values = self._leaf_values(leaves, grad, prob)
            tree["value"] = values
            raw += self.learning_rate * np.take_along_axis(values.T, leaves, axis=0).reshape(n, -1)
            self.trees_.append(tree)
        total = importances.sum()
        self.feature_importances_ = importances / total if total > 0 else importances
        self.train_accuracy_ = float(np.mean(self._decide(raw) == y_idx))
        del self._onehot_t, self._x, self._sorted
        return self

    def _probabilities(self, raw: np.ndarray) -> np.ndarray:
        if self._k == 1:
            return 1.0 / (1.0 + np.exp(-raw))
        e = np.exp(raw - raw.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    def _grow(self, grad: np.ndarray):
        """Grow one depth-limited tree per class column of ``grad`` (n, K) level by level."""
        n, k = grad.shape
        size = 2 ** (self.max_depth + 1)
        feature = np.full((k, size), -1, dtype=np.int64)
        threshold = np.zeros((k, size))
        heap = np.ones((n, k), dtype=np.int64)  # heap index of each sample's node, root = 1
        importances = np.zeros(self._x.shape[1])
        cols = np.arange(k)[None, :]
        parts = (grad, np.abs(grad)) if self.exact else (grad,)
        parent = None
        for depth in range(self.max_depth):
            width = 2**depth
            local = heap - width  # node within this level; outside [0, width) = a finished leaf
            in_level = (local >= 0) & (local < width)
            slot = np.where(in_level, cols * width + local, k * width)
            cum = self._level_histograms(parts, slot, in_level, parent, width)
            totals = cum[-1, 0]  # (3, k, width)
            sq = np.bincount(slot.ravel(), weights=(grad**2).ravel(), minlength=k * width + 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                impurity = sq[:-1].reshape(k, width) / totals[1] - (totals[0] / totals[1]) ** 2
            can_split = (totals[1] >= 2) & (impurity > _EPSILON)
            if parent is not None:
                can_split &= np.repeat(parent[1], 2, axis=1)
            f_best, cut, proxy = self._choose(cum, can_split, heap, grad, width)
            can_split &= np.isfinite(proxy)
            split_here = np.append(can_split.ravel(), False)[slot]
            x = self._x[np.arange(n)[:, None], np.append(f_best.ravel(), 0)[slot]]
            go_right = split_here & (x > np.append(cut.ravel(), np.inf)[slot])
            kk, mm = np.nonzero(can_split)
            feature[kk, width + mm] = f_best[kk, mm]
            threshold[kk, width + mm] = node_thresholds(
                self._sorted, heap, kk, width + mm, f_best[kk, mm], cut[kk, mm]
            )
            np.add.at(importances, f_best[kk, mm], proxy[kk, mm] / totals[1][kk, mm])
            heap = np.where(split_here, 2 * heap + go_right, heap)
            parent = (cum, can_split)
        return {"feature": feature, "threshold": threshold}, heap, importances / n

    def _choose(self, cum, can_split, heap, grad, width):
        """Best feature, cut and proxy per (class tree, node); ties between features are broken
        uniformly at random, as sklearn's random feature order does."""
        best, b_best = edge_splits(cum)  # (d, k, width)
        f_idx = np.arange(best.shape[0])[:, None, None]
        cut = self._cut_table[f_idx, b_best]
        if self.exact and self._multi.any():
            self._refine(best, cut, cum, np.where(can_split, best.max(0), np.inf), heap, grad)
        top = best.max(0, keepdims=True)
        tied = np.isfinite(best) & (best >= top - 1e-12 * np.abs(top))
        key = np.where(tied, self._rng.random(best.shape), -1.0)
        f_best = key.argmax(0)  # (k, width)
        pick = f_best[None]
        return (
            f_best,
            np.take_along_axis(cut, pick, 0)[0],
            np.take_along_axis(best, pick, 0)[0],
        )

    def _refine(self, best, cut, cum, top, heap, grad):
        """Raise ``best`` (d, k, width) and move ``cut`` where a split inside a bin beats the
        bin edges (exact mode; see :mod:`~pyrodis.metrics._gbt_splits`)."""
        cand = candidate_bins(cum, top, self._multi)
        width = best.shape[2]
        ids, proxy, where = refine(cand, cum, self._sorted, self._bin_start, heap, grad, width)
        if len(ids) == 0:
            return
        _, f, c, m = (a[ids] for a in cand)
        flat = np.ravel_multi_index((f, c, m), best.shape)
        # the best interior split of each (feature, tree, node); ties keep the lowest bin
        order = np.lexsort((-proxy, flat))
        flat, proxy, where = flat[order], proxy[order], where[order]
        first = np.r_[True, flat[1:] != flat[:-1]]
        flat, proxy, where = flat[first], proxy[first], where[first]
        better = proxy > best.ravel()[flat]
        best.ravel()[flat[better]] = proxy[better]
        cut.ravel()[flat[better]] = where[better]

    def _level_histograms(self, parts, slot, in_level, parent, width):
        """Cumulative (over bins) residual sums, counts [and |residual| sums] of every node.

        Shape (nb, d, q, k, width): ``[b, f, 0]`` sums the residuals of the node's samples with
        bin(feature f) <= b, ``[b, f, 1]`` counts them, ``[b, f, 2]`` (exact mode) sums
        |residuals|.
        """
        grad = parts[0]
        n, k = grad.shape
        d, nb, q = self._x.shape[1], self._nb, len(parts) + 1
        if parent is None:  # the root: counts are shared by the k trees
            w = np.concatenate([*parts, np.ones((n, 1))], axis=1)
            h = np.asarray(self._onehot_t @ w).reshape(nb, d, (q - 1) * k + 1)
            blocks = [h[..., i * k : (i + 1) * k] for i in range(q - 1)]
            blocks.insert(1, np.broadcast_to(h[..., -1:], (nb, d, k)))
            return cumulate(np.stack(blocks, 2)[..., None])
        parent_cum, _ = parent
        half = width // 2
        # left children only (even local index); the right child is its parent minus the left
        left = in_level & (slot % 2 == 0)
        node = np.where(left, (slot - np.arange(k)[None, :] * width) // 2, half)  # its parent
        w = np.zeros((n, q, k, half))
        for j in range(half):  # one block of columns per parent node: no scatter
            member = node == j
            for i, values in enumerate([grad, member, *parts[1:]]):
                np.multiply(values, member, out=w[:, i, :, j])
        h = np.asarray(self._onehot_t @ w.reshape(n, q * k * half))
        h = cumulate(h.reshape(nb, d, q, k, half))
        out = np.empty((nb, d, q, k, width))
        out[..., 0::2] = h
        np.subtract(parent_cum, h, out=out[..., 1::2])
        return out  # children of unsplit parents hold garbage: _grow masks them out

    def _leaf_values(self, leaves: np.ndarray, grad: np.ndarray, prob: np.ndarray) -> np.ndarray:
        """One Newton step per leaf: (K-1)/K Σg / Σp(1-p) (no factor for binary), shape (k, size)."""
        n, k = grad.shape
        size = 2 ** (self.max_depth + 1)
        idx = (np.arange(k)[None, :] * size + leaves).ravel()
        num = np.bincount(idx, weights=grad.ravel(), minlength=k * size)
        den = np.bincount(idx, weights=(prob * (1.0 - prob)).ravel(), minlength=k * size)
        scale = 1.0 if k == 1 else (k - 1) / k
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(np.abs(den) < 1e-150, 0.0, scale * num / den)
        return values.reshape(k, size)

    # --------------------------------------------------------------------------------- prediction
    def _decide(self, raw: np.ndarray) -> np.ndarray:
        return (raw[:, 0] > 0).astype(np.int64) if self._k == 1 else raw.argmax(1)

    def decision_function(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        n = X.shape[0]
        raw = np.repeat(self.init_[None, :], n, axis=0)
        cols = np.arange(self._k)[None, :]
        rows = np.arange(n)[:, None]
        for tree in self.trees_:
            heap = np.ones((n, self._k), dtype=np.int64)
            for _ in range(self.max_depth):
                f = tree["feature"][cols, heap]
                go = X[rows, np.maximum(f, 0)] > tree["threshold"][cols, heap]
                heap = np.where(f >= 0, 2 * heap + go, heap)
            raw += self.learning_rate * tree["value"][cols, heap]
        return raw

    def predict(self, X) -> np.ndarray:
        return self.classes_[self._decide(self.decision_function(X))]
