"""FactorVAE score (Kim & Mnih 2018), protocol of Locatello et al. 2019.

Global per-code variance (ddof 1) of 10,000 sampled codes; codes whose standard deviation is below
0.05 are pruned.  Per vote: pick a factor k uniformly among the factors with more than one value,
draw ``batch_size`` (64) factor vectors with factor k set to the first row's value, and the active
code with the smallest local variance (ddof 1) / global variance votes for (k, code).  The
majority-vote classifier maps each code to the factor that voted for it most on 10,000 training
votes; the score is the share of 5,000 evaluation votes it gets right.  No active code → 0.
``num_active_dims`` counts the active codes (the reference's counts all codes).
"""

from __future__ import annotations

import numpy as np

from pyrodis.seeding import as_generator

from .ground_truth import fixed_factor_groups, points_of, require_discrete
from .sampling import Representation, encode_groups, encode_points


def factor_vae_votes(
    representation: Representation,
    dataset,
    num_points: int,
    rng: np.random.Generator,
    global_variance: np.ndarray,
    active: np.ndarray,
    batch_size: int = 64,
) -> np.ndarray:
    """Vote counts (num_factors, num_active_codes) of ``num_points`` votes (module docstring)."""
    labels, groups = fixed_factor_groups(dataset, num_points, rng, batch_size, paired=False)
    codes = encode_groups(representation, dataset, groups[:, 0])
    local = codes.var(axis=1, ddof=1)[:, active] / global_variance[active]
    votes = np.zeros((len(dataset.factor_sizes), int(active.sum())))
    np.add.at(votes, (labels, local.argmin(1)), 1)
    return votes


def factor_vae(
    representation: Representation,
    dataset,
    seed: int | np.random.Generator | None = 0,
    *,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    batch_size: int = 64,
    num_variance_estimate: int = 10_000,
    prune_threshold: float = 0.05,
) -> dict[str, float]:
    """FactorVAE score of a representation (module docstring).

    One generator seeded by ``seed`` draws the variance-estimate sample, then the training votes,
    then the evaluation votes.  Returns ``factor_vae`` (the score: accuracy on the evaluation
    votes), ``factor_vae_train`` (on the training votes) and ``num_active_dims``.
    """
    require_discrete(dataset, "FactorVAE")
    if batch_size < 2 or num_variance_estimate < 2:
        raise ValueError("batch_size and num_variance_estimate must be >= 2 (variances, ddof 1)")
    rng = as_generator(seed)
    points = points_of(dataset)
    keys = points.draw(num_variance_estimate, rng)
    global_variance = encode_points(representation, points, keys).var(axis=0, ddof=1)
    active = np.sqrt(global_variance) >= prune_threshold
    if not active.any():
        return {"factor_vae": 0.0, "factor_vae_train": 0.0, "num_active_dims": 0.0}
    args = (global_variance, active, batch_size)
    train_votes = factor_vae_votes(representation, dataset, num_train, rng, *args)
    eval_votes = factor_vae_votes(representation, dataset, num_eval, rng, *args)
    classifier = train_votes.argmax(0)
    columns = np.arange(train_votes.shape[1])
    return {
        "factor_vae": float(eval_votes[classifier, columns].sum() / eval_votes.sum()),
        "factor_vae_train": float(train_votes[classifier, columns].sum() / train_votes.sum()),
        "num_active_dims": float(active.sum()),
    }


#: the earlier name of :func:`factor_vae`, kept as an alias (``docs/api.rst``)
factor_vae_score = factor_vae
