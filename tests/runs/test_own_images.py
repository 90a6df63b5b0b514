"""Your own images through the CLI: train on a folder, evaluate and report without factors, add
labels; every bad input is the documented warning or a clear error, never a traceback, and the
folder is never written to."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kit.folders import snapshot
from PIL import Image

from pyrodis.cli import main
from pyrodis.data import LABELLED_METRICS, NEEDS_INTERVENTIONS

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--set", "train.batch_size=4", "--set", "data.size=32", "--set", "model.latent_dim=3"]
TINY += ["--set", "train.log_every=1", "--set", "eval.num_points=16", "--no-progress"]
REQUESTED = ["mig", "factor_vae", "dci", "sap", "modularity", "unsupervised"]


def photographs(folder: Path, n: int = 12) -> Path:
    """A folder of real image files in every format and fault of the issue: RGB and grey PNG,
    JPEG, 16-bit and palette PNG, CMYK JPEG, alpha, a sub-folder, a text file, a corrupt and a
    truncated JPEG (those two are skipped)."""
    (folder / "holiday").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = np.zeros((40, 48, 3), np.uint8)
        x = int(rng.integers(0, 36))
        pixels[8:32, x : x + 12] = rng.integers(60, 255, 3)
        where = folder / "holiday" if i % 3 == 0 else folder
        Image.fromarray(pixels).save(where / f"p{i:02d}.{'jpg' if i % 2 else 'png'}")
    Image.fromarray(np.full((20, 20), 9000, np.uint16)).save(folder / "deep16.png")
    palette = Image.new("P", (20, 20), 1)
    palette.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    palette.save(folder / "palette.png")
    Image.new("CMYK", (20, 20), (0, 255, 255, 0)).save(folder / "cmyk.jpg")
    Image.new("RGBA", (20, 20), (255, 255, 255, 51)).save(folder / "alpha.png")
    Image.new("L", (20, 20), 128).save(folder / "grey.png")
    whole = (folder / "p01.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    (folder / "junk.jpg").write_bytes(b"not a jpeg")
    (folder / "notes.txt").write_text("the camera settings")
    return folder


def cli(*args, cwd, cache):
    env = {**os.environ, "PYRODIS_CACHE": str(cache), "OMP_WAIT_POLICY": "PASSIVE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "pyrodis", *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run trained through the CLI on the folder (4 steps)."""
    tmp = tmp_path_factory.mktemp("own")
    folder = photographs(tmp / "photos")
    before = snapshot(folder)
    train = cli("train", "--preset", "beta-vae", "--data", "photos", "--out", "run",
                "--steps", 4, *TINY, cwd=tmp, cache=tmp / "cache")  # fmt: skip
    return tmp, folder, before, train


def test_a_folder_trains_evaluates_and_reports_through_the_cli(trained):
    tmp, folder, before, train = trained
    assert train.returncode == 0, train.stderr
    assert "Traceback" not in train.stderr and snapshot(folder) == before
    warned = [line for line in train.stderr.splitlines() if "warning:" in line]
    assert len(warned) == 1 and "skipped 2 of 19" in warned[0]
    assert "cut.jpg" in warned[0] and "junk.jpg" in warned[0]
    config = json.loads((tmp / "run" / "config.json").read_text())["config"]["data"]
    assert config["name"] == "images" and config["path"] == str(folder)

    evaluated = cli("evaluate", tmp / "run", cwd=ROOT, cache=tmp / "cache")  # another cwd
    assert evaluated.returncode == 0, evaluated.stderr
    assert "needs labels: mig, factor_vae, dci, sap, modularity" in evaluated.stdout
    record = json.loads((tmp / "run" / "metrics.json").read_text())
    assert set(record["needs_labels"]) == set(REQUESTED) - {"unsupervised"}
    assert all("--labels FILE.csv" in why for why in record["needs_labels"].values())
    assert "mig" not in record and record["unsupervised"]["num_active_dims"]["value"] >= 0
    free = record["label_free"]
    assert set(free) == {"kl_total", "active_units", "mi", "tc", "dwkl"}
    kl = record["kl_per_latent"]
    assert len(kl) == 3 and free["kl_total"]["value"] == pytest.approx(sum(kl.values()))

    reported = cli("report", tmp / "run", cwd=tmp, cache=tmp / "cache")
    assert reported.returncode == 0 and "Traceback" not in reported.stderr
    numbers = json.loads((tmp / "run" / "report.json").read_text())
    assert {"reconstructions", "traversals", "samples"} <= set(numbers["figures"])
    assert not {"mi_heatmap", "latent_vs_factor"} & set(numbers["figures"])
    assert "mutual_information" not in numbers and "decomposition" in numbers
    text = (tmp / "run" / "report.html").read_text()
    assert "matched factor" not in text and 'id="decomposition"' in text
    assert text.index('id="fig-traversals"') < text.index('id="summary"')
    assert "Needs labels" in text and snapshot(folder) == before


def test_a_labels_file_turns_on_exactly_the_metrics_that_apply(trained):
    tmp, folder, before, train = trained
    assert train.returncode == 0, train.stderr
    names = [f"p{i:02d}.{'jpg' if i % 2 else 'png'}" for i in range(12)]
    rows = [f"{name},{i % 3},{i * 0.37:.2f},same" for i, name in enumerate(names)]
    labels = tmp / "labels.csv"
    labels.write_text("file,side,brightness,camera\n" + "\n".join(rows) + "\nghost.png,1,2,same\n")
    evaluated = cli("evaluate", tmp / "run", "--labels", labels, cwd=tmp, cache=tmp / "cache")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "ghost.png" in evaluated.stderr and "camera" in evaluated.stderr  # both warned
    record = json.loads((tmp / "run" / "metrics.json").read_text())
    scored = {m for m in REQUESTED if m in record}
    assert scored == set(LABELLED_METRICS) & set(REQUESTED)
    assert record["not_applicable"] == {"factor_vae": NEEDS_INTERVENTIONS["factor_vae"]}
    assert record["labels"]["labelled_images"] == 12 and "needs_labels" not in record
    assert set(record["labels"]["factors"]) == {"side", "brightness"}
    assert snapshot(folder) == before


def run_main(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PYRODIS_CACHE", str(tmp_path / "cache"))


def test_bad_folders_and_arrays_are_clear_errors_and_leave_nothing(tmp_path, capsys, cache):
    (tmp_path / "empty").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x")
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "a.jpg").write_text("not a jpeg")
    np.save(tmp_path / "flat.npy", np.zeros((5, 5)))
    Image.new("L", (8, 8)).save(tmp_path / "one.png")
    cases = {
        "empty": "no image files",
        "docs": "found 1 other files",
        "fake": "none of the 1 image files can be used",
        "flat.npy": "flat.npy",
        "one.png": "a single image. Pass the folder",
        "missing": "no such file or folder",
    }
    for path, message in cases.items():
        out = tmp_path / f"run-{path}"
        code, _, err = run_main(capsys, "train", "--preset", "beta-vae", "--data",
                                tmp_path / path, "--out", out, "--steps", 2, *TINY)  # fmt: skip
        assert code == 2 and message in err and err.startswith("pyrodis train: error:"), err
        assert not out.exists()  # a run that fails leaves nothing half-made
    assert snapshot(tmp_path / "fake") == [
        ("a.jpg", 10, (tmp_path / "fake/a.jpg").stat().st_mtime_ns)
    ]


def test_conflicting_flags_and_bad_settings_say_what_to_change(
    tmp_path, capsys, cache, monkeypatch
):
    Image.new("L", (8, 8)).save(tmp_path / "a.png")
    bad = [
        (["--dataset", "dsprites"], "Give one or the other"),
        (["--data-path", tmp_path], "Give one or the other"),
        (["--set", "data.size=48"], "data.size must be 32, 64 or 128"),
        (["--set", "data.channels=2"], "data.channels must be 1 or 3"),
    ]
    for extra, message in bad:
        code, _, err = run_main(capsys, "train", "--preset", "beta-vae", "--data", tmp_path,
                                "--out", tmp_path / "run", *extra)  # fmt: skip
        assert code == 2 and message in err, err
    code, _, err = run_main(capsys, "train", "--preset", "beta-vae", "--labels", "x.csv",
                            "--out", tmp_path / "run")  # fmt: skip
    assert code == 2 and "data.labels is for your own images" in err
    assert not (tmp_path / "run").exists()
    monkeypatch.chdir(tmp_path)  # relative paths are stored absolute: evaluate runs from anywhere
    code, out, _ = run_main(capsys, "train", "--preset", "beta-vae", "--data", ".",
                            "--labels", "l.csv", "--dry-run")  # fmt: skip
    data = json.loads(out)["data"]
    assert code == 0 and data["name"] == "images" and data["path"] == str(tmp_path)
    assert data["labels"] == str(tmp_path / "l.csv") and data["size"] == 64


def test_a_decompression_bomb_is_skipped_with_the_warning(tmp_path):
    folder = tmp_path / "bomb"
    folder.mkdir()
    for i in range(4):
        Image.new("L", (10, 10), 40 * i).save(folder / f"small{i}.png")
    Image.new("L", (60, 60), 3).save(folder / "huge.png")
    # the real command in a process of its own, with Pillow's pixel limit lowered to 1,000
    argv = ["train", "--preset", "beta-vae", "--data", str(folder), "--out", str(tmp_path / "run"),
            "--steps", "2", *map(str, TINY)]  # fmt: skip
    script = f"from PIL import Image; Image.MAX_IMAGE_PIXELS = 1000\nfrom pyrodis.cli import main\nraise SystemExit(main({argv!r}))"
    env = {**os.environ, "PYRODIS_CACHE": str(tmp_path / "cache"), "OMP_WAIT_POLICY": "PASSIVE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    code, err = done.returncode, done.stderr
    assert code == 0, err
    assert "pyrodis train: warning:" in err and "huge.png" in err and "skipped 1 of 5" in err


def test_bad_labels_files_are_clear_errors(trained, capsys, monkeypatch):
    tmp, _, _, train = trained
    assert train.returncode == 0, train.stderr
    monkeypatch.setenv("PYRODIS_CACHE", str(tmp / "cache"))
    cases = {
        "noheader.csv": ("p00.png,1\np01.jpg,2\n", "is a data row, not a header"),
        "nobody.csv": ("file,side\nghost1.png,1\nghost2.png,2\n", "at least 2 are needed"),
        "constant.csv": ("file,side\np00.png,1\np01.jpg,1\n", "every label column has a single"),
    }
    for name, (text, message) in cases.items():
        (tmp / name).write_text(text)
        code, _, err = run_main(capsys, "evaluate", tmp / "run", "--labels", tmp / name)
        error = [line for line in err.splitlines() if line.startswith("pyrodis evaluate: error:")]
        assert code == 2 and len(error) == 1 and message in error[0], err


def test_pyrodis_datasets_says_what_data_accepts(capsys):
    code, out, _ = run_main(capsys, "datasets")
    assert code == 0 and "pyrodis train --data PATH" in out and ".npy" in out and "--labels" in out
