"""The reliability tests use the signed-in world of the page tests (`world`, `as_user`, from tests/fixtures/web.py)
and the small city of the workflow tests (tests/fixtures/workflow.py)."""
from __future__ import annotations

import pytest


@pytest.fixture
def city(loop_city):
    return loop_city
