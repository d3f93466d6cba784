"""The suite's top conftest: loads the shared fixtures (tests/fixtures/) and applies the markers.

Markers (declared in pyproject.toml):
- `slow`  the test uses the Lanzhou-scale demo city (`demo_platform`), a build of a minute or two;
- `e2e`   the test drives real headless Chromium (everything under tests/web/e2e);
- `redis` the test needs a real Redis at 127.0.0.1:6379 (a Celery worker or beat on it, shared rate limits): marked
  explicitly with `@pytest.mark.redis`;
- `postgres` the test needs PostgreSQL whatever the suite runs on (two nodes sharing one database): the suite's
  own database on PostgreSQL, else a dedicated one on the local server (tests/fixtures/postgres.py); marked
  explicitly with `@pytest.mark.postgres`, registered here (not in pyproject.toml).
An e2e, redis or postgres test skips, saying why, when Chromium, Redis or PostgreSQL is missing, except when the
environment variable CI is set: there a missing service is an error, so CI always runs every test.
"""
from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.web",
    "tests.fixtures.api",
    "tests.fixtures.citizen",
    "tests.fixtures.workflow",
]

E2E_DIRECTORY = Path(__file__).parent / "web" / "e2e"
CHROMIUM = "/usr/bin/chromium"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs PostgreSQL whatever the suite runs on "
                                       "(tests/fixtures/postgres.py)")
    # pytest-xdist's own marker, declared here too so that a run without the plugin (`-o addopts= -p no:xdist`)
    # still collects under --strict-markers
    config.addinivalue_line("markers", "xdist_group(name): run on the same pytest-xdist worker as the group")


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "demo_platform" in fixtures:
            item.add_marker(pytest.mark.slow)
            # under pytest-xdist (--dist loadgroup) one worker builds the demo city, not each of them
            item.add_marker(pytest.mark.xdist_group("demo_city"))
        if item.get_closest_marker("redis") is not None:
            # Redis's numbered databases (Celery's broker, shared rate limits) are one per test, not per worker
            item.add_marker(pytest.mark.xdist_group("redis"))
        if E2E_DIRECTORY in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@functools.cache   # each service is probed once per session
def _chromium_missing() -> str | None:
    return None if os.access(CHROMIUM, os.X_OK) else f"Chromium is not installed at {CHROMIUM}"


@functools.cache
def _redis_missing() -> str | None:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as connection:
            connection.sendall(b"PING\r\n")
            if connection.recv(16).startswith(b"+PONG"):
                return None
    except OSError:
        pass
    return f"Redis does not answer at {REDIS_HOST}:{REDIS_PORT}"


@functools.cache
def _postgres_missing() -> str | None:
    from tests.fixtures.postgres import postgres_missing   # here: tests.fixtures.database loads as a plugin first

    return postgres_missing()


SERVICES = {"e2e": _chromium_missing, "redis": _redis_missing, "postgres": _postgres_missing}


def pytest_runtest_setup(item):
    for marker, probe in SERVICES.items():
        if item.get_closest_marker(marker) is None:
            continue
        missing = probe()
        if missing and os.environ.get("CI"):
            pytest.fail(f"{missing}; CI runs every test, so this is an error, not a skip", pytrace=False)
        if missing:
            pytest.skip(f"{missing}: the test is marked {marker}")
