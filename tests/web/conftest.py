"""Fixtures the page tests of this directory alone share (the rest come from tests/fixtures/)."""
from __future__ import annotations

import pytest

from tests.fixtures.ledgers import add_river


@pytest.fixture
def river(platform, world):
    """`river(**theme_changes)`: the theme and one record in the worker's grid, last seen 10 days ago."""
    def make(**extra):
        return add_river(platform, **extra)
    return make
