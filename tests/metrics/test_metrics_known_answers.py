"""Known answers: designed codes move every metric the way its definition says."""

import numpy as np
import pytest
from kit.fake_codes import (
    SMALL_SIZES,
    FactorGrid,
    duplicated,
    perfect,
    pure_noise,
    rotated,
    with_noise_codes,
)

from pyrodis.metrics import evaluate

SMALL = {"num_train": 2000, "num_test": 1000}
OPTIONS = {
    "beta_vae": {"num_train": 400, "num_eval": 200},
    "factor_vae": {"num_train": 400, "num_eval": 200, "num_variance_estimate": 2000},
    "mig": {"num_train": 2000},
    "dci": SMALL,
    "sap": SMALL,
    "modularity": SMALL,
    "irs": {"num_train": 2000},
    "unsupervised": {"num_train": 2000},
}
DATA = FactorGrid(SMALL_SIZES)
_CACHE = {}


def scores(name):
    """All metrics (flattened ``metric.sub``) of a named designed representation."""
    if name not in _CACHE:
        reps = {
            "perfect": perfect(SMALL_SIZES),
            "rotated": rotated(perfect(SMALL_SIZES), 3),
            "noise": pure_noise(3),
            "duplicated": duplicated(perfect(SMALL_SIZES)),
            "extra": with_noise_codes(perfect(SMALL_SIZES), 2),
        }
        result = evaluate(reps[name], DATA, seed=0, options=OPTIONS)
        _CACHE[name] = {f"{m}.{s}": v for m in result.values for s, v in result[m].items()}
    return _CACHE[name]


def test_perfect_code_scores_at_the_top():
    s = scores("perfect")
    for key in [
        "beta_vae.beta_vae",
        "factor_vae.factor_vae",
        "dci.disentanglement",
        "dci.completeness",
        "dci.informativeness",
        "modularity.modularity",
        "modularity.explicitness",
        "irs.irs",
    ]:
        assert s[key] > 0.97, key
    assert s["mig.mig"] > 0.95  # ≤ 20 classes: bins resolve every class
    assert s["sap.sap"] > 0.4  # a linear SVM on one scalar separates few classes
    assert s["unsupervised.gaussian_total_correlation"] < 0.01
    assert s["unsupervised.mutual_info_score"] < 0.01
    assert s["unsupervised.num_active_dims"] == 3


def test_rotation_destroys_axis_alignment_but_not_information():
    p, r = scores("perfect"), scores("rotated")
    assert r["mig.mig"] < p["mig.mig"] - 0.4
    assert r["dci.disentanglement"] < p["dci.disentanglement"] - 0.2
    assert r["sap.sap"] < p["sap.sap"] - 0.15
    assert r["dci.informativeness"] > 0.97
    assert r["modularity.explicitness"] > 0.97
    assert r["unsupervised.mutual_info_score"] > p["unsupervised.mutual_info_score"] + 0.5


def test_pure_noise_scores_at_chance():
    s = scores("noise")
    assert s["mig.mig"] < 0.02 and s["sap.sap"] < 0.02
    assert s["dci.disentanglement"] < 0.05 and s["dci.informativeness"] < 0.4
    assert s["beta_vae.beta_vae"] < 0.5 and s["factor_vae.factor_vae"] < 0.5
    assert abs(s["modularity.explicitness"] - 0.5) < 0.05


def test_duplicated_latent_hurts_mig_completeness_and_adds_dependence():
    p, s = scores("perfect"), scores("duplicated")
    # factor 0's two best codes are identical: its gap is 0, the others keep theirs
    assert s["mig.mig"] == pytest.approx(p["mig.mig"] * 2 / 3, abs=0.01)
    assert s["dci.completeness"] < p["dci.completeness"] - 0.1
    assert s["dci.disentanglement"] > 0.97  # each code still serves one factor
    assert s["unsupervised.gaussian_total_correlation"] > 5  # finite, large
    assert np.isfinite(s["unsupervised.wasserstein_dependency"])
    assert s["unsupervised.wasserstein_dependency"] > 0.1
    assert s["unsupervised.num_active_dims"] == 4


def test_extra_noise_codes():
    p, s = scores("perfect"), scores("extra")
    # MIG, DCI-D (weighted by importance), SAP and the classifiers barely move ...
    for key in ["mig.mig", "dci.disentanglement", "dci.completeness", "sap.sap"]:
        assert s[key] == pytest.approx(p[key], abs=0.03), key
    assert s["factor_vae.factor_vae"] > 0.97
    # ... modularity averages over ALL codes and IRS weights codes by their deviation
    assert s["modularity.modularity"] < p["modularity.modularity"] - 0.1
    assert s["irs.irs"] < p["irs.irs"] - 0.2
    assert s["unsupervised.num_active_dims"] == 5
