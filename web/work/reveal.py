"""查看完整信息: reveal one masked ID number, phone or address of a resident or key person (a POST with CSRF;
the rules and the audit line are `core.reveal`'s)."""
from __future__ import annotations

from flask import make_response, render_template, request
from flask_login import login_required

from minqing.core.privacy import reveal as revealing

from ..context import db, viewer
from . import blueprint


@blueprint.post("/reveal")
@login_required
def reveal():
    object_type = request.form.get("object_type", "")
    field = request.form.get("field", "")
    object_id = request.form.get("object_id", type=int) or 0
    try:
        value = revealing.reveal(db(), viewer(), object_type, object_id, field)
        db().commit()
    except revealing.RevealRefused as refused:
        db().rollback()
        response = make_response(render_template("errors/error.html", status=refused.status,
                                                 message=refused.message), refused.status)
    else:
        response = make_response(render_template(
            "work/reveal.html", value=value, field_title=revealing.FIELDS[field],
            object_title=revealing.OBJECT_TYPES[object_type][1]))
    response.headers["Cache-Control"] = "no-store"  # the plain value stays in no cache
    return response
