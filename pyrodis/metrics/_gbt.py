"""Gradient-boosted trees that reproduce scikit-learn's ``GradientBoostingClassifier`` importances.

DCI (Eastwood & Williams 2018, as run by Locatello et al. 2019) fits one
``sklearn.ensemble.GradientBoostingClassifier()`` per factor with its defaults: log-loss
(multinomial deviance, one regression tree per class per stage; binomial with one tree for two
classes), 100 stages, learning rate 0.1, depth-3 ``friedman_mse`` trees, leaf values set by one
Newton step (times (K-1)/K for K > 2 classes), initial scores the log class priors, and importances
= the trees' impurity decreases averaged over the trees with a split, normalised to sum to 1.
This module implements the same algorithm, faster (``docs/metrics.rst``, DCI), with the trees
grown by compiled code (:mod:`pyrodis.metrics._gbt_grow`) on features sorted once per fit:

* **Exact splits.**  Every position between two distinct values of a node (cast to float32, as
  sklearn does) is scored, so the split is sklearn's exact one.  Thresholds are sklearn's: the
  midpoint between the two neighbouring values of the node.
* ``exact=False`` splits only where the feature's quantile bin changes (at most ``max_bins`` bins
  per feature): the "binned" approximation of earlier pyrodis versions, kept as an option to
  reproduce their numbers (its bias against sklearn: ``docs/metrics.rst``, DCI).

Split choice follows sklearn's ``BestSplitter`` with the Friedman proxy ``n_l n_r (m_l - m_r)^2``,
the first best position within a feature and a uniformly random choice among features tied for
the best (sklearn visits features in a random order; duplicated codes then share importance).
A node is a leaf at depth 3, with fewer than 2 samples, or with residual variance <= machine
epsilon.  A value is never separated from the next one if next <= value + 1e-7 in float32
(sklearn's ``FEATURE_THRESHOLD``, a float32 constant).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._gbt_grow import FEATURE_THRESHOLD, grow_trees, newton_step, predict_raw, residuals


def quantile_bins(sorted_x: np.ndarray, max_bins: int | None) -> np.ndarray:
    """Bin (n,) int32 of each value of one sorted float32 feature, for ``exact=False``.

    Values form groups as sklearn separates them (a value joins the previous one's group unless
    it exceeds it by more than 1e-7, in float32); each group is its own bin where there are at
    most ``max_bins`` groups (or ``max_bins`` is None), else the groups are merged into at most
    ``max_bins`` bins of about equal counts.
    """
    x = np.asarray(sorted_x, dtype=np.float32)
    starts = np.concatenate([[True], x[1:] > x[:-1] + FEATURE_THRESHOLD])
    group = np.cumsum(starts) - 1
    if max_bins is None or group[-1] < max_bins:
        return group.astype(np.int32)
    cum = np.cumsum(np.diff(np.flatnonzero(np.r_[starts, True])))[:-1]  # counts up to each group
    targets = np.arange(1, max_bins) * len(x) / max_bins
    cut_after = np.unique(np.clip(np.searchsorted(cum, targets), 0, len(cum) - 1))
    return np.searchsorted(cut_after, group, side="left").astype(np.int32)


class GradientBoostedTrees:
    """sklearn-equivalent gradient-boosted tree classifier (see the module docstring).

    Args:
        n_estimators: boosting stages (100 in sklearn).
        learning_rate: shrinkage (0.1).
        max_depth: tree depth (3).
        max_bins: with ``exact=False``, at most this many quantile bins per feature (256);
            ``None``: one bin per distinct value (then the trees are the exact ones).
        exact: sklearn's exact splits (default); ``False`` splits only at bin edges (the
            "binned" estimator of earlier versions, ``docs/metrics.rst``).
        seed: seeds the random choice among features tied for the best split.
        n_jobs: threads over the class trees of each stage (the trees do not depend on it).

    Attributes after :meth:`fit`: ``classes_``, ``feature_importances_`` (d,),
    ``train_accuracy_``, ``init_`` (k,) and the trees stacked as ``feature_`` (heap-indexed split
    features, -1 at leaves), ``threshold_`` and ``value_``, each (n_estimators, k, 2**(depth+1)),
    with k = 1 for two classes and the number of classes otherwise.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        max_depth: int = 3,
        max_bins: int | None = 256,
        exact: bool = True,
        seed: int | np.random.Generator | None = 0,
        n_jobs: int = 1,
    ):
        if not isinstance(n_jobs, int | np.integer) or n_jobs < 1:
            raise ValueError(f"n_jobs must be a positive int, got {n_jobs!r}")
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
        self.n_jobs = int(n_jobs)

    # ------------------------------------------------------------------------------------ fitting
    def fit(self, X, y) -> GradientBoostedTrees:
        X = np.ascontiguousarray(X, dtype=np.float32)
        y = np.asarray(y)
        if X.ndim != 2 or y.shape != (len(X),):
            raise ValueError(f"X must be (n, d) and y (n,), got shapes {X.shape} and {y.shape}")
        if not np.isfinite(X).all():
            raise ValueError("X holds NaN or infinite values (or values beyond float32's range)")
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                "y has a single class; a classifier needs at least two (leave out constant factors)"
            )
        n, d = X.shape
        self.n_features_in_ = d
        order, values, bins = self._sorted_features(X)
        rng = np.random.default_rng(self.seed)
        n_classes = len(self.classes_)
        self._k = k = 1 if n_classes == 2 else n_classes
        onehot = np.eye(n_classes)[y_idx]
        target = np.ascontiguousarray((onehot[:, 1:] if n_classes == 2 else onehot).T)  # (k, n)
        # sklearn's link: the log-odds, or the symmetric multinomial logit log p - mean(log p)
        log_prior = np.log(onehot.mean(0))
        init = log_prior[1:] - log_prior[:1] if n_classes == 2 else log_prior - log_prior.mean()
        self.init_ = init.copy()
        raw = np.repeat(init[:, None], n, axis=1)  # (k, n)
        prob, grad = np.empty((k, n)), np.empty((k, n))
        size = 2 ** (self.max_depth + 1)
        key_shape = (k, self.max_depth, 2 ** (self.max_depth - 1), d)
        scale = 1.0 if k == 1 else (k - 1) / k
        gain = np.zeros((k, d))  # per class tree: the sum does not depend on n_jobs
        leaves = np.empty((k, n), dtype=np.int64)
        shape = (self.n_estimators, k, size)
        self.feature_ = np.full(shape, -1, dtype=np.int64)
        self.threshold_, self.value_ = np.zeros(shape), np.zeros(shape)

        def stage(t: int, keys: np.ndarray, c0: int, c1: int) -> None:
            """Trees, leaf values and raw scores of classes c0..c1-1 (disjoint rows: threads)."""
            grow_trees(
                order, values, X, bins, not self.exact, grad, keys, c0, c1,
                self.feature_[t], self.threshold_[t], leaves, gain,
            )  # fmt: skip
            newton_step(leaves, grad, prob, c0, c1, scale, self.learning_rate, self.value_[t], raw)

        bounds = np.linspace(0, k, min(self.n_jobs, k) + 1).round().astype(int)
        chunks = list(zip(bounds[:-1], bounds[1:]))
        with ThreadPoolExecutor(max_workers=max(1, len(chunks) - 1)) as pool:
            for t in range(self.n_estimators):
                residuals(raw, target, prob, grad)
                keys = rng.random(key_shape)
                others = [pool.submit(stage, t, keys, c0, c1) for c0, c1 in chunks[1:]]
                stage(t, keys, *chunks[0])
                for job in others:
                    job.result()
        gain = gain.sum(0)
        total = gain.sum()
        self.feature_importances_ = gain / total if total > 0 else gain
        self.train_accuracy_ = float(np.mean(self._decide(raw.T) == y_idx))
        return self

    def _sorted_features(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each feature's sorting order (d, n) int32, its sorted values (d, n) float32 and their
        quantile bins (d, n) int32 (all zero in exact mode, where bins are not used)."""
        order = np.ascontiguousarray(np.argsort(X, axis=0, kind="stable").T.astype(np.int32))
        values = np.ascontiguousarray(np.take_along_axis(X.T, order, 1))
        if self.exact:
            return order, values, np.zeros(values.shape, dtype=np.int32)
        return order, values, np.stack([quantile_bins(v, self.max_bins) for v in values])

    # --------------------------------------------------------------------------------- prediction
    def _decide(self, raw: np.ndarray) -> np.ndarray:
        return (raw[:, 0] > 0).astype(np.int64) if self._k == 1 else raw.argmax(1)

    def decision_function(self, X) -> np.ndarray:
        """Raw scores (n, k): log-odds (k = 1) or per-class multinomial scores."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X must have shape (n, {self.n_features_in_}) like the training codes, "
                f"got {X.shape}"
            )
        return predict_raw(
            X, self.init_, self.learning_rate, self.feature_, self.threshold_, self.value_
        )

    def predict(self, X) -> np.ndarray:
        return self.classes_[self._decide(self.decision_function(X))]
