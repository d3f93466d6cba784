"""Exports of cases and theme records to CSV or XLSX, for one viewer.

Rows come through `core.scope.restrict`, so an export lists exactly what the viewer may see; every text column
goes through `core.masking` (`show` for ID numbers, phones and addresses, `text_for` for free text), so personal
data is masked unless the viewer's role needs it; and every export is recorded in the audit log (action
"export": who, what, how many rows). Files are written as streams: rows are read from the database in chunks and
written one by one, whatever the size of the export.

CSV is UTF-8 with a BOM (Excel on Chinese Windows opens it correctly); cells that begin with = + - @ get a
leading apostrophe so no spreadsheet runs them as formulas.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core import city
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.privacy.masking import ADDRESS, ID_NUMBER, PHONE, may_see, show, text_for
from minqing.core.models import Case, Department, Grid, Role, ThemeRecord, ThemeVersion
from minqing.core.ops.private_files import make_private
from minqing.core.scope import restrict

FORMATS = ("csv", "xlsx")
COARSE_DIGITS = 3  # ~100 m: coordinates for viewers who may not see exact addresses
STAFF_ROLES = (Role.ADMIN, Role.OPERATOR, Role.DEPARTMENT_STAFF, Role.GRID_WORKER, Role.LEADER)
_CHUNK = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

STATUS_NAMES = {"reported": "已上报", "accepted": "已受理", "dispatched": "已分拨", "assigned": "已交办",
                "handling": "处置中", "follow_up": "回访确认", "closed": "已办结", "voided": "已作废",
                "returned": "已退回", "suspended": "已挂起"}
SOURCE_NAMES = {"grid_worker": "网格员上报", "citizen": "群众上报", "hotline": "热线", "api": "接口", "plugin": "插件"}
URGENCY_NAMES = {"normal": "一般", "urgent": "紧急", "critical": "特急"}


class ExportError(ValueError):
    pass


def local_time(value: dt.datetime | None) -> str:
    """RFC 3339 in the city's time zone setting, whole seconds (as the REST API and Open311 write times), as this
    process read the setting (the export functions read it first)."""
    return city.local(value).isoformat(timespec="seconds") if value else ""


def _safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _CsvSink:
    def __init__(self, stream: BinaryIO, title: str):
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", write_through=True)
        self.writer = csv.writer(self.text)

    def row(self, values: list) -> None:
        self.writer.writerow(["" if value is None else _safe(value) for value in values])

    def close(self) -> None:
        self.text.flush()
        self.text.detach()  # the caller's stream stays open


class _XlsxSink:
    def __init__(self, stream: BinaryIO, title: str):
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        self.stream, self.illegal = stream, ILLEGAL_CHARACTERS_RE
        self.workbook = Workbook(write_only=True)  # rows go to a temporary file, not to memory
        self.sheet = self.workbook.create_sheet(title[:31])

    def row(self, values: list) -> None:
        self.sheet.append([self.illegal.sub("", _safe(value)) if isinstance(value, str) else value
                           for value in values])

    def close(self) -> None:
        self.workbook.save(self.stream)


def sink_for(fmt: str, stream: BinaryIO, title: str):
    make_private(stream)   # an export written to a file (the CLI's) holds personal data: 0600, like backups
    if fmt not in FORMATS:
        raise ExportError(f"不支持的导出格式“{fmt}”：可选 csv 或 xlsx")
    return (_CsvSink if fmt == "csv" else _XlsxSink)(stream, title)


def _coordinate(viewer: Actor, value: float | None):
    if value is None:
        return None
    return value if may_see(viewer, ADDRESS) else round(value, COARSE_DIGITS)


# -- cases ------------------------------------------------------------------------------------------------------

def case_columns(viewer: Actor) -> list[tuple[str, Callable]]:
    """(header, value of a (case, grid code, department name) row) for every column of a case export."""
    def free(text):
        return text_for(viewer, text)

    return [
        ("事件编号", lambda c, g, d: c.number),
        ("业务主题", lambda c, g, d: c.theme_key),
        ("类别", lambda c, g, d: free(c.category)),
        ("子类", lambda c, g, d: free(c.subcategory)),
        ("标题", lambda c, g, d: free(c.title)),
        ("描述", lambda c, g, d: free(c.description)),
        ("地址", lambda c, g, d: free(show(viewer, ADDRESS, c.address))),
        ("经度", lambda c, g, d: _coordinate(viewer, c.lon)),
        ("纬度", lambda c, g, d: _coordinate(viewer, c.lat)),
        ("区划代码", lambda c, g, d: c.region_code),
        ("网格编码", lambda c, g, d: g or ""),
        ("来源", lambda c, g, d: SOURCE_NAMES.get(c.source, c.source)),
        ("上报人", lambda c, g, d: free(c.reporter_name)),
        ("上报人电话", lambda c, g, d: show(viewer, PHONE, c.reporter_phone)),
        ("紧急程度", lambda c, g, d: URGENCY_NAMES.get(c.urgency, c.urgency)),
        ("状态", lambda c, g, d: STATUS_NAMES.get(c.status, c.status)),
        ("承办部门", lambda c, g, d: d or ""),
        ("上报时间", lambda c, g, d: local_time(c.created_at)),
        ("办理期限", lambda c, g, d: local_time(c.due_at)),
        ("办结时间", lambda c, g, d: local_time(c.closed_at)),
        ("返工次数", lambda c, g, d: c.rework_count),
        ("表单数据", lambda c, g, d: free(json.dumps(c.form_data, ensure_ascii=False)) if c.form_data else ""),
    ]


def export_cases(session: Session, viewer: Actor, stream: BinaryIO, *, fmt: str = "csv",
                 theme_key: str | None = None, status: str | None = None, since: dt.datetime | None = None,
                 until: dt.datetime | None = None, file_name: str = "") -> int:
    """Write the cases `viewer` may see (optionally of one theme, status or period) to `stream` as CSV or XLSX;
    records the export in the audit log (in the caller's transaction) and returns the number of cases."""
    city.settings(session)  # times are written in the city's zone: read it from this database
    sink = sink_for(fmt, stream, "事件")
    columns = case_columns(viewer)
    statement = (select(Case, Grid.code, Department.name)
                 .outerjoin(Grid, Grid.id == Case.grid_id).outerjoin(Department, Department.id == Case.department_id)
                 .order_by(Case.id))
    if theme_key:
        statement = statement.where(Case.theme_key == theme_key)
    if status:
        statement = statement.where(Case.status == status)
    if since:
        statement = statement.where(Case.created_at >= since)
    if until:
        statement = statement.where(Case.created_at < until)
    statement = restrict(statement, Case, viewer)
    sink.row([header for header, _ in columns])
    count = 0
    for case, grid_code, department in _stream(session, statement):
        sink.row([value(case, grid_code, department) for _, value in columns])
        count += 1
    sink.close()
    filters = {key: value for key, value in (("theme", theme_key), ("status", status),
                                               ("since", since and since.isoformat()),
                                               ("until", until and until.isoformat())) if value}
    record_change(session, viewer, "export", object_type="case", object_id=file_name,
                  summary=f"导出事件 {count} 条（{fmt.upper()}）",
                  details={"what": "cases", "format": fmt, "count": count, "file": file_name, **filters})
    return count


def _stream(session: Session, statement) -> Iterable:
    """Rows in chunks, so a large export never holds every row (nor every ORM object) at once."""
    result = session.execute(statement.execution_options(yield_per=_CHUNK))
    for partition in result.partitions():
        yield from partition


# -- theme records ----------------------------------------------------------------------------------------------

def _theme_documents(session: Session) -> dict[str, list[dict]]:
    """theme key → its documents, newest version first."""
    documents: dict[str, list[dict]] = {}
    for key, document in session.execute(select(ThemeVersion.theme_key, ThemeVersion.document)
                                         .order_by(ThemeVersion.theme_key, ThemeVersion.version.desc())):
        documents.setdefault(key, []).append(document or {})
    return documents


def _visible_themes(viewer: Actor, documents: dict[str, list[dict]]) -> set[str] | None:
    """Theme keys whose layer the viewer's roles may see (None: every theme, for admins)."""
    if viewer.has_role(Role.ADMIN):
        return None
    visible = set()
    for key, versions in documents.items():
        allowed = ((versions[0].get("layer") or {}).get("visible_to")) or list(STAFF_ROLES)
        if viewer.roles.intersection(allowed):
            visible.add(key)
    return visible


def record_fields(versions: list[dict]) -> list[tuple[str, str, str | None]]:
    """(field name, label, format) of a theme's record form, over every version (newest labels first)."""
    fields: dict[str, tuple[str, str | None]] = {}
    for document in versions:
        properties = (((document.get("forms") or {}).get("record") or {}).get("properties")) or {}
        for name, spec in properties.items():
            if name not in fields and isinstance(spec, dict):
                fields[name] = (spec.get("title") or name, spec.get("format"))
    return [(name, label, fmt) for name, (label, fmt) in fields.items()]


def _field_value(viewer: Actor, value, fmt: str | None):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        if fmt == "cn-id":
            return show(viewer, ID_NUMBER, value)
        if fmt == "cn-mobile":
            return show(viewer, PHONE, value)
        return text_for(viewer, value)
    return text_for(viewer, json.dumps(value, ensure_ascii=False))


RECORD_COLUMNS = ("记录编号", "业务主题", "主题版本", "部门", "区划代码", "网格编码", "经度", "纬度", "创建人",
                  "创建时间", "更新时间", "最近巡查")


def export_records(session: Session, viewer: Actor, stream: BinaryIO, *, fmt: str = "csv",
                   theme_key: str | None = None, file_name: str = "") -> int:
    """Write the theme records `viewer` may see to `stream`. With `theme_key`, each field of the theme's record
    form is a column (labelled with its title); without, the form data is one JSON column. Audited; returns the
    number of records."""
    city.settings(session)  # times are written in the city's zone: read it from this database
    documents = _theme_documents(session)
    visible = _visible_themes(viewer, documents)
    fields = record_fields(documents.get(theme_key, [])) if theme_key else []
    names = {name for name, _, _ in fields}
    sink = sink_for(fmt, stream, theme_key or "业务主题记录")
    header = list(RECORD_COLUMNS) + [label for _, label, _ in fields]
    header.append("其他字段" if theme_key else "表单数据")
    sink.row(header)
    statement = (select(ThemeRecord, Grid.code).outerjoin(Grid, Grid.id == ThemeRecord.grid_id)
                 .where(ThemeRecord.retired_at.is_(None))   # retired records (退出台账) are kept, not listed
                 .order_by(ThemeRecord.id))
    if theme_key:
        statement = statement.where(ThemeRecord.theme_key == theme_key)
    if visible is not None:
        statement = statement.where(ThemeRecord.theme_key.in_(sorted(visible)))
    statement = restrict(statement, ThemeRecord, viewer)
    count = 0
    for record, grid_code in _stream(session, statement):
        data = record.form_data or {}
        values = [record.id, record.theme_key, record.theme_version, record.department_key, record.region_code,
                  grid_code or "", _coordinate(viewer, record.lon), _coordinate(viewer, record.lat),
                  record.created_by, local_time(record.created_at), local_time(record.updated_at),
                  local_time(record.last_patrolled_at)]
        values.extend(_field_value(viewer, data.get(name), fmt_) for name, _, fmt_ in fields)
        rest = {key: value for key, value in data.items() if key not in names}
        values.append(text_for(viewer, json.dumps(rest, ensure_ascii=False)) if rest else "")
        sink.row(values)
        count += 1
    sink.close()
    record_change(session, viewer, "export", object_type="theme_record", object_id=file_name,
                  summary=f"导出业务主题记录 {count} 条（{fmt.upper()}）",
                  details={"what": "records", "format": fmt, "count": count, "file": file_name,
                           **({"theme": theme_key} if theme_key else {})})
    return count
