"""重办 (re-handling): a case found not solved at follow-up goes back to its department's queue.

The `rework` step moves the case and counts it (`Case.rework_count`, which 返工率 reads per department); this
module does what follows it: the reporter hears that the case is being handled again, and once the re-handlings
exceed the workflow's limit (`rehandling.limit`, default 2) the platform opens a 督办 on the case itself, as the
command centre above would, so a case cannot bounce between follow-up and handling for ever.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.actors import system_actor
from minqing.core.changes import record_case_event
from minqing.core.models import Case, Supervision
from minqing.core.geo.regions import SIGNIFICANT

from . import calendar as calendars
from . import notices
from .definition import Workflow

AUTOMATIC = "rehandling_limit"   # the timeline event of an automatic supervision says why it was opened


@dataclasses.dataclass(frozen=True)
class Standing:
    """What the case page, the reporter's page and the API show about a case's re-handlings."""
    count: int
    limit: int
    supervised: bool

    @property
    def over_limit(self) -> bool:
        return self.count > self.limit


def standing(session: Session, workflow: Workflow, case: Case) -> Standing:
    supervised = session.scalar(select(Supervision.id).where(Supervision.case_id == case.id).limit(1)) is not None
    return Standing(count=case.rework_count or 0, limit=workflow.rehandling.limit, supervised=supervised)


def after_rework(platform, session: Session, workflow: Workflow, case: Case, now: dt.datetime) -> None:
    """Called by the engine once a `count_rework` step has moved the case back to handling."""
    count = case.rework_count or 0
    notices.rehandled(platform, session, case, count)
    if count > workflow.rehandling.limit:
        _supervise(platform, session, workflow, case, count, now)


def _supervise(platform, session: Session, workflow: Workflow, case: Case, count: int, now: dt.datetime) -> None:
    hours = workflow.rehandling.supervision_hours
    deadline = calendars.deadline(calendars.for_platform(platform), now, hours, True)
    comment = f"重办已达{count}次（上限{workflow.rehandling.limit}次），系统自动督办，请限期办结"
    city = case.region_code[:SIGNIFICANT["city"]].ljust(12, "0") if case.region_code else ""
    session.add(Supervision(case_id=case.id, actor_account_id=None, actor_name="系统", region_code=city,
                            comment=comment, created_at=now, deadline_at=deadline))
    record_case_event(session, system_actor("rehandling"), case, "supervise", from_status=case.status,
                      to_status=case.status, comment=comment, at=now,
                      data={"title": "督办", "deadline_at": deadline.isoformat(), "automatic": AUTOMATIC,
                            "rehandling": count})
    notices.supervised(platform, session, case, comment, deadline.isoformat())
