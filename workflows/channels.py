"""Intake channels (受理渠道): the built-in ones (the work end, the citizen end, REST, Open311) and those the
plugins declare through `intake_channels` (a 12345 hotline's work orders, 陇情E通, ...). See docs/channels.md.

A channel plugin turns each outside item into an `Item` and hands it to `receive`, which places it (its
coordinates, else its address in the standard address book), fills the theme's citizen form from it and calls the
one intake service, `submit_report`, with the channel's name and the outside system's id: an item sent again
answers its first case and changes nothing. `import_items` is the loop of a file import (per-row Chinese errors,
a progress bar, dry runs). What a channel sends back is a `ChannelUpdate` row per change (`record_update`, from the
plugin's `case_transitioned`), read by the outside system through `updates_since` / `export_updates`.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import time
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core import city
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.importing import REPORT_HEADER, ImportSummary, RowError
from minqing.core.models import Address, Case, CaseEvent, ChannelUpdate
from minqing.core.privacy import masking

from . import definition
from .errors import FormInvalid, WorkflowError
from .intake import Reporter, citizen_schema, geo_field, submit_report
from .reporting import by_external_id

BUILT_IN = {"work": "工作端", "citizen": "群众端", "api": "REST 接口", "open311": "Open311"}
# Cases made by code rather than a channel keep their source as their channel (migration 0026, reporting.py).
BY_CODE = {"warning": "预警转事件", "plugin": "插件", "hotline": "热线"}
MAX_NOTE = 500
UPDATE_COLUMNS = ("序号", "工单编号", "平台事件编号", "环节", "状态", "状态名称", "时间", "说明")


@dataclasses.dataclass(frozen=True)
class Channel:
    name: str
    title: str
    source: str
    plugin: str
    importer: object = None        # import(platform, path, *, actor, dry_run, report_path, show_progress)
    pull: object = None            # pull(platform)
    time_standards: dict = dataclasses.field(default_factory=dict)


def declared(platform) -> dict[str, Channel]:
    """The channels the enabled plugins declare, by name; the first plugin to declare a name keeps it, and a
    built-in channel's name cannot be taken."""
    found: dict[str, Channel] = {}
    for plugin, item in platform.hooks.intake_channels():
        for answer in item:
            name = answer["name"]
            if name in BUILT_IN or name in found:
                continue
            found[name] = Channel(name=name, title=str(answer["title"]), source=str(answer.get("source") or "plugin"),
                                  plugin=plugin, importer=answer.get("import"), pull=answer.get("pull"),
                                  time_standards=dict(answer.get("time_standards") or {}))
    return found


def get(platform, name: str) -> Channel:
    """The declared channel `name`; LookupError (in Chinese) when no enabled plugin declares it."""
    channel = declared(platform).get(name)
    if channel is None:
        known = "、".join(declared(platform)) or "无"
        raise LookupError(f"没有名为“{name}”的受理渠道（已启用插件声明的渠道：{known}）")
    return channel


def titles(platform) -> dict[str, str]:
    """Channel name → its Chinese title, for every channel a case may name."""
    return {**BY_CODE, **BUILT_IN, **{name: channel.title for name, channel in declared(platform).items()}}


def time_standards(platform, name: str) -> dict:
    """The outside system's time limits a channel declares (for 12345: `response_hours`, the 2-hour response
    of 接诉即办, and `handling_days` per kind of appeal), for indicators such as 响应率; {} when it declares none
    or is not enabled. The dict is a copy: changing it changes nothing."""
    channel = declared(platform).get(name)
    return json.loads(json.dumps(channel.time_standards)) if channel else {}


# -- receiving an item -----------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Item:
    """One report of an outside system, as a channel plugin read it."""

    external_id: str
    theme_key: str
    title: str
    content: str
    category: str = ""             # a category code of the theme ("" : the theme's first)
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    kind: str = ""                 # 诉求类型 (投诉, 求助, 咨询, ...)
    urgency: str = "normal"
    reporter: Reporter = Reporter()
    received: dict = dataclasses.field(default_factory=dict)   # what else it said (its category, times): on the timeline
    received: dict = dataclasses.field(default_factory=dict)   # what else it said, kept in the case's form data


ROLE_FIELDS = {"content": ("description", "content"), "address": ("address",), "kind": ("appeal_type",),
               "urgent": ("urgent",)}


def receive(platform, session: Session, actor: Actor, channel: str, item: Item) -> tuple[Case, bool]:
    """(case, created): the case of `item`, made through `submit_report` unless the channel sent it before (then
    the first case, unchanged). Raises FormInvalid (paths of the report document: `title`, `category`, `kind`,
    `location`, `details.<field>`) or another WorkflowError; nothing is stored then. The caller commits."""
    if (earlier := by_external_id(session, channel, item.external_id)) is not None:
        return earlier, False
    from minqing import themes   # themes sits beside workflows; imported when used, as intake does

    theme = themes.registry(platform, session).get(item.theme_key)
    if theme is None:
        raise FormInvalid({"category": [f"业务主题“{item.theme_key}”不存在或未启用"]})
    lon, lat = item.lon, item.lat
    if lon is None or lat is None:
        lon, lat = address_point(session, item.address)
    document = document_for(theme, item, lon, lat)
    case = submit_report(platform, session, actor, theme, document, channel=channel, external_id=item.external_id,
                         reporter=item.reporter, address=item.address, description=item.content[:2000],
                         received=item.received or None)
    return case, True


def address_point(session: Session, address: str) -> tuple[float, float]:
    """The point of `address` in the standard address book (标准地址, exact text); FormInvalid when it has none."""
    text = (address or "").strip()
    row = session.execute(select(Address.lon, Address.lat).where(Address.text == text, Address.lon.is_not(None))
                          .limit(1)).first() if text else None
    if row is None:
        where = f"，标准地址库中也没有地址“{text[:60]}”" if text else "，也没有地址"
        raise FormInvalid({"location": [f"没有经纬度{where}，无法定位到网格"]})
    return row.lon, row.lat


def document_for(theme, item: Item, lon: float, lat: float) -> dict:
    """The report document of `item` for `theme`'s citizen form (the fields a citizen is asked, which an outside
    system's appeal can fill): its text, address, place, kind of appeal and urgency go to the fields of those
    roles; a required field the item cannot fill is refused by the form, naming it."""
    schema = citizen_schema(theme)
    details_schema = schema["properties"].get("details") or {}
    fields = details_schema.get("properties", {})
    details: dict = {}
    values = {"content": item.content, "address": item.address, "kind": item.kind,
              "urgent": item.urgency != "normal"}
    for role, names in ROLE_FIELDS.items():
        name = next((name for name in names if name in fields), None)
        if name is not None and values[role] not in ("", None):
            details[name] = values[role]
    if (geo := geo_field(details_schema)) is not None:
        details[geo] = {"lon": lon, "lat": lat}
    document: dict = {"title": item.title, "urgency": item.urgency}
    if "category" in schema["properties"]:
        codes = [option["const"] for option in schema["properties"]["category"]["oneOf"]]
        document["category"] = item.category or codes[0]
    if "kind" in schema["properties"]:
        kinds = schema["properties"]["kind"]["enum"]
        document["kind"] = item.kind if item.kind in kinds else "反映问题"
    if geo is None:
        document["location"] = {"lon": lon, "lat": lat}
    if "details" in schema["properties"]:
        document["details"] = details
    return document


# -- a file import ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Row:
    """One row (or JSON item) of an outside system's file: its Item, or the problems that stopped it, and the
    file's column header for each role of the Item (for the messages)."""

    number: int
    item: Item | None
    problems: tuple[tuple[str, str, str], ...] = ()     # (column, value, message)
    columns: dict = dataclasses.field(default_factory=dict)


def import_items(platform, channel: str, rows: Iterable[Row], *, total: int | None, actor: Actor,
                 dry_run: bool = False, report_path: Path | None = None, show_progress: bool = False,
                 label: str = "", file: str = "") -> ImportSummary:
    """Receive every row's item, each in its own transaction (a refused row stores nothing and stops nothing);
    a dry run does the same in a savepoint it rolls back, so it checks everything and stores nothing. The
    summary's `imported` counts new cases, `skipped` items sent before; errors name the row and column."""
    from tqdm import tqdm

    started = time.perf_counter()
    summary = ImportSummary(kind=channel, file=file, report=str(report_path) if report_path else None)
    tried: set[str] = set()   # a dry run stores nothing: an id twice in the file is counted as the import would
    with tqdm(total=total, desc=f"导入{label or channel}", unit="行", disable=not show_progress) as bar:
        for row in rows:
            bar.update(1)
            errors = [RowError(row.number, column, _shown(value), message) for column, value, message in row.problems]
            if not errors and dry_run and row.item.external_id in tried:
                summary.skipped += 1
                continue
            if not errors:
                errors = _receive_row(platform, channel, row, actor, dry_run, summary)
                if not errors:
                    tried.add(row.item.external_id)
            if errors:
                summary.rejected += 1
                summary.errors.extend(errors)
    if report_path is not None and summary.errors:
        with open(report_path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPORT_HEADER)
            writer.writerows((error.row, error.column, error.value, error.message) for error in summary.errors)
    if not dry_run:
        with platform.db.session() as session:
            record_change(session, actor, "import", object_type="channel", object_id=channel,
                          summary=f"{label or channel}导入：新建事件 {summary.imported} 件，已受理过 {summary.skipped} 件，"
                                  f"拒绝 {summary.rejected} 行",
                          details={"file": Path(file).name, "imported": summary.imported, "existing": summary.skipped,
                                   "rejected": summary.rejected})
            session.commit()
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _receive_row(platform, channel: str, row: Row, actor: Actor, dry_run: bool, summary: ImportSummary):
    with platform.db.session() as session:
        try:
            savepoint = session.begin_nested()
            _case, created = receive(platform, session, actor, channel, row.item)
            if dry_run:
                savepoint.rollback()
            else:
                savepoint.commit()
                session.commit()
        except FormInvalid as error:
            return [RowError(row.number, _column(path, row.columns), _shown(_value(path, row.item)), message)
                    for path, messages in error.errors.items() for message in messages]
        except WorkflowError as error:
            return [RowError(row.number, row.columns.get("external_id", ""), row.item.external_id, error.message)]
    if created:
        summary.imported += 1
    else:
        summary.skipped += 1
    return []


def _column(path: str, columns: dict) -> str:
    """The file's column a problem of the report document is about."""
    top, _, rest = path.partition(".")
    if top == "details":
        field = rest.split(".")[0].split("[")[0]
        role = next((role for role, names in ROLE_FIELDS.items() if field in names), None)
        if role == "urgent":
            role = "urgency"
        if role is None and "location" in field:   # the theme's geo-point field
            role = "location"
        return columns.get(role or "", f"业务主题字段“{field}”")
    role = {"title": "content", "kind": "kind", "urgency": "urgency", "category": "category",
            "location": "location"}.get(top, "")
    return columns.get(role, path or "")


def _value(path: str, item: Item | None):
    if item is None:
        return ""
    if path == "location" or path.endswith("location"):
        return "" if item.lon is None else f"{item.lon}, {item.lat}"
    if "address" in path:
        return item.address
    if "category" in path:
        return item.category
    return ""


def _shown(value) -> str:
    """A cell as the error report shows it: phone and ID numbers masked, long text cut."""
    text = masking.scrub_text("" if value is None else str(value))
    return text if len(text) <= 60 else text[:60] + "…"


# -- status back -----------------------------------------------------------------------------------------------

def record_update(session: Session, case: Case, transition: str) -> ChannelUpdate | None:
    """What the case's channel sends back about this change (call it from `case_transitioned`): the new status
    and the latest timeline line's comment, masked. None for a case no outside system sent."""
    if not case.external_id:
        return None
    comment = session.scalar(select(CaseEvent.comment).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.id.desc()).limit(1)) or ""
    update = ChannelUpdate(channel=case.channel, case_id=case.id, external_id=case.external_id,
                           transition=transition, status=case.status,
                           note=masking.scrub_text(comment)[:MAX_NOTE], at=case.updated_at or case.created_at)
    session.add(update)
    return update


def updates_since(session: Session, channel: str, *, since: dt.datetime | None = None,
                  after_id: int | None = None, limit: int = 10000) -> list[ChannelUpdate]:
    """The channel's status-back rows after a moment and/or after a row id (what an outside system fetched
    last), oldest first."""
    statement = select(ChannelUpdate).where(ChannelUpdate.channel == channel)
    if since is not None:
        statement = statement.where(ChannelUpdate.at > since)
    if after_id is not None:
        statement = statement.where(ChannelUpdate.id > after_id)
    return list(session.scalars(statement.order_by(ChannelUpdate.id).limit(limit)))


def export_updates(platform, session: Session, actor: Actor, channel: str, *, since: dt.datetime | None = None,
                   after_id: int | None = None, fmt: str = "csv") -> tuple[str, int]:
    """(file text, rows): the status-back rows as CSV (UTF-8 with BOM, columns `UPDATE_COLUMNS`) or JSON
    (`{"channel", "updates": [...]}` with English keys), audited."""
    rows = updates_since(session, channel, since=since, after_id=after_id)
    cases = {case.id: case for case in session.scalars(select(Case).where(Case.id.in_({row.case_id for row in rows})))}
    records = [_update_record(platform, session, row, cases[row.case_id]) for row in rows]
    if fmt == "json":
        text = json.dumps({"channel": channel, "updates": records}, ensure_ascii=False, indent=1)
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(UPDATE_COLUMNS)
        writer.writerows([record[key] for key in ("id", "external_id", "case_number", "transition", "status",
                                                  "status_title", "at", "note")] for record in records)
        text = "\ufeff" + buffer.getvalue()
    record_change(session, actor, "export", object_type="channel_updates", object_id=channel,
                  summary=f"导出{titles(platform).get(channel, channel)}状态回传 {len(records)} 条",
                  details={"since": since.isoformat() if since else None, "after_id": after_id, "rows": len(records)})
    return text, len(records)


def _update_record(platform, session: Session, row: ChannelUpdate, case: Case) -> dict:
    try:
        state = definition.get(platform, case.workflow_key, session).states.get(row.status)
    except WorkflowError:
        state = None
    return {"id": row.id, "external_id": row.external_id, "case_number": case.number, "transition": row.transition,
            "status": row.status, "status_title": state.title if state else row.status,
            "at": city.local(row.at).isoformat(timespec="seconds"), "note": row.note}
