"""The latent names file: atomic round trip, damaged files ignored with a warning, labels."""

import json
import os

import pytest

from pyrodis.diagnostics.latent_names import (
    NAMES_FILE,
    check_latent_name,
    label_latents,
    read_latent_names,
    write_latent_names,
)


def test_names_round_trip_and_nothing_else_is_written(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    assert read_latent_names(tmp_path) == {}
    path = write_latent_names(tmp_path, {3: " pose ", 0: "smile", 5: ""})
    assert path == tmp_path / NAMES_FILE
    assert read_latent_names(tmp_path) == {0: "smile", 3: "pose"}
    assert json.loads(path.read_text())["names"] == {"0": "smile", "3": "pose"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoints", NAMES_FILE]
    write_latent_names(tmp_path, {})
    assert read_latent_names(tmp_path) == {}


def test_a_crash_mid_write_keeps_the_old_names(tmp_path, monkeypatch):
    write_latent_names(tmp_path, {1: "scale"})

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_latent_names(tmp_path, {1: "size"})
    assert read_latent_names(tmp_path) == {1: "scale"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAMES_FILE]


@pytest.mark.parametrize("text", ["{not json", '{"names": ["a"]}', '{"names": {"x": "a"}}', "[]"])
def test_a_damaged_file_is_ignored_with_a_warning(tmp_path, text):
    (tmp_path / NAMES_FILE).write_text(text)
    with pytest.warns(UserWarning, match="damaged"):
        assert read_latent_names(tmp_path) == {}


@pytest.mark.parametrize("bad", [3, None, "x" * 41, "a\\nb", "tab\\there"])
def test_bad_names_are_refused_with_what_a_name_may_be(bad):
    bad = bad.encode().decode("unicode_escape") if isinstance(bad, str) else bad
    with pytest.raises(ValueError, match="latent name"):
        check_latent_name(bad)


def test_labels_append_the_given_names(tmp_path):
    write_latent_names(tmp_path, {1: "pose"})
    assert label_latents(["z[0]", "z[1]"], tmp_path) == ["z[0]", "z[1] pose"]
    assert label_latents(["z[0]"], None) == ["z[0]"]
    with pytest.raises(FileNotFoundError, match="run"):
        write_latent_names(tmp_path / "missing", {0: "a"})
