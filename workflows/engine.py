"""Moving a case along its workflow: who may take a step, with what data, and what the step changes.

`transition` is the one door: it checks role, scope, state and form before touching anything, then moves the
case, sets its deadlines, appends the timeline, queues notifications and tells the plugins. The case's
version column makes two people acting at once safe: one wins, the other gets `Conflict`.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from minqing.core.actors import Actor
from minqing.core.changes import record_case_event
from minqing.core.models import Case, CaseMilestone, Role, utcnow
from minqing.core.scope import can_see

from . import calendar as calendars
from . import clock, definition, effects, forms, notices, rehandling
from .definition import PREVIOUS, Transition, Workflow
from .errors import Conflict, FormInvalid, InvalidTransition, PermissionDenied

NO_FORM = {"type": "object", "properties": {}}   # a step without a form: no field is declared


def transition(platform, session: Session, case: Case, name: str, actor: Actor, data: dict | None = None, *,
               now: dt.datetime | None = None) -> Case:
    """Take step `name` on `case` as `actor` with the step's form `data`; return the case in its new state."""
    workflow = definition.get(platform, case.workflow_key, session)
    step = _step(workflow, case, name)
    check_actor(session, case, actor, step.roles, step.title)
    from .duplicates import follow  # 重复件: a merged case takes only its own follow-up steps

    follow.check_step(session, case, step, workflow)
    data = effects.normalise(step, dict(data or {}))
    check_form_data(step, data)
    now = now or utcnow()
    calendar = calendars.for_platform(platform)
    plan = effects.prepare(platform, session, workflow, step, case, data)  # lookups before the first change
    milestone = session.get(CaseMilestone, case.id) or CaseMilestone(case_id=case.id, case_created_at=case.created_at)
    from_status = case.status
    clock_note = _move(session, workflow, step, case, now, calendar, plan)
    effects.apply(workflow, step, case, milestone, data, plan, now, calendar)
    flush_case(session)
    session.add(milestone)
    record_case_event(session, actor, case, step.name, from_status=from_status, to_status=case.status, at=now,
                      comment=_comment(data), data={"title": step.title, "form": data, **clock_note, **plan.note})
    notices.after_transition(platform, session, case, step, plan)
    if "count_rework" in step.effects:
        rehandling.after_rework(platform, session, workflow, case, now)
    follow.after_step(platform, session, case, step, data, actor, now)  # merged duplicates follow their master
    announce(platform, session, case, step.name, actor)
    return case


def check_form_data(step: Transition, data: dict) -> None:
    """FormInvalid unless `data` is small, declared field by field by the step's form (a step without a form takes
    none) and valid against it. What a step is given is stored on the timeline and shown to every viewer of the
    case: an undeclared field of 5 MB, or one nested hundreds deep, was stored as it came (issue 21, finding 9)."""
    errors = forms.bounds(data, "本步表单") or forms.unknown_fields(step.form or NO_FORM, data)
    if errors:
        raise FormInvalid(errors)
    forms.validate(step.form, data)


def announce(platform, session: Session, case: Case, name: str, actor: Actor) -> None:
    """Tell the plugins that `case` changed state (`case_transitioned`), after the change and in its transaction.

    Every change of a case's status goes through here: each workflow step (`transition`), the report, a merge
    into a master and its undoing ("merge", "unmerge"), and a merged duplicate following its master
    ("follow_master"). A status set anywhere else would leave the plugins that track cases behind."""
    platform.hooks.case_transitioned(case=case, transition=name, actor=actor, session=session)


def _step(workflow: Workflow, case: Case, name: str) -> Transition:
    step = workflow.transitions.get(name)
    if step is None:
        raise InvalidTransition(f"处置流程“{workflow.title}”中没有“{name}”这一步")
    if case.status not in step.sources:
        current = workflow.states[case.status].title if case.status in workflow.states else case.status
        raise InvalidTransition(f"事件当前状态为“{current}”，不能执行“{step.title}”")
    return step


def check_actor(session: Session, case: Case, actor: Actor, roles, what: str) -> None:
    """The actor holds one of `roles` (administrators hold every role) and the case is in the actor's scope."""
    if not (actor.has_role(Role.ADMIN) or actor.has_role(*roles)):
        raise PermissionDenied(f"您的角色无权执行“{what}”")
    if not can_see(session, Case, case.id, actor):
        raise PermissionDenied(f"该事件不在您的管辖范围内，无权执行“{what}”")
    if not_the_lead(actor, case, roles):
        # A co-handling (协办) department sees the case too, but the lead's steps are the lead's alone.
        raise PermissionDenied(f"只有主办部门可以执行“{what}”，协办部门请在协办任务中反馈")


def not_the_lead(actor: Actor, case: Case, roles) -> bool:
    """The actor could take a step of `roles` only as department staff, and is not staff of the case's department
    (a co-handler's staff see the case, yet may not take the lead's steps)."""
    others = set(roles) - {Role.DEPARTMENT_STAFF}
    if actor.has_role(Role.ADMIN) or actor.has_role(*others) or Role.DEPARTMENT_STAFF not in roles:
        return False
    return case.department_id not in {grant.department_id for grant in actor.grants_of(Role.DEPARTMENT_STAFF)}


def _move(session, workflow, step, case, now, calendar, plan) -> dict:
    """Set the new state and its clock; return what the timeline must remember about the clock."""
    source = workflow.states[case.status]
    if step.target == PREVIOUS:
        saved = clock.paused_event(session, case).data["clock"]
        target = workflow.states[saved["paused_from"]]
        clock.restore(case, target, saved, now, calendar, extra_hours=plan.extra_hours)
        return {"resumed_to": target.name}
    target = workflow.states[step.target]
    if target.paused and not source.paused:
        saved = clock.pause(case, source, now, calendar)
        clock.enter_state(case, target, now, calendar)
        return {"clock": saved}
    clock.enter_state(case, target, now, calendar)
    return {}


def flush_case(session: Session) -> None:
    """Write the case now, so that a lost race shows up here, as Conflict, before anything else is written."""
    try:
        session.flush()
    except StaleDataError as error:
        session.rollback()
        raise Conflict() from error
    except OperationalError as error:  # SQLite: another writer held the database past the busy timeout
        if "database is locked" not in str(error):
            raise
        session.rollback()
        raise Conflict("系统繁忙，该事件正被他人处理，请稍后重试") from error


def _comment(data: dict) -> str:
    for key in ("reason", "comment", "result"):
        if isinstance(data.get(key), str) and data[key]:
            return data[key]
    return ""
