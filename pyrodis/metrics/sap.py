"""SAP: Separated Attribute Predictability (Kumar et al. 2018), protocol of Locatello et al. 2019.

Score matrix S[code, factor]: discrete factors (the study setting) — test accuracy of
``LinearSVC(C=0.01, class_weight="balanced")`` trained on that single code; continuous factors —
R² = cov(z, v)² / (var z var v) on the training points (0 when var z ≤ 1e-12).  SAP = mean over
factors of the gap between the two largest entries of the factor's column.  A linear classifier on one
scalar cannot separate many classes, so even a perfect code scores low (``docs/metrics.rst``).
The SVM is regularised (C = 0.01) on the raw code, so the discrete score depends on each code's
scale (a code with a small range cannot be separated at all); that is the reference protocol and is
kept.  The continuous (R²) score is scale-free.
"""

from __future__ import annotations

import warnings

import numpy as np

from .checks import check_pair, varying_factors
from .gaps import top_two_gap
from .parallel import map_threads, resolve_jobs
from .sampling import Representation, code_sets


def _r2_matrix(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    zc = codes - codes.mean(0)
    yc = factors - factors.mean(0)
    n = len(codes)
    cov = zc.T @ yc / (n - 1)
    var_z = (zc**2).sum(0) / (n - 1)
    var_y = (yc**2).sum(0) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = cov**2 / (var_z[:, None] * var_y[None, :])
    return np.where(var_z[:, None] > 1e-12, r2, 0.0)


def sap_matrix(
    train_codes,
    train_factors,
    test_codes=None,
    test_factors=None,
    continuous: bool = False,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Score matrix S (codes × varying factors) of SAP (module docstring).

    The discrete version needs the test set; factors with one value on the training points are
    left out (the reference drops them from the dataset).  Its (code, factor) classifiers are
    fitted on ``n_jobs`` threads (:mod:`pyrodis.metrics.parallel`; the values do not depend on it);
    the continuous version has no classifiers and uses one thread.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    resolve_jobs(n_jobs)  # a bad n_jobs is an error on both paths, used or not
    z, y = check_pair(train_codes, train_factors)
    keep = varying_factors(y)
    y = y[:, keep]
    if continuous:
        return _r2_matrix(z, y.astype(np.float64))
    if test_codes is None or test_factors is None:
        raise ValueError("discrete SAP needs test_codes and test_factors (a held-out set)")
    z_te, y_te = check_pair(test_codes, test_factors)
    y_te = y_te[:, keep]

    def fit(pair: tuple[int, int]) -> float:
        i, j = pair
        clf = LinearSVC(C=0.01, class_weight="balanced").fit(z[:, i : i + 1], y[:, j])
        return float(np.mean(clf.predict(z_te[:, i : i + 1]) == y_te[:, j]))

    pairs = [(i, j) for i in range(z.shape[1]) for j in range(y.shape[1])]
    with warnings.catch_warnings():  # the filters are the process's: set once, around the threads
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = map_threads(fit, pairs, n_jobs)
    return np.asarray(scores, dtype=np.float64).reshape(z.shape[1], y.shape[1])


def sap_from_codes(
    train_codes,
    train_factors,
    test_codes=None,
    test_factors=None,
    continuous: bool = False,
    n_jobs: int | None = None,
) -> dict[str, float]:
    """``{"sap": SAP}`` from codes: mean over factors of the top-two gap of :func:`sap_matrix`
    (with one code, the second best is taken as 0)."""
    matrix = sap_matrix(train_codes, train_factors, test_codes, test_factors, continuous, n_jobs)
    return {"sap": float(np.mean(top_two_gap(matrix)))}


def sap(
    representation: Representation,
    dataset,
    seed: int | np.random.Generator | None = 0,
    *,
    num_train: int = 10_000,
    num_test: int = 5_000,
    batch_size: int = 16,
    continuous: bool = False,
    n_jobs: int | None = None,
) -> dict[str, float]:
    """SAP of a representation (Kumar et al. 2018; protocol of Locatello et al. 2019).

    Samples ``num_train`` then ``num_test`` points in batches of ``batch_size`` from ``seed`` and
    returns ``{"sap": sap_from_codes(...)}`` (discrete factors by default, as in the study).
    ``n_jobs``: threads for the (code, factor) classifiers (default: as many as torch uses).
    """
    sizes = [num_train] if continuous else [num_train, num_test]
    sets = code_sets(representation, dataset, seed, sizes, batch_size)
    test = sets[1] if len(sets) > 1 else (None, None)
    return sap_from_codes(*sets[0], *test, continuous=continuous, n_jobs=n_jobs)


#: the earlier name of :func:`sap`, kept as an alias (``docs/api.rst``)
sap_score = sap
