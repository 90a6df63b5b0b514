"""The run directory's one owner, the --resume rule written once, and the import paths users
may have written before pyrodis.runs had rooms."""

import warnings

import pytest

import pyrodis
from pyrodis.cli import main
from pyrodis.runs import Config, ConfigError, RunDirectory, preset_config, train_run


def test_the_run_directory_round_trips_its_files(tmp_path):
    run_dir = RunDirectory(tmp_path / "run")
    assert not run_dir.is_run() and run_dir.create() and not run_dir.create()
    config = preset_config("beta-vae")
    config.seed = 7
    record = run_dir.record(config, [{"action": "train", "steps": 5}])
    run_dir.write_config(record)
    read, raw = run_dir.read_config()
    assert read.to_dict() == config.to_dict() and raw == record and run_dir.is_run()
    assert set(raw["versions"]) == {"pyrodis", "pyro", "torch", "python"}
    log = run_dir.open_log([{"step": 1, "loss": 2.0}])
    log.append({"step": 2, "loss": 1.5})
    log.append({"step": 3, "loss": 1.0, "lr": 0.1})  # a new column rewrites the file
    assert run_dir.read_log() == [
        {"step": 1, "loss": 2.0, "lr": pytest.approx(float("nan"), nan_ok=True)},
        {"step": 2, "loss": 1.5, "lr": pytest.approx(float("nan"), nan_ok=True)},
        {"step": 3, "loss": 1.0, "lr": 0.1},
    ]
    assert run_dir.read_metrics() is None
    run_dir.write_metrics({"step": 3, "mig": {"value": 0.25}})
    assert run_dir.read_metrics() == {"step": 3, "mig": {"value": 0.25}}
    assert run_dir.latest_checkpoint() == (None, 0)  # stopped before its first checkpoint
    assert sorted(p.name for p in run_dir.path.iterdir()) == [
        "config.json",
        "log.csv",
        "metrics.json",
    ]


def test_a_half_made_run_is_removed_but_not_other_files(tmp_path):
    run_dir = RunDirectory(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    with run_dir.lock():
        run_dir.write_config(run_dir.record(Config(), []))
        run_dir.open_log([])
    run_dir.remove_half_made(created=True)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("flag", [["--preset", "vae"], ["--seed", "0"], ["--set", "seed=1"]])
def test_resume_keeps_the_runs_config_from_the_cli_and_from_python(tmp_path, flag, capsys):
    assert main(["train", "--resume", str(tmp_path), *flag]) == 2
    err = capsys.readouterr().err
    assert "--resume keeps the run's own config" in err and flag[0] in err
    with pytest.raises(ConfigError, match="--resume keeps the run's own config"):
        train_run(tmp_path, preset_config("vae"), resume=True)
    assert list(tmp_path.iterdir()) == []  # refused before anything is written


def test_the_old_import_paths_still_work_without_a_warning(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        import pyrodis.runs as runs
        import pyrodis.runs.study as study
        from pyrodis.runs import load_run
        from pyrodis.runs.study import read_study, run_study
        from pyrodis.runs.trained_run import load_run as home
    from pyrodis.runs.study.file import read_study as file_home
    from pyrodis.runs.study.ray_runner import run_study as runner_home

    assert load_run is home and run_study is runner_home and read_study is file_home
    assert runs.run_study is run_study and runs.write_report.__module__.endswith("run_report")
    for module in (runs, study):
        assert all(getattr(module, name) is not None for name in module.__all__)
    with pytest.raises(FileNotFoundError, match="is not a pyrodis run"):
        pyrodis.load_run(tmp_path)  # the top-level alias reaches the same loader
