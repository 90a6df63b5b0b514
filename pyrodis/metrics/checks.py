"""Input checks shared by the metrics: codes, factor classes, and the factors that vary.

Codes are arrays (n, d) of floats, factors arrays (n, K) of integer classes.  Every metric module
validates its arrays here, and this module imports no metric.
"""

from __future__ import annotations

import numpy as np

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_codes(codes, name: str = "codes") -> np.ndarray:
    """Return ``codes`` as a finite float64 array (n, d) within float32's range (what a network
    can output); a 1-D array is one latent (n, 1)."""
    if hasattr(codes, "detach"):  # a torch tensor
        codes = codes.detach().cpu().numpy()
    arr = np.asarray(codes, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n_points, n_codes), got {arr.shape}; "
            "flatten the representation to one row per observation."
        )
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} needs at least 2 points and 1 code, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} contain NaN or inf; check the representation function (e.g. a diverged "
            "encoder) before computing metrics."
        )
    largest = float(np.abs(arr).max())
    if largest > _FLOAT32_MAX:  # no network makes them; squares and SVMs overflow or stall
        raise ValueError(
            f"{name} reach {largest:.3g}, beyond float32's range (3.4e+38): the metrics' "
            "squares, covariances and classifiers overflow or do not converge at that scale; "
            "rescale them (e.g. divide each code by its standard deviation) or check the "
            "representation function."
        )
    return arr


def check_factors(factors, num_points: int | None = None, name: str = "factors") -> np.ndarray:
    """Return factor classes as an int64 array (n, K), checking they are integers."""
    arr = np.asarray(factors)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n_points, n_factors), got {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.mod(arr, 1) == 0):
            raise ValueError(
                f"{name} must be class indices (integers); discretise continuous factors first, "
                "e.g. with pyrodis.metrics.histogram_discretize."
            )
    arr = arr.astype(np.int64)
    if num_points is not None and arr.shape[0] != num_points:
        raise ValueError(
            f"{name} have {arr.shape[0]} rows but the codes have {num_points}; pass one row of "
            "factor classes per code row."
        )
    return arr


def check_pair(codes, factors) -> tuple[np.ndarray, np.ndarray]:
    """Validate codes (n, d) and factors (n, K) together."""
    z = check_codes(codes)
    return z, check_factors(factors, z.shape[0])


def varying_factors(factors: np.ndarray) -> np.ndarray:
    """Columns of ``factors`` with more than one value; error if there are none."""
    keep = np.flatnonzero(np.ptp(factors, axis=0) > 0)
    if keep.size == 0:
        raise ValueError(
            "every factor takes a single value on these points; the metric needs at least one "
            "varying factor (sample more points or check the dataset)."
        )
    return keep
