"""The study's uncertainty analyses on synthetic tables with known components and on the shipped
Locatello miniature (``benchmarks/locatello-mini/results.csv``)."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import f as f_dist
from scipy.stats import permutation_test as scipy_permutation_test
from scipy.stats import spearmanr

from pyrodis.runs.study.analyses import variance_shares
from pyrodis.runs.study.correlation import spearman_intervals
from pyrodis.runs.study.crossed import crossed_components, crossed_table
from pyrodis.runs.study.exact import min_attainable_p, pairwise_settings, permutation_test
from pyrodis.runs.study.nested import nested_components
from pyrodis.runs.study.results_table import read_results
from pyrodis.runs.study.uncertainty import uncertainty_analysis, with_udr

MINI = Path(__file__).resolve().parents[3] / "benchmarks" / "locatello-mini"
SOURCES = ("setting", "seed", "residual")


def rows_of(table, presets=None, metric="m.x"):
    """Results rows of a (settings, seeds) table: setting i is ``s{i}`` of preset ``presets[i]``."""
    a, b = table.shape
    presets = presets or [f"p{i}" for i in range(a)]
    return [
        {"trial": f"s{i}__seed{j}", "setting": f"s{i}", "preset": presets[i], "seed": j,
         "status": "done", metric: float(table[i, j])}
        for i in range(a) for j in range(b)
    ]  # fmt: skip


def draw(rng, a, b, sd_setting, sd_seed, sd_noise):
    return (
        rng.normal(0, sd_setting, (a, 1))
        + rng.normal(0, sd_seed, (1, b))
        + rng.normal(0, sd_noise, (a, b))
    )


# ---- crossed design -----------------------------------------------------------------------------


def test_crossed_anova_of_a_hand_computed_table():
    # grand 2.75, setting means 1.5 / 4, seed means 2 / 3.5: SS 6.25 / 2.25 / 0.25
    c = crossed_components(np.array([[1.0, 2.0], [3.0, 5.0]]), num_boot=50)
    s = c["sources"]
    assert [s[k]["variance"] for k in SOURCES] == pytest.approx([3.0, 1.0, 0.25])
    assert [s[k]["ss_share"] for k in SOURCES] == pytest.approx(
        [6.25 / 8.75, 2.25 / 8.75, 0.25 / 8.75]
    )
    assert c["f_tests"]["seed"]["F"] == pytest.approx(9.0)
    assert c["f_tests"]["seed"]["p_value"] == pytest.approx(f_dist.sf(9.0, 1, 1))
    assert sum(s[k]["share"] for k in SOURCES) == pytest.approx(1.0)


def test_crossed_table_keeps_the_complete_block():
    rows = rows_of(np.arange(12.0).reshape(4, 3))
    rows = [r for r in rows if not (r["setting"] == "s3" and r["seed"] == 2)]  # s3 lost a seed
    rows.append({**rows[0], "trial": "x", "status": "failed", "m.x": None})
    table, settings, seeds = crossed_table(rows, "m.x")
    assert settings == ["s0", "s1", "s2"] and seeds == [0, 1, 2]
    assert table.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    with pytest.raises(ValueError, match="crossed_table"):
        crossed_components(np.ones((1, 3)))


def test_pure_noise_shares_match_their_expectation_and_the_f_test_has_its_level():
    rng = np.random.default_rng(0)
    a, b, tables = 9, 3, 300
    found = [
        crossed_components(draw(rng, a, b, 0, 0, 1), num_boot=20, seed=t) for t in range(tables)
    ]
    expected = {"setting": 8 / 26, "seed": 2 / 26, "residual": 16 / 26}
    for name, mean in expected.items():
        shares = np.array([c["sources"][name]["ss_share"] for c in found])
        noise = found[0]["sources"][name]["pure_noise"]
        assert noise["mean"] == pytest.approx(mean)
        assert shares.mean() == pytest.approx(mean, abs=0.03)
        inside = np.mean((noise["low"] <= shares) & (shares <= noise["high"]))
        assert 0.9 <= inside <= 0.99  # the stated 95 % range holds 95 % of pure-noise tables
    for name in ("setting", "seed"):  # no effect: the component's interval reaches down to 0
        assert np.mean([c["sources"][name]["share_ci"][0] == 0 for c in found]) >= 0.9
    p_seed = np.array([c["f_tests"]["seed"]["p_value"] for c in found])
    assert 0.02 <= np.mean(p_seed < 0.05) <= 0.09


def test_crossed_intervals_cover_the_true_shares():
    rng = np.random.default_rng(1)
    true = np.array([1.0, 0.25, 1.0])
    covered = np.zeros(3)
    for t in range(100):
        c = crossed_components(draw(rng, 10, 6, *np.sqrt(true)), num_boot=300, seed=t)
        for k, name in enumerate(SOURCES):
            lo, hi = c["sources"][name]["share_ci"]
            covered[k] += lo <= true[k] / true.sum() <= hi
    assert np.all(covered / 100 >= 0.85)


def test_a_pure_setting_effect_owns_the_variance():
    rng = np.random.default_rng(2)
    c = crossed_components(draw(rng, 8, 3, 1.0, 0.0, 0.01), seed=0)
    assert c["sources"]["setting"]["share"] > 0.99
    assert c["sources"]["setting"]["share_ci"][0] > 0.95
    assert c["f_tests"]["setting"]["p_value"] < 1e-10


def test_a_seed_index_effect_shared_across_settings_is_detected():
    rng = np.random.default_rng(3)
    y = draw(rng, 8, 5, 0.0, 1.0, 0.1)
    c = crossed_components(y, seed=0)
    assert c["sources"]["seed"]["share"] > 0.9
    assert c["f_tests"]["seed"]["p_value"] < 1e-6
    # the nested view cannot see it: it files the seed index under "within a setting"
    n = nested_components(y.ravel(), {"setting": np.repeat(np.arange(8), 5).tolist()})
    assert n["sources"]["seed"]["ss_share"] > 0.9


# ---- nested split -------------------------------------------------------------------------------


def test_nested_descriptive_shares_are_the_existing_variance_shares():
    rng = np.random.default_rng(4)
    presets = ["ada-gvae", "a", "a", "b", "b", "c"]
    rows = rows_of(draw(rng, 6, 3, 1, 0.3, 1), presets)
    old = variance_shares(rows, ["m.x"])["m.x"]
    new = uncertainty_analysis(rows, ["m.x"], num_boot=50)["nested"]["m.x"]["sources"]
    for name in ("supervision", "objective", "hyperparameter", "seed"):
        assert new[name]["ss_share"] == pytest.approx(old[name])


def test_nested_components_of_a_balanced_design_are_the_textbook_anova_estimates():
    rng = np.random.default_rng(5)
    p, h, n = 3, 2, 4  # objectives × hyperparameters × seeds
    obj = np.repeat(np.arange(p), h * n)
    hyp = np.repeat(np.arange(p * h), n)
    y = rng.normal(0, 1, p)[obj] + rng.normal(0, 0.7, p * h)[hyp] + rng.normal(0, 0.5, p * h * n)
    groups = {"objective": obj.tolist(), "hyperparameter": hyp.tolist()}
    s = nested_components(y, groups, num_boot=20)["sources"]
    obj_mean, hyp_mean = (np.bincount(g, y) / np.bincount(g) for g in (obj, hyp))
    ms_o = h * n * ((obj_mean - y.mean()) ** 2).sum() / (p - 1)
    ms_h = n * ((hyp_mean - obj_mean[np.arange(p * h) // h]) ** 2).sum() / (p * (h - 1))
    ms_e = ((y - hyp_mean[hyp]) ** 2).sum() / (p * h * (n - 1))
    assert s["seed"]["variance"] == pytest.approx(ms_e)
    assert s["hyperparameter"]["variance"] == pytest.approx(max(0, (ms_h - ms_e) / n))
    assert s["objective"]["variance"] == pytest.approx(max(0, (ms_o - ms_h) / (h * n)))
    with pytest.raises(ValueError, match="not nested"):
        nested_components(y, {"objective": obj.tolist(), "hyperparameter": (hyp % 2).tolist()})


def test_nested_pure_noise_expectation_of_the_miniature_design():
    rng = np.random.default_rng(6)
    objective, setting = np.repeat(np.arange(4), 6), np.repeat(np.arange(8), 3)
    groups = {"objective": objective.tolist(), "hyperparameter": setting.tolist()}
    found = [nested_components(rng.normal(size=24), groups, num_boot=20) for _ in range(300)]
    for name, mean in {"objective": 3 / 23, "hyperparameter": 4 / 23, "seed": 16 / 23}.items():
        assert found[0]["sources"][name]["pure_noise"]["mean"] == pytest.approx(mean)
        observed = np.mean([f["sources"][name]["ss_share"] for f in found])
        assert observed == pytest.approx(mean, abs=0.03)
    assert [round(found[0]["sources"][k]["pure_noise"]["mean"], 2) for k in groups] == [0.13, 0.17]


# ---- Spearman -----------------------------------------------------------------------------------


def test_spearman_at_both_levels_is_what_it_says():
    rng = np.random.default_rng(7)
    x = draw(rng, 6, 4, 1, 0, 1)
    rows = [{**r, "m.y": r["m.x"] + rng.normal()} for r in rows_of(x)]
    runs = spearman_intervals(rows, ["m.x", "m.y"], level="runs", num_boot=300, num_perm=999)
    assert runs["n"] == 24 and runs["level"] == "runs"
    ref = spearmanr([r["m.x"] for r in rows], [r["m.y"] for r in rows]).statistic
    assert runs["rho"][0][1] == pytest.approx(ref)
    assert runs["ci_low"][0][1] <= ref <= runs["ci_high"][0][1]
    sets = spearman_intervals(rows, ["m.x", "m.y"], level="settings", num_boot=300, num_perm=999)

    def medians(key):
        return [np.median([r[key] for r in rows if r["setting"] == f"s{i}"]) for i in range(6)]

    med = {k: medians(k) for k in ("m.x", "m.y")}
    assert sets["n"] == 6 and sets["rho"][0][1] == pytest.approx(
        spearmanr(med["m.x"], med["m.y"]).statistic
    )
    monotone = [{**r, "m.y": 2 * r["m.x"]} for r in rows]
    perfect = spearman_intervals(monotone, ["m.x", "m.y"], num_boot=50, num_perm=999)
    assert perfect["rho"][0][1] == pytest.approx(1.0) and perfect["p_value"][0][1] == pytest.approx(
        1e-3
    )
    noise = [{**r, "m.y": rng.normal()} for r in rows]
    assert (
        spearman_intervals(noise, ["m.x", "m.y"], num_boot=50, num_perm=999)["p_value"][0][1] > 0.01
    )
    with pytest.raises(ValueError, match="level must be"):
        spearman_intervals(rows, ["m.x"], level="seeds")


# ---- exact tests --------------------------------------------------------------------------------


def test_exact_test_and_its_smallest_attainable_p():
    assert min_attainable_p(3, 3) == pytest.approx(0.1)
    assert min_attainable_p(3, 3, "greater") == pytest.approx(0.05)
    assert min_attainable_p(3, 24, "greater") == pytest.approx(1 / 2925)
    t = permutation_test([10, 11, 12], [0, 1, 2])  # perfectly separated: the floor
    assert t["exact"] and t["splits"] == 20 and t["p_value"] == pytest.approx(0.1) == t["min_p"]
    assert permutation_test([10, 11, 12], [0, 1, 2], alternative="greater")["p_value"] == 0.05
    x, y = [0.3, 0.9, 0.4, 0.7, 0.5], [0.2, 0.35, 0.1, 0.6, 0.25]
    ref = scipy_permutation_test((x, y), lambda a, b: np.mean(a) - np.mean(b), n_resamples=np.inf)
    assert permutation_test(x, y)["p_value"] == pytest.approx(ref.pvalue)
    mc = permutation_test(x, y, max_exact=0, num_perm=20_000, seed=1)
    assert not mc["exact"] and mc["p_value"] == pytest.approx(ref.pvalue, abs=0.01)
    with pytest.raises(ValueError, match="finite"):
        permutation_test([1, np.nan], [2, 3])


def test_a_three_seed_study_says_it_cannot_separate_settings():
    values = {f"s{i}": [10.0 * i + j for j in range(3)] for i in range(3)}
    out = pairwise_settings(values)
    assert len(out["pairs"]) == 3 and out["separable"] == 0 and out["significant"] == 0
    assert all(p["p_value"] == pytest.approx(0.1) for p in out["pairs"])
    five = pairwise_settings({k: v + [v[0] + 0.5, v[1] + 0.5] for k, v in values.items()})
    assert five["separable"] == 3 and all(p["p_holm"] <= 0.05 for p in five["pairs"])


# ---- the whole analysis, on the shipped Locatello miniature -------------------------------------


@pytest.fixture(scope="module")
def mini():
    rows = read_results(MINI)
    udr = json.loads((MINI / "study.json").read_text())["udr"]["model_scores"]
    metrics = ["mig.mig", "factor_vae.factor_vae", "dci.disentanglement", "dci.completeness",
               "dci.informativeness", "sap.sap"]  # fmt: skip
    return rows, udr, uncertainty_analysis(rows, metrics, udr_scores=udr, num_boot=500)


def test_the_miniature_design_cannot_separate_two_settings(mini):
    rows, _, out = mini
    d = out["design"]
    assert (d["runs"], d["settings"], d["seeds"]) == (27, 9, [0, 1, 2])
    assert d["min_p_two_sided"] == pytest.approx(0.1) and not d["can_separate_two_settings"]
    top = out["comparisons"]["mig.mig"]["top_two"]
    assert top["a"] == "ada-gvae__beta=1.0" and top["b"] == "beta-tcvae__beta=6.0"
    assert top["p_value"] == pytest.approx(0.1)  # fully separated, and still only 0.1


def test_the_miniature_recomputes_the_issue_facts(mini):
    rows, udr, out = mini
    compl = out["nested_unsupervised"]["dci.completeness"]["sources"]
    assert compl["objective"]["ss_share"] == pytest.approx(0.51, abs=0.005)
    assert compl["seed"]["ss_share"] == pytest.approx(0.37, abs=0.005)
    inform = out["nested_unsupervised"]["dci.informativeness"]["sources"]
    others = [inform[k]["ss_share"] for k in ("objective", "hyperparameter")]
    assert inform["seed"]["ss_share"] < min(others)
    assert out["crossed"]["factor_vae.factor_vae"]["f_tests"]["seed"]["p_value"] < 0.002
    rho = np.array(out["spearman"]["runs"]["rho"])  # MIG, FactorVAE, DCI d., DCI c., DCI i., SAP
    four = rho[np.ix_([0, 1, 2, 5], [0, 1, 2, 5])][np.triu_indices(4, 1)]
    assert (four.min(), four.max()) == pytest.approx((0.71, 0.80), abs=0.005)
    assert rho[2, 3] == pytest.approx(0.91, abs=0.005)
    mig = {k: v[lvl]["mig.mig"] for k, v in out["udr"].items() for lvl in ("runs",)}
    assert (mig["all"]["n"], mig["unsupervised"]["n"]) == (27, 24)
    assert mig["all"]["rho"] == pytest.approx(0.32, abs=0.005) and mig["all"]["p_value"] > 0.05
    assert mig["unsupervised"]["rho"] == pytest.approx(0.16, abs=0.005)
    assert out["udr"]["all"]["settings"]["mig.mig"]["rho"] == pytest.approx(0.3667, abs=1e-3)
    assert out["udr"]["all"]["settings"]["mig.mig"]["n"] == 9
    assert with_udr(rows, udr)[0]["udr"] == udr[rows[0]["trial"]]
    with pytest.raises(ValueError, match="no finished runs"):
        uncertainty_analysis([], ["mig.mig"])
