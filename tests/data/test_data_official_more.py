"""SmallNORB, Cars3D and MPI3D loaders on small files written here in the exact official formats
(the NORB binary matrix header, MATLAB v5 via scipy.io.savemat, numpy .npz), and malformed files
of each kind, each refused with its reason."""

import gzip
import struct
import zipfile

import numpy as np
import pytest
import scipy.io
import torch

from pyrodis.data import MPI3D, Cars3D, DatasetFileError, SmallNORB, get_dataset, list_datasets
from pyrodis.data.mpi3d import RELEASES
from pyrodis.data.norb_files import read_norb
from pyrodis.data.smallnorb import SPLITS

NORB_SIZES = (2, 3, 2, 2)  # category, elevation, azimuth, lighting
SPLIT_INSTANCES = ((4, 6), (0, 1))  # per split, like the official 46789 / 01235


def norb_bytes(array, magic):
    """The NYU binary matrix format, written independently of pyrodis: int32 LE header."""
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    return struct.pack(f"<{2 + len(dims)}i", magic, array.ndim, *dims) + array.tobytes()


def photo_value(labels):
    """The grey level of the photo of (category, instance, elevation, azimuth class, lighting)."""
    c, i, e, a, light = labels
    return 100 * c + 10 * i + 30 * e + 5 * a + light


def write_norb_dir(root, shuffle_seed=0):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(shuffle_seed)
    for split, instances in zip(SPLITS, SPLIT_INSTANCES):
        grid = np.indices((2, len(instances), *NORB_SIZES[1:])).reshape(5, -1).T
        labels = grid.copy()
        labels[:, 1] = np.asarray(instances)[grid[:, 1]]
        labels = labels[rng.permutation(len(labels))]
        dat = np.zeros((len(labels), 2, 96, 96), np.uint8)
        dat[:, 0] = np.array([photo_value(r) for r in labels], np.uint8)[:, None, None]
        dat[:, 1] = 255  # the right image of the pair is not used
        info = np.c_[labels[:, 1], labels[:, 2], 2 * labels[:, 3], labels[:, 4]].astype("<i4")
        (root / f"{split}-dat.mat").write_bytes(norb_bytes(dat, 507333717))
        (root / f"{split}-cat.mat").write_bytes(norb_bytes(labels[:, 0].astype("<i4"), 507333716))
        (root / f"{split}-info.mat").write_bytes(norb_bytes(info, 507333716))
    return root


@pytest.fixture
def norb(tmp_path):
    return write_norb_dir(tmp_path / "smallnorb"), tmp_path / "cache"


def test_smallnorb_reads_the_binary_files_and_draws_the_instance(norb):
    root, cache = norb
    ds = SmallNORB(root, cache_dir=cache, factor_sizes=NORB_SIZES)
    assert ds.factor_sizes == NORB_SIZES and len(ds) == 24 and ds.num_instances == 4
    assert ds.observation_shape == (1, 64, 64)
    assert np.allclose(ds.factor_values[1], [30, 35, 40]) and np.allclose(
        ds.factor_values[2], [0, 20]
    )
    factors = ds.factors(np.arange(len(ds)))
    x = ds.observations(factors, rng=0)
    assert x.shape == (24, 1, 64, 64) and x.dtype == torch.float32
    for f, image in zip(factors, x):  # a constant photo stays constant through the resize
        value = round(float(image[0, 0, 0]) * 255)
        assert torch.all(image == image[0, 0, 0])
        instance = (value - photo_value((f[0], 0, f[1], f[2], f[3]))) // 10
        assert instance in (0, 1, 4, 6)
    many = ds.observations(np.repeat(factors[5:6], 400, 0), rng=1)
    seen = {round(float(v) * 255) for v in many[:, 0, 0, 0]}
    assert len(seen) == 4  # every instance of the category is drawn
    assert np.array_equal(ds.index(factors), np.arange(len(ds)))


def test_smallnorb_batches_are_reproducible_and_the_index_is_one_fixed_photo(norb):
    root, cache = norb
    ds = SmallNORB(root, cache_dir=cache, factor_sizes=NORB_SIZES)
    f = ds.factors(np.arange(len(ds)))
    assert torch.equal(ds.observations(f, rng=3), ds.observations(f, rng=3))
    assert not torch.equal(ds.observations(f, rng=3), ds.observations(f, rng=4))
    assert torch.equal(ds.observations(f), torch.stack([ds[i][0] for i in range(len(ds))]))
    other = SmallNORB(root, seed=1, cache_dir=cache, factor_sizes=NORB_SIZES)
    assert not torch.equal(other.observations(f), ds.observations(f))


def test_smallnorb_caches_the_resize_once_and_redoes_it_when_a_file_changes(norb):
    root, cache = norb
    SmallNORB(root, cache_dir=cache, factor_sizes=NORB_SIZES)
    (first,) = cache.glob("smallnorb64-*.npy")
    assert np.load(first).dtype == np.uint8 and np.load(first).shape == (96, 64, 64)
    stamp = first.stat().st_mtime_ns
    SmallNORB(root, cache_dir=cache, factor_sizes=NORB_SIZES)
    assert first.stat().st_mtime_ns == stamp and len(list(cache.iterdir())) == 1
    write_norb_dir(root, shuffle_seed=1)  # same photos in another row order
    again = SmallNORB(root, cache_dir=cache, factor_sizes=NORB_SIZES)
    assert len(list(cache.glob("smallnorb64-*.npy"))) == 2
    f = again.factors(np.arange(24))
    ref = SmallNORB(root, cache_dir=cache, factor_sizes=NORB_SIZES)
    assert torch.equal(again.observations(f, rng=0), ref.observations(f, rng=0))


def test_smallnorb_defaults_to_the_official_sizes_and_finds_the_data_directory(norb, monkeypatch):
    root, cache = norb
    with pytest.raises(DatasetFileError, match=r"shape \(48, 2, 96, 96\), expected \(24300"):
        SmallNORB(root, cache_dir=cache)
    monkeypatch.setenv("PYRODIS_DATA", str(root.parent))
    assert len(SmallNORB(cache_dir=cache, factor_sizes=NORB_SIZES)) == 24


def test_smallnorb_names_a_missing_file_its_source_and_the_variable(norb, monkeypatch):
    root, cache = norb
    (root / f"{SPLITS[1]}-info.mat").unlink()
    with pytest.raises(DatasetFileError, match="testing-info.mat.*cs.nyu.edu.*PYRODIS_DATA"):
        SmallNORB(root, cache_dir=cache, factor_sizes=NORB_SIZES)
    monkeypatch.delenv("PYRODIS_DATA", raising=False)
    with pytest.raises(DatasetFileError, match=r"\$PYRODIS_DATA is not set"):
        get_dataset("smallnorb")


@pytest.mark.parametrize(
    "damage, reason",
    [
        ("truncate", "ends early"),
        ("trailing", "trailing bytes"),
        ("gzip", "gzip-compressed"),
        ("magic", "magic number 12345"),
        ("int-dat", "holds int32"),
        ("dims", r"shape \(48, 3\), expected \(48, 4\)"),
        ("odd-azimuth", "azimuth 1 in row 0 is odd"),
        ("duplicate", "not the full grid"),
    ],
)
def test_smallnorb_refuses_malformed_files_with_the_reason(norb, damage, reason):
    root, cache = norb
    dat, info = root / f"{SPLITS[0]}-dat.mat", root / f"{SPLITS[0]}-info.mat"
    raw = dat.read_bytes()
    if damage == "truncate":
        dat.write_bytes(raw[:-100])
    elif damage == "trailing":
        dat.write_bytes(raw + b"\0")
    elif damage == "gzip":
        dat.write_bytes(gzip.compress(raw))
    elif damage == "magic":
        dat.write_bytes(struct.pack("<i", 12345) + raw[4:])
    elif damage == "int-dat":
        dat.write_bytes(norb_bytes(np.zeros((48, 2, 96, 96), "<i4"), 507333716))
    else:
        labels = read_norb(info, np.int32, (48, 4)).copy()
        if damage == "dims":
            labels = labels[:, :3].copy()
        elif damage == "odd-azimuth":
            labels[0, 2] = 1
        else:
            labels[1] = labels[0]
        info.write_bytes(norb_bytes(labels.astype("<i4"), 507333716))
    with pytest.raises(DatasetFileError, match=reason):
        SmallNORB(root, cache_dir=cache, factor_sizes=NORB_SIZES)


# ------------------------------------------------------------------------------------- Cars3D
def car_views(obj):
    """im (128, 128, 3, 24, 4) uint8: R = 10·azimuth, G = 50·elevation, B = 80·object."""
    im = np.zeros((128, 128, 3, 24, 4), np.uint8)
    im[:, :, 0] = (10 * np.arange(24))[:, None]
    im[:, :, 1] = (50 * np.arange(4))[None, :]
    im[:, :, 2] = 80 * obj
    return im


@pytest.fixture
def cars(tmp_path):
    root = tmp_path / "cars"
    root.mkdir()
    for obj, name in enumerate(["car_001_mesh.mat", "car_002_mesh.mat", "car_010_mesh.mat"]):
        scipy.io.savemat(root / name, {"im": car_views(obj)}, do_compression=True)
    return root, tmp_path / "cache"


def test_cars3d_reads_matlab_v5_files_in_sorted_order(cars):
    root, cache = cars
    ds = Cars3D(root, cache_dir=cache, num_objects=3)
    assert ds.factor_sizes == (4, 24, 3) and len(ds) == 288 and ds.observation_shape == (3, 64, 64)
    factors = ds.factors(np.arange(len(ds)))
    assert np.array_equal(ds.index(factors), np.arange(len(ds)))
    x = ds.observations(factors)
    rgb = (x[:, :, 40, 21] * 255).round().numpy()
    expected = np.c_[10 * factors[:, 1], 50 * factors[:, 0], 80 * factors[:, 2]]
    assert np.array_equal(rgb, expected)
    assert torch.all(x == x[:, :, :1, :1])  # constant views stay constant through the resize
    (cached,) = cache.glob("cars3d64-*.npy")
    assert np.load(cached, mmap_mode="r").shape == (288, 64, 64, 3)


def test_cars3d_defaults_to_183_cars_and_names_what_is_missing(cars, monkeypatch, tmp_path):
    root, cache = cars
    with pytest.raises(DatasetFileError, match="holds 3 .mat files, expected 183"):
        Cars3D(root, cache_dir=cache)
    monkeypatch.setenv("PYRODIS_DATA", str(tmp_path / "empty"))
    with pytest.raises(DatasetFileError, match="empty/cars does not exist.*nips2015.*PYRODIS"):
        get_dataset("cars3d")
    monkeypatch.setenv("PYRODIS_DATA", str(root.parent))
    assert len(Cars3D(cache_dir=cache, num_objects=3)) == 288


@pytest.mark.parametrize(
    "content, reason",
    [
        ("no-im", "has no variable 'im'"),
        ("shape", r"shape \(128, 128, 3, 24, 3\)"),
        ("dtype", "dtype float64, expected uint8"),
        ("truncated", "cannot be read as MATLAB v5"),
        ("text", "not MATLAB v5"),
        ("v73", "MATLAB 7.3"),
    ],
)
def test_cars3d_refuses_malformed_files_with_the_reason(cars, content, reason):
    root, cache = cars
    bad = root / "car_002_mesh.mat"
    if content == "no-im":
        scipy.io.savemat(bad, {"images": car_views(1)})
    elif content == "shape":
        scipy.io.savemat(bad, {"im": car_views(1)[..., :3]})
    elif content == "dtype":
        scipy.io.savemat(bad, {"im": car_views(1).astype(np.float64)})
    elif content == "truncated":
        bad.write_bytes(bad.read_bytes()[:5000])
    elif content == "text":
        bad.write_text("a car")
    else:
        bad.write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(512, b" "))
    with pytest.raises(DatasetFileError, match=reason):
        Cars3D(root, cache_dir=cache, num_objects=3)


# -------------------------------------------------------------------------------------- MPI3D
MPI_SIZES = (2, 3, 1, 2, 1, 3, 2)


def mpi_images():
    n = int(np.prod(MPI_SIZES))
    images = np.zeros((n, 64, 64, 3), np.uint8)
    images[:, 0, 0, 0] = np.arange(n)  # the row number, to check the index
    images[:, 1, 2, 1] = 200
    return images


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_mpi3d_maps_the_images_and_follows_the_official_index(tmp_path, save):
    path = tmp_path / "mpi3d_toy.npz"
    save(path, images=mpi_images())
    ds = MPI3D(path, cache_dir=tmp_path / "cache", factor_sizes=MPI_SIZES)
    assert isinstance(ds._images, np.memmap) or isinstance(ds._images.base, np.memmap)
    factors = ds.factors(np.arange(len(ds)))
    bases = np.prod(MPI_SIZES) // np.cumprod(MPI_SIZES)  # the reference's index
    x = ds.observations(factors)
    assert np.array_equal((x[:, 0, 0, 0] * 255).round().numpy(), factors @ bases)
    assert torch.all(x[:, 1, 1, 2] == 200 / 255) and x.shape == (len(ds), 3, 64, 64)
    assert np.array_equal(ds.index(factors), np.arange(len(ds)))
    made = list((tmp_path / "cache").glob("*.npy")) if (tmp_path / "cache").exists() else []
    assert len(made) == (1 if save is np.savez_compressed else 0)  # compressed: converted once


def test_mpi3d_defaults_to_the_official_releases_and_the_data_directory(tmp_path, monkeypatch):
    assert {n: int(np.prod(s)) for n, s in RELEASES.items()} == {n: n for n in RELEASES}
    path = tmp_path / "mpi3d_real.npz"
    np.savez(path, images=mpi_images())
    with pytest.raises(DatasetFileError, match="has 72 rows; the official MPI3D releases have"):
        MPI3D(path, variant="real")
    monkeypatch.setenv("PYRODIS_DATA", str(tmp_path))
    assert len(get_dataset("mpi3d-real", factor_sizes=MPI_SIZES)) == 72
    with pytest.raises(DatasetFileError, match="mpi3d_toy.npz does not exist.*Final_Dataset"):
        get_dataset("mpi3d-toy")
    with pytest.raises(DatasetFileError, match=r"do not form the grid"):
        MPI3D(path, variant="real", factor_sizes=(2, 2, 1, 1, 1, 3, 2))


@pytest.mark.parametrize(
    "damage, reason",
    [
        ("grey", r"shape \(72, 64, 64, 1\)"),
        ("float", "dtype float32, expected uint8"),
        ("key", "missing key 'images'"),
        ("truncated", "truncated"),
        ("text", "neither a zip archive"),
    ],
)
def test_mpi3d_refuses_malformed_files_with_the_reason(tmp_path, damage, reason):
    path = tmp_path / "mpi3d_toy.npz"
    images = mpi_images()
    if damage == "grey":
        np.savez(path, images=images[..., :1])
    elif damage == "float":
        np.savez(path, images=images.astype(np.float32))
    elif damage == "key":
        np.savez(path, imgs=images)
    elif damage == "truncated":
        np.savez(path, images=images)
        raw = path.read_bytes()
        path.write_bytes(raw[:-5000])
    else:
        path.write_text("not an archive")
    with pytest.raises(DatasetFileError, match=reason):
        MPI3D(path, factor_sizes=MPI_SIZES)


def test_mpi3d_refuses_a_member_whose_bytes_end_before_its_size(tmp_path):
    """A zip whose central directory is intact but whose stored member is short."""
    path = tmp_path / "mpi3d_toy.npz"
    np.savez(path, images=mpi_images())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("images.npy")
        raw = zf.read(info)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("images.npy", raw[: -64 * 64 * 3])
    with pytest.raises(DatasetFileError, match=r"ends early|truncated|needs \d+ bytes"):
        MPI3D(path, factor_sizes=MPI_SIZES)


def test_list_datasets_reports_factors_procedural_and_found_files(tmp_path, monkeypatch):
    monkeypatch.setenv("PYRODIS_DATA", str(tmp_path))
    np.savez(tmp_path / "mpi3d_toy.npz", images=mpi_images())
    rows = {d["name"]: d for d in list_datasets()}
    assert set(rows) >= {"dsprites", "color-dsprites", "noisy-dsprites", "scream-dsprites",
                         "shapes3d", "smallnorb", "cars3d", "mpi3d-toy", "mpi3d-realistic",
                         "mpi3d-real"}  # fmt: skip
    assert rows["mpi3d-toy"]["files_found"] is True and rows["mpi3d-real"]["files_found"] is False
    assert rows["noisy-dsprites"]["procedural"] and rows["noisy-dsprites"]["files_found"] is None
    assert not rows["smallnorb"]["procedural"] and rows["smallnorb"]["files_found"] is False
    assert rows["cars3d"]["factors"] == {"elevation": 4, "azimuth": 24, "object": 183}
    assert np.prod(list(rows["mpi3d-real"]["factors"].values())) == 1_036_800


def test_mpi3d_converts_a_compressed_archive_once_and_checks_the_md5_on_request(tmp_path):
    path, cache = tmp_path / "mpi3d_toy.npz", tmp_path / "cache"
    np.savez_compressed(path, images=mpi_images())
    first = MPI3D(path, cache_dir=cache, factor_sizes=MPI_SIZES)
    (converted,) = cache.glob("*.npy")
    stamp = converted.stat().st_mtime_ns
    again = MPI3D(path, cache_dir=cache, factor_sizes=MPI_SIZES)
    assert converted.stat().st_mtime_ns == stamp and len(list(cache.iterdir())) == 1
    f = first.factors(np.arange(len(first)))
    assert torch.equal(first.observations(f), again.observations(f))
    with pytest.raises(DatasetFileError, match="md5 .* differs from the official file's 5588"):
        MPI3D(path, cache_dir=cache, factor_sizes=MPI_SIZES, verify=True)


def test_an_unwritable_cache_is_a_clear_error(norb, tmp_path):
    root, _ = norb
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    with pytest.raises(DatasetFileError, match="the cache cannot be written.*PYRODIS_CACHE"):
        SmallNORB(root, cache_dir=blocker / "cache", factor_sizes=NORB_SIZES)
