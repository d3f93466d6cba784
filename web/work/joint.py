"""协同处置 on the case page: the co-handlers (主办/协办) with their tasks, the dispatcher's forms (name
co-handlers, overrule or withdraw one with a reason), the co-handler's feedback form, the transfer history
(转办记录) and the region's fallback department (兜底). The rules are in `workflows.joint`; here only forms."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import login_required
from sqlalchemy import select

from minqing import workflows
from minqing.core import attachments
from minqing.core.models import Case, Department, Role, utcnow
from minqing.workflows import co_tasks, fallback, final_states, joint, transfer

from ..context import db, platform, viewer
from . import blueprint
from .common import case_in_scope, workflow_of
from .pickers import department_picker

PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
DISPATCH = "dispatch"


def _is_final(case: Case) -> bool:
    return case.status in final_states(platform())


def joint_block(case: Case) -> dict:
    """What the case page shows about joint handling, transfers and the fallback, for this viewer."""
    session = db()
    names = {department.id: department for department in session.scalars(select(Department))}
    keys = {department.key: department for department in names.values()}
    tasks = co_tasks.tasks_of(session, case.id)
    me = viewer()
    mine = {grant.department_id for grant in me.grants_of(Role.DEPARTMENT_STAFF)}
    final = _is_final(case)
    dispatcher = me.has_role(Role.OPERATOR, Role.ADMIN) and not final
    taken = {task.department_id for task in tasks if task.status in co_tasks.TAKING_PART}
    choices = sorted(((d.key, d.short_name) for d in names.values()
                      if d.active and d.id != case.department_id and d.id not in taken), key=lambda item: item[0])
    found = fallback.fallback_for(session, case.region_code)
    returns = fallback.returns_of(session, case.id)
    workflow = workflow_of(case.workflow_key)
    dispatch_step = workflow.transitions.get(DISPATCH)
    offer_fallback = bool(found and dispatcher and dispatch_step and case.status in dispatch_step.sources
                          and returns >= fallback.RETURNS_TO_FALLBACK)
    return {
        "tasks": [{"task": task, "department": names.get(task.department_id),
                   "status": co_tasks.STATUS_TITLES.get(task.status, task.status),
                   "overdue": task.status == "open" and task.deadline_at < utcnow()} for task in tasks],
        "can_assign": dispatcher and joint.assign_problem(platform(), session, case) is None,
        "can_decide": dispatcher,
        "choices": choices,
        "picker": department_picker(case, name="departments", field_id="co-departments", title="协办部门（可多选）",
                                    exclude={case.department_id, *taken}, required=True, multiple=True)
        if dispatcher else None,
        "my_open": [task for task in tasks if task.status == "open" and task.department_id in mine
                    and not final],
        "transfers": [{**row, "from_name": _short(keys, row["from"]), "to_name": _short(keys, row["to"])}
                      for row in transfer.history(session, case.id)],
        "fallback": {"region_code": found[0], "department": found[1]} if found else None,
        "fallback_taken": [event.data["fallback"] for event in case.events
                           if isinstance((event.data or {}).get("fallback"), dict)],
        "returns": returns, "offer_fallback": offer_fallback,
    }


def _short(keys: dict, key: str) -> str:
    department = keys.get(key)
    return department.short_name if department else key


def _back(case_id: int):
    return redirect(url_for("work.case_page", case_id=case_id) + "#joint")


def _done(action, case_id: int, success: str):
    try:
        action()
        db().commit()
    except workflows.FormInvalid as error:
        db().rollback()
        flash("；".join(message for messages in error.errors.values() for message in messages), "error")
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
    else:
        flash(success, "info")
    return _back(case_id)


@blueprint.post("/cases/<int:case_id>/co-handlers")
@login_required
def assign_co_handlers(case_id: int):
    case = case_in_scope(case_id)
    hours = request.form.get("hours", "").strip() or None
    return _done(lambda: joint.assign(platform(), db(), case, viewer(), request.form.getlist("departments"),
                                      instructions=request.form.get("instructions", ""), hours=hours),
                 case_id, "已指定协办部门")


@blueprint.post("/cases/<int:case_id>/co-handlers/decision")
@login_required
def decide_co_handler(case_id: int):
    case = case_in_scope(case_id)
    decision = joint.withdraw if request.form.get("decision") == "withdraw" else joint.overrule
    done = "已撤回协办任务" if decision is joint.withdraw else "已撤销协办任务"
    return _done(lambda: decision(platform(), db(), case, viewer(), request.form.get("department", ""),
                                  request.form.get("reason", "")), case_id, done)


@blueprint.post("/cases/<int:case_id>/co-handlers/feedback")
@login_required
def co_handler_feedback(case_id: int):
    case = case_in_scope(case_id)

    def answer():
        photos = []
        for upload in request.files.getlist("photos"):
            if upload and upload.filename:
                try:
                    photos.append(attachments.store(db(), viewer(), upload.read(), upload.filename,
                                                    accept=PHOTO_TYPES, case_id=case.id).id)
                except attachments.UploadRejected as error:
                    raise workflows.FormInvalid({"photos": [f"上传的照片未被接收：{error}"]}) from None
        joint.answer(platform(), db(), case, viewer(), result=request.form.get("result", ""), photos=photos,
                     department=request.form.get("department") or None)

    return _done(answer, case_id, "已反馈协办情况")
