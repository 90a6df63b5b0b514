"""ImageArray and open_images: .npy/.npz/HDF5 stacks of images in every layout, memory-mapped,
and the clear errors of arrays that are not images."""

import h5py
import numpy as np
import pytest
import torch
from PIL import Image

from pyrodis.data import DatasetFileError, ImageArray, ImageFolder, make_loader, open_images


def stack(n=6, c=3, h=8, w=8):
    """uint8 (n, c, h, w) whose image i has value 10·i + channel everywhere."""
    values = 10 * np.arange(n)[:, None] + np.arange(c)[None, :]
    return np.broadcast_to(values[:, :, None, None], (n, c, h, w)).astype(np.uint8)


def expected(x):
    return torch.from_numpy(x.astype(np.float32) / 255.0)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC", "NHW"])
def test_npy_in_every_layout_is_memory_mapped(tmp_path, layout):
    x = stack(c=1 if layout == "NHW" else 3)
    stored = {"NCHW": x, "NHWC": x.transpose(0, 2, 3, 1), "NHW": x[:, 0]}[layout]
    np.save(tmp_path / "x.npy", np.ascontiguousarray(stored))
    data = open_images(tmp_path / "x.npy")
    assert isinstance(data, ImageArray) and isinstance(data._store, np.memmap)
    assert data.layout == layout and data.observation_shape == x.shape[1:] and len(data) == 6
    assert torch.equal(data.observations([4, 1]), expected(x[[4, 1]]))


def test_npz_members_are_streamed_to_the_cache_and_keys_are_asked_for(tmp_path):
    x = stack()
    np.savez_compressed(tmp_path / "x.npz", images=x, labels=np.arange(6))
    with pytest.raises(DatasetFileError, match=r"holds 2 arrays.*pass key="):
        ImageArray(tmp_path / "x.npz")
    data = ImageArray(tmp_path / "x.npz", key="images")
    assert isinstance(data._store, np.memmap)
    assert (tmp_path / "cache" / "arrays").is_dir()
    assert torch.equal(data.observations(np.arange(6)), expected(x))


def test_hdf5_contiguous_is_mapped_and_chunked_is_read_lazily(tmp_path):
    x = stack()
    with h5py.File(tmp_path / "x.h5", "w") as h5:
        h5["plain"] = x
        h5.create_dataset(
            "packed", data=x.transpose(0, 2, 3, 1), chunks=(2, 8, 8, 3), compression="gzip"
        )
    plain = ImageArray(tmp_path / "x.h5", key="plain")
    packed = ImageArray(tmp_path / "x.h5", key="packed")
    assert isinstance(plain._store, np.memmap) and not isinstance(packed._store, np.ndarray)
    for data in (plain, packed):  # repeated and unsorted indices, as a shuffled batch has
        assert torch.equal(data.observations([5, 0, 5, 2]), expected(x[[5, 0, 5, 2]]))
    batch, factors, indices = next(iter(make_loader(packed, batch_size=3, seed=0)))
    assert factors is None and torch.equal(batch, expected(x[indices.numpy()]))


def test_floats_and_bools_are_taken_in_range_only(tmp_path):
    np.save(tmp_path / "f.npy", np.full((3, 1, 4, 4), 0.25, dtype=np.float32))
    assert torch.allclose(open_images(tmp_path / "f.npy").observations([0]), torch.tensor(0.25))
    np.save(tmp_path / "b.npy", np.ones((3, 4, 4), dtype=bool))
    assert float(open_images(tmp_path / "b.npy").observations([1]).min()) == 1.0
    np.save(tmp_path / "big.npy", np.full((3, 4, 4), 255.0))
    with pytest.raises(DatasetFileError, match="Divide by 255"):
        open_images(tmp_path / "big.npy")
    np.save(tmp_path / "u16.npy", np.zeros((3, 4, 4), dtype=np.uint16))
    with pytest.raises(DatasetFileError, match="dtype uint16.*Store uint8"):
        open_images(tmp_path / "u16.npy")


@pytest.mark.parametrize("shape", [(10,), (10, 8), (10, 8, 8, 5), (2, 1, 8, 8, 3), (0, 8, 8)])
def test_arrays_of_the_wrong_rank_or_channels_say_which_layouts_work(tmp_path, shape):
    np.save(tmp_path / "x.npy", np.zeros(shape, dtype=np.uint8))
    with pytest.raises(DatasetFileError, match=r"not a stack of images.*\(N, H, W\) grey"):
        open_images(tmp_path / "x.npy")


def test_open_images_chooses_by_what_the_path_is(tmp_path):
    (tmp_path / "photos").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "photos" / "one.png")
    assert isinstance(open_images(tmp_path / "photos", size=8, progress=False), ImageFolder)
    with pytest.raises(DatasetFileError, match="a single image. Pass the folder"):
        open_images(tmp_path / "photos" / "one.png")
    with pytest.raises(DatasetFileError, match="no such file or folder"):
        open_images(tmp_path / "missing")
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(DatasetFileError, match="neither a folder of images nor an array"):
        open_images(tmp_path / "x.csv")
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(DatasetFileError, match="not a readable .npy"):
        open_images(tmp_path / "bad.npy")


def test_open_images_takes_the_folder_options_for_an_array_when_they_match(tmp_path):
    np.save(tmp_path / "x.npy", stack(h=16, w=16))
    data = open_images(tmp_path / "x.npy", size=16, channels=3, crop="center", workers=2)
    assert data.observation_shape == (3, 16, 16)
    with pytest.raises(DatasetFileError, match="holds 3x16x16 images, not the 3x64x64"):
        open_images(tmp_path / "x.npy", size=64)
