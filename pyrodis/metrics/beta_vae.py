"""BetaVAE score (Higgins et al. 2017), protocol of Locatello et al. 2019.

Per point: pick a factor k uniformly among the factors with more than one value, draw two batches
of ``batch_size`` (64) factor vectors, copy factor k from the first into the second, and take the
mean over the batch of |r(x1) - r(x2)| as the feature, with label k.  A multinomial
``LogisticRegression()`` (sklearn defaults, no standardisation) is trained on 10,000 such points;
the score is its accuracy on 5,000 more.  It saturates easily (``docs/metrics.rst``).
"""

from __future__ import annotations

import warnings

import numpy as np

from pyrodis.seeding import as_generator

from .ground_truth import fixed_factor_groups, require_discrete
from .parallel import single_blas_thread
from .sampling import Representation, encode_groups


def beta_vae_points(
    representation: Representation,
    dataset,
    num_points: int,
    rng: np.random.Generator,
    batch_size: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Features (num_points, d) and labels (num_points,) = factor indices (module docstring)."""
    labels, groups = fixed_factor_groups(dataset, num_points, rng, batch_size, paired=True)
    codes = encode_groups(representation, dataset, groups)
    return np.abs(codes[:, 0] - codes[:, 1]).mean(1), labels


def beta_vae(
    representation: Representation,
    dataset,
    seed: int | np.random.Generator | None = 0,
    *,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    batch_size: int = 64,
) -> dict[str, float]:
    """BetaVAE score of a representation (module docstring).

    One generator seeded by ``seed`` draws the ``num_train`` training points, then the
    ``num_eval`` evaluation points.  Returns ``beta_vae`` (the score: accuracy on the evaluation
    points) and ``beta_vae_train`` (accuracy on the training points).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    require_discrete(dataset, "BetaVAE")
    rng = as_generator(seed)
    x_train, y_train = beta_vae_points(representation, dataset, num_train, rng, batch_size)
    x_eval, y_eval = beta_vae_points(representation, dataset, num_eval, rng, batch_size)
    if len(np.unique(y_train)) < 2:  # one varying factor: the label is always right
        return {"beta_vae": 1.0, "beta_vae_train": 1.0}
    with warnings.catch_warnings(), single_blas_thread():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression().fit(x_train, y_train)
    return {
        "beta_vae": float(model.score(x_eval, y_eval)),
        "beta_vae_train": float(model.score(x_train, y_train)),
    }


#: the earlier name of :func:`beta_vae`, kept as an alias (``docs/api.rst``)
beta_vae_score = beta_vae
