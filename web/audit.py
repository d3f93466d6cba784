"""The auditors' pages: the audit log with filters and paging, and its export (CSV/XLSX, itself audited).

Auditors read and change nothing else: a guard before every request refuses any POST (or other unsafe
method) by an account holding the auditor role, except signing in and out and looking after its own password
and second factor, and every page of administration, the work end, the builder and management. Administrators do not see the audit log (separation of duties; see core/audit/listing.py).
"""
from __future__ import annotations

import datetime as dt
import tempfile

from flask import Blueprint, abort, render_template, request, send_file
from flask_login import current_user

from minqing.core.audit import listing
from minqing.core.exporting import CITY_TIME, FORMATS
from minqing.core.models import Role

from .context import db, viewer
from .permissions import roles_required

blueprint = Blueprint("audit", __name__, url_prefix="/audit")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUDITOR_MAY_POST = ("auth.", "account.")  # signing in and out; the auditor's own password and second factor
WORK_BLUEPRINTS = ("admin", "work", "builder", "manage")  # closed to auditors even for reading
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@blueprint.before_app_request
def _auditors_change_nothing():
    endpoint = request.endpoint or ""
    if endpoint.startswith(AUDITOR_MAY_POST):
        return
    if request.method in SAFE_METHODS and request.blueprint not in WORK_BLUEPRINTS:
        return
    if current_user.is_authenticated and viewer().has_role(Role.AUDITOR):
        abort(403)


def _before() -> int | None:
    value = request.args.get("before", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _page(problems: dict[str, str] | None = None, status: int = 200):
    filters, found = listing.parse_filter(request.args)
    rows, next_before = listing.page(db(), viewer(), filters, before=_before())
    return render_template("audit/index.html", rows=rows, filters=filters, problems={**found, **(problems or {})},
                           next_before=next_before, query=filters.as_dict(), actions=listing.ACTION_NAMES,
                           formats=FORMATS), status


@blueprint.get("/")
@roles_required(Role.AUDITOR)
def index():
    return _page()


@blueprint.get("/export")
@roles_required(Role.AUDITOR)
def export():
    fmt = request.args.get("format", "csv")
    filters, problems = listing.parse_filter(request.args)
    if fmt not in FORMATS:
        problems["format"] = "导出格式只能是 CSV 或 XLSX"
    if problems:
        return _page(problems, 400)
    name = f"审计日志-{dt.datetime.now(CITY_TIME):%Y%m%d-%H%M%S}.{fmt}"
    stream = tempfile.TemporaryFile()  # rows are streamed into it, never held in memory; closed by the response
    try:
        listing.export(db(), viewer(), stream, fmt=fmt, filters=filters, file_name=name)
        db().commit()
    except BaseException:
        stream.close()
        raise
    stream.seek(0)
    return send_file(stream, mimetype=MIMETYPES[fmt], as_attachment=True, download_name=name)
