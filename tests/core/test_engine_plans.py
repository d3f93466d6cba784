"""The PostgreSQL engine plans each statement for its values (`core.db._plan_for_the_values`): psycopg prepares a
statement after five runs, and PostgreSQL's generic plan for it ignored the skew of a city's data (a theme layer's
count scanned the whole city's point index, seconds instead of milliseconds)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from minqing.core.db import make_engine

from tests.fixtures.database import ON_POSTGRES
from tests.fixtures.postgres import dedicated_database, postgres_url

pytestmark = pytest.mark.postgres


def test_every_postgresql_connection_plans_for_the_values_even_when_prepared():
    engine = make_engine(postgres_url() if ON_POSTGRES else dedicated_database())
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
            for number in range(8):   # past psycopg's prepare threshold: the setting holds for prepared statements
                assert connection.scalar(text("SELECT CAST(:n AS integer) + 1"), {"n": number}) == number + 1
            assert connection.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
        engine.dispose()   # a new connection of the pool gets it too
        with engine.connect() as connection:
            assert connection.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    finally:
        engine.dispose()
