"""The one way a change of state is recorded: who, when, what and from where.

Every function of the platform that changes something calls `record_change` inside the same transaction as
the change, so the record exists exactly when the change does. Case changes also get a line on the case's
own timeline through `record_case_event`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import Integer, Select, String, insert, literal, select
from sqlalchemy.orm import Session

from .actors import Actor
from .audit import chain
from .models import AuditRecord, Case, CaseEvent, UTCDateTime, utcnow


def record_change(session: Session, actor: Actor, action: str, *, object_type: str = "", object_id: Any = "",
                  summary: str = "", details: dict | None = None, at: dt.datetime | None = None) -> AuditRecord:
    """`at` is the time the change takes effect: now, unless a caller replays work with its own clock.

    The record is chained into the tamper-evident audit log and inserted when the session's transaction
    commits (`core.audit.chain`): it exists exactly when the change does, and is not visible to queries before.
    """
    record = AuditRecord(at=at or utcnow(), actor_account_id=actor.account_id, actor_name=actor.name,
                         origin=actor.origin or "", action=action, object_type=object_type,
                         object_id=str(object_id), summary=summary, details=chain.plain_details(details))
    chain.append(session, record)
    return record


def record_case_event(session: Session, actor: Actor, case: Case, action: str, *, from_status: str | None,
                      to_status: str | None, comment: str = "", data: dict | None = None,
                      at: dt.datetime | None = None) -> CaseEvent:
    """Append a line to the case's timeline and the audit log. The case must have been flushed (has an id)."""
    at = at or utcnow()
    event = CaseEvent(case_id=case.id, at=at, actor_account_id=actor.account_id, actor_name=actor.name,
                      action=action, from_status=from_status, to_status=to_status, comment=comment,
                      data=data or {}, origin=actor.origin)
    if "events" in case.__dict__:   # the timeline is loaded (a case made in this session): keep it whole, so
        case.events.append(event)   # whoever reads it next (the report's answer) needs no query
    session.add(event)
    record_change(session, actor, f"case.{action}", object_type="case", object_id=case.id,
                  summary=f"{from_status or '-'} → {to_status or '-'}", details={"comment": comment}, at=at)
    return event


def record_case_events_from(session: Session, actor: Actor, rows: Select, *, action: str,
                            summary: Callable[[dict[str, list[int]]], str],
                            at: dt.datetime | None = None) -> dict[str, list[int]]:
    """Many timeline lines at once (a sweep's batch), written by ONE INSERT … SELECT of what `rows` selects
    (case_id, action, from_status, to_status, comment and data), and ONE audit record naming every case by what
    was done to it: no case row travels to Python, and the chain takes one step per batch, not one per case.

    Returns the cases by action; `summary` words the record from them. Nothing selected: no record, {}.
    """
    at = at or utcnow()
    source, table = rows.subquery(), CaseEvent.__table__
    statement = insert(table).from_select(
        ["case_id", "at", "actor_account_id", "actor_name", "origin", "action", "from_status", "to_status",
         "comment", "data"],
        select(source.c.case_id, literal(at, UTCDateTime()), literal(actor.account_id, Integer()),
               literal(actor.name, String()), literal(actor.origin or "", String()), source.c.action,
               source.c.from_status, source.c.to_status, source.c.comment, source.c.data)
    ).returning(table.c.case_id, table.c.action)
    cases: dict[str, list[int]] = {}
    for case_id, done in session.connection().execute(statement):
        cases.setdefault(done, []).append(case_id)
    if cases:
        record_change(session, actor, action, object_type="case", summary=summary(cases),
                      details={"cases": {done: sorted(ids) for done, ids in cases.items()}}, at=at)
    return cases
