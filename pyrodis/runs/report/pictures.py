"""The pictures a report leads with: reconstructions, traversals, samples (``docs/runs.rst``).

They are what a newcomer looks at first, with or without factors:

- **reconstructions**: inputs above their reconstructions from the posterior mean;
- **traversals** of every active latent (all latents when none is active), rows by decreasing
  KL, each swept over the 5%–95% quantiles of q(z_j), from several base images;
- **samples** decoded from the prior p(z) above samples from the aggregate posterior q(z): where
  the prior's samples look worse than q(z)'s, the prior has holes the decoder never learned.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from pyrodis.data import as_source
from pyrodis.diagnostics import AggregatePosterior, plot_reconstructions
from pyrodis.diagnostics.traversals import traversal_images, traversal_values
from pyrodis.figures import montage, new_figure, save_figure

__all__ = ["NUM_BASES", "picture_figures", "plot_base_traversals", "traversed_latents"]

#: base images of the traversals
NUM_BASES = 3


def traversed_latents(agg: AggregatePosterior) -> list[int]:
    """The active latents by decreasing KL; every latent (by KL) when none is active."""
    order = [int(j) for j in agg.kl_order()]
    active = agg.active_units()
    return [j for j in order if active[j]] or order


def plot_base_traversals(
    decode: Callable,
    agg: AggregatePosterior,
    path,
    images: torch.Tensor,
    *,
    dims: list[int],
    num_steps: int = 7,
    cell_inches: float = 0.55,
    dpi: float = 100,
):
    """One block per base image, side by side: the base input on top, below it one row per
    latent of ``dims`` swept over the 5%–95% quantiles of q(z_j) (rows share latents across
    blocks, so a latent's effect can be compared on different images)."""
    bases = len(images)
    values = traversal_values(agg, dims, num_steps)
    kl, names = agg.kl_per_dim(), agg.latent_names
    width = 1.1 + bases * (num_steps + 0.4) * cell_inches
    height = (len(dims) + 1.4) * cell_inches + 0.2
    fig = new_figure((width, height), dpi)
    grid = fig.add_gridspec(2, bases, height_ratios=[1.4, len(dims)], wspace=0.06, hspace=0.02)
    fig.subplots_adjust(left=1.1 / width, right=0.995, bottom=0.005, top=1 - 0.2 / height)
    for b in range(bases):
        base = agg.loc[b].to(torch.float32)
        block = traversal_images(decode, base, dims, values)
        top, ax = fig.add_subplot(grid[0, b]), fig.add_subplot(grid[1, b])
        top.imshow(montage(images[b : b + 1].cpu(), 1), aspect="equal")
        top.set_title(f"image {b + 1}", fontsize=8, pad=2)
        ax.imshow(montage(block.reshape(-1, *block.shape[2:]).cpu(), num_steps), aspect="equal")
        h = block.shape[-2] + 2
        ax.set_yticks([h * r + h / 2 - 1 for r in range(len(dims))])
        labels = [f"{names[j]} KL {kl[j]:.2f}" for j in dims] if b == 0 else []
        if labels:
            ax.set_yticklabels(labels, fontsize=8)
        else:
            ax.set_yticks([])
        for a in (top, ax):
            a.set_xticks([])
            a.tick_params(length=0)
            a.spines[:].set_visible(False)
        top.set_yticks([])
    return save_figure(fig, path)


def _traversals(decode: Callable, agg: AggregatePosterior, images, figs) -> None:
    dims = traversed_latents(agg)
    active = agg.active_units().any()
    which = (
        "every active latent"
        if active
        else "every latent: none is active yet (KL ≈ 0, the decoder ignores z; train longer "
        "or lower the KL weight)"
    )
    bases = images[: min(NUM_BASES, agg.num_points)]
    figs.add(
        "traversals",
        f"Traversals of {which}, rows by decreasing KL, from {len(bases)} base images (top); "
        "each latent swept over the 5%–95% quantiles of q(z_j)",
        lambda p: plot_base_traversals(decode, agg, p, bases, dims=dims),
    )


def picture_figures(run, agg: AggregatePosterior, decode: Callable, figs, seed: int = 0) -> None:
    """Add the reconstructions, traversals and prior/posterior samples to ``figs`` (an object
    with ``add(name, caption, draw)``), in that order."""
    n = min(8, agg.num_points)
    images = as_source(run.dataset).observations(agg.indices[:n])
    recon = decode(agg.loc[:n])
    figs.add(
        "reconstructions",
        "Inputs (top) and reconstructions from the posterior mean (bottom)",
        lambda p: plot_reconstructions(images, recon, p),
    )
    _traversals(decode, agg, images, figs)
    prior = decode(torch.as_tensor(agg.sample_prior(8, seed=seed), dtype=torch.float32))
    posterior = decode(torch.as_tensor(np.asarray(agg.sample(8, seed=seed)), dtype=torch.float32))
    figs.add(
        "samples",
        "Decoded samples from the prior p(z) (top) and from the aggregate posterior q(z) "
        "(bottom); where the top row looks worse, the prior has holes the decoder never saw",
        lambda p: plot_reconstructions(prior, posterior, p),
    )
