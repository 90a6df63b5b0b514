"""Tests of :mod:`pyrodis.inference`: each ELBO's objective against its formula, the TC
estimators against exact values, the latent-site contract and its error messages."""
