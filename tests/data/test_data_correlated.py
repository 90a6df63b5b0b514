import numpy as np
import pytest
from scipy import stats

from pyrodis.data import CorrelatedFactors, Shapes3D, make_loader
from pyrodis.data.correlated import pair_table


def test_joint_is_the_gaussian_kernel_on_normalised_values(dsprites):
    view = CorrelatedFactors(dsprites, pairs=[("scale", "shape")], sigma=0.3)
    table = view.joint(("scale", "shape"))
    ya, yb = np.linspace(0, 1, 6), np.linspace(0, 1, 3)
    expected = np.exp(-((ya[:, None] - yb[None, :]) ** 2) / (2 * 0.3**2))
    np.testing.assert_allclose(table, expected / expected.sum())
    np.testing.assert_allclose(view.joint(0), table)


def test_samples_follow_the_joint_chi_square(dsprites):
    view = CorrelatedFactors(
        dsprites, pairs=[("scale", "shape"), ("posX", "orientation")], sigma=[0.2, 0.5]
    )
    f = view.sample_factors(60_000, 0)
    for (a, b), cols in ((("scale", "shape"), (1, 0)), (("posX", "orientation"), (3, 2))):
        table = view.joint((a, b))
        counts = np.zeros(table.shape)
        np.add.at(counts, (f[:, cols[0]], f[:, cols[1]]), 1)
        keep = table.ravel() > 0
        _, p = stats.chisquare(counts.ravel()[keep], table.ravel()[keep] * len(f))
        assert p > 1e-3, (a, b)
        assert counts.ravel()[~keep].sum() == 0
    # the unpaired factor stays uniform and independent
    counts = np.bincount(f[:, 4], minlength=32)
    assert stats.chisquare(counts).pvalue > 1e-3
    assert abs(np.corrcoef(f[:, 4], f[:, 1])[0, 1]) < 0.03


def test_correlation_grows_as_sigma_shrinks(dsprites):
    sigmas = [np.inf, 1.0, 0.5, 0.3, 0.2, 0.1]
    exact, sampled = [], []
    for s in sigmas:
        view = CorrelatedFactors(dsprites, pairs=[("scale", "shape")], sigma=s)
        exact.append(view.correlation())
        f = view.sample_factors(20_000, 1)
        sampled.append(np.corrcoef(f[:, 1], f[:, 0])[0, 1])
    assert exact[0] == 0.0 and abs(sampled[0]) < 0.03
    assert np.all(np.diff(exact) > 0) and np.all(np.diff(sampled) > 0)
    np.testing.assert_allclose(sampled, exact, atol=0.03)


def test_sigma_zero_is_deterministic_co_variation():
    # equal sizes: the diagonal, the exact sigma -> 0 limit
    np.testing.assert_allclose(
        pair_table(np.linspace(0, 1, 4), np.linspace(0, 1, 4), 0.0), np.eye(4) / 4
    )
    np.testing.assert_allclose(
        pair_table(np.linspace(0, 1, 4), np.linspace(0, 1, 4), 1e-3), np.eye(4) / 4, atol=1e-12
    )
    # "small objects are always blue": scale 8 values vs object hue 10 values, every value kept
    view = CorrelatedFactors(Shapes3D(), pairs=[("scale", "object_hue")], sigma=0.0)
    f = view.sample_factors(5_000, 0)
    hue_of_scale = {s: set(f[f[:, 3] == s, 2]) for s in range(8)}
    assert all(len(h) <= 2 for h in hue_of_scale.values())  # determined up to ties
    assert hue_of_scale[0] == {0} and hue_of_scale[7] == {9}
    assert set(f[:, 3]) == set(range(8)) and set(f[:, 2]) == set(range(10))


def test_view_keeps_the_grid_interface_and_the_loader_draws_from_the_joint(dsprites):
    view = CorrelatedFactors(dsprites, pairs=[("scale", "shape")], sigma=0.0)
    assert len(view) == len(dsprites) and view.factor_sizes == dsprites.factor_sizes
    assert view.independent is dsprites
    f = dsprites.sample_factors(8, 0)
    assert (view.observations(f) == dsprites.observations(f)).all()
    np.testing.assert_array_equal(view.index(f), dsprites.index(f))
    loader = make_loader(view, batch_size=256, seed=3)
    images, factors, indices = next(iter(loader))
    np.testing.assert_array_equal(factors[:, 0].numpy(), factors[:, 1].numpy() // 2)
    assert (images == dsprites.observations(factors.numpy())).all()
    again = make_loader(view, batch_size=256, seed=3)
    assert (next(iter(again))[2] == indices).all()
    other = make_loader(view, batch_size=256, seed=4)
    assert not (next(iter(other))[2] == indices).all()
    with pytest.raises(ValueError, match="shuffle=True"):
        make_loader(view, shuffle=False)


def test_determinism_under_a_seed(dsprites):
    view = CorrelatedFactors(dsprites, sigma=0.2)
    np.testing.assert_array_equal(view.sample_factors(100, 5), view.sample_factors(100, 5))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"pairs": [("scale", "size")]}, "unknown factor 'size'"),
        ({"pairs": [("scale", "scale")]}, "two different factors"),
        ({"pairs": [("scale", "shape"), ("shape", "posX")]}, "one pair only"),
        ({"sigma": -1.0}, "sigma must be >= 0"),
        ({"sigma": [0.1, 0.2]}, "one per pair"),
        ({"pairs": ("scale", "shape")}, "list of pairs"),
    ],
)
def test_bad_arguments(dsprites, kwargs, message):
    with pytest.raises(ValueError, match=message):
        CorrelatedFactors(dsprites, **kwargs)
    with pytest.raises(KeyError, match="not a correlated pair"):
        CorrelatedFactors(dsprites).joint(("posX", "posY"))
