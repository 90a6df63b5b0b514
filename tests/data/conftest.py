"""Tests of :mod:`pyrodis.data`: the ground-truth protocol, the procedural renderers, the official
file loaders, correlated and paired factor sampling, the one observation source and batch rule."""

import pytest

from pyrodis.data import DSprites


@pytest.fixture
def dsprites():
    """The procedural dSprites dataset (renders on demand: cheap to build)."""
    return DSprites()
