"""Tests of :mod:`pyrodis.models`: the VAE and PairVAE model/guide pairs, their networks and
likelihoods, and parameter-name ownership when several models share one process."""
