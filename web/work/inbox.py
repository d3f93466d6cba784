"""The inbox: every case in the viewer's scope, filtered by status, theme, urgency and overdue."""
from __future__ import annotations

from flask import render_template, request
from sqlalchemy import func, or_, select

from minqing.core import scope
from minqing.core.models import Case, Role, utcnow
from minqing.workflows import all_workflows, joint

from ..context import db, platform, viewer
from ..permissions import roles_required
from . import blueprint
from .common import URGENCY_TITLES, department_names, state_title, theme_titles

PAGE_SIZE = 30
FINAL = ("closed", "voided")


@blueprint.get("/")
@roles_required("admin", "operator", "department_staff", "grid_worker", "leader")
def inbox():
    filters = {key: request.args.get(key, "") for key in ("status", "theme", "urgency", "overdue")}
    page = max(1, request.args.get("page", 1, type=int))
    statement = scope.restrict(select(Case), Case, viewer())
    if filters["status"] == "open":
        statement = statement.where(Case.status.not_in(FINAL))
    elif filters["status"]:
        statement = statement.where(Case.status == filters["status"])
    if filters["status"] or filters["overdue"]:
        # a work queue: merged duplicates (重复件) wait for their master, save for their own follow-up
        statement = statement.where(or_(Case.merged_into_id.is_(None), Case.status == "awaiting_follow_up"))
    if filters["theme"]:
        statement = statement.where(Case.theme_key == filters["theme"])
    if filters["urgency"] in URGENCY_TITLES:
        statement = statement.where(Case.urgency == filters["urgency"])
    if filters["overdue"]:
        statement = statement.where(Case.state_deadline_at < utcnow(), Case.status.not_in(FINAL))
    total = db().scalar(select(func.count()).select_from(statement.subquery()))
    cases = db().scalars(statement.order_by(Case.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    statuses = db().scalars(scope.restrict(select(Case.status).distinct(), Case, viewer())).all()
    return render_template("work/inbox.html", cases=cases, total=total, page=page, page_size=PAGE_SIZE,
                           filters=filters, themes=theme_titles(), departments=department_names(),
                           urgencies=URGENCY_TITLES, statuses=sorted(statuses), status_titles=status_titles(),
                           state_title=state_title,
                           now=utcnow(), co_tasks=_co_tasks())


def status_titles() -> dict[str, str]:
    """Each state's Chinese title, for the status filter (the first workflow naming a state gives its title)."""
    titles: dict[str, str] = {}
    for workflow in all_workflows(platform()):
        for name, state in workflow.states.items():
            titles.setdefault(name, state.title)
    return titles


def _co_tasks():
    """协办任务: the open co-handling tasks of the viewer's departments, beside the department's own cases."""
    departments = [grant.department_id for grant in viewer().grants_of(Role.DEPARTMENT_STAFF) if grant.department_id]
    return joint.open_tasks_of_departments(db(), departments, FINAL)
