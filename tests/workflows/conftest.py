"""The workflow tests run in the small city of tests/fixtures/workflow.py."""
from __future__ import annotations

import pytest


@pytest.fixture
def city(loop_city):
    return loop_city
