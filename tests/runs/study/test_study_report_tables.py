"""The study report from a results table a user holds (no Ray, no training): one seed per setting,
so UDR has nothing to compare and no run is loaded."""

import csv
import json

import numpy as np
import pytest
from matplotlib.image import imread

from pyrodis.runs.study.report import HEADLINE, write_study_report

#: the 17 columns of a real study (benchmarks/locatello-mini/study.json)
ALL_SCORES = [
    "mig.mig", "factor_vae.factor_vae", "factor_vae.factor_vae_train",
    "factor_vae.num_active_dims", "dci.disentanglement", "dci.completeness",
    "dci.informativeness", "dci.informativeness_train", "sap.sap", "modularity.modularity",
    "modularity.explicitness", "modularity.explicitness_train",
    "unsupervised.gaussian_total_correlation", "unsupervised.wasserstein_dependency",
    "unsupervised.wasserstein_dependency_norm", "unsupervised.mutual_info_score",
    "unsupervised.num_active_dims",
]  # fmt: skip
#: (preset, setting, value of every score): two unsupervised objectives and Ada-GVAE
SETTINGS = [("beta-vae", "beta-vae", 0.1), ("beta-tcvae", "beta-tcvae", 0.2),
            ("beta-tcvae", "beta-tcvae_b10", 0.3), ("ada-gvae", "ada-gvae", 0.9)]  # fmt: skip


def _study(path, scores, settings=SETTINGS):
    path.mkdir()
    rows = []
    for preset, setting, value in settings:
        for seed in (0,):
            row = {"study": "hand", "trial": f"{setting}__seed{seed}", "setting": setting,
                   "preset": preset, "seed": seed, "status": "done", "failures": 0, "error": ""}  # fmt: skip
            rows.append({**row, **{s: value + 0.01 * i for i, s in enumerate(scores)}})
    with open(path / "results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    write_study_report(path)
    return path


def test_distributions_figure_draws_the_headline_scores_only(tmp_path):
    every = _study(tmp_path / "every", ALL_SCORES)
    headline = _study(tmp_path / "headline", [s for s in ALL_SCORES if s in HEADLINE])
    shapes = [imread(p / "figures" / "distributions.png").shape for p in (every, headline)]
    assert shapes[0] == shapes[1]  # 9 panels in both: the training accuracies are not drawn
    data = json.loads((every / "study.json").read_text())
    assert set(data["distributions"]) == set(ALL_SCORES)  # ... but every score is in the numbers
    page = (every / "study.html").read_text()
    assert "factor_vae.factor_vae_train" in page  # and in the medians table


def test_variance_separates_weak_supervision_and_shows_the_unsupervised_trials_alone(tmp_path):
    out = _study(tmp_path / "s", ["mig.mig"])
    data = json.loads((out / "study.json").read_text())
    shares = data["variance_shares"]["mig.mig"]
    x = np.array([0.1, 0.2, 0.3, 0.9])
    regime = np.array([0.2, 0.2, 0.2, 0.9])  # the unsupervised trials' mean, Ada-GVAE's
    assert shares["supervision"] == pytest.approx(np.mean((regime - x.mean()) ** 2) / x.var())
    alone = data["variance_shares_unsupervised"]["mig.mig"]
    assert alone["trials"] == 3 and alone["supervision"] == 0
    # beta-vae (0.1) against beta-tcvae (0.25 mean of 0.2 and 0.3) and its two settings
    u = np.array([0.1, 0.2, 0.3])
    assert alone["objective"] == pytest.approx(
        np.mean(([0.1, 0.25, 0.25] - u.mean()) ** 2) / u.var()
    )
    assert "The unsupervised trials alone" in (out / "study.html").read_text()


def test_a_study_without_weak_supervision_has_no_supervision_column(tmp_path):
    out = _study(tmp_path / "s", ["mig.mig"], settings=SETTINGS[:3])
    data = json.loads((out / "study.json").read_text())
    assert data["variance_shares"]["mig.mig"]["supervision"] == 0
    assert data["variance_shares_unsupervised"] == {}
    page = (out / "study.html").read_text()
    assert "<th>supervision</th>" not in page and "The unsupervised trials alone" not in page
