"""上报: choose a theme, fill its generated form (with location and photos), and the case enters the loop.

The page's form is one JSON Schema: the fields every report has (title, category, urgency, and a location when
the theme's form has none) plus the theme's own report form as a nested group with its rules intact, so the
forms engine renders and validates it all. A hidden client id makes a retried submission return the first case instead of a second one.
"""
from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select, update
from werkzeug.datastructures import CombinedMultiDict

from minqing import forms, themes, workflows
from minqing.core import attachments
from minqing.core.models import Attachment, Department

from ..context import db, platform, viewer
from ..permissions import roles_required
from . import blueprint
from .common import my_pending_attachments, uploader

REPORT_ROLES = ("grid_worker", "operator", "admin")
URGENCY_FIELD = {"type": "string", "title": "紧急程度", "default": "normal",
                 "oneOf": [{"const": "normal", "title": "一般"}, {"const": "urgent", "title": "紧急"},
                           {"const": "critical", "title": "特急"}]}


def geo_field(schema: dict) -> str | None:
    """The theme form's own location field, if it has one at the top level."""
    return next((name for name, field in schema.get("properties", {}).items()
                 if field.get("format") == "geo-point"), None)


def report_page_schema(theme: themes.Theme) -> dict:
    """Title, category and urgency, then the theme's report form as a group (its rules intact); a location
    field only when the theme's form has none."""
    categories = [{"const": item["code"], "title": f"{item.get('parent', '')} / {item['title']}".strip(" /")}
                  for item in theme.categories]
    details = theme.form("report") or {"type": "object", "properties": {}}
    properties = {"title": {"type": "string", "title": "事件标题", "minLength": 2, "maxLength": 100}}
    required = ["title"]
    if categories:  # a theme without categories routes to its own department (theme routing)
        properties["category"] = {"type": "string", "title": "事件类别", "oneOf": categories,
                                  "default": categories[0]["const"]}
        required.append("category")
    properties["urgency"] = URGENCY_FIELD
    if geo_field(details) is None:
        properties["location"] = {"type": "object", "format": "geo-point", "title": "事发位置",
                                  "description": "点“使用我的位置”或在地图上选点"}
        required.append("location")
    if details.get("properties"):
        where = geo_field(details)
        if where and where not in details.get("required", []):  # a case always needs a place on the map
            details = {**details, "required": [*details.get("required", []), where]}
        properties["details"] = {**details, "title": details.get("title") or f"{theme.title}信息"}
        required.append("details")
    return {"type": "object", "title": f"上报：{theme.title}", "properties": properties, "required": required}


def report_page_ui(theme: themes.Theme) -> dict | None:
    """The theme's report UI (widgets, order, labels) for the details group of the report page."""
    ui = theme.ui("report")
    return {"details": ui} if ui else None


def _theme_or_404(key: str) -> themes.Theme:
    try:
        return themes.get_theme(platform(), key, db())
    except themes.UnknownTheme:
        abort(404)


@blueprint.get("/report")
@roles_required(*REPORT_ROLES)
def report():
    groups = themes.registry(platform(), db()).by_department()
    names = dict(db().execute(select(Department.key, Department.short_name)).all())
    ordered = sorted(groups.items(), key=lambda item: names.get(item[0], item[0]))
    return render_template("work/report_choose.html", groups=ordered, names=names)


def _render_form(theme, form, client_id: str, status: int = 200):
    # The client id rides in the action URL: a retried post carries the same one.
    html = forms.render(form, action=url_for("work.report_theme", key=theme.key, client_id=client_id),
                        submit_label="上报",
                        csrf_token=generate_csrf())
    return render_template("work/report_form.html", theme=theme, form_html=html, client_id=client_id), status


@blueprint.route("/report/<key>", methods=["GET", "POST"])
@roles_required(*REPORT_ROLES)
def report_theme(key: str):
    theme = _theme_or_404(key)
    schema = report_page_schema(theme)
    form_class = forms.build_form(schema, report_page_ui(theme))
    if request.method == "GET":
        return _render_form(theme, form_class(), uuid.uuid4().hex)
    client_id = (request.args.get("client_id") or "")[:64] or uuid.uuid4().hex
    form, document, answer = read_submission(schema, form_class,
                                             lambda form, status: _render_form(theme, form, client_id, status))
    if answer is not None:
        return answer
    try:
        case = _report(theme, document, client_id)
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
        return _render_form(theme, form, client_id, 400)
    flash(f"已上报，事件编号 {case.number}", "info")
    return redirect(url_for("work.case_page", case_id=case.id))


def read_submission(schema: dict, form_class, render):
    """Read a posted report form: (form, document, None) when it is valid, else (form, None, the page to send
    back) — with a row added or removed, a refused upload or the errors next to their fields."""
    form = form_class(CombinedMultiDict([request.form, request.files]), known_attachments=my_pending_attachments())
    if form.apply_row_action():
        return form, None, render(form, 200)
    try:
        valid = form.validate(store_upload=uploader())
    except attachments.UploadRejected as error:
        db().rollback()
        flash(f"照片未被接收：{error}", "error")
        return form, None, render(form, 400)
    if not valid:
        return form, None, render(form, 400)
    return form, forms.to_document(schema, form), None


def _report(theme: themes.Theme, document: dict, client_id: str):
    details_schema = theme.form("report") or {}
    published = themes.latest_versions(db()).get(theme.key)
    details = document.get("details", {})
    location = details.get(geo_field(details_schema) or "", document.get("location"))
    category = next((item for item in theme.categories if item["code"] == document.get("category")), {})
    case = workflows.report_case(
        platform(), db(), viewer(), theme_key=theme.key, title=document["title"],
        description=str(details.get("description", "")), lon=location["lon"], lat=location["lat"],
        category=category.get("parent", ""), subcategory=document.get("category", ""),
        urgency=document.get("urgency", "normal"), source="grid_worker" if viewer().has_role("grid_worker") else "api",
        form_data=details, schema_version=forms.schema_version(details_schema) if details_schema else "",
        client_id=client_id, workflow_key=_workflow_key(theme), address=str(details.get("address", "")))
    if published is not None:
        case.theme_version = published.version
    photos = _attachment_ids(details)
    if photos:
        db().execute(update(Attachment).where(Attachment.id.in_(photos), Attachment.case_id.is_(None),
                                              Attachment.owner_account_id == viewer().account_id)
                     .values(case_id=case.id))
    db().commit()
    return case


def _workflow_key(theme: themes.Theme) -> str:
    return theme.workflow_key  # an inline workflow is known by the theme's key (minqing.themes.inline_workflow)


def _attachment_ids(value) -> list[str]:
    """Attachment ids anywhere in the theme's part of the document (they are hex tokens we issued)."""
    found = []
    if isinstance(value, dict):
        for item in value.values():
            found += _attachment_ids(item)
    elif isinstance(value, list):
        for item in value:
            found += _attachment_ids(item)
    elif isinstance(value, str) and len(value) == 32 and all(ch in "0123456789abcdef" for ch in value):
        found.append(value)
    return found
