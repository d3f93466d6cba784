"""The live preview: the draft's form rendered by the forms engine exactly as the report page renders it, in an
iframe at phone width. A submission is validated and answered with the engine's messages; nothing is stored."""
from __future__ import annotations

import itertools

from flask import render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import CombinedMultiDict

from minqing import forms, themes

from .. import report_map
from ..security import content_security_policy
from ..work import report as report_page
from . import blueprint
from .common import builder_required, draft_or_404

FORM_TITLES = {"report": "上报表单", "record": "登记表单", "visit": "走访表单"}
# The editor frames this page; every other page still refuses to be framed.
FRAMED_POLICY = content_security_policy(frame_ancestors="'self'")


def _schema(draft, form_name: str) -> tuple[dict | None, dict | None]:
    """The schema (and UI) the person filling the form meets: the report page's, for the report form."""
    document = draft.document
    if form_name == "report":
        theme = themes.Theme(key=draft.theme_key, department=draft.department_key, plugin="builder",
                             document=document, source=None, content_hash="")
        return report_page.report_page_schema(theme), report_page.report_page_ui(theme)
    schema = (document.get("forms") or {}).get(form_name)
    return schema, (document.get("ui") or {}).get(form_name)


@blueprint.route("/<key>/preview", methods=["GET", "POST"])
@builder_required
def preview(key: str):
    draft = draft_or_404(key)
    form_name = request.args.get("form", "report")
    if form_name not in FORM_TITLES:
        form_name = "report"
    try:
        schema, ui = _schema(draft, form_name)
    except (KeyError, TypeError, AttributeError):  # a half-edited draft (e.g. a category without a code)
        schema, ui = None, None
    context = {"draft": draft, "form_title": FORM_TITLES[form_name], "form_name": form_name}
    if not isinstance(schema, dict):
        return _framed(render_template("builder/preview.html", missing=True, **context))
    try:
        form_class = forms.build_form(schema, ui)
    except forms.SchemaError as error:  # a draft may be invalid: the page says why instead of a form
        return _framed(render_template("builder/preview.html", problems=error.problems, **context))
    result = None
    if request.method == "POST":
        form = form_class(CombinedMultiDict([request.form, request.files]))
        if not form.apply_row_action():
            numbers = itertools.count(1)
            # Uploads are read by the engine's checks and then dropped: the preview keeps nothing.
            if form.validate(store_upload=lambda _path, _file: f"preview{next(numbers)}"):
                document = forms.to_document(schema, form, store_upload=lambda _path, _file: f"preview{next(numbers)}")
                result = forms.display(schema, document, ui)
    else:
        form = form_class()
    action = url_for("builder.preview", key=key, form=form_name)
    html = forms.render(form, action=action, submit_label="提交（预览，不会保存）", csrf_token=generate_csrf())
    return _framed(render_template("builder/preview.html", form_html=html, result=result,
                                   picker=report_map.picker_settings(), **context))


def _framed(html: str):
    return html, 200, {"Content-Security-Policy": FRAMED_POLICY, "X-Frame-Options": "SAMEORIGIN",
                       "Cache-Control": "no-store"}
