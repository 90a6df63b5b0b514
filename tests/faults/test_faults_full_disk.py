"""A full disk (ENOSPC) while pyrodis writes: on a real, tiny tmpfs and with a fault injected into
the write. A fresh run that fails before its first checkpoint removes what it wrote; a later
failure keeps the last good checkpoint; a report keeps the previous one; the message names the
file that could not be written."""

import errno
import json
import shutil
import subprocess
from contextlib import contextmanager

import pytest
from faultkit import TINY, finish, spawn

from pyrodis import atomic
from pyrodis.cli import main
from pyrodis.runs import load_run


@contextmanager
def tiny_file_system(path, size: str):
    """A tmpfs of ``size`` mounted at ``path`` (skips where mounting is not permitted)."""
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def fill(directory, leave: int) -> None:
    """Fill the file system of ``directory`` up to ``leave`` free bytes."""
    free = shutil.disk_usage(directory).free
    (directory / "filler").write_bytes(b"\0" * max(0, free - leave))


@pytest.fixture
def fail_writes_of(monkeypatch):
    """``fail_writes_of(name)``: every write of a file called ``name`` fails as on a full disk,
    after a part of it reached the temporary."""
    original = atomic._fsync_file

    def install(name: str) -> None:
        def flush(path):
            if path.name.startswith(f".{name}.tmp-"):
                raise OSError(errno.ENOSPC, "No space left on device")
            original(path)

        monkeypatch.setattr(atomic, "_fsync_file", flush)

    return install


def test_a_fresh_run_on_a_full_file_system_removes_what_it_wrote(tmp_path):
    fs = tmp_path / "fs"
    with tiny_file_system(fs, "64k"):  # config.json and log.csv fit; the first checkpoint not
        run = fs / "run"
        code, err = finish(spawn("train", *TINY, "--steps", "12", "--out", str(run)))
        assert code == 1, err
        assert err.count("error:") == 1 and "Traceback" not in err
        assert f"cannot write {run}/checkpoints/step_00000010.pt: No space left on device" in err
        assert "No checkpoint had been written yet, so what the run wrote was removed" in err
        assert list(fs.iterdir()) == []  # nothing left: --out accepts the directory again
    assert main(["train", *TINY, "--steps", "2", "--out", str(run)]) == 0


@pytest.mark.parametrize("name", ["step_00000010.pt", "latest.json", "config.json", "log.csv"])
def test_a_fresh_run_failing_on_any_first_write_leaves_nothing(
    tmp_path, capsys, fail_writes_of, name
):
    fail_writes_of(name)
    run = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "12", "--out", str(run)]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {run}/" in err and name in err and "No space left" in err
    assert not run.exists()


def test_a_full_disk_at_a_later_checkpoint_keeps_the_last_good_one(
    tmp_path, capsys, fail_writes_of
):
    fail_writes_of("step_00000020.pt")
    run = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "25", "--out", str(run)]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {run}/checkpoints/step_00000020.pt: No space left on device" in err
    assert "The last good checkpoint, step 10" in err and "--resume" in err
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "latest.json",
        "step_00000010.pt",
    ]
    assert load_run(run).step == 10
    fail_writes_of("nothing")
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert load_run(run).step == 25


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """A trained run with its report."""
    run = tmp_path_factory.mktemp("reported") / "run"
    assert main(["train", *TINY, "--steps", "10", "--out", str(run)]) == 0
    assert main(["report", str(run)]) == 0
    return run


def test_a_report_on_a_full_file_system_keeps_the_previous_report(reported, tmp_path):
    fs = tmp_path / "fs"
    with tiny_file_system(fs, "32m"):  # a run of TINY takes about 10 MB
        run = fs / "run"
        shutil.copytree(reported, run)
        before = {n: (run / n).read_bytes() for n in ("report.html", "report.json")}
        figures = {p.name: p.read_bytes() for p in (run / "figures").iterdir()}
        fill(fs, leave=4096)
        code, err = finish(spawn("report", str(run)))
        assert code == 1 and "No space left on device" in err and "Traceback" not in err
        assert {n: (run / n).read_bytes() for n in before} == before
        assert {p.name: p.read_bytes() for p in (run / "figures").iterdir()} == figures
        assert not list(run.rglob(".*.tmp-*"))


@pytest.mark.parametrize("name", ["report.json", "report.html"])
def test_a_report_failing_mid_write_keeps_the_previous_report(
    reported, tmp_path, capsys, fail_writes_of, name
):
    run = tmp_path / "run"
    shutil.copytree(reported, run)
    before = {n: (run / n).read_bytes() for n in ("report.html", "report.json")}
    fail_writes_of(name)
    assert main(["report", str(run)]) == 1
    assert f"cannot write {run / name}: No space left on device" in capsys.readouterr().err
    assert (run / name).read_bytes() == before[name]
    json.loads((run / "report.json").read_text())  # whole, whichever version
    assert not list(run.glob(".*.tmp-*"))
