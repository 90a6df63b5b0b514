import numpy as np
import pytest

from pyrodis.data import DATASETS, DSprites, Shapes3D, get_dataset
from pyrodis.data.pictures import factor_strips, save_data_figure, strip_differences


def test_strips_vary_one_factor_alone():
    ds = DSprites()
    base = np.array([2, 3, 10, 5, 20])
    strips = factor_strips(ds, base)
    assert [len(s) for s in strips] == list(ds.factor_sizes)
    for k, strip in enumerate(strips):
        factors = np.tile(base, (ds.factor_sizes[k], 1))
        factors[:, k] = np.arange(ds.factor_sizes[k])
        assert (strip == ds.observations(factors)).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_each_dsprites_factor_changes_the_image(seed):
    for name, diffs in zip(DSprites().factor_names, strip_differences(DSprites(), rng=seed)):
        assert diffs.min() > 0, name


def test_figure_is_written(tmp_path):
    for ds in (DSprites(), Shapes3D()):
        path = save_data_figure(ds, tmp_path / f"{type(ds).__name__}.png", num_samples=8)
        assert path.stat().st_size > 5_000 and path.read_bytes()[:4] == b"\x89PNG"


def test_registry():
    assert set(DATASETS) >= {"dsprites", "shapes3d"}
    assert isinstance(get_dataset("dSprites"), DSprites)
    assert isinstance(get_dataset("shapes3d"), Shapes3D)
    with pytest.raises(ValueError, match="choose one of"):
        get_dataset("mnist")
