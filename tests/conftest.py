"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when MINQING_DATABASE_URL says so.

`platform` gives each test an empty, migrated database (tables emptied after the test); `demo_platform` is a
Lanzhou-scale demo city built once per test session in a database of its own.
"""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from minqing.core.actors import system_actor
from minqing.core.db import Database
from minqing.core.models import Base
from minqing.core.platform import Platform

POSTGRES_URL = os.environ.get("MINQING_DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith("postgresql")


def _fresh_database(tmp_path_factory, name: str) -> str:
    """A new empty database: a SQLite file, or a PostgreSQL database created next to the configured one."""
    if not ON_POSTGRES:
        return f"sqlite:///{tmp_path_factory.mktemp(name) / 'minqing.db'}"
    url = make_url(POSTGRES_URL)
    if name == "main":
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url.render_as_string(hide_password=False)
    database = f"{url.database}_{name}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return url.set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def _model_directory(tmp_path_factory):
    """Dispatch models trained by tests go to a temporary folder, not ./instance/models."""
    previous = os.environ.get("MINQING_MODEL_DIR")
    os.environ["MINQING_MODEL_DIR"] = str(tmp_path_factory.mktemp("models"))
    yield
    if previous is None:
        os.environ.pop("MINQING_MODEL_DIR", None)
    else:
        os.environ["MINQING_MODEL_DIR"] = previous


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = _fresh_database(tmp_path_factory, "main")
    database = Database(url)
    database.upgrade()
    database.dispose()
    return url


def _empty_tables(database: Database) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as connection:
        if database.engine.dialect.name == "postgresql":
            # the audit log refuses TRUNCATE unless this transaction says it empties a test database on purpose
            connection.execute(text("SELECT set_config('minqing.audit_truncate', 'on', true)"))
            connection.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in tables)
                                    + " RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
def platform(database_url):
    platform = Platform(database_url)
    yield platform
    _empty_tables(platform.db)
    platform.close()


@pytest.fixture
def session(platform):
    with platform.db.session() as session:
        yield session


@pytest.fixture
def system():
    return system_actor("test")


@pytest.fixture(scope="session")
def demo_platform(tmp_path_factory):
    """The demo city at Lanzhou scale (with fewer residents, which only changes row counts, not the shape)."""
    from minqing.core.demo.build import build_demo

    platform = Platform(_fresh_database(tmp_path_factory, "demo"))
    platform.db.upgrade()
    summary = build_demo(platform, residents=DEMO_TEST_RESIDENTS, show_progress=False)
    platform.demo_summary = summary
    yield platform
    platform.close()


DEMO_TEST_RESIDENTS = 20_000
