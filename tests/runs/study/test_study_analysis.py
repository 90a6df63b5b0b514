"""The study analyses on hand-made results tables with known answers (no Ray, no training)."""

import numpy as np
import pytest

from pyrodis.runs.study.analyses import (
    distributions,
    median_ci,
    rank_correlation,
    supervision,
    udr_selection,
    variance_shares,
)


def table(values):
    """Rows of a study: {(preset, setting): [value per seed]} -> results rows with metric 'm.x'."""
    rows = []
    for (preset, setting), vals in values.items():
        for seed, v in enumerate(vals):
            rows.append(
                {"trial": f"{setting}__seed{seed}", "setting": setting, "preset": preset,
                 "seed": seed, "status": "done", "m.x": v, "m.y": -v}
            )  # fmt: skip
    return rows


def test_variance_shares_follow_the_source_of_variation():
    only_objective = table({("a", "a1"): [1, 1], ("a", "a2"): [1, 1], ("b", "b1"): [3, 3]})
    s = variance_shares(only_objective, ["m.x"])["m.x"]
    assert (s["objective"], s["hyperparameter"], s["seed"]) == pytest.approx((1, 0, 0))
    only_seed = table({("a", "a1"): [0, 2], ("a", "a2"): [0, 2], ("b", "b1"): [0, 2]})
    s = variance_shares(only_seed, ["m.x"])["m.x"]
    assert (s["objective"], s["hyperparameter"], s["seed"]) == pytest.approx((0, 0, 1))
    # a: settings at 0 and 2 (hyperparameter), b at 1 = the grand mean (no objective effect)
    only_hyper = table({("a", "a1"): [0, 0], ("a", "a2"): [2, 2], ("b", "b1"): [1, 1]})
    s = variance_shares(only_hyper, ["m.x"])["m.x"]
    assert (s["objective"], s["hyperparameter"], s["seed"]) == pytest.approx((0, 1, 0))
    mixed = table({("a", "a1"): [0, 1], ("a", "a2"): [3, 5], ("b", "b1"): [2, 9]})
    s = variance_shares(mixed, ["m.x"])["m.x"]
    assert s["objective"] + s["hyperparameter"] + s["seed"] == pytest.approx(1.0)
    assert s["variance"] == pytest.approx(np.var([0, 1, 3, 5, 2, 9]))


def test_weak_supervision_gets_its_own_share_and_objectives_compare_within_a_regime():
    # ada-gvae (weakly supervised) at 10; the unsupervised objectives a (0) and b (2)
    rows = table({("ada-gvae", "w1"): [10, 10], ("a", "a1"): [0, 0], ("b", "b1"): [2, 2]})
    s = variance_shares(rows, ["m.x"])["m.x"]
    x = np.array([10, 10, 0, 0, 2, 2.0])
    # supervision: the regimes' means (10 and 1) around the grand mean; objective: a and b around 1
    expected_sup = np.mean((np.array([10, 10, 1, 1, 1, 1]) - x.mean()) ** 2) / x.var()
    assert s["supervision"] == pytest.approx(expected_sup)
    assert s["objective"] == pytest.approx(1 - expected_sup)
    assert s["hyperparameter"] == pytest.approx(0) and s["seed"] == pytest.approx(0)
    # a grid that varies model.aggregation on an unsupervised preset: the row decides
    varied = [{**r, "model.aggregation": "gvae" if r["preset"] == "b" else None} for r in rows]
    assert supervision(varied[4]) == "weak" and supervision(varied[0]) == "none"
    assert supervision(rows[0]) == "weak" and supervision(rows[2]) == "none"
    # one preset trained both ways: the groups stay nested and the shares still sum to 1
    both = table({("a", "a1"): [0, 1], ("a", "a1_pairs"): [5, 7], ("b", "b1"): [2, 3]})
    both = [{**r, "model.aggregation": "gvae" if r["setting"] == "a1_pairs" else ""} for r in both]
    s = variance_shares(both, ["m.x"])["m.x"]
    parts = [s[k] for k in ("supervision", "objective", "hyperparameter", "seed")]
    assert sum(parts) == pytest.approx(1.0) and s["hyperparameter"] == pytest.approx(0)
    # without a weakly-supervised preset the supervision share is 0, the rest as before
    unsup = table({("a", "a1"): [0, 1], ("a", "a2"): [3, 5], ("b", "b1"): [2, 9]})
    s = variance_shares(unsup, ["m.x"])["m.x"]
    assert s["supervision"] == 0
    total = s["objective"] + s["hyperparameter"] + s["seed"]
    assert total == pytest.approx(1.0)


def test_distributions_keep_every_point_with_median_and_ci():
    rows = table({("a", "a1"): [0.1, 0.5, 0.3], ("b", "b1"): [0.7]})
    rows.append({**rows[0], "trial": "failed", "status": "failed", "m.x": None})
    (a, b) = distributions(rows, ["m.x"])["m.x"]
    assert a["values"] == [0.1, 0.5, 0.3] and a["seeds"] == [0, 1, 2]
    assert a["median"] == 0.3 and a["ci_low"] <= 0.3 <= a["ci_high"]
    assert b["median"] == b["ci_low"] == b["ci_high"] == 0.7
    med, lo, hi = median_ci(np.arange(101.0), seed=1)
    assert med == 50 and 35 < lo < 50 < hi < 65


def test_rank_correlation_of_monotone_and_opposite_metrics():
    rows = table({("a", "a1"): [0.1, 0.4], ("a", "a2"): [0.2, 0.9]})
    corr = rank_correlation(rows, ["m.x", "m.y"])
    assert np.array(corr["matrix"]) == pytest.approx(np.array([[1, -1], [-1, 1]]))


def test_udr_selects_the_setting_with_the_highest_median_udr():
    rows = table({("a", "a1"): [0.1, 0.2], ("a", "a2"): [0.5, 0.7], ("b", "b1"): [0.9, 0.8]})
    scores = {r["trial"]: {"a1": 0.2, "a2": 0.6, "b1": 0.4}[r["setting"]] for r in rows}
    out = udr_selection(rows, scores, ["m.x", "unsupervised.tc"])
    assert out["selected"] == "a2" and out["settings"]["b1"] == 0.4
    assert list(out["metrics"]) == ["m.x"]  # unsupervised scores are not compared
    m = out["metrics"]["m.x"]
    assert m["udr_selected"] == pytest.approx(0.6) and m["best"] == pytest.approx(0.85)
    assert m["best_setting"] == "b1" and m["random"] == pytest.approx((0.15 + 0.6 + 0.85) / 3)
    assert m["spearman_udr"] == pytest.approx(0.5)


def test_udr_selects_among_unsupervised_settings_when_the_study_has_weak_ones():
    rows = table(
        {("beta-vae", "a1"): [0.1, 0.2], ("beta-vae", "a2"): [0.5, 0.7],
         ("ada-gvae", "g1"): [0.9, 0.8]}
    )  # fmt: skip
    scores = {r["trial"]: {"a1": 0.2, "a2": 0.6, "g1": 0.9}[r["setting"]] for r in rows}
    out = udr_selection(rows, scores, ["m.x"])
    assert out["pool"] == "unsupervised" and set(out["settings"]) == {"a1", "a2"}
    assert out["selected"] == "a2"  # not the weakly-supervised g1, whose UDR is highest
    m = out["metrics"]["m.x"]
    assert m["best_setting"] == "a2" and m["random"] == pytest.approx((0.15 + 0.6) / 2)
    only_weak = [r for r in rows if r["setting"] == "g1"]
    assert udr_selection(only_weak, scores, ["m.x"])["pool"] == "all"
