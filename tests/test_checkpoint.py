import json
import pickle

import pytest
import torch

from pyrodis.runs.checkpoint import CheckpointError, load_latest_checkpoint, save_checkpoint


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
