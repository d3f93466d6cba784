"""转办: the dispatcher moves a dispatched or handled case to another department, with a reason.

The move itself is the workflow's `transfer` step (workflows/builtin/standard.json: effects
`assign_department`, form `department` and `reason`), so it is checked and recorded like every step; the engine
notes where the case came from (`transferred_from`). This module reads that history back and offers the step
as a function.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.models import Case, CaseEvent

from .engine import transition

STEP = "transfer"


def transfer(platform, session: Session, case: Case, actor: Actor, department: str, reason: str, *,
             now: dt.datetime | None = None) -> Case:
    return transition(platform, session, case, STEP, actor, {"department": department, "reason": reason}, now=now)


def history(session: Session, case_id: int) -> list[dict]:
    """Every transfer of the case, oldest first: from, to, reason, who and when."""
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == STEP)
                             .order_by(CaseEvent.id))
    return [{"at": event.at, "from": (event.data or {}).get("transferred_from", ""),
             "to": (event.data or {}).get("department", ""), "reason": event.comment, "by": event.actor_name,
             "from_status": event.from_status} for event in events]
