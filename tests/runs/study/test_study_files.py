"""The study files we ship are valid: every trial's config builds before anything runs."""

from pathlib import Path

import pytest

from pyrodis.runs.study.file import expand_trials, read_study

STUDIES = sorted((Path(__file__).resolve().parents[3] / "studies").glob("*.toml"))


@pytest.mark.parametrize("path", STUDIES, ids=[p.stem for p in STUDIES])
def test_shipped_study_files_expand_to_valid_trials(path, tmp_path, monkeypatch):
    spec = read_study(path)
    if spec.base.get("data.name") == "images":  # a folder a script renders: a small stand-in
        from PIL import Image

        monkeypatch.setenv("PYRODIS_CACHE", str(tmp_path / "cache"))
        (tmp_path / "images").mkdir()
        for i in range(8):
            Image.new("L", (64, 64), 30 * i).save(tmp_path / "images" / f"img_{i:05d}.png")
        spec.base["data.path"] = str(tmp_path / "images")
    trials = expand_trials(spec)
    assert trials and len({t.trial_id for t in trials}) == len(trials)


def test_locatello_mini_crosses_five_objectives_with_three_seeds_each():
    trials = expand_trials(read_study(STUDIES[[p.stem for p in STUDIES].index("locatello-mini")]))
    presets = {t.config.preset for t in trials}
    assert presets == {"beta-vae", "beta-tcvae", "factor-vae", "dip-vae-i", "ada-gvae"}
    assert len(trials) == 27
    weak = [t for t in trials if t.config.preset == "ada-gvae"]
    assert {t.config.data.pairs_k for t in weak} == {1} and len(weak) == 3
