"""Official-file loaders on small files written here in the official layout (a subset grid)."""

import h5py
import numpy as np
import pytest
import torch

from pyrodis.data import DatasetFileError, DSprites

# a 1×3×2×4×3×2 subset of the official grid (class picks into the full grid)
PICKS = (
    np.array([0]),
    np.arange(3),
    np.array([0, 5]),
    np.array([0, 7, 19, 30]),
    np.array([0, 15, 31]),
    np.array([3, 31]),
)


def subset_grid():
    grids = np.meshgrid(*[np.arange(len(p)) for p in PICKS], indexing="ij")
    classes = np.stack([g.ravel() for g in grids], 1).astype(np.int64)
    full = np.stack([PICKS[k][classes[:, k]] for k in range(6)], 1)  # classes in the full grid
    return classes, full


def official_arrays():
    classes, full = subset_grid()
    procedural = DSprites()
    values = np.concatenate(
        [np.ones((len(full), 1)), procedural.factor_physical_values(full[:, 1:])], 1
    )
    imgs = procedural.observations(full[:, 1:])[:, 0].numpy().astype(np.uint8)
    return {"imgs": imgs, "latents_values": values, "latents_classes": classes}, full


def write_npz(path, arrays, metadata=True, compressed=True):
    extra = {"metadata": np.array({"description": "test", "latents_sizes": [1, 3]}, dtype=object)}
    save = np.savez_compressed if compressed else np.savez
    save(path, **arrays, **(extra if metadata else {}))
    return path


def write_h5(path, arrays):
    with h5py.File(path, "w") as f:
        f["imgs"] = arrays["imgs"]
        f["latents/classes"] = arrays["latents_classes"]
        f["latents/values"] = arrays["latents_values"]
    return path


@pytest.fixture(scope="module")
def arrays():
    return official_arrays()


@pytest.mark.parametrize("kind", ["npz", "uncompressed npz", "h5"])
def test_official_layout_loads_through_the_same_interface(tmp_path, arrays, kind):
    arr, full = arrays
    if kind == "h5":
        path = write_h5(tmp_path / "d.h5", arr)
    else:
        path = write_npz(tmp_path / "d.npz", arr, compressed=kind == "npz")
    ds = DSprites(path)
    assert ds.factor_sizes == (3, 2, 4, 3, 2) and len(ds) == len(full)
    # factor values come from the file, not from the procedural grid
    np.testing.assert_allclose(ds.factor_values[1], [0.5, 1.0])
    np.testing.assert_allclose(ds.factor_values[2], np.linspace(0, 2 * np.pi, 40)[[0, 7, 19, 30]])
    classes = ds.sample_factors(50, 0)
    expected = torch.from_numpy(arr["imgs"][ds.index(classes)]).float().unsqueeze(1)
    images = ds.observations(classes)
    assert images.dtype == torch.float32 and torch.equal(images, expected)
    img, fac = ds[7]
    assert torch.equal(img[0], torch.from_numpy(arr["imgs"][7]).float())
    assert fac.tolist() == arr["latents_classes"][7, 1:].tolist()


def test_npz_metadata_is_the_latin1_pickle(tmp_path, arrays):
    ds = DSprites(write_npz(tmp_path / "d.npz", arrays[0]))
    assert ds.metadata["description"] == "test"
    with pytest.raises(AttributeError, match="npz"):
        DSprites().metadata  # noqa: B018


def test_md5_is_checked_on_request_and_not_on_small_files(tmp_path, arrays, recwarn):
    path = write_npz(tmp_path / "d.npz", arrays[0])
    DSprites(path)  # a subset grid cannot be the official file: no md5 warning
    assert not [w for w in recwarn if "md5" in str(w.message)]
    with pytest.raises(DatasetFileError, match="md5 .* differs .*verify=False"):
        DSprites(path, verify=True)
    DSprites(path, verify=False)


def test_a_full_grid_file_with_another_md5_warns_but_loads(tmp_path, arrays, monkeypatch):
    # pretend the subset grid is the official one: the default check then runs and warns
    monkeypatch.setattr("pyrodis.data.dsprites.OFFICIAL_SIZES", (1, 3, 2, 4, 3, 2))
    with pytest.warns(UserWarning, match="md5 .* differs .*verify=True"):
        ds = DSprites(write_npz(tmp_path / "d.npz", arrays[0]))
    assert len(ds) == 144


@pytest.mark.parametrize(
    "change, message",
    [
        ({"metadata": False}, "missing key 'metadata'"),
        ({"imgs": np.zeros((144, 32, 32), np.uint8)}, r"'imgs' has shape \(144, 32, 32\)"),
        ({"imgs": np.zeros((144, 64, 64), np.float32)}, "dtype float32, expected uint8"),
        ({"imgs": np.full((144, 64, 64), 255, np.uint8)}, "values up to 255, expected 0/1"),
        ({"imgs": np.zeros((100, 64, 64), np.uint8)}, r"shape \(100, 64, 64\), expected \(144"),
        ({"latents_classes": "shuffled"}, "not the full row-major grid"),
        ({"latents_values": "inconsistent"}, "maps one class to several values"),
        ({"latents_classes": np.zeros((144, 5), np.int64)}, r"expected \(N, 6\)"),
    ],
)
def test_a_wrong_npz_says_what_is_wrong(tmp_path, arrays, change, message):
    arr = dict(arrays[0])
    metadata = change.pop("metadata", True) if "metadata" in change else True
    for key, value in change.items():
        if isinstance(value, str) and value == "shuffled":
            value = arr[key][np.random.default_rng(0).permutation(len(arr[key]))]
        elif isinstance(value, str):
            value = arr[key].copy()
            value[5, 3] += 0.5
        arr[key] = value
    path = write_npz(tmp_path / "bad.npz", arr, metadata=metadata)
    with pytest.raises(DatasetFileError, match=message):
        DSprites(path)


def test_not_a_dataset_file(tmp_path, arrays):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(DatasetFileError, match="neither a zip archive"):
        DSprites(junk)
    with pytest.raises(DatasetFileError, match="no such file"):
        DSprites(tmp_path / "missing.npz")
    truncated = tmp_path / "cut.npz"
    data = write_npz(tmp_path / "d.npz", arrays[0]).read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetFileError, match="truncated"):
        DSprites(truncated)


def test_a_wrong_h5_says_what_is_wrong(tmp_path, arrays):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f["imgs"] = arrays[0]["imgs"]
        f["latents/values"] = arrays[0]["latents_values"]
    with pytest.raises(DatasetFileError, match="missing dataset 'latents/classes'"):
        DSprites(path)
