import json
import math
import os
import pickle

import pytest
import torch

from pyrodis.runs.checkpoint import (
    CheckpointError,
    load_latest_checkpoint,
    remove_stale_temporaries,
    save_checkpoint,
)
from pyrodis.runs.run_directory import RunDirectory, RunLocked


def test_round_trip_and_pruning(tmp_path):
    for step in (10, 20, 30, 40):
        save_checkpoint(tmp_path, step, {"w": torch.full((3,), float(step))}, keep=2)
    state, step = load_latest_checkpoint(tmp_path)
    assert step == 40 and state["w"].tolist() == [40.0] * 3
    assert sorted(p.name for p in tmp_path.glob("step_*.pt")) == [
        "step_00000030.pt",
        "step_00000040.pt",
    ]
    assert not list(tmp_path.glob(".*tmp*"))


def test_truncated_checkpoint_is_refused_and_previous_used(tmp_path):
    save_checkpoint(tmp_path, 1, {"w": torch.ones(100)})
    path = save_checkpoint(tmp_path, 2, {"w": torch.zeros(100)})
    path.write_bytes(path.read_bytes()[:50])
    with pytest.warns(UserWarning, match="refusing checkpoint step_00000002.pt"):
        state, step = load_latest_checkpoint(tmp_path)
    assert step == 1 and state["w"].sum() == 100


def test_tampered_checkpoint_with_code_is_refused(tmp_path):
    save_checkpoint(tmp_path, 1, {"w": torch.ones(2)})
    path = save_checkpoint(tmp_path, 2, {"w": torch.ones(2)})

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    # a pickle that would run code, with a matching hash in the manifest: weights_only refuses it
    path.write_bytes(pickle.dumps(Evil()))
    manifest = json.loads((tmp_path / "latest.json").read_text())
    import hashlib

    manifest["checkpoints"][-1]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "latest.json").write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match="cannot be loaded safely"):
        _, step = load_latest_checkpoint(tmp_path)
    assert step == 1


def test_hash_mismatch_and_no_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_latest_checkpoint(tmp_path)
    path = save_checkpoint(tmp_path, 5, {"w": torch.ones(2)})
    torch.save({"w": torch.zeros(2)}, path)  # valid file, but not the one recorded
    with (
        pytest.warns(UserWarning, match="SHA-256"),
        pytest.raises(CheckpointError, match="no usable"),
    ):
        load_latest_checkpoint(tmp_path)


def test_a_non_finite_state_is_never_saved(tmp_path):
    save_checkpoint(tmp_path, 1, {"params": {"w": torch.ones(2)}})
    with pytest.raises(CheckpointError, match=r"refusing to save step 2: non-finite values in"):
        save_checkpoint(tmp_path, 2, {"params": {"w": torch.tensor([1.0, float("inf")])}})
    state, step = load_latest_checkpoint(tmp_path)
    assert step == 1 and not list(tmp_path.glob("*00002*"))
    # logged rows may hold NaN (a term absent at some steps): they are not model state
    save_checkpoint(tmp_path, 3, {"params": {"w": torch.ones(2)}, "history": [{"tc": math.nan}]})


@pytest.mark.parametrize("damage", ["missing", "empty"])
def test_a_lost_manifest_falls_back_to_the_files(tmp_path, damage):
    for step in (1, 2):
        save_checkpoint(tmp_path, step, {"step": step, "w": torch.full((2,), float(step))})
    manifest = tmp_path / "latest.json"
    manifest.unlink() if damage == "missing" else manifest.write_text("")
    with pytest.warns(UserWarning, match="falling back to the step_"):
        state, step = load_latest_checkpoint(tmp_path)
    assert step == 2 and state["w"].tolist() == [2.0, 2.0]


def test_a_manifest_step_that_disagrees_with_the_file_is_refused(tmp_path):
    save_checkpoint(tmp_path, 1, {"step": 1})
    save_checkpoint(tmp_path, 2, {"step": 2})
    manifest = json.loads((tmp_path / "latest.json").read_text())
    manifest["checkpoints"][-1]["step"] = 7
    (tmp_path / "latest.json").write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match="holds step 2 but latest.json lists it as step 7"):
        _, step = load_latest_checkpoint(tmp_path)
    assert step == 1


def test_a_crash_mid_write_keeps_the_previous_manifest(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, 1, {"w": torch.ones(2)})
    before = (tmp_path / "latest.json").read_text()

    def crash(*args):
        raise OSError("disk vanished")

    monkeypatch.setattr("pyrodis.atomic.os.replace", crash)
    with pytest.raises(OSError, match="cannot write .*step_00000002.pt: disk vanished"):
        save_checkpoint(tmp_path, 2, {"w": torch.zeros(2)})
    monkeypatch.undo()
    assert (tmp_path / "latest.json").read_text() == before
    assert load_latest_checkpoint(tmp_path)[1] == 1
    # the failed write removed its temporary itself
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.json", "step_00000001.pt"]
    (tmp_path / ".step_00000002.pt.tmp-999").write_bytes(b"half")  # a writer killed mid-write
    remove_stale_temporaries(tmp_path)  # what the next writer does under the run's lock
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.json", "step_00000001.pt"]


def test_the_run_lock_names_its_holder_and_a_dead_holder_is_taken_over(tmp_path):
    run_dir = RunDirectory(tmp_path)
    with run_dir.lock():
        assert (tmp_path / ".lock").read_text() == str(os.getpid())
        with pytest.raises(RunLocked, match=f"is being trained by pid {os.getpid()}"):
            run_dir.refuse_if_locked()
    (tmp_path / ".lock").write_text("999999999")  # a lock file left by a process now dead
    run_dir.refuse_if_locked()
    with run_dir.lock():
        assert (tmp_path / ".lock").read_text() == str(os.getpid())


def test_a_config_with_an_infinite_sigma_is_not_taken_for_divergence(tmp_path):
    """Regression: the run record in each checkpoint holds the config, and
    data.correlation_sigma = inf (independent factors) is a legitimate value."""
    from pyrodis.runs import resolve_config, train_run

    config = resolve_config(
        preset="beta-vae",
        overrides=[
            "data.correlated=['scale', 'shape']",
            "data.correlation_sigma=inf",
            "model.architecture='mlp'",
            "model.latent_dim=2",
            "train.batch_size=4",
            "train.checkpoint_every=1",
        ],
    )
    run = train_run(tmp_path / "run", config, steps=2, progress=False)
    assert run.step == 2 and (tmp_path / "run" / "checkpoints" / "step_00000002.pt").exists()


def test_a_run_record_tells_a_foreign_checkpoint():
    from pyrodis.runs.checkpoint import foreign_run

    mine = {"run_id": "a1", "config": {"seed": 5, "train": {"steps": 10}}}
    assert foreign_run({**mine, "history": [1]}, mine) is None
    assert foreign_run({**mine, "run_id": "b2"}, mine) == (
        "its run id b2 is not the run id a1 in config.json"
    )
    old = {"config": {"seed": 5, "train": {"steps": 30}}}  # made before run ids: by config
    assert foreign_run(old, mine) is None  # --resume --steps changes only train.steps
    assert foreign_run({"config": {"seed": 6, "train": {}}}, mine) == (
        "its config differs from config.json in seed"
    )
    assert foreign_run(None, mine) is None  # a checkpoint without a run record
