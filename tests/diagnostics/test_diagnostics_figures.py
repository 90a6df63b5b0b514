"""Every figure function writes a non-empty PNG of the stated pixel size."""

import matplotlib.image as mpimg
import numpy as np
import pytest
import torch
from kit.tiny_bars import TinyBars, png_size, tiny_decode

from pyrodis.diagnostics import (
    plot_discriminator_accuracy,
    plot_kl_per_dim,
    plot_latent_vs_factor,
    plot_marginals,
    plot_mi_heatmap,
    plot_reconstructions,
    plot_training_curves,
    plot_traversals,
)
from pyrodis.diagnostics.training_plots import panel_layout
from pyrodis.diagnostics.traversals import traversal_images, traversal_values

HISTORY = [
    {"step": s, "loss": 100.0 / (s + 1), "kl": 1 + 0.01 * s, "tc": 0.5, "disc_acc": 0.5 + s / 400}
    for s in range(0, 100, 10)
]


def _check_png(path, size):
    assert path.exists() and path.stat().st_size > 200
    assert png_size(path) == size
    pixels = mpimg.imread(path)
    assert pixels.std() > 0.01  # something was drawn


def test_traversals(agg, tmp_path):
    out = plot_traversals(
        tiny_decode, agg, tmp_path / "t.png", dims=[0, 1, 4], num_steps=6, cell_inches=0.5, dpi=80
    )
    _check_png(out, (round(7 * 0.5 * 80), round(3 * 0.5 * 80)))
    default = plot_traversals(tiny_decode, agg, tmp_path / "all.png", point=3, dpi=50)
    _check_png(default, (round(10 * 0.8 * 50), round(5 * 0.8 * 50)))


def test_traversal_rows_move_only_their_latent(agg):
    dims = list(agg.kl_order()[:2])
    values = traversal_values(agg, dims, 5, quantiles=(0.1, 0.9))
    q = agg.quantiles((0.1, 0.9))
    np.testing.assert_allclose(values[:, [0, -1]], q[:, dims].T)
    fixed = traversal_values(agg, dims, 5, value_range=(-2, 2))
    np.testing.assert_allclose(fixed[1], np.linspace(-2, 2, 5))
    base = torch.zeros(5)
    seen = []
    traversal_images(lambda z: seen.append(z) or tiny_decode(z), base, dims, fixed)
    codes = seen[0].reshape(2, 5, 5)
    np.testing.assert_allclose(codes[0, :, dims[0]].numpy(), np.linspace(-2, 2, 5))
    assert codes[0, :, dims[1]].abs().max() == 0 and codes[1, :, dims[0]].abs().max() == 0


def test_reconstructions(tmp_path):
    x = TinyBars().observations(np.array([[0, 0], [1, 2], [3, 4], [5, 1]]))
    out = plot_reconstructions(x, x * 0.5, tmp_path / "r.png", max_images=3, dpi=60)
    _check_png(out, (180, 120))
    with pytest.raises(ValueError, match="same shape"):
        plot_reconstructions(x, x[:2], tmp_path / "bad.png")


def test_kl_per_dim_and_marginals(agg, tmp_path):
    out = plot_kl_per_dim(
        agg.kl_per_dim(), tmp_path / "kl.png", active=agg.active_units(), figsize=(5, 3), dpi=70
    )
    _check_png(out, (350, 210))
    out = plot_marginals(agg, tmp_path / "m.png", figsize=(6, 4), dpi=50)
    _check_png(out, (300, 200))


def test_mi_heatmap_and_latent_vs_factor(agg, tmp_path):
    mi = agg.mutual_information()
    out = plot_mi_heatmap(
        mi, tmp_path / "mi.png", factor_names=agg.factor_names, figsize=(4, 4), dpi=50
    )
    _check_png(out, (200, 200))
    out = plot_latent_vs_factor(
        agg.mean_codes,
        agg.factors,
        tmp_path / "lf.png",
        factor_names=agg.factor_names,
        factor_values=TinyBars.factor_values,
        dims=[0, 1],
        figsize=(6, 3),
        dpi=50,
    )
    _check_png(out, (300, 150))


def test_training_curves_and_discriminator_accuracy(tmp_path):
    out = plot_training_curves(HISTORY, tmp_path / "c.png", figsize=(6, 4), dpi=50)
    _check_png(out, (300, 200))
    out = plot_discriminator_accuracy(HISTORY, tmp_path / "d.png", figsize=(4, 3), dpi=50)
    _check_png(out, (200, 150))
    with pytest.raises(ValueError, match="disc_acc"):
        plot_discriminator_accuracy([{"step": 0, "loss": 1.0}], tmp_path / "x.png")
    with pytest.raises(ValueError, match="history is empty"):
        plot_training_curves([], tmp_path / "y.png")


def test_figures_must_be_png(agg, tmp_path):
    with pytest.raises(ValueError, match=".png"):
        plot_kl_per_dim(agg.kl_per_dim(), tmp_path / "kl.svg")


def test_a_minibatch_estimate_and_its_checkpoint_reference_share_a_panel(tmp_path):
    keys = ["loss", "mi_mss", "tc_mss", "dwkl_mss", "mi_ref", "tc_ref", "dwkl_ref", "kl"]
    assert panel_layout(keys) == [
        ("loss", ["loss"]),
        ("mi", ["mi_mss", "mi_ref"]),
        ("tc", ["tc_mss", "tc_ref"]),
        ("dwkl", ["dwkl_mss", "dwkl_ref"]),
        ("kl", ["kl"]),
    ]
    # a reference alone, or with two candidates, keeps its own panel
    assert panel_layout(["tc_ref", "loss"]) == [("tc_ref", ["tc_ref"]), ("loss", ["loss"])]
    two = ["tc_mss", "tc_bank", "tc_ref"]
    assert panel_layout(two) == [(k, [k]) for k in two]
    history = [{"step": s, **{k: float(s) for k in keys}} for s in (0, 50, 100)]
    out = plot_training_curves(history, tmp_path / "c.png", dpi=50)
    _check_png(out, (3 * 160, 2 * 110))  # 5 panels on a 3 × 2 grid, not 8 on 3 × 3
