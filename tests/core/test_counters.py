"""Change counters read once per unit of work (a request, a task): every session of the unit shares one read, a
change this process makes is seen at once, one another process commits is seen by the next unit."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, select

from minqing.core import counters
from minqing.core.departments import COUNTER as DEPARTMENTS_COUNTER
from minqing.core.hooks import hookimpl
from minqing.core.models import Department
from minqing.core.pluginhost.host import PluginHost


@pytest.fixture
def reads(platform):
    seen = []

    def count(_connection, _cursor, statement, *_):
        if "FROM change_counters" in statement:
            seen.append(statement)
    event.listen(platform.db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(platform.db.engine, "before_cursor_execute", count)


def test_in_a_unit_every_session_shares_one_read_of_every_counter(platform, reads):
    with counters.unit():
        for name in ("grids", "plugins", "themes", "grids"):
            with platform.db.session() as session:
                counters.seen(session, name)
    assert len(reads) == 1
    with platform.db.session() as first, platform.db.session() as second:   # no unit: once per session
        counters.seen(first, "grids"), counters.seen(first, "themes"), counters.seen(second, "grids")
    assert len(reads) == 1 + 3   # each name once per session


def test_a_bump_is_seen_at_once_by_every_session_of_the_unit(platform):
    with counters.unit():
        with platform.db.session() as session:
            before = counters.seen(session, "themes")
        with platform.db.session() as session:
            counters.bump(session, "themes")
        with platform.db.session() as session:
            assert counters.seen(session, "themes") == before + 1


def test_another_process_s_change_is_seen_by_the_next_unit(platform):
    with counters.unit():
        with platform.db.session() as session:
            before = counters.seen(session, "grids")

        def elsewhere():   # another process: its own thread, so none of this unit's context
            with platform.db.session() as session:
                counters.bump(session, "grids")
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        with platform.db.session() as session:
            assert counters.seen(session, "grids") == before      # this unit keeps what it read
    with counters.unit(), platform.db.session() as session:
        assert counters.seen(session, "grids") == before + 1      # the next one sees it


def test_adding_or_changing_a_department_moves_its_counter(platform):
    with platform.db.session() as session:
        before = counters.value(session, DEPARTMENTS_COUNTER)
        session.add(Department(key="test_bureau", name="测试局", short_name="测试"))
    with platform.db.session() as session:
        assert counters.value(session, DEPARTMENTS_COUNTER) == before + 1
        session.scalar(select(Department).where(Department.key == "test_bureau")).name = "测试管理局"
    with platform.db.session() as session:
        assert counters.value(session, DEPARTMENTS_COUNTER) == before + 2


class Where:
    def __init__(self):
        self.threads = []

    @hookimpl
    def dashboard_figures(self, viewer, session):
        self.threads.append(threading.current_thread())
        return []


def test_the_platform_s_own_plugins_run_inline_others_time_bounded(monkeypatch, platform):
    own, outside = Where(), Where()
    host = PluginHost(platform.db, load_entry_points=False)
    host.register(own, "own", platform_own=True)
    host.register(outside, "outside")
    host.call("dashboard_figures", viewer=None, session=None)
    assert own.threads == [threading.current_thread()]
    assert outside.threads[0] is not threading.current_thread()   # on a bounded worker thread
    monkeypatch.setenv("MINQING_PLUGIN_BOUND_OWN", "1")
    bounded = PluginHost(platform.db, load_entry_points=False)
    bounded.register(own, "own", platform_own=True)
    bounded.call("dashboard_figures", viewer=None, session=None)
    assert own.threads[-1] is not threading.current_thread()


def test_the_secret_key_is_read_once_per_database(monkeypatch, platform):
    from minqing.core.settings import secret_key

    monkeypatch.delenv("MINQING_SECRET_KEY", raising=False)
    statements = []

    def record(_connection, _cursor, statement, *_):
        statements.append(statement)
    with platform.db.session() as session:
        first = secret_key(session)
    event.listen(platform.db.engine, "before_cursor_execute", record)
    try:
        with platform.db.session() as session:
            assert secret_key(session) == first
    finally:
        event.remove(platform.db.engine, "before_cursor_execute", record)
    assert not [sql for sql in statements if "FROM settings" in sql]
