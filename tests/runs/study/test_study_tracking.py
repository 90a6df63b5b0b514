"""A study in MLflow: one experiment named after the study, one child run per trial (the varied
keys as parameters, the study and setting as tags, metrics by step), the report's figures as
artefacts of the study's own run."""

import json

import pytest

from pyrodis.runs.study.file import StudyError, read_study

ray = pytest.importorskip("ray", reason="studies need the study extra: pip install '.[study]'")
mlflow = pytest.importorskip("mlflow", reason='study tracking needs pip install "pyrodis[mlflow]"')

from pyrodis.runs.study import run_study  # noqa: E402
from pyrodis.runs.study.report import write_study_report  # noqa: E402

TWO = {
    "study": {"name": "two", "seeds": [0], "budget": "cpu"},
    "base": {
        "model.architecture": "burgess",
        "model.latent_dim": 3,
        "train.steps": 4,
        "train.batch_size": 8,
        "train.log_every": 2,
        "train.checkpoint_every": 2,
        "optim.warmup_steps": 0,
        "eval.metrics": ["mig"],
        "eval.options": {"mig": {"num_train": 200}},
        "eval.num_points": 128,
    },
    "grid": [{"preset": "beta-vae", "objective.beta": [1.0, 4.0]}],
}


def test_the_study_file_takes_an_mlflow_tracker_only():
    spec = read_study({**TWO, "study": {**TWO["study"], "track": "mlflow:sqlite:///m.db"}})
    assert spec.track == "mlflow:sqlite:///m.db"
    assert read_study(spec.to_dict()).track == spec.track
    for bad in ("tensorboard", "mlflow:", 3):
        with pytest.raises(StudyError, match=r"\[study\] track must be"):
            read_study({**TWO, "study": {**TWO["study"], "track": bad}})


def test_a_two_trial_study_is_an_mlflow_experiment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the relative URI is made absolute for the workers
    study = {**TWO, "study": {**TWO["study"], "track": "mlflow:sqlite:///mlflow.db"}}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        rows = run_study(study, tmp_path / "out", max_concurrent=2, progress=False)
    finally:
        ray.shutdown()
    assert [r["status"] for r in rows] == ["done", "done"]
    write_study_report(tmp_path / "out")

    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    experiment = client.get_experiment_by_name("two")
    runs = client.search_runs([experiment.experiment_id])
    saved = json.loads((tmp_path / "out" / "tracking.json").read_text())
    (parent,) = [r for r in runs if r.info.run_id == saved["run_id"]]
    trials = sorted((r for r in runs if r is not parent), key=lambda r: r.info.run_name)
    assert [r.info.run_name for r in trials] == [
        "beta-vae__beta=1.0__seed0",
        "beta-vae__beta=4.0__seed0",
    ]
    assert [r.data.params["objective.beta"] for r in trials] == ["1.0", "4.0"]
    for trial in trials:
        tags = trial.data.tags
        assert tags["pyrodis.study"] == "two" and tags["mlflow.parentRunId"] == parent.info.run_id
        assert tags["pyrodis.setting"] == trial.info.run_name.rsplit("__seed", 1)[0]
        assert trial.info.status == "FINISHED"
        loss = client.get_metric_history(trial.info.run_id, "elbo/loss")
        assert sorted(m.step for m in loss) == [2, 4]
        assert "metrics/mig.mig" in trial.data.metrics
    files = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"study.html", "study.json", "results.csv"} <= files
    assert any(f.endswith(".png") for f in files)
