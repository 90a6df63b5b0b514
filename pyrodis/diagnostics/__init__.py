"""Posterior diagnostics of a trained guide: the aggregate posterior q(z), KL per latent, active
units, the MI / TC / dimension-wise KL decomposition, ArviZ export and figures (pure functions:
guide and data in, numbers and figures out; the run report is assembled by pyrodis.runs).

Works on any guide that follows the latent-site contract (``docs/contract.rst``): latent sites in
a data plate whose guide and prior factorise over the latent dimensions, of any torch family, one
site or several, hand-written or AutoNormal; see :class:`AggregatePosterior`.
"""

from .aggregate import AggregatePosterior
from .arviz_export import to_inference_data
from .decomposition import kl_decomposition
from .factor_mi import discretised_mutual_information, match_latents
from .joint import JointDensity
from .plots import plot_kl_per_dim, plot_latent_vs_factor, plot_marginals, plot_mi_heatmap
from .training_plots import plot_discriminator_accuracy, plot_training_curves
from .traversals import plot_reconstructions, plot_traversals

__all__ = [
    "AggregatePosterior",
    "JointDensity",
    "discretised_mutual_information",
    "kl_decomposition",
    "match_latents",
    "plot_discriminator_accuracy",
    "plot_kl_per_dim",
    "plot_latent_vs_factor",
    "plot_marginals",
    "plot_mi_heatmap",
    "plot_reconstructions",
    "plot_training_curves",
    "plot_traversals",
    "to_inference_data",
]
