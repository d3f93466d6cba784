"""智能分拨 on the case page: the top suggestions with confidence and reasons, and the dispatcher's choice.

Confirming a suggestion, or picking another category, dispatches through `workflows.dispatch.confirm` (the
engine's dispatch step); nothing is dispatched from here without the dispatcher pressing the button."""
from __future__ import annotations

import logging

from flask import flash, redirect, request, url_for
from flask_login import login_required

from minqing import workflows
from minqing.core.models import Case, Department, Role
from minqing.workflows import dispatch

from ..context import db, platform, viewer
from . import blueprint
from .common import case_in_scope, workflow_of

log = logging.getLogger(__name__)
DISPATCH = "dispatch"


def suggestion_block(case: Case) -> dict | None:
    """What the case page shows a dispatcher about to dispatch `case`; None for anyone else or any other state."""
    workflow = workflow_of(case.workflow_key)
    step = workflow.transitions.get(DISPATCH)
    if step is None or not (viewer().has_role(*step.roles) or viewer().has_role(Role.ADMIN)):
        return None
    ready = case.status in step.sources
    if not ready and case.status != workflow.initial:
        return None
    try:
        suggestions = dispatch.suggest(platform(), db(), case, viewer=viewer())
    except Exception:  # noqa: BLE001 — the page must open even if the model cannot be used
        log.exception("dispatch suggestions for case %s failed", case.id)
        suggestions = []
    known = dispatch.catalogue.categories(platform(), db())
    current = case.subcategory or case.category
    # "another category" starts at the reported one, else at the top suggestion: never at the list's first entry
    preselected = current if current in known else (suggestions[0].code if suggestions else None)
    return {"suggestions": suggestions, "ready": ready, "current": current, "preselected": preselected,
            "categories": sorted(((c.theme_title, c.parent, c.title, c.code) for c in known.values()))}


@blueprint.post("/cases/<int:case_id>/suggestions/confirm")
@login_required
def confirm_suggestion(case_id: int):
    case = case_in_scope(case_id)
    code = request.form.get("code", "").strip()
    confidence = request.form.get("confidence", type=float)
    try:
        dispatch.confirm(platform(), db(), case, viewer(), code, confidence=confidence,
                         comment=request.form.get("comment", "").strip()[:500])
        db().commit()
    except workflows.FormInvalid as error:
        db().rollback()
        flash("未能分拨：" + "；".join(m for messages in error.errors.values() for m in messages), "error")
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
    else:
        department = db().get(Department, case.department_id) if case.department_id else None
        flash(f"已按所选分类分拨交办{department.name}" if department else "已按所选分类分拨交办", "info")
    return redirect(url_for("work.case_page", case_id=case_id))
