"""Bad input that used to end in a traceback or be accepted silently: each is one clear error
(exit code 2 for usage errors), and nothing is left half-written."""

import zipfile

import h5py
import numpy as np
import pytest
from faultkit import TINY

from pyrodis.cli import main
from pyrodis.data import DatasetFileError, DSprites, Shapes3D


def _shapes_h5(path, labels=None):
    sizes = (1, 1, 2, 1, 2, 3)
    grids = np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij")
    classes = np.stack([g.ravel() for g in grids], 1).astype(float)
    with h5py.File(path, "w") as f:
        f["images"] = np.zeros((len(classes), 64, 64, 3), np.uint8)
        f["labels"] = classes if labels is None else labels(classes)
    return path


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seed", str(10**23)], "seed must be in [0, 2**32)"),
        (["--set", "optim.lr=1e308"], "optim.lr must be > 0 and <= 3.4e38, got 1e+308"),
        (["--set", "objective.beta=true"], "objective.beta must be a number, got True"),
        (["--set", "optim.lr_floor=5"], "optim.lr_floor must be a fraction of lr in [0, 1]"),
        (["--set", "train.batch_size=1000000"], "train.batch_size=1000000 is larger than the"),
        (["--set", "objective.latent_sites=['nope']"], "latent site 'nope' is not a sample site"),
    ],
)
def test_bad_settings_are_usage_errors_that_write_nothing(tmp_path, capsys, flags, message):
    run = tmp_path / "run"
    assert main(["train", *TINY, *flags, "--steps", "2", "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not run.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[1, 2]", "must hold an object of tables at the top level"),
        (b'{"seed": "\xe9"}', "is not UTF-8 text"),
    ],
)
def test_bad_config_files_are_usage_errors(tmp_path, capsys, content, message):
    path = tmp_path / "config.json"
    path.write_bytes(content)
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_unwritable_out_and_report_out_are_usage_errors(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["train", *TINY, "--steps", "2", "--out", str(afile / "run")]) == 2
    assert f"cannot write the run directory {afile / 'run'}" in capsys.readouterr().err
    assert main(["train", *TINY, "--steps", "2", "--out", str(afile)]) == 2
    assert f"--out {afile} is a file, not a directory" in capsys.readouterr().err
    run = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "1", "--out", str(run)]) == 0
    assert main(["report", str(run), "--out", str(afile / "report")]) == 2
    assert f"cannot write the report to --out {afile / 'report'}" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--repeats", "0"]) == 2
    assert "repeats must be >= 1, got 0" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--set", "typo.key=1"]) == 2
    assert "unknown metric 'typo'" in capsys.readouterr().err
    assert not (run / "metrics.json").exists()


def test_a_truncated_h5_is_a_clear_error_also_from_the_cli(tmp_path, capsys):
    whole = _shapes_h5(tmp_path / "whole.h5").read_bytes()
    cut = tmp_path / "3dshapes.h5"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatasetFileError, match="cannot be opened as HDF5.*truncated"):
        Shapes3D(cut)
    flags = ["--dataset", "shapes3d", "--data-path", str(cut)]
    assert main(["train", *TINY, *flags, "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "The file is truncated or corrupted: download it again" in err
    assert not (tmp_path / "run").exists()


def test_non_finite_labels_in_a_3dshapes_file_are_refused(tmp_path):
    def with_inf(classes):
        labels = classes.copy()
        labels[:, 5] = np.where(classes[:, 5] == 2, np.inf, classes[:, 5])  # a whole class inf
        return labels

    path = _shapes_h5(tmp_path / "inf.h5", with_inf)
    with pytest.raises(
        DatasetFileError,
        match=r"labels holds non-finite values \(4 of them; the "
        r"first is inf in row 2, factor 'orientation'\)",
    ):
        Shapes3D(path)


def test_a_malformed_npy_header_is_not_called_a_pickled_array(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(
        good,
        imgs=np.zeros((2, 64, 64), np.uint8),
        latents_classes=np.zeros((2, 6)),
        latents_values=np.zeros((2, 6)),
        metadata=np.zeros(1),
    )
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "latents_classes.npy":
                data = data[:10] + b"{garbage" + data[18:]
            zout.writestr(name, data)
    with pytest.raises(DatasetFileError, match="the .npy header of 'latents_classes' is malformed"):
        DSprites(bad)


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("eval.options={dci={num_trian=100}}", "unknown dci option 'num_trian' (did you mean"),
        ("eval.options={migg={num_train=100}}", "options given for unknown metric 'migg'"),
        ("eval.metrics=['mig','sapp']", "unknown metrics ['sapp'] (did you mean 'sap'?)"),
    ],
)
def test_eval_settings_that_evaluate_would_refuse_are_refused_by_train(
    tmp_path, capsys, flag, message, dry_run
):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--set", flag, *dry_run, "--steps", "2", "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert message in err and "eval." in err and "Traceback" not in err
    assert not run.exists()
