"""What auditors read: the audit log filtered by time, actor, action and object, a page at a time, and its
export to CSV or XLSX (itself recorded in the audit log).

Only auditors may read it. Administrators may not: their own actions are what the auditor reviews
(separation of duties — 系统管理员、安全管理员、审计管理员三员分立 in 等保 2.0 level 3). Personal data in a record
(an ID number or phone in a summary, a detail or a name) is masked through `core.masking` like everywhere else.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import BinaryIO

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from ..actors import Actor
from ..changes import record_change
from .. import city
from minqing.core.ops.exporting import sink_for, local_time
from minqing.core.privacy.masking import text_for
from ..models import AuditRecord, Role
from .labels import ACTION_NAMES, action_name  # noqa: F401 (ACTION_NAMES: the filter's list of actions)

PAGE_SIZE = 50
_CHUNK = 1000


class NotAnAuditor(PermissionError):
    def __init__(self):
        super().__init__("只有审计员可以查看和导出审计日志")


def may_read(viewer: Actor) -> bool:
    return viewer.has_role(Role.AUDITOR)


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    since: dt.date | None = None    # city dates, both ends included
    until: dt.date | None = None
    actor: str = ""                 # part of the actor's name, or an account number
    action: str = ""                # an action, or its prefix before a dot ("auth" → auth.*)
    object_type: str = ""
    object_id: str = ""

    def as_dict(self) -> dict:
        return {key: (value.isoformat() if isinstance(value, dt.date) else value)
                for key, value in dataclasses.asdict(self).items() if value}


def parse_filter(args: Mapping[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    """Filters from a query string; problems by field name, in Chinese (a bad field is ignored, not guessed)."""
    problems, values = {}, {}
    for name, label in (("since", "开始日期"), ("until", "结束日期")):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                values[name] = dt.date.fromisoformat(raw)
            except ValueError:
                problems[name] = f"{label}“{raw[:20]}”不是有效日期，应为 年-月-日，例如 2026-06-01"
    if "since" in values and "until" in values and values["since"] > values["until"]:
        problems["until"] = "结束日期不能早于开始日期"
        values.pop("until")
    for name, limit in (("actor", 64), ("action", 60), ("object_type", 40), ("object_id", 64)):
        value = (args.get(name) or "").strip()
        if len(value) > limit:
            problems[name] = f"不能超过 {limit} 个字符"
        elif value:
            values[name] = value
    return AuditFilter(**values), problems


def _start_of(day: dt.date) -> dt.datetime:
    return city.midnight(day)  # the day as the city counts it


def statement(filters: AuditFilter) -> Select:
    query = select(AuditRecord)
    if filters.since:
        query = query.where(AuditRecord.at >= _start_of(filters.since))
    if filters.until:
        query = query.where(AuditRecord.at < _start_of(filters.until + dt.timedelta(days=1)))
    if filters.actor:
        by_name = AuditRecord.actor_name.contains(filters.actor, autoescape=True)
        query = query.where(by_name | (AuditRecord.actor_account_id == int(filters.actor))
                            if filters.actor.isdigit() and len(filters.actor) <= 9 else by_name)
    if filters.action:
        query = query.where((AuditRecord.action == filters.action)
                            | AuditRecord.action.startswith(filters.action.rstrip(".") + ".", autoescape=True))
    if filters.object_type:
        query = query.where(AuditRecord.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditRecord.object_id == filters.object_id)
    return query


@dataclasses.dataclass(frozen=True)
class Shown:
    """One record as the viewer may see it."""
    stream: str
    seq: int
    id: int
    at: dt.datetime
    actor: str
    actor_account_id: int | None
    origin: str
    action: str
    action_name: str
    object_type: str
    object_id: str
    summary: str
    details: str
    hash: str


def shown(viewer: Actor, record: AuditRecord) -> Shown:
    details = json.dumps(record.details, ensure_ascii=False, sort_keys=True) if record.details else ""
    return Shown(stream=record.stream, seq=record.seq, id=record.id, at=record.at, actor=text_for(viewer, record.actor_name),
                 actor_account_id=record.actor_account_id, origin=record.origin, action=record.action,
                 action_name=action_name(record.action), object_type=record.object_type,
                 object_id=text_for(viewer, record.object_id), summary=text_for(viewer, record.summary),
                 details=text_for(viewer, details), hash=record.hash)


def page(session: Session, viewer: Actor, filters: AuditFilter, *, before: int | None = None,
         size: int = PAGE_SIZE) -> tuple[list[Shown], int | None]:
    """Newest first (by time, then id: numbers count within a stream, not across the log), `size` records after
    the record with id `before`; and the `before` of the next page (None: last)."""
    if not may_read(viewer):
        raise NotAnAuditor()
    query = statement(filters)
    if before is not None:
        mark = select(AuditRecord.at).where(AuditRecord.id == before).scalar_subquery()
        query = query.where(or_(AuditRecord.at < mark, and_(AuditRecord.at == mark, AuditRecord.id < before)))
    rows = session.scalars(query.order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    return [shown(viewer, row) for row in rows], (rows[-1].id if more and rows else None)


COLUMNS = ("序号", "记录ID", "时间", "操作人", "操作人账号ID", "来源地址", "操作", "操作说明", "对象类型", "对象ID",
           "摘要", "详情", "哈希", "审计流")


def _rows(session: Session, viewer: Actor, filters: AuditFilter) -> Iterator[Shown]:
    query = statement(filters).order_by(AuditRecord.at, AuditRecord.id)
    result = session.execute(query.execution_options(yield_per=_CHUNK))
    for partition in result.scalars().partitions():
        for record in partition:
            yield shown(viewer, record)


def export(session: Session, viewer: Actor, stream: BinaryIO, *, fmt: str = "csv",
           filters: AuditFilter = AuditFilter(), file_name: str = "") -> int:
    """Write the filtered records (oldest first, masked for the viewer) to `stream`; record the export in the
    audit log (in the caller's transaction); return the number of records."""
    if not may_read(viewer):
        raise NotAnAuditor()
    city.settings(session)  # times are written in the city's zone: read it from this database
    sink = sink_for(fmt, stream, "审计日志")
    sink.row(list(COLUMNS))
    count = 0
    for row in _rows(session, viewer, filters):
        sink.row([row.seq, row.id, local_time(row.at), row.actor, row.actor_account_id, row.origin, row.action,
                  row.action_name, row.object_type, row.object_id, row.summary, row.details, row.hash, row.stream])
        count += 1
    sink.close()
    record_change(session, viewer, "export", object_type="audit_log", object_id=file_name,
                  summary=f"导出审计日志 {count} 条（{fmt.upper()}）",
                  details={"what": "audit_log", "format": fmt, "count": count, "file": file_name,
                           **filters.as_dict()})
    return count
