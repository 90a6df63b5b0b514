"""Unsupervised scores of mean codes (Locatello et al. 2019) and active units (Burda et al. 2015).

On 10,000 sampled codes with covariance Σ (ddof 1):

* Gaussian total correlation 0.5 (Σ_j log Σ_jj - log det Σ) = -0.5 log det R (R = correlation).
* Wasserstein dependency 2 tr Σ - 2 tr sqrt(Σ diag Σ), and the same divided by tr Σ.
* Mean pairwise MI of the 20-bin discretised codes (off-diagonal mean of the MI matrix).

Defined values where the reference gives NaN, inf or complex numbers: constant codes (variance
≤ 1e-12 × the largest, or exactly 0) are independent of everything and are left out of the total
correlation; the eigenvalues of R are floored at ``eps`` = 1e-6, so an exactly duplicated code adds
0.5 log(1/eps) ≈ 6.9 nats instead of +inf; tr sqrt(Σ diag Σ) is computed from the eigenvalues of
the symmetric PSD matrix D^½ Σ D^½ clipped at 0 (real, never NaN); the normalised Wasserstein
dependency is 0 when tr Σ = 0; the mean pairwise MI of a single code is 0.
"""

from __future__ import annotations

import numpy as np

from .checks import check_codes
from .discretize import histogram_discretize
from .ground_truth import has_factors, observed_points
from .plugin_mi import mutual_info_matrix
from .sampling import Representation, code_sets, encode_points, sample_batches


def _covariance(codes) -> np.ndarray:
    z = check_codes(codes)
    return np.atleast_2d(np.cov(z, rowvar=False))


def gaussian_total_correlation(codes, eps: float = 1e-6) -> float:
    """Total correlation of a Gaussian with the codes' covariance, in nats (module docstring)."""
    cov = _covariance(codes)
    var = np.diag(cov)
    keep = var > max(1e-12 * var.max(), 0.0)
    if keep.sum() < 2:
        return 0.0
    std = np.sqrt(var[keep])
    corr = cov[np.ix_(keep, keep)] / np.outer(std, std)
    eig = np.clip(np.linalg.eigvalsh((corr + corr.T) / 2), eps, None)
    return float(max(-0.5 * np.sum(np.log(eig)), 0.0))


def wasserstein_dependency(codes, normalize: bool = False) -> float:
    """2 tr Σ - 2 tr sqrt(Σ diag Σ) (divided by tr Σ if ``normalize``), module docstring."""
    cov = _covariance(codes)
    root_d = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    sym = root_d[:, None] * cov * root_d[None, :]
    eig = np.clip(np.linalg.eigvalsh((sym + sym.T) / 2), 0.0, None)
    trace = float(np.trace(cov))
    value = max(2.0 * trace - 2.0 * float(np.sqrt(eig).sum()), 0.0)
    if normalize:
        return value / trace if trace > 0 else 0.0
    return value


def mean_pairwise_mutual_info(codes, num_bins: int = 20) -> float:
    """Mean plug-in MI (nats) over ordered pairs of distinct discretised codes (0 for one code)."""
    labels = histogram_discretize(codes, num_bins)
    d = labels.shape[1]
    if d < 2:
        return 0.0
    mi = mutual_info_matrix(labels, labels)
    np.fill_diagonal(mi, 0.0)
    return float(mi.sum() / (d * d - d))


def active_units(codes, threshold: float = 0.01) -> np.ndarray:
    """Boolean mask of active codes: Cov_x(mean code) > threshold (Burda et al. 2015)."""
    return np.diag(_covariance(codes)) > threshold


def unsupervised_from_codes(codes, num_bins: int = 20) -> dict[str, float]:
    """All unsupervised scores of codes (n, d) (module docstring); ``num_active_dims`` counts the
    active units."""
    return {
        "gaussian_total_correlation": gaussian_total_correlation(codes),
        "wasserstein_dependency": wasserstein_dependency(codes),
        "wasserstein_dependency_norm": wasserstein_dependency(codes, normalize=True),
        "mutual_info_score": mean_pairwise_mutual_info(codes, num_bins),
        "num_active_dims": float(active_units(codes).sum()),
    }


def unsupervised(
    representation: Representation,
    dataset,
    seed: int | np.random.Generator | None = 0,
    *,
    num_train: int = 10_000,
    batch_size: int = 16,
    num_bins: int = 20,
) -> dict[str, float]:
    """Unsupervised scores of a representation on ``num_train`` codes sampled in batches of
    ``batch_size`` from ``seed`` (Locatello et al. 2019), plus the number of active units.

    ``dataset`` is a ground-truth dataset or one WITHOUT factors (``len`` and
    ``observations(indices)``, e.g. :func:`pyrodis.data.open_images`): these scores need only
    codes, so its points are drawn uniformly by row."""
    if has_factors(dataset):
        ((codes, _),) = code_sets(representation, dataset, seed, [num_train], batch_size)
    else:
        points = observed_points(dataset)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        keys = sample_batches(points, int(num_train), rng, batch_size)
        codes = encode_points(representation, points, keys)
    return unsupervised_from_codes(codes, num_bins)


#: the earlier name of :func:`unsupervised`, kept as an alias (``docs/api.rst``)
unsupervised_scores = unsupervised
