"""pyrodis.inference: disentangling ELBOs, TC estimators and the latent-site contract."""

from pyrodis.inference.latent_sites import LatentSite, LatentSiteError, find_latent_sites

__all__ = ["LatentSite", "LatentSiteError", "find_latent_sites"]
