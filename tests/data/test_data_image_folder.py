"""ImageFolder on folders of real image files: values, order, channels, the cache (reused,
invalidated, outside the folder) and the trainer, make_loader and DataLoader reading it."""

import os
import pickle

import numpy as np
import pytest
import torch
from kit.folders import snapshot
from PIL import Image
from torch.utils.data import DataLoader

import pyrodis.data.images as images_module
from pyrodis.data import ImageFolder, as_source, make_loader
from pyrodis.inference.beta_elbo import BetaELBO
from pyrodis.models import VAE
from pyrodis.training import fit


def solid(path, colour, size=(40, 30), mode="RGB", **save):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path, **save)


def test_solid_colours_keep_their_values_in_sorted_order(tmp_path):
    folder = tmp_path / "photos"
    solid(folder / "b" / "z.png", (200, 10, 30))
    solid(folder / "a.bmp", (0, 255, 128), size=(17, 50))
    solid(folder / "b" / "c.webp", (9, 99, 199), lossless=True)
    before = snapshot(folder)
    data = ImageFolder(folder, size=32, workers=1, progress=False)
    assert data.file_names == ("a.bmp", "b/c.webp", "b/z.png")
    assert data.observation_shape == (3, 32, 32) and len(data) == 3
    x = data.observations(np.array([2, 0, 1]))
    assert x.dtype == torch.float32 and x.shape == (3, 3, 32, 32)
    expected = torch.tensor([[200, 10, 30], [0, 255, 128], [9, 99, 199]]) / 255.0
    assert torch.allclose(x, expected[:, :, None, None].expand_as(x), atol=1e-6)
    assert snapshot(folder) == before
    assert not (tmp_path / "cache").is_relative_to(folder)


def test_center_crop_takes_the_middle_square_and_none_squeezes_the_whole_image(tmp_path):
    img = np.zeros((20, 60), dtype=np.uint8)
    img[:, 20:40] = 255  # the middle third is white
    folder = tmp_path / "crop"
    folder.mkdir()
    Image.fromarray(img).save(folder / "x.png")
    centre = ImageFolder(folder, size=16, workers=1, progress=False).observations([0])
    assert centre.shape == (1, 1, 16, 16) and float(centre.min()) == 1.0
    whole = ImageFolder(folder, size=16, crop="none", workers=1, progress=False).observations([0])
    assert float(whole[0, 0, 8, 0]) == 0.0 and float(whole[0, 0, 8, 8]) == 1.0


def test_channels_come_from_the_files_unless_asked(tmp_path):
    grey = tmp_path / "grey"
    solid(grey / "a.png", 77, mode="L")
    solid(grey / "b.jpg", 77, mode="L", quality=100)
    assert ImageFolder(grey, size=8, workers=1, progress=False).observation_shape == (1, 8, 8)
    rgb = ImageFolder(grey, size=8, channels=3, workers=1, progress=False).observations([0])
    assert torch.allclose(rgb, torch.full_like(rgb, 77 / 255))
    solid(grey / "c.png", (255, 0, 0))  # one colour file: the folder becomes RGB
    mixed = ImageFolder(grey, size=8, workers=1, progress=False)
    assert mixed.observation_shape == (3, 8, 8)
    luma = ImageFolder(grey, size=8, channels=1, workers=1, progress=False).observations([2])
    assert torch.allclose(luma, torch.full_like(luma, round(0.299 * 255) / 255))


def test_a_second_open_maps_the_cache_without_decoding(tmp_path, monkeypatch):
    folder = tmp_path / "f"
    for i in range(5):
        solid(folder / f"{i}.png", (i * 50, 0, 0))
    first = ImageFolder(folder, size=8, workers=1, progress=False)
    assert first.cache.parent.parent == tmp_path / "cache"

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(images_module, "decode_files", no_decoding)
    monkeypatch.setattr(images_module, "probe_files", no_decoding)
    again = ImageFolder(folder, size=8, workers=1, progress=False)
    assert again.cache == first.cache and isinstance(again._images, np.memmap)
    assert torch.equal(again.observations(range(5)), first.observations(range(5)))
    with pytest.raises(AssertionError, match="decoded again"):  # other settings: another cache
        ImageFolder(folder, size=16, workers=1, progress=False)


def test_touching_or_adding_a_file_invalidates_the_cache(tmp_path):
    folder = tmp_path / "f"
    for i in range(3):
        solid(folder / f"{i}.png", (i * 50, 0, 0))
    first = ImageFolder(folder, size=8, workers=1, progress=False)
    solid(folder / "1.png", (0, 0, 255))
    st = (folder / "1.png").stat()
    os.utime(folder / "1.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    touched = ImageFolder(folder, size=8, workers=1, progress=False)
    assert touched.cache != first.cache
    assert float(touched.observations([1])[0, 2, 0, 0]) == 1.0
    solid(folder / "3.png", (1, 2, 3))
    added = ImageFolder(folder, size=8, workers=1, progress=False)
    assert added.cache not in (first.cache, touched.cache) and len(added) == 4


def test_workers_decode_exactly_what_one_process_decodes(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(300):  # more than one chunk of 256 files
        pixels = rng.integers(0, 256, size=(24, 20, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:03d}.png")
    one = ImageFolder(folder, size=16, workers=1, progress=False, cache_dir=tmp_path / "c1")
    two = ImageFolder(folder, size=16, workers=2, progress=False, cache_dir=tmp_path / "c2")
    assert torch.equal(one.observations(range(300)), two.observations(range(300)))


def test_a_cache_inside_the_folder_is_refused(tmp_path):
    solid(tmp_path / "f" / "a.png", (1, 2, 3))
    with pytest.raises(ValueError, match="never writes to"):
        ImageFolder(tmp_path / "f", cache_dir=tmp_path / "f" / "cache", progress=False)


def test_the_trainer_the_loader_and_a_dataloader_read_it(tmp_path):
    folder = tmp_path / "f"
    for i in range(12):
        solid(folder / f"{i:02d}.png", (20 * i, 0, 0), size=(32, 32))
    data = ImageFolder(folder, size=32, workers=1, progress=False)
    assert as_source(data) is data and as_source(data).factors(np.arange(3)) is None
    images, factors, indices = next(iter(make_loader(data, batch_size=4, seed=1)))
    assert factors is None and torch.equal(images, data.observations(indices.numpy()))
    x, idx = next(iter(DataLoader(data, batch_size=5, shuffle=False)))
    assert x.shape == (5, 3, 32, 32) and idx.tolist() == [0, 1, 2, 3, 4]
    vae = VAE(latent_dim=2, image_shape=data.observation_shape, num_data=len(data))
    history = fit(
        vae.model, vae.guide, BetaELBO(beta=1.0), data, steps=3, batch_size=4, log_every=1
    )
    assert len(history) == 3 and np.isfinite(history.column("loss")).all()
    copy = pickle.loads(pickle.dumps(data))
    assert torch.equal(copy.observations([3]), data.observations([3]))


def test_a_damaged_cache_is_decoded_again_not_trusted(tmp_path):
    folder = tmp_path / "f"
    for i in range(4):
        solid(folder / f"{i}.png", (60 * i, 0, 0))
    first = ImageFolder(folder, size=8, workers=1, progress=False)
    values = first.observations(range(4))
    cache_file = first.cache / "images.npy"
    del first
    cache_file.write_bytes(cache_file.read_bytes()[:200])  # a disk that filled up, say
    again = ImageFolder(folder, size=8, workers=1, progress=False)
    assert torch.equal(again.observations(range(4)), values)
