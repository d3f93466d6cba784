"""The outbox: notifications are stored with the change and delivered through plugins, even after an outage."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core.hooks import hookimpl
from minqing.core.models import Notification, utcnow
from minqing.workflows import outbox, tasks

from tests.fixtures.workflow import report, step


def notifications(platform):
    with platform.db.session() as session:
        return session.scalars(select(Notification).order_by(Notification.id)).all()


class Pager:
    """A test pager gateway (a channel no other plugin delivers) that can be switched off."""

    def __init__(self):
        self.sent, self.up = [], True

    @hookimpl
    def deliver_notification(self, notification):
        if notification["channel"] != "pager" or not self.up:
            return None
        self.sent.append(notification["recipient"])
        return True


@pytest.fixture
def pager(platform):
    gateway = Pager()
    platform.plugins.register(gateway, "test_pager")
    yield gateway
    platform.plugins.unregister("test_pager")


def test_undelivered_notifications_back_off_and_are_retried(platform, city, pager):
    pager.up = False
    with platform.db.session() as session:
        outbox.add(session, kind="close", channel="pager", recipient="13800000000", subject="已办结", platform=platform)
    [row] = notifications(platform)
    assert (row.status, row.attempts) == ("pending", 1) and row.next_attempt_at > utcnow()
    assert outbox.redeliver(platform) == 0          # not due yet: backing off
    pager.up = True
    assert outbox.redeliver(platform, now=utcnow() + dt.timedelta(minutes=5)) == 1
    [row] = notifications(platform)
    assert (row.status, row.delivered_by, pager.sent) == ("delivered", "test_pager", ["13800000000"])


def test_nothing_is_lost_while_the_broker_is_down(platform, city, monkeypatch):
    # Celery's settings are a mapping whose attributes may not exist until read: patch them as items, so the
    # old values are restored whatever test ran first.
    monkeypatch.setitem(tasks.celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(tasks.celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens there
    case_id = report(platform, city.worker)                  # the change commits although the broker is down
    step(platform, case_id, "accept", city.station)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    assert [(row.kind, row.status) for row in notifications(platform)] == [("report", "pending"),
                                                                           ("dispatch", "pending")]
    monkeypatch.undo()                                       # the broker is back: the periodic redelivery runs
    assert tasks.run_periodic(platform, "workflows.redeliver_notifications")
    assert [row.status for row in notifications(platform)] == ["delivered", "delivered"]


def test_a_stale_claim_is_given_up(platform, city):
    with platform.db.session() as session:
        row = outbox.add(session, kind="urge", recipient="department:water_affairs", subject="催办")
        session.flush()
        row.status, row.claimed_at = "sending", utcnow() - dt.timedelta(hours=1)   # its worker died
    assert outbox.redeliver(platform) == 1
    assert notifications(platform)[0].status == "delivered"


def test_two_deliveries_never_send_a_row_twice(platform, city, pager):
    with platform.db.session() as session:
        outbox.add(session, kind="close", channel="pager", recipient="13900000000", subject="已办结")
    [row] = notifications(platform)
    assert [claimed["id"] for claimed in outbox.claim(platform, utcnow(), ids=[row.id])] == [row.id]
    assert outbox.claim(platform, utcnow(), ids=[row.id]) == []   # already claimed by someone else
    assert outbox.deliver(platform) == 0
    assert pager.sent == []


def test_a_claim_takes_no_more_rows_than_asked(platform, city):
    """A worker killed mid-delivery strands only what it claimed: a chunk, never the whole outbox."""
    with platform.db.session() as session:
        for n in range(3 * outbox.CLAIM_CHUNK):
            outbox.add(session, kind="urge", recipient=f"worker:{n}", subject="催办")
    claimed = outbox.claim(platform, utcnow(), outbox.CLAIM_CHUNK)
    assert len(claimed) == outbox.CLAIM_CHUNK
    statuses = [row.status for row in notifications(platform)]
    assert statuses.count("sending") == outbox.CLAIM_CHUNK and statuses.count("pending") == 2 * outbox.CLAIM_CHUNK
