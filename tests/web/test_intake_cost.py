"""What one report over the API costs the database (issue #20): a handful of statements in one writing
transaction, the change counters read once per request, the API key's last use not written on every request, and
the notifications delivered after the answer. Counts, not times: the same on every machine."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select, update

from minqing.core.models import ApiKey, Notification

from tests.fixtures.api import hotline, report

WRITING = ("INSERT", "UPDATE", "DELETE")


class Statements:
    """Every statement the platform's engine runs while the block is open, and the transactions it commits."""

    def __init__(self, engine):
        self.engine, self.sql, self.commits = engine, [], 0

    def _statement(self, _connection, _cursor, statement, _parameters, _context, _executemany):
        self.sql.append(" ".join(statement.split()))

    def _commit(self, _connection):
        self.commits += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)

    def matching(self, text: str) -> list[str]:
        return [sql for sql in self.sql if text in sql]


@pytest.fixture
def warm(api):
    """One report first: the caches a process builds once (the grids' index, the themes) are built."""
    report(api, "worker", hotline())
    return api


def test_a_report_reads_the_change_counters_once_and_writes_in_one_transaction(platform, warm):
    with Statements(platform.db.engine) as seen:
        created = report(warm, "worker", hotline(title="楼道灯又坏了"))
    assert created["id"]
    counter_reads = seen.matching("FROM change_counters")
    assert len(counter_reads) <= 2, counter_reads   # the request's once, and at most once more after the answer
    writes = [sql for sql in seen.sql if sql.startswith(WRITING)]
    assert not seen.matching("UPDATE api_keys"), "the key's last use was written again within minutes"
    assert not seen.matching("FROM settings"), "the secret key is read once per process"
    assert not seen.matching("SAVEPOINT"), "a report without a client id cannot collide: no savepoint"
    # the case, its timeline line, its deadline, its notice, the audit chain's step; then the notice's delivery
    assert len([sql for sql in writes if not sql.startswith("UPDATE notifications")]) <= 7, writes
    assert len(seen.sql) <= 22, seen.sql
    assert seen.commits <= 4
    # the answer shows the new case's timeline and files: known in memory, never read back
    assert not seen.matching("FROM case_events") and not seen.matching("FROM attachments"), "\n".join(seen.sql)
    assert [line["action"] for line in created["timeline"]] == ["report"] and created["attachments"] == []


def test_the_key_s_last_use_is_written_once_in_a_while(platform, warm, keys):
    def last_used():
        with platform.db.session() as session:
            return session.scalar(select(ApiKey.last_used_at).where(ApiKey.prefix == keys["worker"][:11]))

    first = last_used()
    assert first is not None
    report(warm, "worker", hotline())
    assert last_used() == first                      # minutes apart at most: not written again
    with platform.db.session() as session:           # as if the key was last used an hour ago
        session.execute(update(ApiKey).where(ApiKey.prefix == keys["worker"][:11])
                        .values(last_used_at=first - dt.timedelta(hours=1)))
    report(warm, "worker", hotline())
    assert last_used() > first - dt.timedelta(hours=1)


def test_notifications_leave_after_the_answer_is_sent(platform, app, keys, warm):
    from flask.testing import FlaskClient

    def statuses():
        with platform.db.session() as session:
            return session.scalars(select(Notification.status).order_by(Notification.id.desc()).limit(1)).all()

    # A client that does not close the answer (a server that has not finished sending it): not delivered yet.
    held = FlaskClient(app, app.response_class, use_cookies=False)
    answer = held.post("/api/v1/cases", json=hotline(title="井盖松动"),
                       headers={"Authorization": f"Bearer {keys['worker']}"})
    assert answer.status_code == 201
    assert statuses() == ["sending"]                 # written claimed by this process, not handed on yet
    answer.close()                                   # sent: the server closes it, and the delivery runs
    assert statuses() == ["delivered"]
    # the application's own test client closes each answer as a server does
    report(warm, "worker", hotline(title="路灯不亮"))
    assert statuses() == ["delivered"]


def test_a_worker_builds_the_grid_index_when_it_starts_not_on_its_first_report(platform, world, keys):
    """gunicorn makes the app in each worker: the index is built then, so no report waits for it."""
    from minqing.core.platform import Platform
    from minqing.web import create_app

    from tests.fixtures.api import Api

    worker = Platform(platform.db.url)   # a new process's platform: nothing built yet
    try:
        with Statements(worker.db.engine) as starting:
            app = create_app({"TESTING": True, "WARM_CACHES": True}, platform=worker)   # as a server's worker
        assert starting.matching("grids.geometry"), "the grids' index is built at start"
        with Statements(worker.db.engine) as first:
            report(lambda username: Api(app.test_client(), keys[username]), "worker", hotline())
        assert not first.matching("grids.geometry"), first.sql
    finally:
        worker.close()


def test_a_report_delivers_its_own_notice_and_looks_for_older_ones_only_now_and_then(platform, warm, monkeypatch):
    """Under load, a look for other due notices after every answer would be one more transaction per report:
    requests look at most every `LEFTOVERS_EVERY` seconds (the beat's redelivery looks in any case)."""
    from minqing.workflows import tasks

    monkeypatch.setattr(tasks, "LEFTOVERS_EVERY", 3600.0)
    monkeypatch.setattr(tasks, "_leftovers_looked", 0.0)
    report(warm, "worker", hotline(title="井盖松动"))            # looks once: none had looked for an hour
    with Statements(platform.db.engine) as seen:
        report(warm, "worker", hotline(title="路灯不亮"))
    leftovers = [sql for sql in seen.matching("FROM notifications") if "notifications.status" in sql]
    assert not leftovers, leftovers
    assert seen.matching("UPDATE notifications"), "its own notice is still delivered"
    with platform.db.session() as session:
        assert session.scalar(select(Notification.status).order_by(Notification.id.desc()).limit(1)) == "delivered"


def test_a_notice_left_waiting_is_delivered_by_a_later_request(platform, warm, monkeypatch):
    from minqing.workflows import tasks

    from minqing.core.models import utcnow

    earlier = utcnow() - dt.timedelta(minutes=5)
    with platform.db.session() as session:   # a notice whose delivery failed once and is due again
        waiting = Notification(kind="report", channel="inbox", recipient="region:620102", subject="待投递",
                               body="", data={}, status="pending", attempts=1, next_attempt_at=earlier,
                               created_at=earlier)
        session.add(waiting)
        session.flush()
        waiting_id = waiting.id
    monkeypatch.setattr(tasks, "_leftovers_looked", 0.0)      # the last look was long ago
    report(warm, "worker", hotline(title="路灯不亮"))
    with platform.db.session() as session:
        assert session.get(Notification, waiting_id).status == "delivered"
