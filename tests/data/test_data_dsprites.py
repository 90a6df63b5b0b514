import numpy as np
import pytest
import torch

from pyrodis.data import DSprites
from pyrodis.data.dsprites import MAX_RADIUS, SPRITE_SIZE, sprite_table
from pyrodis.data.dsprites_render import render_sprite

OFFICIAL_BASES = np.array([737280, 245760, 40960, 1024, 32, 1])


@pytest.fixture(scope="module")
def ds():
    return DSprites()


@pytest.fixture(scope="module")
def table():
    return sprite_table().numpy().astype(bool)


def test_factor_grid_matches_the_official_file(ds):
    assert ds.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert ds.factor_sizes == (3, 6, 40, 32, 32) and len(ds) == 737_280
    np.testing.assert_array_equal(ds.factor_bases, OFFICIAL_BASES[1:])
    np.testing.assert_allclose(ds.factor_values[1], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert ds.factor_values[2][0] == 0.0 and ds.factor_values[2][-1] == 2 * np.pi
    assert ds.observation_shape == (1, 64, 64)


def test_index_equals_official_index_with_constant_colour(ds):
    classes = np.concatenate([ds.sample_factors(1000, 1), [[2, 5, 39, 31, 31], [1, 2, 3, 4, 5]]])
    official = np.concatenate([np.zeros((len(classes), 1), np.int64), classes], 1) @ OFFICIAL_BASES
    np.testing.assert_array_equal(ds.index(classes), official)
    assert ds.index([[1, 2, 3, 4, 5]])[0] == 245760 + 2 * 40960 + 3 * 1024 + 4 * 32 + 5
    assert ds.index([[2, 5, 39, 31, 31]])[0] == 737_279
    np.testing.assert_array_equal(ds.factors(official), classes)


def test_images_are_binary_float32_and_deterministic(ds):
    factors = ds.sample_factors(300, 0)
    x = ds.observations(factors)
    assert x.shape == (300, 1, 64, 64) and x.dtype == torch.float32
    assert set(torch.unique(x).tolist()) == {0.0, 1.0}
    assert torch.equal(x, ds.observations(factors))
    img, fac = ds[int(ds.index(factors[:1])[0])]
    assert torch.equal(img, x[0]) and fac.tolist() == factors[0].tolist()


def test_sprites_stay_inside_the_canvas_at_every_extreme(ds, table):
    # every (shape, scale, orientation) at the four corner positions: nothing clipped, border empty
    s, sc, o = np.meshgrid(np.arange(3), np.arange(6), np.arange(40), indexing="ij")
    base = np.stack([s.ravel(), sc.ravel(), o.ravel()], 1)
    for px, py in [(0, 0), (0, 31), (31, 0), (31, 31)]:
        factors = np.concatenate([base, np.tile([[px, py]], (len(base), 1))], 1)
        x = ds.observations(factors)[:, 0].numpy().astype(bool)
        counts = table.reshape(-1, SPRITE_SIZE, SPRITE_SIZE).sum((1, 2))
        np.testing.assert_array_equal(x.sum((1, 2)), counts)
        border = x[:, 0, :].any() | x[:, -1, :].any() | x[:, :, 0].any() | x[:, :, -1].any()
        assert not border
    # the patch itself keeps a margin, so a position offset never wraps a row
    assert not table[..., 0, :].any() and not table[..., :, -1].any()


def test_neighbouring_orientations_scales_and_shapes_differ(table):
    flat = table.reshape(3, 6, 40, -1)
    diff = lambda a, b: (a != b).sum(-1)  # noqa: E731
    assert diff(flat[:, :, :-1], flat[:, :, 1:]).min() > 0  # orientation i vs i+1
    assert diff(flat[:, :-1], flat[:, 1:]).min() > 0  # scale
    assert diff(flat[:-1], flat[1:]).min() > 0 and diff(flat[0], flat[2]).min() > 0  # shape
    # orientation 0 and 2π are the same angle: identical pixels (the one cyclic exception)
    np.testing.assert_array_equal(flat[:, :, 0], flat[:, :, -1])


def test_neighbouring_positions_shift_the_sprite_by_one_pixel(ds):
    f = ds.sample_factors(200, 3)
    f[:, 3:] = np.minimum(f[:, 3:], 30)
    x = ds.observations(f)
    x_right = ds.observations(f + [0, 0, 0, 1, 0])
    x_down = ds.observations(f + [0, 0, 0, 0, 1])
    assert torch.equal(torch.roll(x, 1, dims=3), x_right)
    assert torch.equal(torch.roll(x, 1, dims=2), x_down)


def test_symmetries_of_the_shapes_and_sizes():
    angles = np.linspace(0, 2 * np.pi, 40)
    r = MAX_RADIUS
    ellipse, ellipse_half = render_sprite(1, r, angles, 32), render_sprite(1, r, angles + np.pi, 32)
    square, square_quarter = (
        render_sprite(0, r, angles, 32),
        render_sprite(0, r, angles + np.pi / 2, 32),
    )
    heart, heart_half = render_sprite(2, r, angles, 32), render_sprite(2, r, angles + np.pi, 32)
    # symmetric up to a rare boundary pixel lost to floating point
    assert (ellipse != ellipse_half).sum((1, 2)).max() <= 2
    assert (square != square_quarter).sum((1, 2)).max() <= 2
    assert (heart != heart_half).sum((1, 2)).min() > 20  # a heart has no half-turn symmetry
    upright = heart[0]
    assert np.array_equal(upright, upright[:, ::-1])  # mirror-symmetric left/right
    rows = upright.sum(1).nonzero()[0]
    top, bottom = upright[rows[0] + 1], upright[rows[-1] - 1]
    assert top.sum() > bottom.sum()  # lobes at the top, tip at the bottom
    assert (np.diff(top.astype(int)) != 0).sum() == 4  # two separate lobes


def test_area_grows_with_scale(table):
    area = table.sum((3, 4))
    assert (np.diff(area, axis=1) > 0).all()


def test_bad_factors_are_rejected(ds):
    with pytest.raises(ValueError, match="'orientation' has 40 classes"):
        ds.observations([[0, 0, 40, 0, 0]])


@pytest.mark.slow
def test_whole_dataset_in_one_pass_stays_inside_the_canvas(ds, table):
    from pyrodis.data import make_loader

    counts = table.reshape(3, 6, 40, -1).sum(-1)
    for images, factors, _ in make_loader(ds, batch_size=8192, shuffle=False):
        x = images[:, 0]
        f = factors.numpy()
        np.testing.assert_array_equal(x.sum((1, 2)).numpy(), counts[f[:, 0], f[:, 1], f[:, 2]])
        assert not (x[:, 0].any() or x[:, -1].any() or x[:, :, 0].any() or x[:, :, -1].any())


def test_only_near_quarter_turns_of_a_square_repeat(table):
    flat = table.reshape(3, 6, 40, -1)[:, :, :39]  # orientation 39 is 2π = 0
    angles = np.degrees(np.linspace(0, 2 * np.pi, 40)[:39])
    for shape in range(3):
        for scale in range(6):
            same = (flat[shape, scale][:, None] == flat[shape, scale][None, :]).all(-1)
            i, j = np.nonzero(np.triu(same, 1))
            if shape != 0:
                assert len(i) == 0  # ellipse and heart: 39 different pictures
            else:
                off = np.abs((angles[j] - angles[i] + 45) % 90 - 45)
                assert (off < 5).all()  # within 5° of a multiple of a quarter turn
