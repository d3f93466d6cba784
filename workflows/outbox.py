"""The notification outbox: messages are rows written in the same transaction as the change they announce,
and leave the process afterwards, through the plugins' `deliver_notification` hook.

If the process dies or the broker is down, the rows stay pending and the periodic `redeliver` picks them up:
nothing is lost. A row is claimed with a conditional UPDATE before it is delivered, so two workers never
deliver the same row; a claim older than `STALE_CLAIM` (a worker died mid-delivery) is given up.
"""
from __future__ import annotations

import datetime as dt
import logging
import os

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from minqing.core.models import Notification, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
STALE_CLAIM = dt.timedelta(seconds=float(os.environ.get("MINQING_OUTBOX_STALE_SECONDS", "600")))
PENDING_IDS = "minqing_outbox_ids"
LISTENING = "minqing_outbox_listening"


def add(session: Session, *, kind: str, recipient: str, subject: str, body: str = "", case_id: int | None = None,
        channel: str = "inbox", data: dict | None = None, platform=None) -> Notification:
    """Queue a notification in the caller's transaction. With `platform`, delivery is kicked off once that
    transaction commits (a Celery task, or in-process in the embedded mode)."""
    notification = Notification(kind=kind, channel=channel, recipient=recipient, subject=subject[:200], body=body,
                                case_id=case_id, data=data or {}, status="pending", attempts=0,
                                next_attempt_at=utcnow(), created_at=utcnow())
    session.add(notification)
    if platform is not None:
        _deliver_after_commit(session, platform)
    return notification


def add_many(session: Session, messages: list[dict]) -> None:
    """Queue many notifications (each the keywords of `add`, without `platform`) with one statement: a sweep
    queues thousands. Delivery is the caller's to kick off once it committed (`tasks.enqueue_delivery`)."""
    if not messages:
        return
    now = utcnow()
    session.connection().execute(insert(Notification.__table__), [   # Core executemany: no ORM bookkeeping
        {"kind": message["kind"], "channel": message.get("channel", "inbox"), "recipient": message["recipient"],
         "subject": message["subject"][:200], "body": message.get("body", ""), "case_id": message.get("case_id"),
         "data": message.get("data") or {}, "status": "pending", "attempts": 0, "next_attempt_at": now,
         "created_at": now} for message in messages])


def _deliver_after_commit(session: Session, platform) -> None:
    session.info[PENDING_IDS] = platform
    if session.info.get(LISTENING):
        return
    session.info[LISTENING] = True

    def kick(committed: Session) -> None:
        # SQLAlchemy fires after_commit for a released savepoint too: the rows may leave only once the whole
        # transaction has committed (before, another connection cannot see them, and on SQLite it would wait
        # for this transaction's write lock).
        if committed.in_nested_transaction():
            return
        pending = committed.info.pop(PENDING_IDS, None)
        if pending is not None:
            from .tasks import enqueue_delivery

            enqueue_delivery(pending)

    def forget(rolled_back: Session, previous_transaction) -> None:
        if previous_transaction.parent is None and not previous_transaction.nested:
            rolled_back.info.pop(PENDING_IDS, None)

    event.listen(session, "after_commit", kick)
    event.listen(session, "after_soft_rollback", forget)


def deliver(platform, *, limit: int = 500, now: dt.datetime | None = None) -> int:
    """Deliver due pending notifications; return how many a plugin delivered."""
    now = now or utcnow()
    with platform.db.session() as session:
        due = session.scalars(select(Notification.id).where(Notification.status == "pending",
                                                            Notification.next_attempt_at <= now)
                              .order_by(Notification.id).limit(limit)).all()
    return sum(_deliver_one(platform, notification_id, now) for notification_id in due)


def _claim(platform, notification_id: int, now: dt.datetime) -> dict | None:
    with platform.db.session() as session:
        claimed = session.execute(
            update(Notification).where(Notification.id == notification_id, Notification.status == "pending")
            .values(status="sending", claimed_at=now, attempts=Notification.attempts + 1)).rowcount
        if not claimed:
            return None
        row = session.get(Notification, notification_id)
        return {"id": row.id, "kind": row.kind, "channel": row.channel, "recipient": row.recipient,
                "subject": row.subject, "body": row.body, "data": row.data, "case_id": row.case_id,
                "attempts": row.attempts}


def _deliver_one(platform, notification_id: int, now: dt.datetime) -> bool:
    payload = _claim(platform, notification_id, now)
    if payload is None:
        return False  # another worker has it
    answers = platform.plugins.call("deliver_notification", notification=payload)
    delivered_by = [name for name, answer in answers if answer is True]
    with platform.db.session() as session:
        row = session.get(Notification, notification_id)
        if delivered_by:
            row.status, row.delivered_at, row.delivered_by = "delivered", utcnow(), ",".join(delivered_by)
        elif row.attempts >= MAX_ATTEMPTS:
            row.status, row.last_error = "failed", "没有插件能投递该通知"
        else:  # back off: 1, 2, 4 … minutes, at most a day
            row.status, row.last_error = "pending", "没有插件投递该通知，稍后重试"
            row.next_attempt_at = utcnow() + min(dt.timedelta(minutes=2 ** (row.attempts - 1)), dt.timedelta(days=1))
    return bool(delivered_by)


def redeliver(platform, now: dt.datetime | None = None) -> int:
    """The periodic safety net: give up stale claims, then deliver whatever is pending and due."""
    now = now or utcnow()
    with platform.db.session() as session:
        session.execute(update(Notification)
                        .where(Notification.status == "sending", Notification.claimed_at < now - STALE_CLAIM)
                        .values(status="pending"))
    return deliver(platform, now=now)
