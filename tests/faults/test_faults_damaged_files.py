"""A damaged auxiliary file of a run: recovered from the checkpoints with a warning that names
it, or a clear error; never a traceback."""

import json
import shutil

import pytest
from faultkit import TINY, log_rows

from pyrodis.cli import main
from pyrodis.runs import load_run
from pyrodis.runs.run_directory import RunDirectory


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run at step 12 with checkpoints at steps 10 and 12."""
    run = tmp_path_factory.mktemp("trained") / "run"
    assert main(["train", *TINY, "--steps", "12", "--out", str(run)]) == 0
    return run


@pytest.fixture
def run(trained, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return copy


def test_a_garbage_row_in_the_log_is_skipped_and_rewritten_on_resume(run, trained):
    lines = (run / "log.csv").read_text().splitlines()
    lines[5] = "\x00garbage,not,a,row"
    (run / "log.csv").write_text("\n".join(lines) + "\n")
    assert load_run(run).step == 12  # its history is the checkpoint's
    with pytest.warns(UserWarning, match=r"log.csv: skipping damaged line 6"):
        assert main(["train", "--resume", str(run), "--steps", "13", "--no-progress"]) == 0
    assert log_rows(run)[:12] == log_rows(trained)  # rewritten from the checkpoint


def test_a_log_of_garbage_gives_one_warning_with_a_count(run, trained):
    garbage = "\n".join(f"\x00{i},garbage,row" for i in range(200_000))  # about 4 MB
    with open(run / "log.csv", "a") as fh:
        fh.write(garbage + "\n")
    with pytest.warns(UserWarning) as caught:
        rows = RunDirectory(run).read_log()
    assert len(rows) == 12
    skipped = [str(w.message) for w in caught if "log.csv" in str(w.message)]
    assert len(skipped) == 1, skipped[:3]
    assert (
        "skipping 200000 damaged lines (the first, line 14: wrong number of fields)" in skipped[0]
    )
    assert main(["train", "--resume", str(run), "--steps", "13", "--no-progress"]) == 0
    assert log_rows(run)[:12] == log_rows(trained)


def test_a_corrupt_config_is_recovered_from_the_checkpoint(run, capsys):
    (run / "config.json").write_text('{"config": {"seed": 5, "model": {"latent_d')
    with pytest.warns(UserWarning, match=r"config.json is not a valid pyrodis run config.*"):
        loaded = load_run(run)
    assert loaded.step == 12 and loaded.config.model.latent_dim == 3
    with pytest.warns(UserWarning, match="using the config stored in checkpoint step 12"):
        assert main(["report", str(run)]) == 0
    assert (run / "report.html").exists()
    with pytest.warns(UserWarning, match="config.json"):
        assert main(["train", "--resume", str(run), "--steps", "13", "--no-progress"]) == 0
    record = json.loads((run / "config.json").read_text())  # rewritten, history kept
    assert [h["action"] for h in record["history"]] == ["train", "resume"]


def test_a_config_whose_shapes_disagree_with_the_checkpoint_is_a_clear_error(run, capsys):
    record = json.loads((run / "config.json").read_text())
    record["config"]["model"]["latent_dim"] = 5
    (run / "config.json").write_text(json.dumps(record))
    assert main(["evaluate", str(run), "--metrics", "mig"]) == 2
    assert "does not fit the model its config builds" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "--steps", "13", "--no-progress"]) == 2
    assert "does not fit the model its config builds" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["missing", "empty", "garbage"])
def test_a_lost_manifest_falls_back_to_the_checkpoint_files(run, damage):
    manifest = run / "checkpoints" / "latest.json"
    if damage == "missing":
        manifest.unlink()
    else:
        manifest.write_text("" if damage == "empty" else "{not json")
    with pytest.warns(UserWarning, match=r"latest.json (is missing|is unreadable)"):
        assert load_run(run).step == 12


@pytest.mark.parametrize(
    "entries",
    [[], [{"file": "../config.json", "step": 12}, {"file": "step_00000012.pt", "step": "12"}, 7]],
    ids=["empty", "all-invalid"],
)
def test_a_manifest_with_no_valid_entry_falls_back_to_the_checkpoint_files(run, entries, capsys):
    (run / "checkpoints" / "latest.json").write_text(json.dumps({"checkpoints": entries}))
    with pytest.warns(UserWarning, match=r"latest.json lists no (valid )?checkpoint"):
        assert load_run(run).step == 12
    with pytest.warns(UserWarning, match="falling back to the step_"):
        assert main(["train", "--resume", str(run), "--steps", "13", "--no-progress"]) == 0
    assert load_run(run).step == 13


def test_a_manifest_step_that_disagrees_with_its_checkpoint_is_caught(run):
    manifest = run / "checkpoints" / "latest.json"
    entries = json.loads(manifest.read_text())
    entries["checkpoints"][-1]["step"] = 14  # the file is step_00000012.pt, holding step 12
    manifest.write_text(json.dumps(entries))
    with pytest.warns(UserWarning, match="holds step 12 but latest.json lists it as step 14"):
        assert load_run(run).step == 10  # the next older good one


def test_a_corrupt_metrics_file_is_ignored_with_a_warning(run):
    (run / "metrics.json").write_text("{")
    with pytest.warns(UserWarning, match="metrics.json is damaged"):
        assert load_run(run).metrics is None


@pytest.fixture(scope="module")
def other_run(tmp_path_factory):
    """Another run of the same network (another seed), at step 20."""
    run = tmp_path_factory.mktemp("other") / "run"
    assert main(["train", *TINY, "--seed", "6", "--steps", "20", "--out", str(run)]) == 0
    return run


@pytest.mark.parametrize("manifest", ["deleted", "rebuilt"])
def test_a_checkpoint_copied_in_from_another_run_is_refused(
    run, trained, other_run, manifest, capsys
):
    checkpoints = run / "checkpoints"
    shutil.copy(other_run / "checkpoints" / "step_00000020.pt", checkpoints)
    if manifest == "deleted":
        (checkpoints / "latest.json").unlink()
    else:  # rebuilt with the right hashes, as a user (or a script) would
        entries = [
            {"file": p.name, "step": int(p.stem[5:]), "sha256": None}
            for p in sorted(checkpoints.glob("step_*.pt"))
        ]
        (checkpoints / "latest.json").write_text(json.dumps({"checkpoints": entries}))
    foreign = r"step_00000020.pt belongs to another run \(its run id .* is not .* in config.json"
    with pytest.warns(UserWarning, match=foreign):
        assert load_run(run).step == 12  # its own newest checkpoint
    with pytest.warns(UserWarning, match=foreign):
        assert main(["train", "--resume", str(run), "--steps", "14", "--no-progress"]) == 0
    rows = log_rows(run)
    assert [r["step"] for r in rows] == [str(s) for s in range(1, 15)]
    assert rows[:12] == log_rows(trained)  # its own history, not the other run's
    for own in ("step_00000010.pt", "step_00000012.pt", "step_00000014.pt"):
        (checkpoints / own).unlink(missing_ok=True)
    capsys.readouterr()
    with pytest.warns(UserWarning, match=foreign):
        assert main(["evaluate", str(run), "--metrics", "mig"]) == 2
    assert "no usable checkpoint" in capsys.readouterr().err
