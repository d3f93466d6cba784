"""主办/协办 joint handling: the dispatcher names co-handling departments beside the lead (the case's department);
each co-handler gets a task with its own deadline and answers with its feedback; the dispatcher may overrule an
open task (or withdraw one named by mistake), always with a reason. The lead's handling feedback waits for all
of them (`co_tasks.check_lead_may_finish`, kept by the engine).

Every change touches the case (its version), so an answer, an overruling and the lead's feedback racing on the
same case are serialised: one wins, the other gets `Conflict`. Every change is a line on the case timeline.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from minqing.core import attachments as uploads
from minqing.core.actors import Actor
from minqing.core.changes import record_case_event, record_case_events_from
from minqing.core.departments import by_key
from minqing.core.models import Case, Department, Role, SweepMark, UTCDateTime, utcnow
from minqing.core.models.cohandling import CoHandlingStatus, CoHandlingTask
from minqing.core.scope import can_see

from . import calendar as calendars
from . import definition, notices, outbox, sweep_rows
from .co_tasks import task_of_department, tasks_of
from .engine import check_actor, flush_case
from .errors import FormInvalid, InvalidTransition, PermissionDenied

DISPATCHER_ROLES = (Role.OPERATOR,)
HANDLING_STATE = "handling"        # its time limit is a co-handler's default deadline
DEFAULT_HOURS = 40.0               # working hours, when the workflow has no handling state
MAX_HOURS = 720
MAX_CO_HANDLERS = 10
MAX_PHOTOS = 9
FINAL_MESSAGE = "事件已结束，不能{}"
# The page uploads the photos itself; an API client uploads them first (POST /api/v1/attachments) and names them.
NOT_YOURS = "附件不存在或不是您上传的（请先通过 POST /api/v1/attachments 上传）"


@dataclasses.dataclass(frozen=True)
class Deadline:
    at: dt.datetime
    hours: float
    working: bool


def _open_case(platform, session: Session, case: Case, what: str) -> None:
    workflow = definition.get(platform, case.workflow_key, session)
    state = workflow.states.get(case.status)
    if state is None or state.final:
        raise InvalidTransition(FINAL_MESSAGE.format(what))


def default_deadline(platform, session: Session, case: Case, now: dt.datetime, hours: float | None) -> Deadline:
    """`hours` working hours from now, or the lead's own handling time limit for the case's urgency."""
    calendar = calendars.for_platform(platform)
    if hours is not None:
        return Deadline(calendars.deadline(calendar, now, hours, True), hours, True)
    workflow = definition.get(platform, case.workflow_key, session)
    state = workflow.states.get(HANDLING_STATE)
    limit = state.time_limit if state else None
    if limit is None:
        return Deadline(calendars.deadline(calendar, now, DEFAULT_HOURS, True), DEFAULT_HOURS, True)
    hours, working = limit.hours[case.urgency], case.urgency in limit.working
    return Deadline(calendars.deadline(calendar, now, hours, working), hours, working)


def _departments(session: Session, case: Case, keys) -> list[Department]:
    if not isinstance(keys, (list, tuple)) or not keys or not all(isinstance(key, str) for key in keys):
        raise FormInvalid({"departments": ["请至少选择一个协办部门"]})
    if len(keys) > MAX_CO_HANDLERS:
        raise FormInvalid({"departments": [f"协办部门最多 {MAX_CO_HANDLERS} 个"]})
    found, problems = [], []
    for key in dict.fromkeys(key.strip() for key in keys if key.strip()):
        department = by_key(session, key)
        if department is None or not department.active:
            problems.append(f"没有标识为“{key}”的在用部门")
        elif department.id == case.department_id:
            problems.append(f"“{department.short_name}”是本事件的主办部门，不能同时协办")
        elif task_of_department(session, case.id, department.id):
            problems.append(f"“{department.short_name}”已是本事件的协办部门")
        else:
            found.append(department)
    if problems or not found:
        raise FormInvalid({"departments": problems or ["请至少选择一个协办部门"]})
    return found


def _hours(hours) -> float | None:
    if hours in (None, ""):
        return None
    try:
        value = float(hours)
    except (TypeError, ValueError):
        value = -1
    if not 1 <= value <= MAX_HOURS:
        raise FormInvalid({"hours": [f"协办时限应为 1 至 {MAX_HOURS} 个工作小时"]})
    return value


def _text(name: str, value, title: str, *, required: bool, maximum: int = 2000) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise FormInvalid({name: [f"{title}应为文本"]})
    if required and len(text) < 2:
        raise FormInvalid({name: [f"请填写{title}（至少 2 个字）"]})
    if len(text) > maximum:
        raise FormInvalid({name: [f"{title}最多 {maximum} 字"]})
    return text


def _touch(session: Session, case: Case, now: dt.datetime) -> None:
    """Bump the case's version with the change, so concurrent changes to the same case conflict."""
    case.updated_at = now
    flush_case(session)


def assign_problem(platform, session: Session, case: Case) -> str | None:
    """Why co-handlers cannot be named now, or None: they join a dispatched case before its lead feeds back
    (a state the lead's feedback or a transfer leaves)."""
    if case.department_id is None:
        return "事件尚未交办主办部门，请先分拨交办，再指定协办部门"
    workflow = definition.get(platform, case.workflow_key, session)
    if not any({"feedback", "assign_department"} & step.effects for step in workflow.available(case.status)):
        return "事件当前状态不能指定协办部门（须在交办后、主办部门处置反馈前）"
    return None


def assign(platform, session: Session, case: Case, actor: Actor, departments, *, instructions: str = "",
           hours=None, now: dt.datetime | None = None) -> list[CoHandlingTask]:
    """指定协办: the dispatcher names co-handling departments of a dispatched case, each with a task and a
    deadline (`hours` working hours, or the lead's handling time limit)."""
    check_actor(session, case, actor, DISPATCHER_ROLES, "指定协办")
    _open_case(platform, session, case, "指定协办")
    problem = assign_problem(platform, session, case)
    if problem:
        raise InvalidTransition(problem)
    chosen = _departments(session, case, departments)
    hours = _hours(hours)
    instructions = _text("instructions", instructions, "协办要求", required=False, maximum=1000)
    now = now or utcnow()
    deadline = default_deadline(platform, session, case, now, hours)
    tasks = [CoHandlingTask(case_id=case.id, department_id=department.id, status=CoHandlingStatus.OPEN,
                            instructions=instructions, requested_by_account_id=actor.account_id,
                            requested_by_name=actor.name, requested_at=now, deadline_at=deadline.at, photos=[])
             for department in chosen]
    session.add_all(tasks)
    _touch(session, case, now)
    names = "、".join(department.short_name for department in chosen)
    record_case_event(session, actor, case, "assign_co_handlers", from_status=case.status, to_status=case.status,
                      comment=f"协办部门：{names}" + (f"。{instructions}" if instructions else ""), at=now,
                      data={"title": "指定协办", "departments": [department.key for department in chosen],
                            "deadline_at": deadline.at.isoformat(), "hours": deadline.hours,
                            "working": deadline.working, "instructions": instructions})
    for department in chosen:
        notices.co_handling(platform, session, case, "co_handle", department.key, "新协办任务",
                            instructions or "请配合主办部门处置并反馈", {"deadline_at": deadline.at.isoformat()})
    return tasks


def _staff_departments(actor: Actor) -> set[int]:
    return {grant.department_id for grant in actor.grants_of(Role.DEPARTMENT_STAFF) if grant.department_id}


def _task_to_answer(session: Session, case: Case, actor: Actor, department_key: str | None) -> CoHandlingTask:
    if actor.has_role(Role.ADMIN) and not _staff_departments(actor):
        if not department_key:
            raise FormInvalid({"department": ["请指定代哪个协办部门反馈"]})
        department = by_key(session, department_key)
        mine = {department.id} if department else set()
    else:
        mine = _staff_departments(actor)
        if department_key:
            department = by_key(session, department_key)
            mine &= {department.id} if department else set()
    tasks = [task for task in tasks_of(session, case.id) if task.department_id in mine]
    if not tasks:
        raise PermissionDenied("您所在的部门不是本事件的协办部门，无权反馈协办情况")
    waiting = [task for task in tasks if task.status == CoHandlingStatus.OPEN]
    if not waiting:
        raise InvalidTransition("本部门的协办任务已反馈或已被撤销，无需再次反馈")
    return waiting[0]


def answer(platform, session: Session, case: Case, actor: Actor, *, result, photos=(), department: str | None = None,
           now: dt.datetime | None = None) -> CoHandlingTask:
    """协办反馈: the co-handling department's staff answer their task with a result (and photos, optional)."""
    if not actor.has_role(Role.DEPARTMENT_STAFF, Role.ADMIN):
        raise PermissionDenied("您的角色无权反馈协办情况")
    if not can_see(session, Case, case.id, actor):
        raise PermissionDenied("该事件不在您的管辖范围内，无权反馈协办情况")
    _open_case(platform, session, case, "反馈协办情况")
    task = _task_to_answer(session, case, actor, department)
    result = _text("result", result, "协办结果", required=True)
    photos = _own_photos(session, actor, case, photos)
    now = now or utcnow()
    task.status, task.feedback, task.photos = CoHandlingStatus.ANSWERED, result, photos
    task.answered_by_account_id, task.answered_by_name, task.answered_at = actor.account_id, actor.name, now
    _touch(session, case, now)
    department_row = session.get(Department, task.department_id)
    record_case_event(session, actor, case, "co_handler_feedback", from_status=case.status, to_status=case.status,
                      comment=result, at=now,
                      data={"title": f"协办反馈（{department_row.short_name}）", "department": department_row.key,
                            "task": task.id, "photos": photos, "on_time": now <= task.deadline_at})
    _tell_lead(platform, session, case, f"协办部门{department_row.short_name}已反馈", result)
    _link_photos(session, actor, case, photos)
    return task


def _own_photos(session: Session, actor: Actor, case: Case, photos) -> list[str]:
    """The ids of the feedback's photos, each a file the actor uploaded that is not part of another case."""
    if photos is None:
        return []
    if not isinstance(photos, (list, tuple)):
        raise FormInvalid({"photos": ["照片应为附件 id 的数组"]})
    if len(photos) > MAX_PHOTOS or not all(isinstance(item, str) and item for item in photos):
        raise FormInvalid({"photos": [f"照片最多 {MAX_PHOTOS} 张"]})
    usable = uploads.unclaimed(session, actor, photos, case_id=case.id)
    problems = {f"photos[{n}]": [NOT_YOURS] for n, item in enumerate(photos) if item not in usable}
    if problems:
        raise FormInvalid(problems, "附件无效")
    return list(photos)


def _link_photos(session: Session, actor: Actor, case: Case, photos: list[str]) -> None:
    uploads.link_to_case(session, actor, photos, case.id)


def _tell_lead(platform, session: Session, case: Case, subject: str, body: str) -> None:
    lead = session.get(Department, case.department_id) if case.department_id else None
    if lead is not None:
        notices.co_handling(platform, session, case, "co_handle", lead.key, subject, body)


def _decide(platform, session: Session, case: Case, actor: Actor, department_key, reason, status: str,
            title: str, now: dt.datetime | None) -> CoHandlingTask:
    check_actor(session, case, actor, DISPATCHER_ROLES, title)
    _open_case(platform, session, case, title)
    department = by_key(session, department_key) if isinstance(department_key, str) and department_key else None
    if department is None:
        raise FormInvalid({"department": ["请指定协办部门"]})
    task = task_of_department(session, case.id, department.id, (CoHandlingStatus.OPEN,))
    if task is None:
        raise InvalidTransition(f"“{department.short_name}”没有待反馈的协办任务")
    reason = _text("reason", reason, f"{title}理由", required=True, maximum=1000)
    now = now or utcnow()
    task.status, task.decision_reason = status, reason
    task.decided_by_account_id, task.decided_by_name, task.decided_at = actor.account_id, actor.name, now
    _touch(session, case, now)
    action = "overrule_co_handler" if status == CoHandlingStatus.OVERRULED else "withdraw_co_handler"
    record_case_event(session, actor, case, action, from_status=case.status, to_status=case.status,
                      comment=reason, at=now, data={"title": f"{title}（{department.short_name}）",
                                                    "department": department.key, "task": task.id})
    notices.co_handling(platform, session, case, "co_handle", department.key, f"协办任务已{title}", reason)
    _tell_lead(platform, session, case, f"{department.short_name}的协办任务已{title}", reason)
    return task


def overrule(platform, session: Session, case: Case, actor: Actor, department, reason, *,
             now: dt.datetime | None = None) -> CoHandlingTask:
    """撤销: the dispatcher closes an open co-handling task without its feedback, with a reason (so the lead can
    close its handling)."""
    return _decide(platform, session, case, actor, department, reason, CoHandlingStatus.OVERRULED, "撤销协办", now)


def withdraw(platform, session: Session, case: Case, actor: Actor, department, reason, *,
             now: dt.datetime | None = None) -> CoHandlingTask:
    """撤回: the dispatcher takes back a co-handling request named by mistake, with a reason."""
    return _decide(platform, session, case, actor, department, reason, CoHandlingStatus.WITHDRAWN, "撤回协办", now)


def open_tasks_of_departments(session: Session, department_ids, finals) -> list[tuple[CoHandlingTask, Case]]:
    """The open co-handling tasks of these departments on unfinished cases, soonest deadline first (the inbox)."""
    if not department_ids:
        return []
    rows = session.execute(
        select(CoHandlingTask, Case).join(Case, Case.id == CoHandlingTask.case_id)
        .where(CoHandlingTask.department_id.in_(department_ids), CoHandlingTask.status == CoHandlingStatus.OPEN,
               Case.status.not_in(finals))
        .order_by(CoHandlingTask.deadline_at, CoHandlingTask.id).limit(100))
    return [(task, case) for task, case in rows]


CO_HANDLING_URGE = ("协办超时催办", "已超过协办时限，请尽快反馈")   # the timeline line's title, the notice's body


def urge_overdue(platform, session: Session, *, now: dt.datetime, actor: Actor, finals) -> int:
    """The SLA sweep's part for co-handlers: an open task past its deadline is urged once (a SweepMark keyed by
    the task, claimed before acting, as for state deadlines); returns how many were urged.

    Set-based like the state deadlines' (workflows/sweep_rows.py): the marks are claimed with one INSERT … SELECT,
    the timeline lines (with one audit record) and the notices to the co-handling departments are each one
    INSERT … SELECT of the claimed marks, so no case or task travels to Python."""
    from .sla import claim_marks_from

    dialect = session.get_bind().dialect.name
    claimed = claim_marks_from(session, select(
        CoHandlingTask.case_id, literal("co_handling"), CoHandlingTask.requested_at, CoHandlingTask.id, Case.status,
        CoHandlingTask.deadline_at, literal("urge"), literal(""), literal(now, UTCDateTime()))
        .join(Case, Case.id == CoHandlingTask.case_id)
        .where(CoHandlingTask.status == CoHandlingStatus.OPEN, CoHandlingTask.deadline_at <= now,
               Case.status.not_in(finals)))
    if not claimed:
        return 0
    title, body = CO_HANDLING_URGE
    rows = (SweepMark.__table__.join(CoHandlingTask, CoHandlingTask.id == SweepMark.ref)
            .join(Case, Case.id == SweepMark.case_id).join(Department, Department.id == CoHandlingTask.department_id))
    marks = sweep_rows.among(dialect, SweepMark.id, claimed)
    urged = record_case_events_from(
        session, actor, select(
            Case.id.label("case_id"), literal("urge").label("action"), Case.status.label("from_status"),
            Case.status.label("to_status"),
            (literal("协办部门") + Department.short_name + literal("已超过协办时限，系统自动催办")).label("comment"),
            sweep_rows.json_object(dialect, title=title, automatic=True, department=Department.key,
                                   task=CoHandlingTask.id).label("data"))
        .select_from(rows).where(marks).order_by(Case.id, CoHandlingTask.id),
        action="sla.sweep", at=now, summary=lambda cases: f"协办超时催办 {len(cases.get('urge', ()))} 次")
    outbox.add_from(session, select(
        literal("urge").label("kind"), (literal("department:") + Department.key).label("recipient"),
        (literal("协办催办 ") + sweep_rows.case_number(dialect) + literal("：") + Case.title).label("subject"),
        literal(body).label("body"), Case.id.label("case_id"),
        sweep_rows.json_object(dialect, status=Case.status, by=actor.name, task=CoHandlingTask.id).label("data"))
        .select_from(rows).where(marks).order_by(Case.id, CoHandlingTask.id))
    return len(urged.get("urge", ()))
