"""催办 and 督办: actions on a case that do not move it, recorded on its timeline like every step.

Urging asks whoever holds the case to hurry. Supervision is an order from a higher level (a leader, or an
operator of a region above the case's region) with a deadline of its own, watched by the SLA sweep.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_case_event
from minqing.core.models import Case, Role, Supervision, utcnow
from minqing.core.geo.regions import prefix

from . import calendar as calendars
from . import definition, notices
from .engine import check_actor
from .errors import InvalidTransition, PermissionDenied

URGE_ROLES = (Role.OPERATOR, Role.LEADER)


def _open(platform, case: Case, what: str) -> None:
    workflow = definition.get(platform, case.workflow_key)
    state = workflow.states.get(case.status)
    if state is None or state.final:
        raise InvalidTransition(f"事件已结束，不能{what}")
    if case.merged_into_id is not None:  # 重复件: whoever holds the master is urged and supervised on the master
        raise InvalidTransition(f"该事件已合并到其他事件办理，请对主件{what}")


def urge(platform, session: Session, case: Case, actor: Actor, comment: str = "", *,
         now: dt.datetime | None = None) -> None:
    """催办 by an operator or leader whose scope covers the case (or the platform's SLA sweep)."""
    check_actor(session, case, actor, URGE_ROLES, "催办")
    _open(platform, case, "催办")
    record_case_event(session, actor, case, "urge", from_status=case.status, to_status=case.status,
                      comment=comment or "请尽快办理", data={"title": "催办"}, at=now)
    notices.urged(platform, session, case, comment or "请尽快办理", actor.name)


def is_higher_level(actor: Actor, case: Case) -> bool:
    """A leader, an administrator, or an operator of a region strictly above the case's region."""
    if actor.has_role(Role.ADMIN, Role.LEADER):
        return True
    case_prefix = prefix(case.region_code) if case.region_code else ""
    for grant in actor.grants_of(Role.OPERATOR):
        mine = prefix(grant.region_code) if grant.region_code else ""
        if mine and case_prefix.startswith(mine) and len(mine) < len(case_prefix):
            return True
    return False


def supervise(platform, session: Session, case: Case, actor: Actor, *, hours: float, comment: str,
              working: bool = True, now: dt.datetime | None = None) -> Supervision:
    """督办 with a deadline `hours` from now (working hours by default)."""
    check_actor(session, case, actor, (Role.OPERATOR, Role.LEADER), "督办")
    if not is_higher_level(actor, case):
        raise PermissionDenied("督办须由上级指挥机构或领导发起")
    _open(platform, case, "督办")
    now = now or utcnow()
    deadline = calendars.deadline(calendars.for_platform(platform), now, hours, working)
    region = next((grant.region_code for grant in actor.grants if grant.region_code), "") or ""
    supervision = Supervision(case_id=case.id, actor_account_id=actor.account_id, actor_name=actor.name,
                              region_code=region, comment=comment, created_at=now, deadline_at=deadline)
    session.add(supervision)
    record_case_event(session, actor, case, "supervise", from_status=case.status, to_status=case.status,
                      comment=comment, data={"title": "督办", "deadline_at": deadline.isoformat()}, at=now)
    notices.supervised(platform, session, case, comment, deadline.isoformat())
    return supervision
