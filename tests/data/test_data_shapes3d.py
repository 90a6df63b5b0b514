import h5py
import numpy as np
import pytest
import torch

from pyrodis.data import DatasetFileError, Shapes3D
from pyrodis.data.pictures import strip_differences


@pytest.fixture(scope="module")
def ds():
    return Shapes3D()


def test_factor_grid_matches_the_official_file(ds):
    assert ds.factor_names == (
        "floor_hue",
        "wall_hue",
        "object_hue",
        "scale",
        "shape",
        "orientation",
    )
    assert ds.factor_sizes == (10, 10, 10, 8, 4, 15) and len(ds) == 480_000
    np.testing.assert_array_equal(ds.factor_bases, [48000, 4800, 480, 60, 15, 1])
    np.testing.assert_allclose(ds.factor_values[3], np.linspace(0.75, 1.25, 8))
    np.testing.assert_allclose(ds.factor_values[5], np.linspace(-30, 30, 15))
    assert ds.observation_shape == (3, 64, 64)


def test_images_are_rgb_in_unit_range_and_deterministic(ds):
    factors = ds.sample_factors(100, 0)
    x = ds.observations(factors)
    assert x.shape == (100, 3, 64, 64) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert torch.equal(x, ds.observations(factors))
    # a batch renders each image as it would alone
    assert torch.equal(x[7:8], ds.observations(factors[7:8]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_factor_value_changes_the_image(ds, seed):
    for name, diffs in zip(ds.factor_names, strip_differences(ds, rng=seed)):
        assert diffs.min() > 1e-3, name


def test_every_neighbouring_view_differs(ds):
    # all (scale, shape, orientation) neighbours at fixed hues: the geometry factors are visible
    grid = np.stack(np.meshgrid(range(8), range(4), range(15), indexing="ij"), -1).reshape(-1, 3)
    factors = np.concatenate([np.tile([[0, 3, 6]], (len(grid), 1)), grid], 1)
    x = ds.observations(factors).reshape(8, 4, 15, -1)
    assert ((x[1:] - x[:-1]).abs().amax(-1) > 0.05).all()  # scale
    assert ((x[:, 1:] - x[:, :-1]).abs().amax(-1) > 0.05).all()  # shape
    assert ((x[:, :, 1:] - x[:, :, :-1]).abs().amax(-1) > 0.05).all()  # orientation


def test_hues_colour_their_own_surface(ds):
    f = np.array([[0, 0, 0, 7, 2, 7]])  # the largest sphere
    base = ds.observations(f)[0]
    changed = []
    for k in range(3):
        g = f.copy()
        g[0, k] = 5
        changed.append((ds.observations(g)[0] != base).any(0).numpy())
    floor, wall, obj = changed
    # floor: the bottom corners; wall: the top corners; object: the centre
    assert floor[-1, 0] and floor[-1, -1] and not floor[0, 0] and not floor[36, 32]
    assert wall[0, 0] and wall[0, -1] and not wall[-1, 0] and not wall[36, 32]
    assert obj[36, 32] and not obj[0, 0] and not obj[-1, 0]
    assert not (floor & wall).any() and not (floor & obj).any() and not (wall & obj).any()


def test_larger_scale_means_a_larger_object(ds):
    f = np.array([[0, 3, 6, s, 2, 7] for s in range(8)])
    x = ds.observations(f)
    g = f.copy()
    g[:, 2] = 9
    area = (ds.observations(g) != x).any(1).flatten(1).sum(1).numpy()
    assert (np.diff(area) > 0).all()


def write_h5(path, sizes=(2, 2, 3, 2, 4, 3), scales=(0.75, 1.0)):
    grids = np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij")
    classes = np.stack([g.ravel() for g in grids], 1)
    values = [
        np.arange(sizes[0]) / 10,
        np.arange(sizes[1]) / 10,
        np.arange(sizes[2]) / 10,
        np.asarray(scales),
        np.arange(4.0),
        np.linspace(-30, 30, sizes[5]),
    ]
    labels = np.stack([values[k][classes[:, k]] for k in range(6)], 1)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (len(labels), 64, 64, 3), dtype=np.uint8)
    with h5py.File(path, "w") as f:
        f["images"], f["labels"] = images, labels
    return images, labels


@pytest.mark.parametrize("in_memory", [True, False])
def test_official_h5_loads_with_values_from_labels(tmp_path, in_memory):
    images, labels = write_h5(tmp_path / "3dshapes.h5")
    ds = Shapes3D(tmp_path / "3dshapes.h5", in_memory=in_memory)
    assert ds.factor_sizes == (2, 2, 3, 2, 4, 3)
    np.testing.assert_allclose(ds.factor_values[3], [0.75, 1.0])  # scales read, not assumed
    idx = np.array([5, 0, 5, 100, 287])  # repeated and unsorted rows
    x = ds.observations(ds.factors(idx))
    expected = torch.from_numpy(images[idx]).permute(0, 3, 1, 2).float() / 255
    assert torch.equal(x, expected)
    np.testing.assert_allclose(ds.factor_physical_values(ds.factors(idx)), labels[idx])


def test_a_wrong_h5_says_what_is_wrong(tmp_path):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.zeros((4, 64, 64, 3), np.uint8)
    with pytest.raises(DatasetFileError, match="missing dataset 'labels'"):
        Shapes3D(path)
    with h5py.File(path, "w") as f:
        f["images"] = np.zeros((4, 64, 64), np.uint8)
        f["labels"] = np.zeros((4, 6))
    with pytest.raises(DatasetFileError, match=r"'images' has shape \(4, 64, 64\)"):
        Shapes3D(path)
    with h5py.File(path, "w") as f:
        f["images"] = np.zeros((4, 64, 64, 3), np.uint8)
        f["labels"] = np.array([[0, 0, 0, 0, 0, v] for v in (0.0, 1.0, 1.0, 3.0)], float)
    with pytest.raises(DatasetFileError, match="not the full row-major grid"):
        Shapes3D(path)
    npz = tmp_path / "shapes.npz"
    np.savez(npz, images=np.zeros(3))
    with pytest.raises(DatasetFileError, match="distributed as HDF5"):
        Shapes3D(npz)


def test_ray_casting_primitives_give_known_distances_and_normals():
    from pyrodis.data.shapes3d_render import hit_cylinder, hit_plane, hit_sphere

    o = np.array([[0.0, 0.0, -5.0], [3.0, 0.0, -5.0]])
    d = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    t, n = hit_sphere(o, d, np.zeros(3), 1.0)
    np.testing.assert_allclose(t[0], 4.0)
    np.testing.assert_allclose(n[0], [0, 0, -1])
    assert np.isinf(t[1])  # misses
    t, n = hit_cylinder(o, d, np.zeros(3), 1.0, half=0.5, axis=1)  # vertical, |y| <= 0.5
    np.testing.assert_allclose(t[0], 4.0)
    np.testing.assert_allclose(n[0], [0, 0, -1])
    t, n = hit_plane(o, d, axis=2, value=2.0, normal_sign=-1.0)
    np.testing.assert_allclose(t, [7.0, 7.0])
    np.testing.assert_allclose(n[:, 2], -1.0)
    t, _ = hit_plane(o, d, 2, 2.0, -1.0, lo=np.array([-1, -1, 0]), hi=np.array([1, 1, 3]))
    assert t[0] == 7.0 and np.isinf(t[1])  # outside the face


def test_orientation_tilts_the_floor_wall_edge_as_projected():
    from pyrodis.data.shapes3d_render import ELEVATION, WALL, render_label_map

    for angle in (-30.0, 0.0, 30.0):
        label, _ = render_label_map(2, 0.75, angle, 64)
        cols = np.array([4, 59])
        # first floor row under the wall in two columns away from the object
        edge = np.array([np.argmax(label[:, c] != WALL) for c in cols])
        slope = (edge[0] - edge[1]) / (cols[1] - cols[0])  # rows go down
        expected = np.sin(ELEVATION) * np.tan(np.deg2rad(angle))
        assert abs(slope - expected) < 0.05, angle
