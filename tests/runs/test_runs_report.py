"""write_report: one self-contained HTML page with every section, and report.json."""

import base64
import json
import re
import shutil
import subprocess
from types import SimpleNamespace

import pytest
from kit.tiny_bars import TinyBars, TinyVAE, png_size

from pyrodis.runs.report.run_report import SECTIONS, write_report

HISTORY = [
    {"step": s, "loss": 50.0 - s / 10, "recon": 40.0 - s / 20, "kl": 5.0, "disc_acc": 0.6}
    for s in range(0, 200, 20)
]
ALL_FIGURES = (
    "traversals",
    "reconstructions",
    "samples",
    "kl_per_dim",
    "marginals",
    "mi_heatmap",
    "latent_vs_factor",
    "training_curves",
    "discriminator_accuracy",
)
METRICS = {
    "step": 60,
    "representation": "mean",
    "protocol_overrides": {"mig": {"num_train": 500}},
    "mig": {"value": 0.31, "mean": 0.30, "std": 0.02, "ci_low": 0.27, "ci_high": 0.33},
    "dci": {"disentanglement": {"value": 0.5}, "completeness": {"value": 0.4}},
}


def _run(tmp_path, **overrides):
    fields = dict(
        path=tmp_path / "run",
        config={"seed": 3, "model": {"latent_dim": 5}, "elbo": {"name": "factor", "gamma": 6.4}},
        vae=TinyVAE(),
        dataset=TinyBars(),
        history=HISTORY,
        metrics=METRICS,
        elbo_name="FactorELBO",
    )
    fields.update(overrides)
    return SimpleNamespace(**fields)


def _embedded_pngs(text):
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


def test_report_has_every_section_figure_and_number(tmp_path):
    run = _run(tmp_path)
    html_path = write_report(run, num_points=20)
    assert html_path == tmp_path / "run" / "report.html"
    text = html_path.read_text()
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in text
    for fig in ALL_FIGURES:
        assert f'id="fig-{fig}"' in text and (tmp_path / "run/figures" / f"{fig}.png").exists()
    pngs = _embedded_pngs(text)
    assert len(pngs) == 9 and all(p.startswith(b"\x89PNG") for p in pngs)
    # Pictures first, the numbers next, the config folded away at the end.
    at = [text.index(f'id="{key}"') for key in ("fig-reconstructions", "fig-traversals",
                                                 "summary", "metrics", "config")]  # fmt: skip
    assert at == sorted(at) and "<details><summary>" in text[at[-1] :]
    assert 'src="http' not in text and 'href="http' not in text  # nothing fetched online
    assert "mig" in text and "0.27" in text and "dci.disentanglement" in text
    assert "<td>num_points</td><td>20</td>" in text and "<td>dataset_size</td><td>30</td>" in text
    assert "<td>step</td>" not in text and "Evaluation settings" in text  # not a score row
    assert "&quot;gamma&quot;: 6.4" in text  # the config, escaped
    numbers = json.loads((tmp_path / "run/report.json").read_text())
    assert numbers["aggregate_posterior"]["num_points"] == 20
    assert numbers["active_units"]["latents"] == ["z[0]", "z[1]"]  # site[i] names
    dec = numbers["decomposition"]
    assert dec["mi"] + dec["tc"] + dec["dwkl"] == pytest.approx(dec["kl"], abs=1e-9)
    assert numbers["mutual_information"]["matched_factor"][:2] == ["row", "col"]
    assert numbers["metrics"] == METRICS and numbers["config"]["seed"] == 3
    assert set(numbers["figures"]) == set(ALL_FIGURES)
    assert png_size(tmp_path / "run" / numbers["figures"]["kl_per_dim"]) == (600, 350)


def test_report_says_what_is_missing(tmp_path):
    images = TinyBars().observations(TinyBars().factors(range(30)))
    run = _run(tmp_path, metrics=None, history=[], dataset=images)
    # A log read from log.csv has NaN where a term was not logged: no discriminator plot.
    nan_acc = [{"step": 0, "loss": 2.0, "disc_acc": float("nan")}, {"step": 5, "loss": 1.0}]
    text = write_report(_run(tmp_path, history=nan_acc), out_dir=tmp_path / "nan").read_text()
    assert 'id="fig-training_curves"' in text and "fig-discriminator_accuracy" not in text
    text = write_report(run, out_dir=tmp_path / "elsewhere").read_text()
    assert "No metrics for this run" in text and "pyrodis evaluate RUN" in text
    assert "no logged history" in text and "no factor labels" in text
    assert len(_embedded_pngs(text)) == 5
    numbers = json.loads((tmp_path / "elsewhere/report.json").read_text())
    assert numbers["metrics"] is None and "mutual_information" not in numbers
    assert len(numbers["not_shown"]) == 2


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(
    _chromium() is None,
    reason="no headless browser: install Debian's chromium (apt-get install -y chromium) "
    "to render the report in a real browser",
)
def test_report_renders_in_a_headless_browser(tmp_path):
    html_path = write_report(_run(tmp_path), num_points=20)
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--virtual-time-budget=5000",
        "--dump-dom",
        html_path.as_uri(),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in out
    # The page's own check: every <img> decoded (naturalWidth > 0) once the page loaded.
    assert 'data-images-loaded="9/9"' in out
