"""Chen et al.'s MIG estimator and UDR model selection."""

import numpy as np
import pytest
import torch
from kit.fake_codes import FactorGrid, perfect, rotated

from pyrodis.metrics import chen_mig, evaluate, marginal_entropies, udr, udr_from_codes

SIZES = (3, 4, 5)
DATA = FactorGrid(SIZES)


def posterior_of(rep, scale):
    return lambda obs: (rep(obs), np.full((len(obs), 3), scale))


def test_marginal_entropy_of_one_gaussian_is_the_closed_form():
    rng = np.random.default_rng(0)
    sigma = np.array([[0.5, 2.0]])
    z = rng.normal(size=(20_000, 2)) * sigma
    h = marginal_entropies(z, np.zeros((1, 2)), sigma)
    np.testing.assert_allclose(h, 0.5 * np.log(2 * np.pi * np.e * sigma[0] ** 2), atol=0.02)


def test_chen_mig_perfect_vs_rotated():
    good = chen_mig(posterior_of(perfect(SIZES), 0.01), DATA, 0, num_points=600)["mig"]
    bad = chen_mig(posterior_of(rotated(perfect(SIZES), 3), 0.01), DATA, 0, num_points=600)["mig"]
    assert good > 0.8 and bad < good - 0.4


def test_chen_mig_full_grid_excluding_a_factor():
    post = posterior_of(perfect(SIZES), 0.01)
    full = chen_mig(post, DATA, 0)["mig"]  # whole grid (60 points), Chen's protocol
    without = chen_mig(post, DATA, 0, exclude_factors=["f0"])["mig"]
    assert 0.8 < full <= 1.0 and 0.8 < without <= 1.0
    with pytest.raises(ValueError, match="unknown factor"):
        chen_mig(post, DATA, 0, exclude_factors=["shape"])


def test_chen_through_evaluate_accepts_torch_outputs():
    def post(obs):
        loc = torch.as_tensor(perfect(SIZES)(obs))
        return loc, torch.full_like(loc, 0.05)

    result = evaluate(
        perfect(SIZES),
        DATA,
        ["mig_chen"],
        posterior=post,
        options={"mig_chen": {"num_points": 300}},
    )
    assert result["mig_chen"]["mig"] > 0.7


def test_udr_ranks_consistent_models_above_inconsistent_ones():
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(1000, 3))
    perm = factors[:, [2, 0, 1]] * [1.0, -2.0, 0.5]
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    mixed = factors @ q
    codes = [factors, perm, factors + 0.05 * rng.normal(size=factors.shape), mixed]
    for corr in ("lasso", "spearman"):
        scores = udr_from_codes(codes, correlation=corr)["udr"]
        assert min(scores[:3]) > scores[3] + 0.1, corr
        assert min(scores[:3]) > 0.8


def test_udr_zeroes_uninformative_codes_by_kl_or_variance():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(500, 2))
    a = np.c_[base, 1e-3 * rng.normal(size=500)]  # third code collapsed
    b = np.c_[base[:, ::-1], 1e-3 * rng.normal(size=500)]
    by_var = udr_from_codes([a, b])
    by_kl = udr_from_codes([a, b], kl=[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    assert by_var["udr"] == pytest.approx(by_kl["udr"])
    assert min(by_var["udr"]) > 0.85  # Lasso(alpha=0.1) shrinks |coef| to ≈ 0.9
    with pytest.raises(ValueError, match="kl"):
        udr_from_codes([a, b], kl=[[1.0, 1.0]])
    assert udr_from_codes([a * 0, b * 0])["udr"] == [0.0, 0.0]


def test_udr_protocol_encodes_the_same_points_for_every_model():
    reps = [perfect(SIZES), rotated(perfect(SIZES), 3), perfect(SIZES)]
    out = udr(reps, DATA, seed=0, num_points=300)
    assert len(out["udr"]) == 3
    assert out["udr_pairwise"][0][2] == pytest.approx(out["udr_pairwise"][2][0])
    assert out["udr"][0] > out["udr"][1]
