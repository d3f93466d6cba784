"""Files of cases, served only to those who may see the case, as downloads that browsers do not sniff."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, abort
from flask_login import current_user

from minqing.core import attachments as storage
from minqing.core.models import Attachment

from ..context import db, viewer
from . import blueprint
from .common import case_in_scope


@blueprint.get("/attachments/<attachment_id>")
def attachment(attachment_id: str):
    if not current_user.is_authenticated:
        abort(403)  # the same answer for every id, existing or not; never a redirect that a file link follows
    row = db().get(Attachment, attachment_id)
    if row is None:
        abort(404)
    if row.case_id is not None:
        case_in_scope(row.case_id)  # 404 unless the viewer may see the case
    elif row.owner_account_id != viewer().account_id:
        abort(404)
    response = Response(storage.read(row), mimetype=row.content_type)
    disposition = "inline" if row.content_type.startswith("image/") else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(row.filename)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Photos of residents and their homes: no copy on a shared computer's disk or in the browser's back cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response
