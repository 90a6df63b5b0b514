"""Latents of two runs matched as UDR matches them (Duan et al. 2020; ``docs/explore.rst``).

Both runs encode the same ``num_points`` images (1,000, as UDR) into their mean codes; R is the
signed Spearman correlation of every latent of run A with every latent of run B on those images.
Latents are paired one to one by maximising Σ |R| (Hungarian assignment) over the active latents
(the report's active units: the variance of the latent's posterior mean over the images is above
0.01; an inactive latent stays unpaired), and each pair keeps the sign of its
correlation: identifiability up to permutation and sign, made visible. A value moved on latent i
of run A moves its match j of run B to the same standardised position, mirrored when the sign is
negative: z_B,j = c_B,j + s·(z_A,i − c_A,i)·σ_B,j / σ_A,i, with c, σ the mean and standard
deviation of the marginals q(z).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata

from pyrodis.metrics import udr_from_codes
from pyrodis.seeding import as_generator

from .model import ExploredModel

__all__ = ["Matching", "match_models", "spearman_matrix"]


def spearman_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signed Spearman correlation of each column of ``a`` (n, Da) with each of ``b`` (n, Db);
    a constant column correlates 0 with everything."""
    ra, rb = rankdata(a, axis=0), rankdata(b, axis=0)
    ra, rb = ra - ra.mean(0), rb - rb.mean(0)
    norm = np.outer(np.sqrt((ra**2).sum(0)), np.sqrt((rb**2).sum(0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num((ra.T @ rb) / norm, nan=0.0, posinf=0.0, neginf=0.0)


@dataclass
class Matching:
    """Latent i of run A is paired with ``partner[i]`` of run B (−1: unpaired) with ``sign[i]``
    (±1) and ``strength[i]`` = |R| of the pair; ``udr`` is the pair's UDR score (Spearman)."""

    partner: np.ndarray
    sign: np.ndarray
    strength: np.ndarray
    correlation: np.ndarray
    udr: float

    def to_dict(self) -> dict:
        return {
            "partner": self.partner.tolist(),
            "sign": self.sign.tolist(),
            "strength": self.strength.tolist(),
            "udr": self.udr,
        }


def match_models(
    a: ExploredModel, b: ExploredModel, num_points: int = 1_000, seed: int = 0
) -> Matching:
    """Pair the latents of ``a`` and ``b`` on the same ``num_points`` images of ``a``'s dataset."""
    if tuple(a.image_shape) != tuple(b.image_shape):
        raise ValueError(
            f"the two runs see images of different shapes ({a.image_shape} and {b.image_shape}); "
            "latents can be matched only between runs on the same images"
        )
    n = min(int(num_points), a.num_data)
    idx = np.sort(as_generator(seed).choice(a.num_data, size=n, replace=False))
    x = a.observations(idx)
    ca, cb = a.encode_images(x), b.encode_images(x)
    corr = spearman_matrix(ca, cb)
    weights = np.abs(corr) * np.outer(a.active, b.active)
    rows, cols = linear_sum_assignment(-weights)
    partner = np.full(a.latent_dim, -1, dtype=np.int64)
    sign = np.ones(a.latent_dim, dtype=np.int64)
    strength = np.zeros(a.latent_dim)
    for i, j in zip(rows, cols):
        if weights[i, j] > 0:
            partner[i], sign[i] = j, 1 if corr[i, j] >= 0 else -1
            strength[i] = abs(corr[i, j])
    score = udr_from_codes([ca, cb], kl=[a.kl, b.kl], correlation="spearman")
    return Matching(partner, sign, strength, corr, float(score["udr_pairwise"][0][1]))
