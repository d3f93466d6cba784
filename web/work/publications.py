"""政策服务的编写: department staff write, preview, publish and withdraw the policies and service guides of their
departments (administrators for every department). The rules and the history are core.publications'; citizens
see published items only, on the 小兰帮办 pages (web/citizen/publications.py)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from minqing.core import publications as rules
from minqing.core.models import Publication

from ..context import db, viewer
from ..permissions import roles_required
from . import blueprint

EDITORS = ("admin", "department_staff")


class ActionForm(FlaskForm):
    """Carries only the CSRF token."""

FIELDS = ("department", "kind", "area", "title", "summary", "body")


def _item(publication_id: int) -> Publication:
    """An item the viewer writes for; 404 otherwise (another department's drafts are not theirs to see)."""
    item = db().get(Publication, publication_id)
    if item is None or not rules.may_edit(viewer(), item.department.key):
        abort(404)
    return item


def _form_values() -> dict:
    return {field: request.form.get(field, "")[:20000 if field == "body" else 500] for field in FIELDS}


def _editor(item: Publication | None, values: dict, error: rules.PublicationInvalid | None = None):
    errors = {error.field or "title": [error.message]} if error else {}
    return render_template("work/publication_form.html", item=item, values=values, errors=errors,
                           departments=rules.editable_departments(db(), viewer()), kinds=rules.KINDS,
                           areas=rules.AREAS, form=ActionForm()), 400 if error else 200


@blueprint.get("/publications")
@roles_required(*EDITORS)
def publications_page():
    status = request.args.get("status", "")
    return render_template("work/publications.html", items=rules.for_editor(db(), viewer(), status=status),
                           status=status, statuses=rules.STATUS_TITLES)


@blueprint.route("/publications/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new_publication():
    if request.method == "GET":
        return _editor(None, {"kind": rules.GUIDE})
    values = _form_values()
    if not ActionForm().validate_on_submit():
        return _editor(None, values, rules.PublicationInvalid("请求无效，请刷新页面后重试"))
    try:
        item = rules.create_draft(db(), viewer(), department_key=values["department"], kind=values["kind"],
                                  title=values["title"], body=values["body"], summary=values["summary"],
                                  area=values["area"])
        db().commit()
    except rules.PublicationInvalid as error:
        db().rollback()
        return _editor(None, values, error)
    flash("草稿已保存；预览无误后可发布", "info")
    return redirect(url_for("work.preview_publication", publication_id=item.id))


@blueprint.route("/publications/<int:publication_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_publication(publication_id: int):
    item = _item(publication_id)
    if request.method == "GET":
        return _editor(item, {"department": item.department.key, "kind": item.kind, "area": item.area,
                              "title": item.title, "summary": item.summary, "body": item.body})
    values = _form_values()
    try:
        if not ActionForm().validate_on_submit():
            raise rules.PublicationInvalid("请求无效，请刷新页面后重试")
        rules.edit(db(), viewer(), item, kind=values["kind"], title=values["title"], body=values["body"],
                   summary=values["summary"], area=values["area"])
        db().commit()
    except rules.PublicationInvalid as error:
        db().rollback()
        return _editor(item, values, error)
    flash("草稿已保存", "info")
    return redirect(url_for("work.preview_publication", publication_id=item.id))


@blueprint.get("/publications/<int:publication_id>")
@roles_required(*EDITORS)
def preview_publication(publication_id: int):
    """The item as citizens will see it, with its status, history and the next steps."""
    item = _item(publication_id)
    return render_template("work/publication_preview.html", item=item, blocks=rules.blocks(item.body),
                           history=rules.history(db(), item), statuses=rules.STATUS_TITLES,
                           actions=rules.ACTION_TITLES, form=ActionForm())


MOVES = {"publish": rules.publish_draft, "withdraw": rules.withdraw, "reopen": rules.reopen}


@blueprint.post("/publications/<int:publication_id>/<action>")
@roles_required(*EDITORS)
def move_publication(publication_id: int, action: str):
    item = _item(publication_id)
    if action not in MOVES or not ActionForm().validate_on_submit():
        flash("请求无效，请刷新页面后重试", "error")
        return redirect(url_for("work.preview_publication", publication_id=item.id))
    try:
        MOVES[action](db(), viewer(), item)
        db().commit()
    except rules.PublicationInvalid as error:
        db().rollback()
        flash(error.message, "error")
    else:
        flash(f"已{rules.ACTION_TITLES[action]}：{item.title}", "info")
    return redirect(url_for("work.preview_publication", publication_id=item.id))
