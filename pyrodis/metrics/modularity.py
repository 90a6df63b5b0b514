"""Modularity and explicitness (Ridgeway & Mozer 2018), protocol of Locatello et al. 2019.

Modularity: from the MI matrix m (20-bin discretised codes × factors, plug-in, nats), per code
δ = (Σ_k m² - max m²) / (max m² (K - 1)); modularity = mean over ALL codes of 1 - δ, where a code
with max m = 0 scores 0 (so uninformative codes lower the mean, as the reference defines it).

Explicitness: codes standardised with the training mean and standard deviation (ddof 0), one
``LogisticRegression()`` (sklearn defaults) per factor, score = mean over the factor's classes of
the one-vs-rest ROC-AUC of the predicted probabilities on the test set; explicitness = mean over
factors.  Defined values where the reference crashes: a constant code is standardised with std 1
(it becomes 0); a class absent from the test set (no AUC) is skipped; with one factor δ = 0.
"""

from __future__ import annotations

import warnings

import numpy as np

from .checks import check_pair, varying_factors
from .discretize import histogram_discretize
from .parallel import map_threads
from .plugin_mi import mutual_info_matrix
from .sampling import Representation, code_sets


def modularity_from_mi(mutual_info) -> float:
    """Modularity of an MI matrix (codes × factors) as defined in the module docstring."""
    sq = np.square(np.asarray(mutual_info, dtype=np.float64))
    top = sq.max(1)
    n_factors = sq.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (sq.sum(1) - top) / (top * (n_factors - 1)) if n_factors > 1 else 0.0 * top
    score = np.where(top > 0, 1.0 - delta, 0.0)
    return float(np.mean(score))


def modularity_from_codes(codes, factors, num_bins: int = 20) -> dict[str, float]:
    """``{"modularity": value}`` of codes (n, d) against factor classes (n, K); single-valued
    factors are left out (the reference drops them from the dataset)."""
    z, y = check_pair(codes, factors)
    y = y[:, varying_factors(y)]
    return {
        "modularity": modularity_from_mi(mutual_info_matrix(histogram_discretize(z, num_bins), y))
    }


def _standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(0), train.std(0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def _mean_auc(labels: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """Mean one-vs-rest ROC-AUC over the classes present with both outcomes.

    Mann–Whitney form with average ranks for ties: equal to ``sklearn.metrics.roc_auc_score``.
    """
    from scipy.stats import rankdata

    aucs = []
    for c, cls in enumerate(classes):
        positive = labels == cls
        n_pos = int(positive.sum())
        n_neg = len(labels) - n_pos
        if n_pos and n_neg:
            ranks = rankdata(proba[:, c])
            aucs.append((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    return float(np.mean(aucs)) if aucs else 0.5


def explicitness_from_codes(
    train_codes, train_factors, test_codes, test_factors, n_jobs: int | None = None
) -> dict[str, float]:
    """Explicitness on the test set and on the training set (module docstring); the factors'
    classifiers are fitted on ``n_jobs`` threads (:mod:`pyrodis.metrics.parallel`)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    z_tr, y_tr = check_pair(train_codes, train_factors)
    z_te, y_te = check_pair(test_codes, test_factors)
    z_tr, z_te = _standardise(z_tr, z_te)

    def fit(k: int) -> tuple[float, float]:
        clf = LogisticRegression().fit(z_tr, y_tr[:, k])
        train = _mean_auc(y_tr[:, k], clf.predict_proba(z_tr), clf.classes_)
        return train, _mean_auc(y_te[:, k], clf.predict_proba(z_te), clf.classes_)

    keep = varying_factors(y_tr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = map_threads(fit, keep, n_jobs, cost=[len(np.unique(y_tr[:, k])) for k in keep])
    train_scores = [train for train, _ in scores]
    test_scores = [test for _, test in scores]
    return {
        "explicitness": float(np.mean(test_scores)),
        "explicitness_train": float(np.mean(train_scores)),
    }


def modularity(
    representation: Representation,
    dataset,
    seed: int | np.random.Generator | None = 0,
    *,
    num_train: int = 10_000,
    num_test: int = 5_000,
    batch_size: int = 16,
    num_bins: int = 20,
    n_jobs: int | None = None,
) -> dict[str, float]:
    """Modularity (on the training set) and explicitness of a representation.

    Ridgeway & Mozer 2018, protocol of Locatello et al. 2019: ``num_train`` then ``num_test``
    points in batches of ``batch_size`` from ``seed``.  Returns ``modularity``, ``explicitness``
    (test ROC-AUC) and ``explicitness_train``.  ``n_jobs``: threads for the explicitness
    classifiers (default: as many as torch uses; :mod:`pyrodis.metrics.parallel`).
    """
    train, test = code_sets(representation, dataset, seed, [num_train, num_test], batch_size)
    out = modularity_from_codes(*train, num_bins=num_bins)
    out.update(explicitness_from_codes(*train, *test, n_jobs=n_jobs))
    return out


#: the earlier name of :func:`modularity`, kept as an alias (``docs/api.rst``)
modularity_explicitness = modularity
