"""Reading a case's co-handling (协办) tasks, and the rule the engine keeps: the lead closes its handling only
when no co-handler is still open. Only reads here (the changes are in `joint`), so the engine's step
preparation can use it without importing the actions."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.models import Case, Department
from minqing.core.models.cohandling import CoHandlingStatus, CoHandlingTask

from .errors import InvalidTransition

STATUS_TITLES = {CoHandlingStatus.OPEN: "待反馈", CoHandlingStatus.ANSWERED: "已反馈",
                 CoHandlingStatus.OVERRULED: "已撤销（说明理由）", CoHandlingStatus.WITHDRAWN: "已撤回"}
# A co-handler whose task is in one of these still takes part in the case (and sees it: core.scope).
TAKING_PART = (CoHandlingStatus.OPEN, CoHandlingStatus.ANSWERED)


def tasks_of(session: Session, case_id: int) -> list[CoHandlingTask]:
    return list(session.scalars(select(CoHandlingTask).where(CoHandlingTask.case_id == case_id)
                                .order_by(CoHandlingTask.id)))


def open_tasks(session: Session, case_id: int) -> list[CoHandlingTask]:
    return [task for task in tasks_of(session, case_id) if task.status == CoHandlingStatus.OPEN]


def task_of_department(session: Session, case_id: int, department_id: int,
                       statuses=TAKING_PART) -> CoHandlingTask | None:
    return session.scalar(select(CoHandlingTask).where(
        CoHandlingTask.case_id == case_id, CoHandlingTask.department_id == department_id,
        CoHandlingTask.status.in_(statuses)).order_by(CoHandlingTask.id.desc()).limit(1))


def check_lead_may_finish(session: Session, case: Case) -> None:
    """The lead's handling feedback is refused while any co-handler has neither answered nor been overruled."""
    waiting = open_tasks(session, case.id)
    if not waiting:
        return
    names = "、".join(_name(session, task.department_id) for task in waiting)
    raise InvalidTransition(f"协办部门“{names}”尚未反馈，须全部反馈或由指挥中心说明理由后撤销，方可办结")


def _name(session: Session, department_id: int) -> str:
    department = session.get(Department, department_id)
    return department.short_name if department else str(department_id)
