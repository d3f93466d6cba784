"""Deadlines of a case: entering a state starts its clock; paused states stop it and keep the time left."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.models import Case, CaseEvent

from . import calendar as calendars
from .definition import State, TimeLimit, Workflow
from .errors import InvalidTransition


def _limit_deadline(limit: TimeLimit, urgency: str, start: dt.datetime,
                    calendar: calendars.WorkingCalendar) -> dt.datetime:
    return calendars.deadline(calendar, start, limit.hours[urgency], urgency in limit.working)


def enter_state(case: Case, state: State, now: dt.datetime, calendar: calendars.WorkingCalendar) -> None:
    """Move the case into `state` now, with the state's time limit for the case's urgency (or none)."""
    case.status = state.name
    case.state_entered_at = now
    limit = state.time_limit
    case.state_deadline_at = _limit_deadline(limit, case.urgency, now, calendar) if limit else None


def set_due(case: Case, workflow: Workflow, now: dt.datetime, calendar: calendars.WorkingCalendar) -> None:
    case.due_at = _limit_deadline(workflow.due, case.urgency, now, calendar) if workflow.due else None


def is_working(state: State, urgency: str) -> bool:
    return bool(state.time_limit and urgency in state.time_limit.working)


def pause(case: Case, state: State, now: dt.datetime, calendar: calendars.WorkingCalendar) -> dict:
    """What a paused state must remember to give the clock back: the state left and the hours it had left."""
    if case.state_deadline_at is None:
        return {"paused_from": state.name, "remaining_hours": None}
    working = is_working(state, case.urgency)
    left = calendars.remaining(calendar, now, case.state_deadline_at, working)
    return {"paused_from": state.name, "remaining_hours": left, "working": working}


def restore(case: Case, state: State, saved: dict, now: dt.datetime, calendar: calendars.WorkingCalendar,
            extra_hours: float = 0.0) -> None:
    """Back into `state` with the time it had left when paused (plus `extra_hours` of an approved extension).

    Time that had already run out stays run out: the new deadline is `now` plus what was left, so a case
    overdue when suspended is still overdue when resumed."""
    case.status = state.name
    case.state_entered_at = now
    left = saved.get("remaining_hours")
    if left is None:
        case.state_deadline_at = None
        return
    working = saved.get("working", False)
    total = left + extra_hours
    if total >= 0:
        case.state_deadline_at = calendars.deadline(calendar, now, total, working)
    else:
        case.state_deadline_at = now - dt.timedelta(hours=-total)


def extend_due(case: Case, hours: float, working: bool, calendar: calendars.WorkingCalendar) -> None:
    if case.due_at is not None:
        case.due_at = calendars.deadline(calendar, case.due_at, hours, working)


def paused_event(session: Session, case: Case) -> CaseEvent:
    """The timeline line that paused the case into its current state; it holds the saved clock."""
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.to_status == case.status)
                             .order_by(CaseEvent.id.desc()))
    for event in events:
        if "clock" in (event.data or {}):
            return event
    raise InvalidTransition("找不到暂停前的状态，无法恢复")
