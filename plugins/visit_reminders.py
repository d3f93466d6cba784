"""Reminders for visits and patrols falling due (走访/巡查提醒), for department plugins with periodic duties.

A reminder is a row in the notification outbox addressed to the region's command body. The task is idempotent:
each reminder carries a key (object id and due date) and is written once per key however often the task runs.
On PostgreSQL the candidate rows are locked with SKIP LOCKED, so two workers running at once split the rows
instead of both writing the same reminders.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select

from minqing.core import city
from minqing.core.models import Notification, utcnow

CHUNK = 500


def today(session=None) -> dt.date:
    """Today in the city: due dates are local calendar dates (`core.city`: this session's city, or what this
    process read last)."""
    return city.today(session)


def remind(platform, *, model, condition, kind: str, due_by: dt.date,
           subject: Callable[[object], str], body: Callable[[object], str] = lambda row: "") -> int:
    """Queue one reminder per `model` row matching `condition` whose next visit is due on or before `due_by`.

    Returns how many reminders were written by this run (0 when every one was already there).
    """
    written = 0
    with platform.db.session() as session:
        rows = session.scalars(
            select(model).where(condition, model.next_visit_due.is_not(None), model.next_visit_due <= due_by)
            .order_by(model.id).with_for_update(skip_locked=True)).all()
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            keys = {_key(row): row for row in chunk}
            done = set(session.scalars(select(Notification.data["reminder"].as_string())
                                       .where(Notification.kind == kind,
                                              Notification.data["reminder"].as_string().in_(list(keys)))))
            for key, row in keys.items():
                if key in done:
                    continue
                session.add(Notification(
                    kind=kind, channel="inbox", recipient=f"region:{row.region_code}", subject=subject(row)[:200],
                    body=body(row), data={"reminder": key, "object_id": row.id,
                                          "due": row.next_visit_due.isoformat()},
                    status="pending", attempts=0, next_attempt_at=utcnow(), created_at=utcnow()))
                written += 1
    return written


def _key(row) -> str:
    return f"{type(row).__tablename__}:{row.id}:{row.next_visit_due.isoformat()}"
