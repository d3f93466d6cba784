"""What a transition does besides moving the case, named in the definition's `effects` list.

`prepare` does every lookup an effect needs (the department, the requested extension) before anything changes,
so a refusal leaves the case untouched; `apply` then only sets attributes.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from minqing.core.departments import named
from minqing.core.models import Case, CaseMilestone, Department

from . import calendar as calendars
from . import clock, co_tasks, fallback
from .definition import Transition, Workflow
from .errors import FormInvalid, NotRoutable

RATING_LABELS = {"满意": 5, "基本满意": 3, "不满意": 1}


@dataclasses.dataclass
class Plan:
    department: Department | None = None
    extra_hours: float = 0.0
    extra_working: bool = False
    rating: int | None = None
    satisfied: bool | None = None
    note: dict = dataclasses.field(default_factory=dict)


def normalise(step: Transition, data: dict) -> dict:
    """Accept the words 满意/基本满意/不满意 for a rating and store them as the score they stand for."""
    if "record_rating" in step.effects and isinstance(data.get("rating"), str) and data["rating"] in RATING_LABELS:
        data["rating"] = RATING_LABELS[data["rating"]]
    return data


def rating_of(value) -> tuple[int, bool]:
    """A rating 1–5 or 满意/基本满意/不满意 → (score, satisfied). 4–5 满意 and 3 基本满意 count as satisfied."""
    score = RATING_LABELS[value] if isinstance(value, str) else int(value)
    return score, score >= 3


def prepare(platform, session: Session, workflow: Workflow, step: Transition, case: Case, data: dict) -> Plan:
    plan = Plan()
    if "assign_department" in step.effects:
        plan.department = _department(platform, session, case, data, plan)
        plan.note["department"] = plan.department.key
        _lead_check(session, case, plan)
    if "feedback" in step.effects:
        co_tasks.check_lead_may_finish(session, case)  # 主办 closes only after every 协办 answered or was overruled
    if "extend_deadline" in step.effects:
        _extension(session, case, data, plan, calendars.for_platform(platform))
    if "record_rating" in step.effects and data.get("rating") is not None:
        plan.rating, plan.satisfied = rating_of(data["rating"])
        plan.note["rating"] = plan.rating
    return plan


def _department(platform, session: Session, case: Case, data: dict, plan: Plan) -> Department:
    key = data.get("department")
    if not key:
        taken = fallback.take(session, case, unroutable=False)  # returned twice or more: the fallback's
        if taken is None:
            answer = platform.plugins.call_first("route_case", case=case, session=session)
            key = answer[1] if answer else None
            taken = None if key else fallback.take(session, case, unroutable=True)
        if taken is not None:
            plan.note["fallback"] = taken[1]
            return taken[0]
        if not key:
            raise NotRoutable("无法自动确定处置部门，请选择处置部门（本区划未设兜底部门）")
    department = named(session, key)
    if department is None or not department.active:
        raise FormInvalid({"department": [f"处置部门：没有名为“{key}”的在用部门（可填部门简称、全称或标识）"]})
    return department


def _lead_check(session: Session, case: Case, plan: Plan) -> None:
    """The lead is not one of its own co-handlers; a case that already has a department and gets another is
    transferred (转办): remember where from."""
    if co_tasks.task_of_department(session, case.id, plan.department.id, (co_tasks.CoHandlingStatus.OPEN,)):
        raise FormInvalid({"department": ["该部门是本事件待反馈的协办部门，请先撤回其协办任务再交办"]})
    if case.department_id is None:
        return
    if case.department_id == plan.department.id:
        raise FormInvalid({"department": ["事件已由该部门办理，转办须选择另一个部门"]})
    previous = session.get(Department, case.department_id)
    plan.note["transferred_from"] = previous.key if previous is not None else str(case.department_id)


def _extension(session: Session, case: Case, data: dict, plan: Plan, calendar) -> None:
    """Granted days: the approver's, else the requester's; counted on the clock of the state it extends."""
    request = clock.paused_event(session, case)
    days = data.get("days") or request.data.get("form", {}).get("days") or 0
    saved = request.data["clock"]
    plan.extra_working = bool(saved.get("working"))
    plan.extra_hours = days * (calendar.hours_per_day if plan.extra_working else 24)
    plan.note["extension_days"] = days


def apply(workflow: Workflow, step: Transition, case: Case, milestone: CaseMilestone, data: dict, plan: Plan,
          now: dt.datetime, calendar) -> None:
    done = step.effects
    if "accept" in done and milestone.accepted_at is None:
        milestone.accepted_at = now
    if "assign_department" in done:
        case.department_id = plan.department.id
        milestone.dispatched_at = milestone.dispatched_at or now
    if "clear_department" in done:
        case.department_id = None
    if "feedback" in done:
        milestone.feedback_at = now
    if "count_rework" in done:
        case.rework_count = (case.rework_count or 0) + 1
    if "record_rating" in done and plan.rating is not None:
        milestone.rating, milestone.satisfied = plan.rating, plan.satisfied
    if "extend_deadline" in done:
        clock.extend_due(case, plan.extra_hours, plan.extra_working, calendar)
    if "close" in done:
        case.closed_at = now
    if "void" in done:
        milestone.voided = True
