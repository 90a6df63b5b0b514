"""Bad image folders get their documented handling: skipped with one warning naming them,
converted by the documented rule, or a clear error; the folder is never written to."""

import warnings

import numpy as np
import pytest
import torch
from kit.folders import snapshot
from PIL import Image

from pyrodis.data import DatasetFileError, ImageFolder


def open_folder(folder, **kwargs):
    """ImageFolder and the warnings it gave; the folder must be unchanged."""
    before = snapshot(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = ImageFolder(folder, workers=1, progress=False, **kwargs)
    assert snapshot(folder) == before
    return data, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_an_empty_folder_and_a_folder_of_other_files_say_what_is_read(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetFileError, match=r"no image files \(found 0 other"):
        ImageFolder(tmp_path / "empty", progress=False)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("hello")
    with pytest.raises(DatasetFileError, match=r"found 1 other files.*\.png, \.jpg"):
        ImageFolder(tmp_path / "docs", progress=False)
    with pytest.raises(DatasetFileError, match="not a folder"):
        ImageFolder(tmp_path / "docs" / "notes.txt", progress=False)


def test_files_that_only_look_like_images_are_named_in_the_error(tmp_path):
    folder = tmp_path / "fake"
    folder.mkdir()
    (folder / "a.jpg").write_text("not a jpeg")
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 10)
    before = snapshot(folder)
    with pytest.raises(DatasetFileError, match=r"none of the 2 image files.*a\.jpg.*b\.png"):
        ImageFolder(folder, workers=1, progress=False)
    assert snapshot(folder) == before
    assert list((tmp_path / "cache" / "images").iterdir()) == []  # no half-made cache


def test_truncated_and_corrupt_files_are_skipped_with_one_warning(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    for i in range(3):
        Image.fromarray(pixels).save(folder / f"good{i}.jpg", quality=90)
    whole = (folder / "good0.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(whole[: len(whole) // 2])  # header fine, data truncated
    (folder / "junk.png").write_bytes(b"garbage")
    data, messages = open_folder(folder, size=16)
    assert data.file_names == ("good0.jpg", "good1.jpg", "good2.jpg")
    assert len(messages) == 1
    assert (
        "skipped 2 of 5" in messages[0] and "cut.jpg" in messages[0] and "junk.png" in messages[0]
    )
    assert set(data.skipped) == {"cut.jpg", "junk.png"} and "truncated" in data.skipped["cut.jpg"]


def test_16_bit_palette_cmyk_and_alpha_files_are_converted_as_documented(tmp_path):
    folder = tmp_path / "modes"
    folder.mkdir()
    Image.fromarray(np.full((20, 20), 65535 // 4, dtype=np.uint16)).save(folder / "a16.png")
    palette = Image.new("P", (20, 20), 1)
    palette.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    palette.save(folder / "b_palette.png")
    Image.new("CMYK", (20, 20), (0, 255, 255, 0)).save(folder / "c_cmyk.jpg", quality=100)
    Image.new("RGBA", (20, 20), (255, 255, 255, 51)).save(folder / "d_alpha.png")
    data, messages = open_folder(folder, size=8)
    assert messages == [] and data.observation_shape == (3, 8, 8)
    x = data.observations(np.arange(4))[:, :, 4, 4] * 255
    assert torch.allclose(x[0], torch.full((3,), round(16383 / 65535 * 255)).float())
    assert torch.allclose(x[1], torch.tensor([10.0, 200.0, 30.0]))
    assert torch.allclose(x[2], torch.tensor([255.0, 0.0, 0.0]), atol=2)  # CMYK red
    assert torch.allclose(x[3], torch.full((3,), 51.0), atol=1)  # white at 20 % over black


def test_decompression_bombs_are_refused_before_decoding(tmp_path, monkeypatch):
    folder = tmp_path / "bomb"
    folder.mkdir()
    Image.new("L", (10, 10), 3).save(folder / "small.png")
    Image.new("L", (60, 60), 3).save(folder / "huge.png")  # 3600 px: above the limit
    Image.new("L", (40, 40), 3).save(folder / "large.png")  # 1600 px: Pillow only warns
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    data, messages = open_folder(folder, size=8)
    assert data.file_names == ("small.png",) and len(messages) == 1
    assert "huge.png" in messages[0] and "large.png" in messages[0]
    assert "decompression bomb" in data.skipped["huge.png"]
    assert Image.MAX_IMAGE_PIXELS == 1000  # the caller's limit is left as it was
    loose, messages = open_folder(folder, size=8, max_pixels=None)
    assert len(loose) == 3 and messages == []


def test_bad_settings_name_the_allowed_values(tmp_path):
    Image.new("L", (10, 10)).save(tmp_path / "a.png")
    for kwargs, match in [
        ({"size": 0}, "size must be a positive integer"),
        ({"size": 64.0}, "size must be a positive integer"),
        ({"channels": 4}, "channels must be 1"),
        ({"crop": "top"}, "crop must be one of"),
    ]:
        with pytest.raises(ValueError, match=match):
            ImageFolder(tmp_path, progress=False, cache_dir=tmp_path.parent / "c", **kwargs)


def test_a_camera_orientation_tag_turns_the_photograph_upright(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    pixels = np.zeros((10, 20), dtype=np.uint8)
    pixels[:, :10] = 255  # stored: left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise: the left half on top
    Image.fromarray(pixels).save(folder / "phone.jpg", exif=exif, quality=100)
    data, messages = open_folder(folder, size=8, crop="none")
    x = data.observations([0])[0, 0]
    assert messages == [] and float(x[1, 4]) > 0.95 and float(x[6, 4]) < 0.05


def test_a_link_back_to_the_folder_is_not_followed_forever(tmp_path):
    folder = tmp_path / "loop"
    folder.mkdir()
    Image.new("L", (8, 8), 9).save(folder / "a.png")
    (folder / "again").symlink_to(folder)
    data, messages = open_folder(folder, size=8)
    assert data.file_names == ("a.png",) and messages == []
