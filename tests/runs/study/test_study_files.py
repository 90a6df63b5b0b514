"""The study files we ship are valid: every trial's config builds before anything runs."""

import json
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


def _tiny(**study):
    return {
        "study": {"name": "t", "seeds": [0, 3], **study},
        "base": {"model.architecture": "burgess", "train.steps": 2},
        "grid": [{"preset": "beta-vae", "objective.beta": [1.0]}],
    }


@pytest.mark.parametrize("option, expected", [({}, [0, 3]), ({"eval_seed": 7}, [7, 7])])
def test_the_evaluation_seed_is_a_study_option(tmp_path, option, expected):
    from pyrodis.runs.study.results_table import trial_row

    spec = read_study(_tiny(**option))
    trials = expand_trials(spec)
    assert read_study(spec.to_dict()).eval_seed == spec.eval_seed  # round trip
    # the results row says which draws each run is (or will be) scored on
    assert [trial_row(tmp_path, spec, t)["eval_seed"] for t in trials] == expected


@pytest.mark.parametrize(
    "study, base, message",
    [
        ({"eval_seed": "shared"}, {}, "eval_seed must be"),
        ({"eval_seed": -1}, {}, "eval_seed must be"),
        ({}, {"eval.seed": 3}, r"\[study\] eval_seed"),
    ],
)
def test_a_wrong_evaluation_seed_is_refused_with_the_fix(study, base, message):
    from pyrodis.runs.study.file import StudyError

    data = _tiny(**study)
    data["base"].update(base)
    with pytest.raises(StudyError, match=message):
        expand_trials(read_study(data))


def test_a_study_evaluation_seed_is_the_one_a_run_is_scored_with(tmp_path):
    from pyrodis.runs.evaluate import evaluate_run
    from pyrodis.runs.train import train_run

    data = _tiny(eval_seed=7)
    data["base"].update({"model.latent_dim": 2, "train.batch_size": 8, "optim.warmup_steps": 0,
                         "eval.metrics": ["mig"], "eval.options": {"mig": {"num_train": 100}}})  # fmt: skip
    trial = expand_trials(read_study(data))[1]  # training seed 3
    train_run(tmp_path / "run", trial.config, progress=False)
    evaluate_run(tmp_path / "run")
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["seed"] == 7


CONTROLS = sorted((STUDIES[0].parents[1] / "benchmarks" / "controls").iterdir())


@pytest.mark.parametrize("saved", CONTROLS, ids=[p.name for p in CONTROLS])
def test_the_saved_control_tables_are_those_of_the_shipped_study_files(saved):
    """benchmarks/controls/NAME holds the results of studies/NAME.toml as it stands: every trial,
    finished, at the file's steps (RESULTS.md reads its figures from these tables)."""
    from pyrodis.runs.study.results_table import read_results

    trials = expand_trials(read_study(saved.parents[2] / "studies" / f"{saved.name}.toml"))
    rows = {r["trial"]: r for r in read_results(saved)}
    assert set(rows) == {t.trial_id for t in trials}
    for trial in trials:
        row = rows[trial.trial_id]
        assert row["status"] == "done" and row["steps"] == trial.config.train.steps, trial.trial_id
