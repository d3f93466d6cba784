"""The reliability tests reuse the signed-in world of the page tests (tests/web/conftest.py) and the small city
of the workflow tests (tests/workflows/conftest.py)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _fixtures_of(folder: str):
    path = Path(__file__).resolve().parent.parent / folder / "conftest.py"
    spec = importlib.util.spec_from_file_location(f"minqing_tests_{folder}_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_web, _workflows = _fixtures_of("web"), _fixtures_of("workflows")
world, password_hash, app, client, as_user = _web.world, _web.password_hash, _web.app, _web.client, _web.as_user
INSIDE, PASSWORD, login = _web.INSIDE, _web.PASSWORD, _web.login
city, report, MONDAY_10AM = _workflows.city, _workflows.report, _workflows.MONDAY_10AM
