"""The case page: details, the form as filled, the timeline, the map, and the workflow's next steps as forms."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import CombinedMultiDict

from minqing import forms, themes, workflows
from minqing.core import attachments
from minqing.core.privacy import masking
from minqing.core.models import Case
from minqing.workflows import is_higher_level

from ..context import db, platform, viewer
from . import blueprint, pickers
from .common import (URGENCY_TITLES, case_in_scope, department_names, my_pending_attachments, state_title,
                     theme_titles, uploader, workflow_of)
from .appeals import appeal_panel
from .attachments import case_files
from .joint import joint_block
from .duplicates import duplicate_block
from .suggestions import suggestion_block

EMPTY_FORM = {"type": "object", "properties": {}}
URGE_ROLES = ("operator", "leader", "admin")


def report_schema(case: Case) -> dict | None:
    """The report form of the theme version the case was filled against (old cases stay readable)."""
    try:
        version = themes.theme_version(db(), case.theme_key, case.theme_version)
        return version.document.get("forms", {}).get("report")
    except (themes.NotPublished, themes.UnknownTheme):
        try:
            return themes.get_theme(platform(), case.theme_key, db()).form("report")
        except themes.UnknownTheme:
            return None


def _details(case: Case) -> list[tuple[str, str, str]]:
    schema = report_schema(case)
    if not schema or not case.form_data:
        return []
    rows = forms.display(schema, case.form_data)
    return [(row.label, row.value if row.kind.startswith("attachment") else masking.text_for(viewer(), row.value),
             row.kind) for row in rows]


def _step_forms(case: Case, failed: dict | None = None) -> list[dict]:
    """Each next step this viewer's roles may take, with its form (or the form that just failed)."""
    workflow = workflow_of(case.workflow_key)
    steps = []
    for step in workflow.available(case.status):
        if not viewer().has_role(*step.roles) and not viewer().has_role("admin"):
            continue
        if workflows.not_the_lead(viewer(), case, step.roles):  # a co-handler: its own form is in 协同处置
            continue
        form = failed["form"] if failed and failed["name"] == step.name else \
            forms.build_form(step.form or EMPTY_FORM)()
        options = dict(action=url_for("work.take_step", case_id=case.id, name=step.name), csrf_token=generate_csrf(),
                       attachment_url=url_for("work.attachment", attachment_id="ID").replace("ID", "{id}"))
        rendered = pickers.render_step(case, step, form, **options) if pickers.picks_department(step) else \
            forms.render(form, submit_label=step.title, **options)   # dispatch, transfer: the department picker
        steps.append({"name": step.name, "title": step.title, "form": rendered})
    return steps


def render_case(case: Case, failed: dict | None = None, status: int = 200):
    events = sorted(case.events, key=lambda event: event.id)
    higher = is_higher_level(viewer(), case)
    return render_template(
        "work/case.html", case=case, state=state_title(case), events=events, details=_details(case),
        steps=_step_forms(case, failed), themes=theme_titles(), departments=department_names(),
        urgencies=URGENCY_TITLES, description=masking.text_for(viewer(), case.description),
        reporter_phone=masking.show(viewer(), masking.PHONE, case.reporter_phone),
        can_urge=viewer().has_role(*URGE_ROLES), can_supervise=higher,
        dispatch_help=suggestion_block(case), duplicates=duplicate_block(case), appeal=appeal_panel(case), joint=joint_block(case),
        files=case_files(case), channel=workflows.channels.titles(platform()).get(case.channel, case.channel),
        rehandling=workflows.rehandling_standing(db(), workflow_of(case.workflow_key),
                                                 case)), status


@blueprint.get("/cases/<int:case_id>")
@login_required
def case_page(case_id: int):
    return render_case(case_in_scope(case_id))


@blueprint.post("/cases/<int:case_id>/steps/<name>")
@login_required
def take_step(case_id: int, name: str):
    case = case_in_scope(case_id)
    workflow = workflow_of(case.workflow_key)
    step = workflow.transitions.get(name)
    if step is None:
        flash("没有这一步", "error")
        return redirect(url_for("work.case_page", case_id=case.id))
    schema = step.form or EMPTY_FORM
    form = forms.build_form(schema)(CombinedMultiDict([request.form, request.files]),
                                    known_attachments=my_pending_attachments(case.id))
    failed = {"name": name, "form": form}
    if form.apply_row_action():
        return render_case(case, failed)
    try:
        valid = form.validate(store_upload=uploader(case.id))
    except attachments.UploadRejected as error:
        db().rollback()
        flash(f"上传的文件未被接收：{error}", "error")
        return render_case(case, failed, 400)
    if not valid:
        return render_case(case, failed, 400)
    data = forms.to_document(schema, form)
    try:
        workflows.transition(platform(), db(), case, name, viewer(), data)
        db().commit()
    except workflows.Conflict as error:
        db().rollback()
        flash(error.message, "error")
    except workflows.FormInvalid as error:
        db().rollback()
        # the field messages name their field in Chinese; the summary would repeat them with the field's key
        flash("填写的内容有误：" + "；".join(m for messages in error.errors.values() for m in messages), "error")
        return render_case(db().get(Case, case_id), failed, 400)
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
    else:
        flash(f"已{step.title}", "info")
    return redirect(url_for("work.case_page", case_id=case_id))


@blueprint.post("/cases/<int:case_id>/urge")
@login_required
def urge(case_id: int):
    case = case_in_scope(case_id)
    try:
        workflows.urge(platform(), db(), case, viewer(), request.form.get("comment", "").strip()[:500])
        db().commit()
        flash("已催办", "info")
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
    return redirect(url_for("work.case_page", case_id=case_id))


@blueprint.post("/cases/<int:case_id>/supervise")
@login_required
def supervise(case_id: int):
    case = case_in_scope(case_id)
    hours = request.form.get("hours", type=float)
    comment = request.form.get("comment", "").strip()[:500]
    if not hours or not 1 <= hours <= 720 or not comment:
        flash("督办须填写督办意见，时限为1至720小时", "error")
        return redirect(url_for("work.case_page", case_id=case_id))
    try:
        workflows.supervise(platform(), db(), case, viewer(), hours=hours, comment=comment)
        db().commit()
        flash("已督办", "info")
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
    return redirect(url_for("work.case_page", case_id=case_id))
