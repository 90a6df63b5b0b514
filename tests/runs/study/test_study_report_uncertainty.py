"""The study report states its uncertainty: the design's resolution, the crossed and nested
splits, Spearman at both levels, UDR against the metrics, exact comparisons; it rebuilds from a
study's saved tables (the shipped Locatello miniature) and splits every analysis by dataset."""

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from math import comb
from pathlib import Path

import numpy as np
import pytest

from pyrodis.runs.study.report import SECTIONS, write_study_report

ROOT = Path(__file__).resolve().parents[3]
MINI = ROOT / "benchmarks" / "locatello-mini"


def write_table(path, rows):
    path.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with open(path / "results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(setting, preset, seed, **values):
    return {"study": "synthetic", "trial": f"{setting}__seed{seed}", "setting": setting,
            "preset": preset, "seed": seed, "eval_seed": seed, "status": "done", "failures": 0,
            "error": "", **values}  # fmt: skip


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_shipped_locatello_table_rebuilds_its_report_elsewhere(tmp_path):
    before = digest(MINI)
    refused = subprocess.run(
        [sys.executable, "-m", "pyrodis", "study", "report", str(MINI)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert refused.returncode != 0 and "--out" in refused.stderr
    assert "Traceback" not in refused.stderr
    page = write_study_report(MINI, tmp_path / "lm", num_boot=200)
    assert digest(MINI) == before  # nothing written into the shipped folder
    data = json.loads((tmp_path / "lm" / "study.json").read_text())
    saved = json.loads((MINI / "study.json").read_text())
    assert data["encoder_values"] == "saved"
    assert data["udr"]["model_scores"] == saved["udr"]["model_scores"]
    assert data["evaluation"]["protocol"] == "unrecorded"
    unc = data["uncertainty"]
    design = unc["design"]
    assert design["runs"] == 27 and design["settings"] == 9
    assert design["min_p_two_sided"] == pytest.approx(2 / comb(6, 3))
    assert design["can_separate_two_settings"] is False
    # UDR against MIG over the 27 runs and over the 9 setting medians (the figures)
    udr = unc["udr"]["all"]
    assert udr["runs"]["mig.mig"]["n"] == 27 and udr["settings"]["mig.mig"]["n"] == 9
    assert udr["runs"]["mig.mig"]["rho"] == pytest.approx(0.3168, abs=1e-3)
    assert udr["settings"]["mig.mig"]["rho"] == pytest.approx(0.3667, abs=1e-3)
    assert unc["udr"]["unsupervised"]["runs"]["mig.mig"]["n"] == 24
    # the FactorVAE score's seed index: F = 10.3 on (2, 16)
    f_seed = unc["crossed"]["factor_vae.factor_vae"]["f_tests"]["seed"]
    assert f_seed["df"] == [2, 16] and f_seed["F"] == pytest.approx(10.3, abs=0.05)
    html = page.read_text()
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in html
    assert "cannot separate two settings" in html
    assert "Spearman ρ between the supervised metrics over 9 setting medians" in html
    assert "over 27 runs" in html


def crossed_rows(seeds, gap, rng):
    """Two settings, one far above the other (``gap`` in noise sd units)."""
    return [
        row(s, s.split("_")[0], k, **{"mig.mig": base + rng.normal(0, 1)})
        for s, base in (("beta-vae_a", gap), ("beta-tcvae_b", 0.0))
        for k in seeds
    ]


@pytest.mark.parametrize("seeds, separable", [(3, False), (5, True)])
def test_the_design_says_whether_it_can_separate_two_settings(tmp_path, seeds, separable):
    rows = crossed_rows(range(seeds), 50.0, np.random.default_rng(0))
    page = write_study_report(write_table(tmp_path / "s", rows), num_boot=100).read_text()
    unc = json.loads((tmp_path / "s" / "study.json").read_text())["uncertainty"]
    top = unc["comparisons"]["mig.mig"]["top_two"]
    assert top["a"] == "beta-vae_a" and top["p_value"] == pytest.approx(2 / comb(2 * seeds, seeds))
    assert unc["design"]["can_separate_two_settings"] is separable
    assert ("cannot separate two settings" in page) is not separable
    assert "The design can separate two settings" in page if separable else True


def test_a_pure_setting_effect_takes_the_crossed_variance(tmp_path):
    rng = np.random.default_rng(1)
    rows = [
        row(f"beta-vae_{i}", "beta-vae", k, **{"mig.mig": 10.0 * i + rng.normal(0, 0.01)})
        for i in range(4)
        for k in range(3)
    ]
    write_study_report(write_table(tmp_path / "s", rows), num_boot=200)
    unc = json.loads((tmp_path / "s" / "study.json").read_text())["uncertainty"]
    setting = unc["crossed"]["mig.mig"]["sources"]["setting"]
    assert setting["share"] > 0.99 and setting["share_ci"][0] > 0.99
    assert unc["crossed"]["mig.mig"]["f_tests"]["setting"]["p_value"] < 1e-6


def test_a_study_crossing_two_datasets_is_analysed_per_dataset(tmp_path):
    rng = np.random.default_rng(2)
    rows = []
    for data, shift in (("dsprites", 0.0), ("color-dsprites", 5.0)):
        for preset, effect in (("beta-vae", 0.0), ("beta-tcvae", 1.0)):
            setting = f"{preset}__name={data}"
            for k in range(3):
                value = shift + effect + rng.normal(0, 0.1)
                rows.append(row(setting, preset, k, **{"data.name": data, "mig.mig": value}))
    out = write_table(tmp_path / "s", rows)
    page = write_study_report(out, num_boot=100).read_text()
    data = json.loads((out / "study.json").read_text())
    assert data["datasets"] == ["dsprites", "color-dsprites"]
    for name, part in data["by_dataset"].items():
        settings = {e["setting"] for e in part["distributions"]["mig.mig"]}
        assert settings == {f"beta-vae__name={name}", f"beta-tcvae__name={name}"}
        assert part["uncertainty"]["design"]["runs"] == 6
        assert part["variance_shares"]["mig.mig"]["objective"] > 0.9  # within one dataset
    # dataset as the outermost factor: its SS share is the between-dataset sum of squares
    x = np.array([r["mig.mig"] for r in rows])
    d = np.repeat([0, 1], 6)
    between = sum(6 * (x[d == i].mean() - x.mean()) ** 2 for i in (0, 1))
    nested = data["variance_with_dataset"]["mig.mig"]["sources"]
    assert nested["dataset"]["ss_share"] == pytest.approx(between / ((x - x.mean()) ** 2).sum())
    assert nested["dataset"]["pure_noise"]["mean"] == pytest.approx(1 / 11)
    assert page.count("<h3>dataset dsprites</h3>") == 5  # one per analysis section
    assert "the dataset as the outermost factor" in page


def test_the_evaluation_protocol_is_read_from_the_table(tmp_path):
    rows = crossed_rows(range(3), 1.0, np.random.default_rng(3))
    shared = [{**r, "eval_seed": 7} for r in rows]
    write_study_report(write_table(tmp_path / "shared", shared), num_boot=50)
    write_study_report(write_table(tmp_path / "own", rows), num_boot=50)
    write_study_report(tmp_path / "own", num_boot=50)  # again: its study.json holds nothing lost
    read = lambda d: json.loads((tmp_path / d / "study.json").read_text())["evaluation"]  # noqa: E731
    assert read("shared")["protocol"] == "shared" and read("shared")["eval_seed"] == 7
    assert read("own")["protocol"] == "per-run"
    assert "eval_seed = 7" in (tmp_path / "shared" / "study.html").read_text()


def test_a_report_into_its_own_saved_study_needs_out(tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(MINI, copy)
    with pytest.raises(Exception, match="--out"):
        write_study_report(copy)
    assert digest(copy) == digest(MINI)
