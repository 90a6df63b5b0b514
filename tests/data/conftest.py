"""Tests of :mod:`pyrodis.data`: the ground-truth protocol, the procedural renderers, the official
file loaders, correlated and paired factor sampling, the one observation source and batch rule."""

import pytest

from pyrodis.data import DSprites


@pytest.fixture
def dsprites():
    """The procedural dSprites dataset (renders on demand: cheap to build)."""
    return DSprites()


@pytest.fixture(autouse=True)
def _image_cache(tmp_path, monkeypatch):
    """Each test's decoded-image cache in its own temporary folder, never the user's."""
    monkeypatch.setenv("PYRODIS_CACHE", str(tmp_path / "cache"))
