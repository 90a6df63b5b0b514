"""Tests of :mod:`pyrodis.diagnostics` on the tiny bar images of ``kit.tiny_bars``, whose
posterior is known in closed form."""

import pytest
from kit.tiny_bars import TinyBars, tiny_guide

from pyrodis.diagnostics import AggregatePosterior


@pytest.fixture(scope="module")
def agg():
    """The aggregate posterior of the tiny guide over the 30 bar images (read-only)."""
    return AggregatePosterior.from_guide(tiny_guide, TinyBars())
