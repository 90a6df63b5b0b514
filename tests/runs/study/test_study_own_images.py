"""A study over a folder of your own images: UDR per run and the UDR-selected run, no labels."""

import json

import numpy as np
import pytest
from PIL import Image

ray = pytest.importorskip("ray", reason="studies need the study extra: pip install '.[study]'")

from pyrodis.runs.study import run_study  # noqa: E402
from pyrodis.runs.study.report import write_study_report  # noqa: E402


def folder_of_images(path, n=16):
    path.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = np.zeros((32, 32), np.uint8)
        x, y = rng.integers(0, 24, size=2)
        pixels[y : y + 8, x : x + 8] = 255
        Image.fromarray(pixels).save(path / f"square{i:02d}.png")
    return path


def test_a_study_over_a_folder_reports_udr_per_run_and_the_selected_run(tmp_path, monkeypatch):
    monkeypatch.setenv("PYRODIS_CACHE", str(tmp_path / "cache"))
    folder = folder_of_images(tmp_path / "photos")
    spec = {
        "study": {"name": "own", "seeds": [0, 1, 2], "budget": "cpu"},
        "base": {
            "data.name": "images",
            "data.path": str(folder),
            "data.size": 32,
            "model.latent_dim": 3,
            "train.steps": 4,
            "train.batch_size": 8,
            "train.checkpoint_every": 2,
            "eval.metrics": ["unsupervised"],
            "eval.options": {"unsupervised": {"num_train": 64}},
            "eval.num_points": 16,
        },
        "grid": [{"preset": "beta-vae", "objective.beta": [1.0]}],
    }
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        rows = run_study(spec, tmp_path / "study", max_concurrent=2, progress=False)
    finally:
        ray.shutdown()
    assert [r["status"] for r in rows] == ["done"] * 3
    assert all(np.isfinite(r["unsupervised.gaussian_total_correlation"]) for r in rows)
    page = write_study_report(tmp_path / "study").read_text()
    udr = json.loads((tmp_path / "study" / "study.json").read_text())["udr"]
    scores = udr["model_scores"]
    assert set(scores) == {r["trial"] for r in rows}
    assert udr["selected_run"] == max(scores, key=scores.get)
    assert [e["trial"] for e in udr["runs"]] == sorted(scores, key=lambda t: -scores[t])
    assert "the UDR-selected run is" in page and "No supervised metric" in page
