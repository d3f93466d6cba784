"""Export of the case list as the viewer filtered it (CSV or XLSX): the same filters and scope as the page, the
columns, masking and RFC 3339 times of core/ops/exporting.py, written by its writers, at most MAX_ROWS cases,
and every export in the audit log (who, which filters, how many rows)."""
from __future__ import annotations

import io
from urllib.parse import quote

from flask import Response, flash, redirect, request, url_for
from sqlalchemy import func, select

from minqing.core import city
from minqing.core.changes import record_change
from minqing.core.models import Case, Department, Grid, utcnow
from minqing.core.ops.exporting import FORMATS, case_columns, sink_for

from ..context import db, viewer
from ..permissions import roles_required
from . import blueprint
from .inbox import filtered, read_filters

MAX_ROWS = 5000
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@blueprint.get("/cases/export")
@roles_required("admin", "operator", "department_staff", "grid_worker", "leader")
def export_cases():
    filters, error = read_filters()
    active = {key: value for key, value in filters.items() if value}
    fmt = request.args.get("format", "csv")
    if error or fmt not in FORMATS:
        flash(error or f"导出格式：不支持“{fmt[:10]}”，可选 CSV 或 XLSX", "error")
        return redirect(url_for("work.inbox", **active))
    statement = filtered(select(Case.id), filters)
    total = db().scalar(select(func.count()).select_from(statement.subquery()))
    if total > MAX_ROWS:
        flash(f"导出：符合条件的事件有 {total} 件，一次最多导出 {MAX_ROWS} 件，请先用状态、主题或搜索缩小范围", "error")
        return redirect(url_for("work.inbox", **active))
    city.settings(db())  # times are written in the city's zone, as the command line's exports write them
    rows = db().execute(filtered(select(Case, Grid.code, Department.name)
                                 .outerjoin(Grid, Grid.id == Case.grid_id)
                                 .outerjoin(Department, Department.id == Case.department_id), filters)
                        .order_by(Case.id.desc()).limit(MAX_ROWS)).all()
    person = viewer()
    columns = case_columns(person)
    stream = io.BytesIO()
    sink = sink_for(fmt, stream, "事件列表")
    sink.row([header for header, _ in columns])
    for case, grid_code, department in rows:
        sink.row([value(case, grid_code, department) for _, value in columns])
    sink.close()
    file_name = f"事件列表-{city.local(utcnow()):%Y%m%d-%H%M%S}.{fmt}"
    record_change(db(), person, "export", object_type="case", object_id=file_name,
                  summary=f"导出事件列表 {len(rows)} 条（{fmt.upper()}）",
                  details={"what": "case_list", "format": fmt, "count": len(rows), "file": file_name,
                           "filters": active})
    db().commit()
    response = Response(stream.getvalue(), mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file_name)}"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
