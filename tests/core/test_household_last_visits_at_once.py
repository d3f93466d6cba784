"""户户见干部's last visits (migration 0043) when two transactions visit one household at once, on PostgreSQL
whatever the suite runs on (SQLite has one writer at a time): this module's `platform` is the suite's database
on PostgreSQL, else the dedicated one (tests/fixtures/postgres.py), and the world and village are built there."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import text

from minqing.core import visits
from minqing.core.models import CadreLastVisit

from tests.fixtures import households as hh
from tests.fixtures.database import ON_POSTGRES, platform_on
from tests.fixtures.households import NOW, actor
from tests.fixtures.postgres import dedicated_database

EARLIER = NOW - dt.timedelta(days=15)   # 5 November, before NOW's day


@pytest.fixture
def platform(database_url):
    yield from platform_on(database_url if ON_POSTGRES else dedicated_database())


@pytest.fixture
def village(platform, world, password_hash):
    return hh.build(platform, world, password_hash)


def _wait_for_a_lock_wait(platform) -> None:
    """Until another connection of this database waits for a lock (30 s at most)."""
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND wait_event_type = 'Lock'")
    with platform.db.engine.connect() as connection:
        for _ in range(300):
            if connection.execute(waiting).scalar():
                return
            threading.Event().wait(0.1)
    raise AssertionError("the second transaction never waited for the first")


@pytest.mark.postgres
def test_two_transactions_visiting_one_household_at_once(platform, world, village):
    """Each trigger recomputes a household's last visit from the visits: the second of two transactions waits
    for the first (the household's row lock) and then sees its visit, so the later day is kept whichever commits
    first."""
    household = village.ids["YC-1"]
    with platform.db.session() as first, platform.db.session() as second:
        visits.record_household_visit(first, actor(first, "cun"), household_id=household, met="户主", now=NOW)
        cun, failed = actor(second, "cun"), []

        def visit_earlier():
            try:
                visits.record_household_visit(second, cun, household_id=household, met="配偶", now=EARLIER)
                second.commit()
            except Exception as error:   # seen by the test, not lost in the thread
                failed.append(error)

        writer = threading.Thread(target=visit_earlier)
        writer.start()
        _wait_for_a_lock_wait(platform)   # the second transaction's trigger waits for the household's row lock
        first.commit()
        writer.join(30)
        assert not writer.is_alive() and failed == []
    with platform.db.session() as session:
        assert session.get(CadreLastVisit, (0, household)).day == 20261120
        assert hh.kept_last_visits(session) == hh.direct_last_visits(session)
        assert hh.kept_last_visit_counts(session) == hh.counted_last_visits(hh.direct_last_visits(session))


