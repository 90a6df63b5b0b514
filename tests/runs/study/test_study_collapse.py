"""Runs that never left the collapsed start are flagged in the study report (no Ray, no training)."""

import csv
import json

import pytest

from pyrodis.runs.study.collapse import collapsed_runs
from pyrodis.runs.study.report import write_study_report


def _row(setting, seed, **values):
    return {"study": "s", "trial": f"{setting}__seed{seed}", "setting": setting, "preset": "beta-vae",
            "seed": seed, "status": "done", "failures": 0, "error": "", **values}  # fmt: skip


def test_a_run_without_an_active_latent_is_collapsed_whatever_its_kl():
    rows = [
        _row("a", 0, **{"unsupervised.num_active_dims": 0.0, "final.kl": 0.9, "mig.mig": 0.01}),
        _row("a", 1, **{"unsupervised.num_active_dims": 7.0, "final.kl": 12.0, "mig.mig": 0.2}),
        _row("b", 0, **{"factor_vae.num_active_dims": 0.0, "final.kl": 0.02}),
    ]
    found = collapsed_runs(rows)
    assert [e["trial"] for e in found] == ["a__seed0", "b__seed0"]
    assert found[0] == {"trial": "a__seed0", "setting": "a", "seed": 0, "active_units": 0.0,
                        "kl": 0.9, "rule": "active units = 0"}  # fmt: skip


def test_without_an_active_unit_count_the_final_kl_decides():
    rows = [_row("a", 0, **{"final.kl": 0.04}), _row("a", 1, **{"final.kl": 3.0}), _row("a", 2)]
    found = collapsed_runs(rows)
    assert [e["trial"] for e in found] == ["a__seed0"]
    assert found[0]["rule"] == "final KL < 0.5 nats"
    assert collapsed_runs(rows, kl_floor=5.0)[1]["trial"] == "a__seed1"


def test_failed_and_pending_runs_are_not_judged():
    rows = [{**_row("a", 0, **{"final.kl": 0.0}), "status": "failed"}]
    assert collapsed_runs(rows) == []


def test_kl_floor_must_be_positive():
    with pytest.raises(ValueError, match="kl_floor"):
        collapsed_runs([], kl_floor=0.0)


def test_the_report_names_the_collapsed_runs_and_keeps_them_in_the_analyses(tmp_path):
    rows = [
        _row("vae", s, **{"mig.mig": m, "final.kl": kl, "unsupervised.num_active_dims": a})
        for s, (m, kl, a) in enumerate([(0.2, 14.0, 8.0), (0.01, 0.03, 0.0), (0.3, 12.0, 9.0)])
    ]
    with open(tmp_path / "results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    write_study_report(tmp_path)
    data = json.loads((tmp_path / "study.json").read_text())
    assert [e["trial"] for e in data["collapsed"]] == ["vae__seed1"]
    assert len(data["distributions"]["mig.mig"][0]["values"]) == 3  # still analysed
    page = (tmp_path / "study.html").read_text()
    assert "1 of 3 finished runs collapsed" in page and "vae__seed1" in page
