"""DCI: disentanglement, completeness, informativeness (Eastwood & Williams 2018).

Protocol of Locatello et al. 2019 (``docs/metrics.rst``): one gradient-boosted tree classifier per factor
on the raw codes of 10,000 training points, importance matrix R (codes × factors) =
|feature_importances_|; disentanglement = Σ_c ρ_c (1 - H_K(R_c· / Σ R_c·)) with ρ_c = Σ R_c· / Σ R;
completeness = mean over factors of 1 - H_C(R_·k / Σ R_·k) (entropies in base K = number of
factors and C = number of codes, 1e-11 added first); informativeness = mean test accuracy of the
classifiers on 5,000 points (higher is better).
"""

from __future__ import annotations

import warnings

import numpy as np

from pyrodis.seeding import as_generator

from ._gbt import GradientBoostedTrees
from .checks import check_pair, varying_factors
from .parallel import map_threads, resolve_jobs
from .sampling import Representation, code_sets

ESTIMATORS = ("exact", "binned", "sklearn")


def _entropy_rows(p: np.ndarray, base: int) -> np.ndarray:
    """Entropy in base ``base`` of each row of non-negative weights (as scipy.stats.entropy)."""
    p = p + 1e-11
    p = p / p.sum(1, keepdims=True)
    return -(p * np.log(p)).sum(1) / np.log(base)


def disentanglement_completeness(importance) -> tuple[float, float]:
    """Disentanglement and completeness of an importance matrix R (codes × factors).

    A matrix of zeros is treated as uniform (the reference does the same).  With one factor every
    code is trivially dedicated to it (disentanglement 1 per code); with one code it trivially
    captures each factor (completeness 1) — the base-1 entropies are undefined there.
    """
    r = np.abs(np.asarray(importance, dtype=np.float64))
    if r.ndim != 2 or r.size == 0 or not np.all(np.isfinite(r)):
        raise ValueError(
            f"importance must be a finite 2-D array (codes × factors), got shape {r.shape}"
        )
    if r.sum() == 0:
        r = np.ones_like(r)
    n_codes, n_factors = r.shape
    if n_factors > 1:
        per_code = 1.0 - _entropy_rows(r, n_factors)
    else:
        per_code = np.ones(n_codes)
    rho = r.sum(1) / r.sum()
    disentanglement = float(np.sum(rho * per_code))
    if n_codes > 1:
        completeness = float(np.mean(1.0 - _entropy_rows(r.T, n_codes)))
    else:
        completeness = 1.0
    return disentanglement, completeness


def _fit_one(x_train, y_train, estimator: str, seed: int, n_jobs: int = 1):
    if estimator in ("exact", "binned"):
        model = GradientBoostedTrees(exact=estimator == "exact", seed=seed, n_jobs=n_jobs)
        model.fit(x_train, y_train)
        return model, model.feature_importances_
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(random_state=seed)
    model.fit(x_train, y_train)
    return model, model.feature_importances_


def importance_matrix(
    train_codes,
    train_factors,
    test_codes,
    test_factors,
    estimator: str = "exact",
    seed: int | np.random.Generator | None = 0,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Importance matrix R (codes × varying factors) and per-factor train and test accuracies.

    ``estimator`` picks the classifier; how each compares with the reference is in
    ``docs/metrics.rst`` (DCI).  ``"exact"`` (default) uses the private gradient-boosted trees
    (``pyrodis.metrics._gbt``): sklearn's algorithm with sklearn's exact splits, in compiled code.
    ``"binned"`` splits only at the edges of ≤256 quantile bins per feature (the estimator of
    earlier versions, kept only to reproduce their numbers).  ``"sklearn"`` runs
    ``sklearn.ensemble.GradientBoostingClassifier()`` itself.
    ``seed`` only breaks ties between equally good splits (the reference leaves them unseeded).
    Factors with a single value on the training points are left out (no classifier can be
    trained on them; the reference drops them from the dataset).  ``n_jobs`` threads
    (:mod:`pyrodis.metrics.parallel`) grow the class trees of each boosting stage (``"exact"``,
    ``"binned"``) or fit the factors' classifiers side by side (``"sklearn"``); the values do
    not depend on it.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    x_tr, y_tr = check_pair(train_codes, train_factors)
    x_te, y_te = check_pair(test_codes, test_factors)
    if x_te.shape[1] != x_tr.shape[1] or y_te.shape[1] != y_tr.shape[1]:
        raise ValueError("train and test sets must have the same numbers of codes and factors")
    keep = varying_factors(y_tr)
    rng = as_generator(seed)
    seeds = [int(rng.integers(2**31)) for _ in keep]  # drawn in order: the same for any n_jobs

    ours = estimator != "sklearn"  # threads inside each fit, over its class trees
    inner = resolve_jobs(n_jobs) if ours else 1

    def fit(col: int) -> tuple[np.ndarray, float, float]:
        k = keep[col]
        model, imp = _fit_one(x_tr, y_tr[:, k], estimator, seeds[col], inner)
        if ours:  # the fit's own scores: equal to predicting the training codes again
            train = model.train_accuracy_
        else:
            train = np.mean(model.predict(x_tr) == y_tr[:, k])
        return np.abs(imp), float(train), float(np.mean(model.predict(x_te) == y_te[:, k]))

    classes = [len(np.unique(y_tr[:, k])) for k in keep]
    fits = map_threads(fit, range(len(keep)), 1 if ours else n_jobs, cost=classes)
    importance = np.zeros((x_tr.shape[1], len(keep)))
    train_acc, test_acc = np.zeros(len(keep)), np.zeros(len(keep))
    for col, (imp, train, test) in enumerate(fits):
        importance[:, col], train_acc[col], test_acc[col] = imp, train, test
    return importance, train_acc, test_acc


def dci_from_codes(
    train_codes,
    train_factors,
    test_codes,
    test_factors,
    estimator: str = "exact",
    seed: int | np.random.Generator | None = 0,
    n_jobs: int | None = None,
) -> dict[str, float]:
    """DCI scores from train and test codes/factors (see module docstring and
    :func:`importance_matrix`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        importance, train_acc, test_acc = importance_matrix(
            train_codes, train_factors, test_codes, test_factors, estimator, seed, n_jobs
        )
    disentanglement, completeness = disentanglement_completeness(importance)
    return {
        "disentanglement": disentanglement,
        "completeness": completeness,
        "informativeness": float(test_acc.mean()),
        "informativeness_train": float(train_acc.mean()),
    }


def dci(
    representation: Representation,
    dataset,
    seed: int | np.random.Generator | None = 0,
    *,
    num_train: int = 10_000,
    num_test: int = 5_000,
    batch_size: int = 16,
    estimator: str = "exact",
    n_jobs: int | None = None,
) -> dict[str, float]:
    """DCI of a representation (Eastwood & Williams 2018; protocol of Locatello et al. 2019).

    Samples ``num_train`` then ``num_test`` points in batches of ``batch_size`` from ``seed``,
    encodes them with ``representation`` and returns :func:`dci_from_codes`:
    ``disentanglement``, ``completeness``, ``informativeness`` (mean test accuracy) and
    ``informativeness_train``.  ``estimator``: ``"exact"`` (default), ``"binned"`` (to
    reproduce earlier versions' numbers) or ``"sklearn"`` (the reference
    classifier itself); see :func:`importance_matrix`.  ``n_jobs``: threads for the classifiers
    (default: as many as torch uses; see :mod:`pyrodis.metrics.parallel`).
    """
    train, test = code_sets(representation, dataset, seed, [num_train, num_test], batch_size)
    return dci_from_codes(
        *train, *test, estimator=estimator, seed=as_generator(seed), n_jobs=n_jobs
    )
