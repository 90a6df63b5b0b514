"""Unsupervised Disentanglement Ranking (Duan et al. 2020), as in ``disentanglement_lib``.

All models encode the same ``num_points`` (1,000) observations.  Each model's mean codes are
standardised (StandardScaler: mean 0, std 1 with ddof 0; a constant code stays 0) and its
uninformative codes are zeroed: codes with mean KL(q(z_j|x) || p(z_j)) < ``kl_threshold`` (0.01),
or — when no KL is given — codes whose variance over the points (active-unit criterion, Burda et
al. 2015) is ≤ 0.01 (the stated fallback).  For each ordered pair (i, j) the similarity matrix R
(codes_i × codes_j) is |Lasso(alpha=0.1) coefficients| of regressing model j's codes on model i's,
or |Spearman correlation|; restricted to the informative codes of both models,

    UDR_ij = ( mean over columns of max² / sum  +  mean over rows of max² / sum ) / 2,

a 0/0 entry counting as 0 (no informative code at all → 0).  A model's score is the median of
UDR_ji over its partners j.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pyrodis.seeding import as_generator

from .checks import check_codes
from .ground_truth import observed_points
from .sampling import Representation, encode_points

CORRELATIONS = ("lasso", "spearman")


def _similarity(a: np.ndarray, b: np.ndarray, correlation: str, alpha: float) -> np.ndarray:
    if correlation == "lasso":
        from sklearn.linear_model import Lasso

        return np.abs(Lasso(alpha=alpha).fit(a, b).coef_).T.reshape(a.shape[1], b.shape[1])
    from scipy.stats import rankdata

    ra = rankdata(a, axis=0)
    rb = rankdata(b, axis=0)
    ra, rb = ra - ra.mean(0), rb - rb.mean(0)
    na, nb = np.sqrt((ra**2).sum(0)), np.sqrt((rb**2).sum(0))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = (ra.T @ rb) / np.outer(na, nb)
    return np.nan_to_num(np.abs(corr), nan=0.0)


def relative_strength(matrix: np.ndarray) -> float:
    """(mean over columns of max²/sum + mean over rows of max²/sum) / 2, 0/0 counting as 0."""
    if matrix.size == 0:
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        cols = np.nan_to_num(matrix.max(0) ** 2 / matrix.sum(0), nan=0.0, posinf=0.0)
        rows = np.nan_to_num(matrix.max(1) ** 2 / matrix.sum(1), nan=0.0, posinf=0.0)
    return float((cols.mean() + rows.mean()) / 2)


def udr_from_codes(
    codes: Sequence,
    kl: Sequence | None = None,
    correlation: str = "lasso",
    alpha: float = 0.1,
    kl_threshold: float = 0.01,
    activity_threshold: float = 0.01,
) -> dict[str, list]:
    """UDR of several models from their mean codes on the same points (module docstring).

    Args:
        codes: one array (n, d_i) per model, rows aligned (the same observations).
        kl: optional per-model mean KL per code, arrays (d_i,).
        correlation: ``"lasso"`` (default) or ``"spearman"``.

    Returns ``{"udr": [M floats, one per model], "udr_pairwise": M×M nested list UDR_ij}``.
    """
    if correlation not in CORRELATIONS:
        raise ValueError(f"correlation must be one of {CORRELATIONS}, got {correlation!r}")
    reps = [check_codes(c, f"codes[{i}]") for i, c in enumerate(codes)]
    if len(reps) < 2:
        raise ValueError("UDR compares models with each other: pass at least two models' codes")
    if len({r.shape[0] for r in reps}) != 1:
        raise ValueError("every model's codes must have one row per shared observation")
    if kl is not None and len(kl) != len(reps):
        raise ValueError(f"kl must have one entry per model ({len(reps)}), got {len(kl)}")
    masks, scaled = [], []
    for i, r in enumerate(reps):
        if kl is None:
            mask = r.var(0, ddof=1) > activity_threshold
        else:
            kl_i = np.asarray(kl[i], dtype=np.float64).ravel()
            if kl_i.shape[0] != r.shape[1]:
                raise ValueError(f"kl[{i}] has {kl_i.shape[0]} entries for {r.shape[1]} codes")
            mask = kl_i > kl_threshold
        std = r.std(0)
        scaled.append((r - r.mean(0)) / np.where(std > 0, std, 1.0) * mask)
        masks.append(mask)
    m = len(reps)
    pairwise = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            if i != j:
                sim = _similarity(scaled[i], scaled[j], correlation, alpha)
                pairwise[i, j] = relative_strength(sim[np.ix_(masks[i], masks[j])])
    scores = [float(np.median(np.delete(pairwise[:, i], i))) for i in range(m)]
    return {"udr": scores, "udr_pairwise": pairwise.tolist()}


def udr(
    representations: Sequence[Representation],
    dataset,
    seed: int | np.random.Generator | None = 0,
    *,
    kl: Sequence | None = None,
    num_points: int = 1_000,
    correlation: str = "lasso",
    alpha: float = 0.1,
    kl_threshold: float = 0.01,
    activity_threshold: float = 0.01,
) -> dict[str, list]:
    """UDR model selection scores of several representations (module docstring).

    ``num_points`` points are drawn from ``seed`` (one call) and every representation
    encodes the same observations; ``kl`` optionally gives each model's mean KL per code.
    UDR needs no factors: ``dataset`` may be a dataset of observations only (your own images).
    """
    points = observed_points(dataset)
    keys = points.draw(int(num_points), as_generator(seed))
    codes = [encode_points(rep, points, keys) for rep in representations]
    return udr_from_codes(codes, kl, correlation, alpha, kl_threshold, activity_threshold)
