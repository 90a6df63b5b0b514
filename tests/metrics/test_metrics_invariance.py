"""Every metric is invariant to permuting latents and to rescaling or flipping one latent."""

import numpy as np
import pytest
from kit.fake_codes import SMALL_SIZES, FactorGrid, noisy, perfect, transformed

from pyrodis.metrics import (
    beta_vae_score,
    dci_from_codes,
    explicitness_from_codes,
    factor_vae_score,
    gaussian_total_correlation,
    irs_from_codes,
    mean_pairwise_mutual_info,
    mig_from_codes,
    modularity_from_codes,
    sample_codes,
    sap_from_codes,
    wasserstein_dependency,
)

DATA = FactorGrid(SMALL_SIZES)
PERM = np.array([2, 0, 1])
_MIX = np.array([[1.0, 0.3, 0.0], [0.2, 1.0, 0.4], [0.0, 0.5, 1.0]])


def _transforms():
    def scale(z):
        z = z.copy()
        z[:, 1] *= 3.7
        return z

    def flip(z):
        z = z.copy()
        z[:, 0] *= -1
        return z

    return {"permute": lambda z: z[:, PERM], "rescale": scale, "flip": flip}


@pytest.fixture(scope="module")
def code_sets():
    # partly rotated and noisy, so that no score sits at a bound
    rep = noisy(transformed(perfect(SMALL_SIZES), lambda z: z @ _MIX), 0.05)
    rng = np.random.default_rng(0)
    return [(sample_codes(rep, DATA, 1000, rng), sample_codes(rep, DATA, 500, rng))]


def _array_scores(train, test, fn):
    (z, y), (zt, yt) = train, test
    z, zt = fn(z), fn(zt)
    return {
        "mig": mig_from_codes(z, y)["mig"],
        "modularity": modularity_from_codes(z, y)["modularity"],
        "explicitness": explicitness_from_codes(z, y, zt, yt)["explicitness"],
        "irs": irs_from_codes(z, y)["irs"],
        "tc": gaussian_total_correlation(z),
        "pairwise_mi": mean_pairwise_mutual_info(z),
        "sap": sap_from_codes(z, y, zt, yt)["sap"],
        **{f"dci.{k}": v for k, v in dci_from_codes(z, y, zt, yt).items()},
    }


@pytest.fixture(scope="module")
def base_scores(code_sets):
    return [_array_scores(train, test, lambda z: z) for train, test in code_sets]


@pytest.mark.parametrize("name", ["permute", "rescale", "flip"])
def test_array_metrics_invariant(code_sets, base_scores, name):
    fn = _transforms()[name]
    for (train, test), base in zip(code_sets, base_scores):
        moved = _array_scores(train, test, fn)
        for key, value in base.items():
            if name == "rescale" and key in ("irs", "sap"):
                continue  # by definition not scale-free: see the tests below
            # DCI's trees break exact ties at random; equal-width bins of a flipped code can
            # move a point sitting exactly on an edge.
            tol = 0.03 if key.startswith("dci") else 5e-3
            assert moved[key] == pytest.approx(value, abs=tol), (name, key)


@pytest.mark.parametrize("name", ["permute", "flip"])
def test_wasserstein_invariant_to_permutation_and_flip(code_sets, name):
    (z, _), _ = code_sets[0]
    fn = _transforms()[name]
    for normalize in (False, True):
        assert wasserstein_dependency(fn(z), normalize) == pytest.approx(
            wasserstein_dependency(z, normalize), rel=1e-9, abs=1e-12
        )


@pytest.mark.parametrize("name", ["permute", "rescale", "flip"])
def test_sampling_protocols_invariant(name):
    rep = noisy(perfect(SMALL_SIZES), 0.3, seed=2)
    kwargs = {"num_train": 300, "num_eval": 200}
    base_f = factor_vae_score(rep, DATA, 5, num_variance_estimate=1000, **kwargs)
    base_b = beta_vae_score(noisy(perfect(SMALL_SIZES), 0.3, seed=2), DATA, 5, **kwargs)
    moved = transformed(noisy(perfect(SMALL_SIZES), 0.3, seed=2), _transforms()[name])
    f = factor_vae_score(moved, DATA, 5, num_variance_estimate=1000, **kwargs)
    assert f["factor_vae"] == pytest.approx(base_f["factor_vae"], abs=1e-12)
    moved = transformed(noisy(perfect(SMALL_SIZES), 0.3, seed=2), _transforms()[name])
    b = beta_vae_score(moved, DATA, 5, **kwargs)
    assert b["beta_vae"] == pytest.approx(base_b["beta_vae"], abs=0.03)


def test_irs_rescaling_only_changes_the_code_weights(code_sets):
    (z, y), _ = code_sets[0]
    base = irs_from_codes(z, y)["irs"]
    assert irs_from_codes(5.0 * z, y)["irs"] == pytest.approx(base, abs=1e-9)  # all codes alike
    weights = np.abs(z - z.mean(0)).max(0)
    squashed = z / weights  # equal weights: the plain mean of the per-code scores
    rescaled = squashed * np.array([1.0, 7.0, 1.0])
    assert irs_from_codes(rescaled, y)["irs"] != pytest.approx(irs_from_codes(squashed, y)["irs"])


def test_sap_scale_dependence_is_the_reference_svm_regularisation(code_sets):
    """Discrete SAP uses LinearSVC(C=0.01) on each raw code, as the reference does: the
    regularisation makes it depend on a code's scale.  Continuous SAP (R²) is scale-free."""
    (z, y), (zt, yt) = code_sets[0]
    scale = np.array([1.0, 3.7, 1.0])
    assert sap_from_codes(z * scale, y, continuous=True)["sap"] == pytest.approx(
        sap_from_codes(z, y, continuous=True)["sap"], abs=1e-12
    )
    from sklearn.svm import LinearSVC

    small = LinearSVC(C=0.01, class_weight="balanced").fit(z[:, 1:2], y[:, 1]).predict(zt[:, 1:2])
    large = LinearSVC(C=0.01, class_weight="balanced").fit(z[:, 1:2] * 100, y[:, 1])
    assert np.mean(small == yt[:, 1]) != np.mean(large.predict(zt[:, 1:2] * 100) == yt[:, 1])
