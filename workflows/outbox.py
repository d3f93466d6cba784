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

from sqlalchemy import Select, event, func, insert, inspect, literal, select, update
from sqlalchemy.orm import Session

from minqing.core.models import Notification, UTCDateTime, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
STALE_CLAIM = dt.timedelta(seconds=float(os.environ.get("MINQING_OUTBOX_STALE_SECONDS", "600")))
PENDING_IDS = "minqing_outbox_ids"
CLAIMED = "minqing_outbox_claimed"
LISTENING = "minqing_outbox_listening"


def add(session: Session, *, kind: str, recipient: str, subject: str, body: str = "", case_id: int | None = None,
        channel: str = "inbox", data: dict | None = None, platform=None) -> Notification:
    """Queue a notification in the caller's transaction. With `platform`, delivery is kicked off once that
    transaction commits (a Celery task, or in-process in the embedded mode).

    When this process delivers it itself after answering (the embedded mode, in a web request:
    `tasks.delivers_after_answer`), the row is written already claimed by it — as a worker's claim would mark
    it — so no second transaction claims it; should the process die first, the claim goes stale and the periodic
    redelivery sends it."""
    now = utcnow()
    claimed = platform is not None and _delivers_after_answer()
    notification = Notification(kind=kind, channel=channel, recipient=recipient, subject=subject[:200], body=body,
                                case_id=case_id, data=data or {}, status="sending" if claimed else "pending",
                                attempts=1 if claimed else 0, claimed_at=now if claimed else None,
                                next_attempt_at=now, created_at=now)
    session.add(notification)
    if platform is not None:
        if claimed:
            session.info.setdefault(CLAIMED, []).append(notification)
        _deliver_after_commit(session, platform)
    return notification


def _delivers_after_answer() -> bool:
    from .tasks import delivers_after_answer

    return delivers_after_answer()


def payload(row) -> dict:
    """What the `deliver_notification` hook is given of a row."""
    return {"id": row.id, "kind": row.kind, "channel": row.channel, "recipient": row.recipient,
            "subject": row.subject, "body": row.body, "data": row.data, "case_id": row.case_id,
            "attempts": row.attempts}


def add_from(session: Session, rows: Select) -> int:
    """Queue the notifications `rows` selects (kind, recipient, subject, body, case_id and data) with ONE
    INSERT … SELECT: a sweep queues thousands, and none of them need pass through Python. Delivery is the caller's
    to kick off once it committed (`tasks.enqueue_delivery`). Returns how many were queued."""
    source, now = rows.subquery(), utcnow()
    return session.connection().execute(insert(Notification.__table__).from_select(
        ["kind", "channel", "recipient", "subject", "body", "case_id", "data", "status", "attempts",
         "next_attempt_at", "created_at"],
        select(source.c.kind, literal("inbox"), source.c.recipient, func.substr(source.c.subject, 1, 200),
               source.c.body, source.c.case_id, source.c.data, literal("pending"), literal(0),
               literal(now, UTCDateTime()), literal(now, UTCDateTime())))).rowcount


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
        # a row added in a savepoint that was rolled back left the session with it: never sent
        claimed = [payload(row) for row in committed.info.pop(CLAIMED, ()) if inspect(row).persistent]
        if pending is not None:
            from .tasks import enqueue_delivery

            enqueue_delivery(pending, claimed=claimed)

    def forget(rolled_back: Session, previous_transaction) -> None:
        if previous_transaction.parent is None and not previous_transaction.nested:
            rolled_back.info.pop(PENDING_IDS, None)
            rolled_back.info.pop(CLAIMED, None)

    event.listen(session, "after_commit", kick)
    event.listen(session, "after_soft_rollback", forget)


CLAIM_CHUNK = 10   # rows claimed at once: what a worker killed mid-delivery leaves waiting for its claim to go stale


def deliver(platform, *, limit: int = 500, now: dt.datetime | None = None) -> int:
    """Deliver due pending notifications (at most `limit`); return how many a plugin delivered.

    Rows are claimed a few at a time with one conditional UPDATE (a row another worker claimed meanwhile is left
    to it), handed to the plugins one by one, and each outcome stored as soon as it is known: a worker killed
    mid-delivery strands at most one chunk's claims and hands no delivered row over twice but the one in flight."""
    now = now or utcnow()
    delivered = handled = 0
    while handled < limit:
        with platform.db.session() as session:   # a read first: claiming takes SQLite's write lock, often for nothing
            due = session.scalar(select(Notification.id).where(Notification.status == "pending",
                                                               Notification.next_attempt_at <= now).limit(1))
        claimed = claim(platform, now, min(CLAIM_CHUNK, limit - handled)) if due is not None else []
        if not claimed:
            return delivered
        delivered += deliver_claimed(platform, claimed)
        handled += len(claimed)
    return delivered


def deliver_claimed(platform, claimed: list[dict]) -> int:
    """Hand rows this process has claimed (`payload`s) to the plugins, storing what came of each at once."""
    delivered = 0
    for notification in claimed:
        answers = platform.plugins.call("deliver_notification", notification=notification)
        delivered_by = [name for name, answer in answers if answer is True]
        if delivered_by:
            _store_outcome(platform, notification["id"], status="delivered", delivered_at=utcnow(),
                           delivered_by=",".join(delivered_by))
            delivered += 1
        elif notification["attempts"] >= MAX_ATTEMPTS:
            _store_outcome(platform, notification["id"], status="failed", last_error="没有插件能投递该通知")
        else:  # back off: 1, 2, 4 … minutes, at most a day
            wait = min(dt.timedelta(minutes=2 ** (notification["attempts"] - 1)), dt.timedelta(days=1))
            _store_outcome(platform, notification["id"], status="pending", last_error="没有插件投递该通知，稍后重试",
                           next_attempt_at=utcnow() + wait)
    return delivered


def claim(platform, now: dt.datetime, limit: int = 500, ids: list[int] | None = None) -> list[dict]:
    """Claim due pending rows (or those of `ids`) for delivery: one UPDATE … RETURNING, committed at once. A row
    another worker claimed first is not pending any more and so not returned (on PostgreSQL the rows a
    concurrent claim holds are skipped, not waited for)."""
    due = select(Notification.id).where(Notification.status == "pending")
    due = due.where(Notification.id.in_(ids)) if ids is not None else due.where(Notification.next_attempt_at <= now)
    # A CTE, not `IN (subquery)`: PostgreSQL may run a LIMITed subquery of an UPDATE more than once and so claim
    # more than `limit` rows; a CTE that locks rows is always run once.
    due = due.order_by(Notification.id).limit(limit).with_for_update(skip_locked=True).cte("due")
    table = Notification.__table__
    statement = (update(table).where(table.c.id.in_(select(due.c.id)), table.c.status == "pending")
                 .values(status="sending", claimed_at=now, attempts=table.c.attempts + 1)
                 .returning(table.c.id, table.c.kind, table.c.channel, table.c.recipient, table.c.subject,
                            table.c.body, table.c.data, table.c.case_id, table.c.attempts))
    with platform.db.session() as session:
        rows = [dict(row._mapping) for row in session.execute(statement)]
    return sorted(rows, key=lambda row: row["id"])


def _store_outcome(platform, notification_id: int, **values) -> None:
    """What came of one hand-over, in a short transaction of its own (the row's claim ends with it)."""
    table = Notification.__table__
    with platform.db.session() as session:
        session.execute(update(table).where(table.c.id == notification_id).values(**values))


def redeliver(platform, now: dt.datetime | None = None) -> int:
    """The periodic safety net: give up stale claims, then deliver whatever is pending and due."""
    now = now or utcnow()
    with platform.db.session() as session:
        session.execute(update(Notification)
                        .where(Notification.status == "sending", Notification.claimed_at < now - STALE_CLAIM)
                        .values(status="pending"))
    return deliver(platform, now=now)
