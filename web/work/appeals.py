"""申诉 on the work end: a department files (and withdraws) an appeal from the case page and sees its appeals
and the cases it could appeal; a command centre decides in its queue. Rules live in `workflows.appeals`."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from minqing import workflows
from minqing.core.models import Case, Role
from minqing.workflows import appeals, months

from ..context import db, viewer
from ..permissions import roles_required
from . import blueprint
from .common import case_in_scope, department_names

DECIDERS = (Role.OPERATOR, Role.ADMIN)


def appeal_panel(case: Case) -> dict | None:
    """What the case page shows about appeals: the case's appeals, the form for its department's staff while
    its period is open, the decision form for a command centre that may decide; None when nothing applies."""
    history = [appeal for appeal, _ in appeals.appeals_in_scope(db(), viewer(), case_id=case.id)] \
        if viewer().has_role(Role.DEPARTMENT_STAFF, *DECIDERS) else []
    period = months.key_of(case.created_at)
    published = appeals.is_published(db(), period)
    live = appeals.live_appeal(db(), case.id)
    mine = case.department_id in {g.department_id for g in viewer().grants_of(Role.DEPARTMENT_STAFF)}
    can_file = mine and live is None and not published and case.status != "voided"
    can_decide = (live is not None and live.status == "pending" and not published
                  and appeals.may_decide(db(), viewer(), case))
    can_withdraw = (live is not None and live.status == "pending" and not published
                    and live.department_id in {g.department_id for g in viewer().grants_of(Role.DEPARTMENT_STAFF)})
    if not (history or can_file or can_decide):
        return None
    return {"history": history, "can_file": can_file, "can_decide": can_decide, "can_withdraw": can_withdraw,
            "pending": live if live is not None and live.status == "pending" else None,
            "period_title": months.title(period), "published": published, "grounds": appeals.GROUNDS,
            "statuses": appeals.STATUS_TITLES}


def _flash_error(error: workflows.WorkflowError) -> None:
    db().rollback()
    if isinstance(error, workflows.FormInvalid):
        flash("；".join(m for messages in error.errors.values() for m in messages), "error")
    else:
        flash(error.message, "error")


def _back(case_id: int):
    target = request.form.get("next", "")
    if target in ("queue", "mine"):
        return redirect(url_for("work.appeal_queue" if target == "queue" else "work.my_appeals"))
    return redirect(url_for("work.case_page", case_id=case_id))


@blueprint.post("/cases/<int:case_id>/appeal")
@roles_required(Role.DEPARTMENT_STAFF)
def file_appeal(case_id: int):
    case = case_in_scope(case_id)
    try:
        appeals.file_appeal(db(), viewer(), case, ground=request.form.get("ground", ""),
                            reason=request.form.get("reason", ""))
        db().commit()
    except workflows.WorkflowError as error:
        _flash_error(error)
    else:
        flash("申诉已提交，等待指挥中心审核", "info")
    return _back(case_id)


@blueprint.post("/cases/<int:case_id>/appeal/withdraw")
@roles_required(Role.DEPARTMENT_STAFF)
def withdraw_appeal(case_id: int):
    case = case_in_scope(case_id)
    try:
        appeals.withdraw_case(db(), viewer(), case)
        db().commit()
    except workflows.WorkflowError as error:
        _flash_error(error)
    else:
        flash("申诉已撤回", "info")
    return _back(case_id)


@blueprint.post("/cases/<int:case_id>/appeal/decision")
@roles_required(*DECIDERS)
def decide_appeal(case_id: int):
    case = case_in_scope(case_id)
    decision = request.form.get("decision", "")
    try:
        appeals.decide_case(db(), viewer(), case, decision, request.form.get("reason", ""))
        db().commit()
    except workflows.WorkflowError as error:
        _flash_error(error)
    else:
        flash("申诉已通过，该事件不计入该部门本期考核" if decision == "approve" else "申诉已驳回", "info")
    return _back(case_id)


@blueprint.get("/appeals")
@roles_required(Role.DEPARTMENT_STAFF)
def my_appeals():
    """The department's appeals, and the cases of the open months it could appeal."""
    open_periods = [key for key in (months.current(), months.previous(months.current()))
                    if not appeals.is_published(db(), key)]
    could = {key: appeals.appealable_cases(db(), viewer(), key) for key in open_periods}
    return render_template("work/appeals.html", appeals=appeals.appeals_in_scope(db(), viewer()), could=could,
                           month_title=months.title, grounds=appeals.GROUNDS, statuses=appeals.STATUS_TITLES,
                           departments=department_names())


@blueprint.get("/appeals/queue")
@roles_required(*DECIDERS)
def appeal_queue():
    """The command centre's queue: pending appeals of cases in its region, then the latest decided ones."""
    pending = appeals.appeals_in_scope(db(), viewer(), status="pending")
    decided = [item for item in appeals.appeals_in_scope(db(), viewer(), limit=50) if item[0].status != "pending"]
    return render_template("work/appeal_queue.html", pending=pending, decided=decided, grounds=appeals.GROUNDS,
                           statuses=appeals.STATUS_TITLES, departments=department_names(),
                           month_title=months.title)
