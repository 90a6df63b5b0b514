"""colour-, noisy- and scream-dSprites against their recipes, on fixed factors."""

import numpy as np
import pytest
import torch
from PIL import Image

from pyrodis.data import (
    ColorDSprites,
    DatasetFileError,
    DSprites,
    NoisyDSprites,
    ScreamDSprites,
    get_dataset,
)
from pyrodis.models.networks import build_networks

FACTORS = np.array([[0, 5, 0, 0, 0], [1, 2, 10, 31, 5], [2, 0, 39, 16, 31], [2, 5, 20, 7, 9]])


@pytest.fixture(scope="module")
def sprites():
    return DSprites().observations(FACTORS)  # (4, 1, 64, 64) in {0, 1}


@pytest.fixture(scope="module")
def background(tmp_path_factory):
    """300×200 picture (fits 350×274: the thumbnail keeps it): R = row/255, G = col/255."""
    rows, cols = np.meshgrid(np.arange(200), np.arange(300), indexing="ij")
    rgb = np.stack([rows, cols % 256, np.full_like(rows, 128)], -1).astype(np.uint8)
    path = tmp_path_factory.mktemp("pic") / "picture.png"
    Image.fromarray(rgb).save(path)
    return path


def variants(background):
    return [ColorDSprites(), NoisyDSprites(), ScreamDSprites(background)]


def test_colour_multiplies_each_sprite_by_one_colour_in_the_upper_half_cube(sprites):
    x = ColorDSprites().observations(FACTORS, rng=np.random.default_rng(3))
    assert x.shape == (4, 3, 64, 64) and x.dtype == torch.float32
    mask = sprites[:, 0] > 0.5
    for i in range(len(FACTORS)):
        assert torch.all(x[i][:, ~mask[i]] == 0)
        on = x[i][:, mask[i]]  # (3, pixels): one colour per image, the same on every pixel
        colour = on[:, 0]
        assert torch.all(on == colour[:, None])
        assert torch.all((colour >= 0.5) & (colour <= 1.0))
    colours = ColorDSprites().observations(np.repeat(FACTORS[:1], 4000, 0), rng=0)
    colours = colours.flatten(2).amax(2)  # the sprite's colour (the background is 0)
    assert torch.allclose(colours.mean(0), torch.full((3,), 0.75), atol=0.01)
    assert float(colours.std(0).min()) > 0.13  # U[0.5, 1]: std 0.144, three channels drawn apart


def test_noisy_keeps_the_sprite_white_over_per_pixel_per_channel_noise(sprites):
    x = NoisyDSprites().observations(FACTORS, rng=7)
    mask = sprites[:, 0] > 0.5
    assert torch.all(x.permute(0, 2, 3, 1)[mask] == 1.0)
    back = x.permute(0, 2, 3, 1)[~mask]  # (pixels, 3)
    assert float(back.min()) >= 0.0 and float(back.max()) < 1.0
    assert abs(float(back.mean()) - 0.5) < 0.01 and abs(float(back.var()) - 1 / 12) < 0.005
    assert not torch.equal(back[:, 0], back[:, 1])  # each channel its own noise
    assert abs(float(np.corrcoef(back[:, 0], back[:, 1])[0, 1])) < 0.02


def test_scream_averages_a_patch_with_a_colour_and_inverts_the_sprite(sprites, background):
    ds = ScreamDSprites(background)
    x = ds.observations(FACTORS, rng=11).double()
    mask = (sprites[:, 0] > 0.5)[:, None].expand(-1, 3, -1, -1)
    back = torch.where(mask, 1.0 - x, x)  # undo the inversion: b = (patch + c) / 2 everywhere
    steps = torch.arange(64, dtype=torch.float64) / 510.0  # a pixel of the picture is 1/255
    for b in back:
        assert torch.allclose(b[0] - b[0, :1, :], steps[:, None].expand(64, 64), atol=1e-6)
        assert torch.allclose(b[1] - b[1, :, :1], steps[None, :].expand(64, 64), atol=1e-6)
        assert torch.allclose(b[2], b[2, 0, 0].expand(64, 64))
        colour_blue = 2 * float(b[2, 0, 0]) - 128 / 255
        assert 0.0 <= colour_blue < 1.0
        # the top-left corner lies where a whole patch fits: row in 0..136, column in 0..236
        row = 2 * float(b[0, 0, 0]) * 255  # = row0 + 255 c_R, c_R in [0, 1)
        assert -1e-6 <= row and row - 255 < 200 - 64 + 1e-6
    assert not torch.equal(back[0, 0, 0, 0], back[1, 0, 0, 0])  # a corner and colour per image


@pytest.mark.parametrize("make", [ColorDSprites, NoisyDSprites, "scream"])
def test_the_same_rng_gives_the_same_batch_and_another_rng_another(make, background):
    ds = ScreamDSprites(background) if make == "scream" else make()
    a = ds.observations(FACTORS, rng=np.random.default_rng(5))
    b = ds.observations(FACTORS, rng=np.random.default_rng(5))
    c = ds.observations(FACTORS, rng=np.random.default_rng(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    f1, x1 = ds.sample(6, rng=9)
    f2, x2 = ds.sample(6, rng=9)
    assert np.array_equal(f1, f2) and torch.equal(x1, x2)
    assert float(x1.min()) >= 0.0 and float(x1.max()) <= 1.0


@pytest.mark.parametrize("make", [ColorDSprites, NoisyDSprites, "scream"])
def test_without_rng_each_index_is_one_fixed_image_whatever_the_batch(make, background):
    build = (lambda seed: ScreamDSprites(background, seed=seed)) if make == "scream" else make
    ds = build(0) if make == "scream" else make(seed=0)
    alone = torch.stack([ds.observations(f[None])[0] for f in FACTORS])
    together = ds.observations(FACTORS)
    assert torch.equal(alone, together)
    index = ds.index(FACTORS)
    assert torch.equal(ds[int(index[2])][0], together[2])
    assert torch.equal(ds.observations_at(index), together)
    other = build(1) if make == "scream" else make(seed=1)
    assert not torch.equal(other.observations(FACTORS), together)


def test_factors_and_index_are_those_of_dsprites(background):
    ref = DSprites()
    for ds in variants(background):
        assert ds.factor_sizes == ref.factor_sizes and len(ds) == len(ref) == 737280
        assert ds.factor_names == ref.factor_names
        idx = np.random.default_rng(0).integers(0, len(ds), 500)
        assert np.array_equal(ds.index(ds.factors(idx)), idx)
        assert np.array_equal(ds.factors(idx), ref.factors(idx))
        assert ds.observation_shape == (3, 64, 64)


def test_the_variants_are_registered_by_name(background):
    assert isinstance(get_dataset("color-dsprites"), ColorDSprites)
    assert isinstance(get_dataset("noisy_dsprites"), NoisyDSprites)
    scream = get_dataset("scream-dsprites", path=background, seed=3)
    assert isinstance(scream, ScreamDSprites) and scream.seed == 3


def test_scream_without_a_picture_says_what_it_needs(monkeypatch, tmp_path, background):
    monkeypatch.delenv("PYRODIS_DATA", raising=False)
    with pytest.raises(DatasetFileError, match="needs a background picture.*PYRODIS_DATA"):
        ScreamDSprites()
    monkeypatch.setenv("PYRODIS_DATA", str(tmp_path))
    with pytest.raises(DatasetFileError, match="no scream.jpg or scream.png in"):
        ScreamDSprites()
    (tmp_path / "scream.png").write_bytes(background.read_bytes())
    assert ScreamDSprites().image == tmp_path / "scream.png"


def test_scream_refuses_a_small_picture_and_a_file_that_is_no_picture(tmp_path):
    Image.fromarray(np.zeros((40, 300, 3), np.uint8)).save(tmp_path / "thin.png")
    with pytest.raises(DatasetFileError, match="a 64×64 patch does not fit"):
        ScreamDSprites(tmp_path / "thin.png")
    (tmp_path / "notes.jpg").write_text("not a picture")
    with pytest.raises(DatasetFileError, match="cannot be read as a picture"):
        ScreamDSprites(tmp_path / "notes.jpg")
    with pytest.raises(DatasetFileError, match="no such file"):
        ScreamDSprites(tmp_path / "missing.jpg")


def test_a_negative_seed_is_refused():
    with pytest.raises(ValueError, match="non-negative integer"):
        ColorDSprites(seed=-1)


@pytest.mark.parametrize("architecture", ["locatello", "burgess"])
def test_the_vae_networks_take_three_channel_images(architecture):
    x = NoisyDSprites().observations(FACTORS, rng=0)
    encoder, decoder = build_networks(architecture, image_shape=(3, 64, 64), latent_dim=4)
    loc, scale = encoder(x)
    assert loc.shape == (4, 4) and torch.all(scale > 0)
    assert decoder(loc).shape == (4, 3, 64, 64)
