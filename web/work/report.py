"""上报: choose a theme, fill its generated form (with location and photos), and the case enters the loop.

The page's form is one JSON Schema: the fields every report has (title, category, urgency, and a location when
the theme's form has none) plus the theme's own report form as a nested group with its rules intact, so the
forms engine renders and validates it all (the form itself is `workflows.intake.report_schema`). The page only
reads the submission; `workflows.submit_report` checks and stores it. A client id in the form's URL makes a
retried submission return the first case instead of a second one.
"""
from __future__ import annotations

import uuid

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from werkzeug.datastructures import CombinedMultiDict

from minqing import forms, themes, workflows
from minqing.core import attachments
from minqing.core.models import Department, Grid

from .. import report_map
from ..context import db, platform, viewer
from ..permissions import roles_required
from . import blueprint
from .common import my_pending_attachments, uploader

REPORT_ROLES = ("grid_worker", "operator", "admin")
LOCATE_ROLES = (*REPORT_ROLES, "citizen")
MAX_THEME_QUERY = 40                      # characters of a theme search
ROW_BUTTONS = ("__add__", "__remove__")   # the forms engine's no-JS add/remove-row buttons (docs/forms.md)
# The report forms live with the service that checks them; these names stay for the pages that build them.
geo_field = workflows.intake.geo_field
report_page_schema = workflows.intake.report_schema


def report_page_ui(theme: themes.Theme) -> dict | None:
    """The theme's report UI (widgets, order, labels) for the details group of the report page."""
    ui = theme.ui("report")
    return {"details": ui} if ui else None


def _theme_or_404(key: str) -> themes.Theme:
    try:
        return themes.get_theme(platform(), key, db())
    except themes.UnknownTheme:
        abort(404)


def theme_search_text(theme: themes.Theme, department_name: str) -> str:
    """What the theme search matches: the title, the department and the categories (lower case)."""
    categories = " ".join(f"{item.get('parent', '')} {item['title']}" for item in theme.categories)
    return " ".join((theme.title, department_name, theme.department, categories)).lower()


def search_themes(groups: list, names: dict, query: str) -> list:
    """(department, themes) groups with only the themes whose title, department or categories contain `query`
    (all of them for an empty query); a group left empty is left out."""
    query = " ".join(query.split()).lower()[:MAX_THEME_QUERY]
    if not query:
        return groups
    found = [(department, [theme for theme in items
                           if query in theme_search_text(theme, names.get(department, department))])
             for department, items in groups]
    return [(department, items) for department, items in found if items]


@blueprint.get("/report")
@roles_required(*REPORT_ROLES)
def report():
    groups = themes.registry(platform(), db()).by_department()
    names = dict(db().execute(select(Department.key, Department.short_name)).all())
    ordered = sorted(groups.items(), key=lambda item: names.get(item[0], item[0]))
    query = (request.args.get("q") or "").strip()[:MAX_THEME_QUERY]
    return render_template("work/report_choose.html", groups=search_themes(ordered, names, query), names=names,
                           query=query, search_text=theme_search_text)


def _render_form(theme, form, client_id: str, status: int = 200):
    # The client id rides in the action URL: a retried post carries the same one.
    html = forms.render(form, action=url_for("work.report_theme", key=theme.key, client_id=client_id),
                        submit_label="上报",
                        csrf_token=generate_csrf())
    return render_template("work/report_form.html", theme=theme, form_html=html, client_id=client_id,
                           picker=report_map.picker_settings(),
                           form_version=themes.form_version(db(), theme)), status


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
    form = posted_form(form_class)
    if form.apply_row_action():
        return form, None, render(form, 200)
    document, refusal = check_posted(schema, form)
    if document is None:
        if refusal:
            flash(refusal, "error")
        return form, None, render(form, 400)
    return form, document, None


def posted_form(form_class):
    """The form filled with the posted fields and files (files this viewer uploaded before stay usable)."""
    return form_class(CombinedMultiDict([request.form, request.files]), known_attachments=my_pending_attachments())


def check_posted(schema: dict, form) -> tuple[dict | None, str | None]:
    """(the document, None) when the posted form is valid; else (None, a message for the whole form), the message
    empty when the faults are the fields' own (`form.schema_errors`). The pages and the offline sync share it."""
    if unknown := unknown_inputs(form, [*request.form.keys(), *request.files.keys()]):
        return None, f"表单中没有这些项，未予受理：{'、'.join(sorted(unknown)[:10])}"
    try:
        valid = form.validate(store_upload=uploader())
    except attachments.UploadRejected as error:
        db().rollback()
        return None, f"照片未被接收：{error}"
    if not valid:
        return None, ""
    return forms.to_document(schema, form), None


def unknown_inputs(form, keys) -> set[str]:
    """Posted names inside the form's groups (`details-…`) that name none of its inputs: the form would drop them
    without a word, so the report is refused instead, as the API and Open311 refuse unknown fields."""
    names = set(_input_names(form))
    return {key for key in keys if "-" in key and key not in names
            and not key.startswith(ROW_BUTTONS)}


def _input_names(form):
    for field in form:
        yield field.name
        for row in getattr(field, "entries", ()):  # repeated rows (WTForms FieldList)
            yield row.name
            yield from _input_names(row.form) if hasattr(row, "form") else ()
        if hasattr(field, "form") and not hasattr(field, "entries"):  # groups and locations (WTForms FormField)
            yield from _input_names(field.form)


def _report(theme: themes.Theme, document: dict, client_id: str):
    case = workflows.submit_report(platform(), db(), viewer(), theme, document, channel="work", client_id=client_id)
    db().commit()
    return case


@blueprint.get("/report/locate")
@roles_required(*LOCATE_ROLES)
def locate_point():
    """Which grid ?lon=&lat= lies in: the report forms ask before they are sent. `inside` false: refused (the
    server refuses it anyway); `own` false: outside the reporter's own grids, accepted with a warning."""
    lon, lat = request.args.get("lon", type=float), request.args.get("lat", type=float)
    if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        # no point yet: nothing to say (the form asks for one)
        return jsonify({"inside": None, "grid": None, "own": None, "message": "", "warning": ""})
    grid_id = platform().locator(db()).locate(lon, lat)
    grid = db().get(Grid, grid_id) if grid_id is not None else None
    if grid is None:
        return jsonify({"inside": False, "grid": None, "own": None, "warning": "",
                        "message": "所选位置不在本平台任何网格内，无法受理，请在地图上重新选点"})
    mine = [grant.grid_code for grant in viewer().grants if grant.grid_code]
    own = any(grid.code.startswith(code) for code in mine) if mine else None
    warning = (f"所选位置在“{grid.name}”，不在您负责的网格内。仍可上报，事件将交由所在网格处理。"
               if own is False else "")
    return jsonify({"inside": True, "grid": grid.name, "own": own, "message": "", "warning": warning})
