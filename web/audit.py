"""The auditors' pages: the audit log with filters and paging, and its export (CSV/XLSX, itself audited).

Auditors read and change nothing else: a guard before every request refuses any POST (or other unsafe
method) by an account holding the auditor role, except signing in and out and looking after its own password
and second factor, and every page of administration, the work end, the builder and management. Administrators do not see the audit log (separation of duties; see core/audit/listing.py).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tempfile

from flask import Blueprint, abort, render_template, request, send_file
from flask_login import current_user
from sqlalchemy import select

from minqing import workflows
from minqing.core.audit import labels, listing
from minqing.core import city
from minqing.core.ops.exporting import FORMATS
from minqing.core.models import Case, Role

from .context import db, platform, viewer
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


# "awaiting_follow_up → closed": the summary `record_case_event` writes, state keys that are shown by their titles
STATE_CHANGE = re.compile(r"^(\S+) → (\S+)$")


@dataclasses.dataclass(frozen=True)
class Line:
    """One audit record as the page shows it: Chinese names first, the raw keys only as small secondary text."""
    record: listing.Shown
    action_name: str
    object_name: str        # 事件 MQ20261206000310, 插件 dept_gas, …
    summary: str


def _workflow_names() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Step titles by action ("case.accept" → 受理立案) and state titles by workflow key."""
    steps, states = {}, {}
    for workflow in workflows.all_workflows(platform()):
        states[workflow.key] = {name: state.title for name, state in workflow.states.items()}
        for name, transition in workflow.transitions.items():
            steps.setdefault(f"case.{name}", transition.title)
    return steps, states


def _cases(rows: list[listing.Shown]) -> dict[str, Case]:
    """The cases the page's records are about, in one query (their numbers and workflows)."""
    ids = {int(row.object_id) for row in rows if row.object_type == "case" and row.object_id.isdigit()
           and len(row.object_id) < 12}
    if not ids:
        return {}
    return {str(case.id): case for case in db().scalars(select(Case).where(Case.id.in_(ids)))}


def _state_summary(summary: str, titles: dict[str, str]) -> str:
    match = STATE_CHANGE.match(summary)
    if not match:
        return summary
    return " → ".join(titles.get(key, "—" if key == "-" else key) for key in match.groups())


def lines(rows: list[listing.Shown]) -> list[Line]:
    steps, states = _workflow_names()
    every_state = {name: title for titles in reversed(list(states.values())) for name, title in titles.items()}
    cases = _cases(rows)
    shown = []
    for row in rows:
        kind = labels.object_type_name(row.object_type) or row.object_type
        case = cases.get(row.object_id) if row.object_type == "case" else None
        target = case.number if case is not None else row.object_id
        summary = row.summary
        if row.action.startswith("case."):
            summary = _state_summary(summary, states.get(case.workflow_key, every_state) if case else every_state)
        shown.append(Line(record=row, summary=summary,
                          action_name=steps.get(row.action) or row.action_name or row.action,
                          object_name=f"{kind} {target}".strip() if row.object_type else ""))
    return shown


def _page(problems: dict[str, str] | None = None, status: int = 200):
    filters, found = listing.parse_filter(request.args)
    rows, next_before = listing.page(db(), viewer(), filters, before=_before())
    return render_template("audit/index.html", rows=lines(rows), filters=filters,
                           problems={**found, **(problems or {})}, next_before=next_before,
                           query=filters.as_dict(), actions=listing.ACTION_NAMES,
                           object_types=labels.OBJECT_TYPE_NAMES, formats=FORMATS), status


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
    name = f"审计日志-{city.local(dt.datetime.now(dt.UTC), db()):%Y%m%d-%H%M%S}.{fmt}"
    stream = tempfile.TemporaryFile()  # rows are streamed into it, never held in memory; closed by the response
    try:
        listing.export(db(), viewer(), stream, fmt=fmt, filters=filters, file_name=name)
        db().commit()
    except BaseException:
        stream.close()
        raise
    stream.seek(0)
    return send_file(stream, mimetype=MIMETYPES[fmt], as_attachment=True, download_name=name)
