"""read_labels: CelebA-style and CSV label files over a folder of images, partial in rows and
columns, discrete and continuous; the labelled images score with the metrics that apply to
observed labels, and the BetaVAE/FactorVAE scores say why they cannot run."""

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from pyrodis.data import DatasetFileError, ImageFolder, LabelledImages, read_labels
from pyrodis.metrics import evaluate

N = 40


@pytest.fixture
def folder(tmp_path):
    """Image i: red 60 + 60·(i mod 3), green 6·i; files img/000i.png."""
    root = tmp_path / "faces"
    (root / "img").mkdir(parents=True)
    for i in range(N):
        Image.new("RGB", (8, 8), (60 + 60 * (i % 3), 6 * i, 0)).save(root / "img" / f"{i:04d}.png")
    return ImageFolder(root, size=8, workers=1, progress=False)


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n")
    return path


def caught(fn):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in got]


def test_a_partial_csv_becomes_discrete_and_continuous_factors(folder, tmp_path):
    rows = [
        (f"{i:04d}.png", 2 * (i % 3) - 1, 6.5 * i, 1, "yes" if i % 2 else "no") for i in range(30)
    ]
    rows += [("gone.png", 1, 0.0, 1, "no"), ("img/lost.png", 1, 0.0, 1, "no")]
    path = write_csv(tmp_path / "labels.csv", ["image_id", "red", "green", "always", "odd"], rows)
    labelled, messages = caught(lambda: read_labels(path, folder))
    assert isinstance(labelled, LabelledImages) and len(labelled) == 30
    assert labelled.factor_names == ("red", "green", "odd")
    assert labelled.file_names[:2] == ("img/0000.png", "img/0001.png")
    assert labelled.factor_sizes == (3, 20, 2) and labelled.continuous_factors == (
        False,
        True,
        False,
    )
    assert labelled.factors([0, 1, 2, 3])[:, 0].tolist() == [0, 1, 2, 0]  # -1, 1, 3 → classes
    assert labelled.factor_values[0].tolist() == [-1.0, 1.0, 3.0]
    assert labelled.factors([0, 1])[:, 2].tolist() == [0, 1]  # "no" < "yes"
    assert labelled.factors([0, 29])[:, 1].tolist() == [0, 19]  # the range's first and last bin
    assert len(messages) == 2
    assert "2 rows name files that are not among the images" in messages[0]
    assert "gone.png" in messages[0] and "img/lost.png" in messages[0]
    assert "single value" in messages[1] and "always" in messages[1]
    x = labelled.observations_at([4])
    assert torch.allclose(x[0, :, 0, 0] * 255, torch.tensor([120.0, 24.0, 0.0]))


def test_celeba_attribute_txt_with_its_count_line_and_unnamed_file_column(folder, tmp_path):
    lines = ["40", "Smiling Young"] + [
        f"{i:04d}.png {1 if i % 3 else -1} {1 if i < 20 else -1}" for i in range(N)
    ]
    (tmp_path / "list_attr.txt").write_text("\n".join(lines))
    labelled = read_labels(tmp_path / "list_attr.txt", folder, columns=["Young"])
    assert labelled.factor_names == ("Young",) and len(labelled) == N
    assert labelled.factors(np.arange(N))[:, 0].tolist() == [1] * 20 + [0] * 20


def test_the_metrics_for_labels_run_and_interventional_ones_say_why_not(folder, tmp_path):
    rows = [(f"img/{i:04d}.png", i % 3, 6 * i) for i in range(N)]
    labelled = read_labels(write_csv(tmp_path / "l.csv", ["file", "red", "green"], rows), folder)

    def codes(x):  # code 0 reads red, code 1 reads green: a perfectly disentangled code
        return x[:, :2, 0, 0]

    small = {"num_train": 300, "num_test": 100}
    options = {"mig": {"num_train": 300}, "dci": small, "sap": small, "modularity": small}
    result = evaluate(codes, labelled, metrics=["mig", "dci", "sap", "modularity"], options=options)
    assert result["mig"]["mig"] > 0.5 and result["dci"]["disentanglement"] > 0.9
    assert set(labelled.applicable_metrics) >= {"mig", "dci", "sap", "modularity", "irs"}
    discrete = read_labels(tmp_path / "l.csv", folder, columns=["red"])
    for metric in ("beta_vae", "factor_vae"):
        assert "intervention" in labelled.unavailable_metrics[metric]
        with pytest.raises(ValueError, match="vary independently.*mig, dci"):
            evaluate(codes, discrete, metrics=[metric], options={metric: {"num_train": 5}})


def test_labels_without_a_header_or_naming_no_image_are_refused(folder, tmp_path):
    rows = [(f"{i:04d}.png", i % 2) for i in range(5)]
    path = tmp_path / "noheader.csv"
    path.write_text("\n".join(f"{a},{b}" for a, b in rows))
    with pytest.raises(DatasetFileError, match="is a data row, not a header.*file,Smiling"):
        read_labels(path, folder)
    other = write_csv(tmp_path / "other.csv", ["file", "x"], [("a.png", 0), ("b.png", 1)])
    with pytest.raises(DatasetFileError, match=r"0 of 2 rows name an image.*img/0000.png"):
        caught(lambda: read_labels(other, folder))


def test_columns_rows_and_values_that_cannot_be_used(folder, tmp_path):
    rows = [(f"{i:04d}.png", 1, i % 2) for i in range(10)]
    path = write_csv(tmp_path / "l.csv", ["file", "same", "bit"], rows)
    with pytest.raises(DatasetFileError, match=r"no label columns \['age'\]"):
        read_labels(path, folder, columns=["age"])
    with pytest.raises(DatasetFileError, match="every label column has a single value"):
        caught(lambda: read_labels(path, folder, columns=["same"]))
    holes = write_csv(tmp_path / "h.csv", ["file", "bit"], [("0000.png", 1), ("0001.png", "")])
    with pytest.raises(DatasetFileError, match="1 of 1 rows"):  # the row with a hole is ignored
        caught(lambda: read_labels(holes, folder))
    twice = write_csv(tmp_path / "t.csv", ["file", "bit"], [("0000.png", 1), ("0000.png", 0)])
    with pytest.raises(DatasetFileError, match="labelled twice"):
        read_labels(twice, folder)
    ragged = tmp_path / "r.csv"
    ragged.write_text("file,bit\n0000.png,1\n0001.png\n")
    with pytest.raises(DatasetFileError, match=r"rows \[3\] have not 2 cells"):
        read_labels(ragged, folder)


def test_an_infinite_label_is_named_with_its_column(folder, tmp_path):
    rows = [(f"{i:04d}.png", "inf" if i == 3 else i * 0.5) for i in range(25)]
    with pytest.raises(DatasetFileError, match="column 'age' holds an infinite value"):
        read_labels(write_csv(tmp_path / "l.csv", ["file", "age"], rows), folder)
