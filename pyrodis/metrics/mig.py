"""Mutual Information Gap (Chen et al. 2018), discrete protocol of Locatello et al. 2019.

MIG = mean over factors k of (I(z_a; v_k) - I(z_b; v_k)) / H(v_k), where z_a and z_b are the two
codes with the highest mutual information with v_k.  The discrete protocol discretises the codes
into 20 equal-width bins and uses plug-in estimates on 10,000 sampled points (``docs/metrics.rst``).
Chen's own protocol (entropies of posterior samples over the whole dataset) lives in
:func:`~pyrodis.metrics.mig_chen`; the two numbers are not comparable.
"""

from __future__ import annotations

import numpy as np

from .checks import check_pair, varying_factors
from .discretize import histogram_discretize
from .gaps import top_two_gap
from .mig_chen import mig_chen
from .plugin_mi import discrete_entropy, mutual_info_matrix
from .sampling import Representation, code_sets

PROTOCOLS = ("locatello", "chen")


def mig_from_codes(codes, factors, num_bins: int = 20) -> dict[str, float]:
    """MIG of codes (n, d) against factor classes (n, K), discrete protocol.

    Codes are discretised with :func:`histogram_discretize` (``num_bins`` equal-width bins), the MI
    matrix and the factor entropies are plug-in estimates in nats on the same points.  Factors
    with a single value on the points (H = 0, e.g. dSprites' colour) are left out — the reference
    drops them from the dataset; with a single code the second-best MI is taken as 0 (the
    reference crashes).  Returns ``{"mig": value}``.  Bins cap what a perfect code can reach when a
    factor has more classes than ``num_bins`` (``docs/metrics.rst``, discretisation).
    """
    z, y = check_pair(codes, factors)
    y = y[:, varying_factors(y)]
    mi = mutual_info_matrix(histogram_discretize(z, num_bins), y)
    return {"mig": float(np.mean(top_two_gap(mi) / discrete_entropy(y)))}


def mig(
    representation: Representation,
    dataset,
    seed: int | np.random.Generator | None = 0,
    *,
    protocol: str = "locatello",
    num_train: int = 10_000,
    batch_size: int = 16,
    num_bins: int = 20,
    posterior=None,
    num_points: int | None = None,
    num_entropy_samples: int = 10_000,
    exclude_factors=(),
) -> dict[str, float]:
    """Mutual Information Gap of a representation on a ground-truth dataset.

    ``protocol="locatello"`` (default; Locatello et al. 2019, ``disentanglement_lib``): sample
    ``num_train`` factor vectors in batches of ``batch_size`` from ``seed``, encode them with
    ``representation`` (the encoder mean in the reference; pass a sampling function for the
    "sampled" representation) and compute :func:`mig_from_codes` with ``num_bins`` bins.

    ``protocol="chen"`` (Chen et al. 2018): entropies of posterior samples, normalised by log K;
    needs ``posterior`` (observations → (loc, scale) of a factorised Gaussian q(z|x)); see
    :func:`~pyrodis.metrics.mig_chen` for ``num_points``, ``num_entropy_samples`` and
    ``exclude_factors`` (e.g. ``("shape",)`` on dSprites, as Chen did).  ``representation`` is
    not used by this protocol.

    Returns ``{"mig": value}``.
    """
    if protocol == "chen":
        if posterior is None:
            raise ValueError(
                "protocol='chen' needs posterior=callable(observations) -> (loc, scale), e.g. "
                "posterior=vae.encode; the representation function alone has no posterior."
            )
        return mig_chen(
            posterior,
            dataset,
            seed,
            num_points=num_points,
            num_entropy_samples=num_entropy_samples,
            exclude_factors=exclude_factors,
        )
    if protocol != "locatello":
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    ((codes, factors),) = code_sets(representation, dataset, seed, [num_train], batch_size)
    return mig_from_codes(codes, factors, num_bins)


#: the earlier name of :func:`mig`, kept as an alias (``docs/api.rst``)
mutual_information_gap = mig
