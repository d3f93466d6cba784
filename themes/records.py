"""Department ledgers (台账): the records on a theme's layer, created, edited and retired through one service.

Every adapter (the REST API, `minqing import records`, the web pages) calls these functions; they own the rules:

- the form data is checked against the theme's *newest* record form and the plugins' `validate_submission`
  (`RecordInvalid`, with the field of each fault); an edit moves the record to that version;
- the location is a point (`lon`/`lat`) or a GeoJSON geometry of the theme's layer kind (point, line, polygon);
  the grid and region come from it;
- who may write: administrators, operators, department staff and grid workers, each only within their scope
  (`core.scope`, as for cases); leaders, citizens and auditors only read;
- edits use optimistic locking: the caller names the `version` it read, a stale one raises `StaleRecord`;
- a record is never erased: `retire` sets `retired_at`/`retired_by`, and `records_query` leaves retired records
  out unless asked;
- every create, update and retire writes a `ThemeRecordChange` (the history: who, when, the version, old and new
  values of the changed fields) and an audit record (`record_change`), in the caller's transaction.

    record = records.create(platform, session, actor, "emergency.shelters", {"name": "…"}, lon=…, lat=…)
    records.update(platform, session, actor, record, version=1, data={...}, geometry={...})
    records.retire(session, actor, record, version=2)
    records.history(session, record)                          # [ThemeRecordChange, ...], oldest first
"""
from __future__ import annotations

import json
import math

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from minqing.core import scope
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import Grid, Role, ThemeRecord, ThemeVersion, utcnow
from minqing.core.models.themes import ThemeRecordChange
from minqing.core.privacy import masking

from .registry import Theme, get_theme
from .versions import RecordInvalid, check_data, schema_version, theme_version

WRITE_ROLES = (Role.ADMIN, Role.OPERATOR, Role.DEPARTMENT_STAFF, Role.GRID_WORKER)
GEOMETRY_TYPES = ("Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
# Form fields that hold an address: a role that may not see exact addresses sees none of their numbers.
ADDRESS_FIELDS = frozenset({"address", "address_text", "home_address", "actual_address"})


class RecordError(Exception):
    """A refusal of the ledger service; `field` names the input at fault ('' for none)."""

    code = "record_refused"

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


class RecordNotFound(RecordError, LookupError):
    code = "not_found"


class RecordRefused(RecordError, PermissionError):
    code = "forbidden"


class StaleRecord(RecordError):
    """The record changed since the caller read it (its `version` moved on)."""

    code = "version_conflict"

    def __init__(self, record_id: int, current: int, given):
        super().__init__(f"记录 {record_id} 已被他人改动（当前为第 {current} 版，提交的是第 {given} 版），"
                         "请重新读取后再修改", "version")
        self.current = current


class RecordRetired(RecordError):
    code = "record_retired"

    def __init__(self, record_id: int):
        super().__init__(f"记录 {record_id} 已退出台账，不能再修改")


# -- reading ------------------------------------------------------------------------------------------------------

def active(statement: Select) -> Select:
    """`statement` over ThemeRecord without the retired records (what layers and lists show by default)."""
    return statement.where(ThemeRecord.retired_at.is_(None))


def records_query(viewer: Actor, theme_key: str | None = None, *, include_retired: bool = False) -> Select:
    """SELECT of the records `viewer` may see (`core.scope`), of one theme or all, retired ones only if asked."""
    statement = select(ThemeRecord)
    if theme_key is not None:
        statement = statement.where(ThemeRecord.theme_key == theme_key)
    if not include_retired:
        statement = active(statement)
    return scope.restrict(statement, ThemeRecord, viewer)


def get_record(session: Session, viewer: Actor, record_id: int, theme_key: str | None = None) -> ThemeRecord:
    """One record within the viewer's scope (retired ones included); RecordNotFound otherwise, whether or not
    it exists elsewhere."""
    statement = records_query(viewer, theme_key, include_retired=True).where(ThemeRecord.id == record_id)
    record = session.scalar(statement)
    if record is None:
        raise RecordNotFound(f"没有编号为 {record_id} 的台账记录，或您无权查看", "id")
    return record


def history(session: Session, record: ThemeRecord) -> list[ThemeRecordChange]:
    """The record's changes, oldest first."""
    return list(session.scalars(select(ThemeRecordChange).where(ThemeRecordChange.record_id == record.id)
                                .order_by(ThemeRecordChange.id)))


def location(record: ThemeRecord) -> dict | None:
    """The record's geometry as GeoJSON (its point when it has no other geometry)."""
    if record.geometry is not None:
        return record.geometry
    if record.lon is not None and record.lat is not None:
        return {"type": "Point", "coordinates": [record.lon, record.lat]}
    return None


# -- the location -------------------------------------------------------------------------------------------------

def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def place(theme: Theme, *, lon=None, lat=None, geometry: dict | None = None) -> dict:
    """The columns a location sets (lon, lat, geometry, bounding box); RecordInvalid naming `lon`, `lat` or
    `geometry` for a bad one. A point may come as `lon`/`lat` or a GeoJSON Point; lines and polygons as GeoJSON
    (a theme's layer kind is how the map draws it, not a limit on its records)."""
    if geometry is None:
        if lon is None and lat is None:
            return {"lon": None, "lat": None, "geometry": None, "min_lon": None, "min_lat": None,
                    "max_lon": None, "max_lat": None}
        errors = [(name, f"{title}应为 -{limit} 至 {limit} 之间的数字（WGS84）")
                  for name, title, value, limit in (("lon", "经度", lon, 180), ("lat", "纬度", lat, 90))
                  if not _number(value) or abs(value) > limit]
        if errors:
            raise RecordInvalid(theme.key, errors)
        lon, lat = float(lon), float(lat)
        return {"lon": lon, "lat": lat, "geometry": None, "min_lon": lon, "min_lat": lat, "max_lon": lon,
                "max_lat": lat}
    from shapely.geometry import shape   # loaded when a record is stored, not by every command

    from minqing.core.importing.geometry import normalise, to_geojson, validity_problem

    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        given = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise RecordInvalid(theme.key, [("geometry", f"几何类型应为 {'、'.join(GEOMETRY_TYPES)} 之一"
                                                     f"（GeoJSON），收到的是“{str(given)[:40]}”")])
    try:
        shaped = shape(geometry)
    except Exception:   # shapely raises several kinds for malformed coordinates
        raise RecordInvalid(theme.key, [("geometry", "几何的坐标格式有误（应为 GeoJSON 的 coordinates）")]) from None
    min_lon, min_lat, max_lon, max_lat = shaped.bounds if not shaped.is_empty else (math.nan,) * 4
    if shaped.is_empty or not all(map(math.isfinite, shaped.bounds)) or min_lon < -180 or max_lon > 180 \
            or min_lat < -90 or max_lat > 90:
        raise RecordInvalid(theme.key, [("geometry", "几何为空或坐标超出经纬度范围（WGS84）")])
    problem = validity_problem(shaped) if "Polygon" in geometry["type"] else None
    if problem:
        raise RecordInvalid(theme.key, [("geometry", problem)])
    shaped = normalise(shaped)
    if lon is None or lat is None:
        centre = shaped.representative_point()   # 7 decimals (~1 cm), as GeoJSON is written: files round-trip
        lon, lat = round(centre.x, 7), round(centre.y, 7)
    stored = to_geojson(shaped)
    return {"lon": lon, "lat": lat, "geometry": None if stored["type"] == "Point" else stored,
            "min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}


def _locate(platform, session: Session, columns: dict, regions: dict | None = None) -> tuple[int | None, str]:
    """The grid of the location and its region; `regions` (grid id → region code), when given, remembers the
    regions read, so a caller storing many records reads each grid's once."""
    lon, lat = columns["lon"], columns["lat"]
    grid_id = platform.locator(session).locate(lon, lat) if lon is not None and lat is not None else None
    if not grid_id:
        return grid_id, ""
    if regions is not None and grid_id in regions:
        return grid_id, regions[grid_id]
    region_code = session.scalar(select(Grid.region_code).where(Grid.id == grid_id)) or ""
    if regions is not None:
        regions[grid_id] = region_code
    return grid_id, region_code


# -- writing ------------------------------------------------------------------------------------------------------

def _check_role(actor: Actor, what: str) -> None:
    if not actor.has_role(*WRITE_ROLES):
        raise RecordRefused(f"您的角色无权{what}台账记录")


def _check_scope(session: Session, actor: Actor, record: ThemeRecord, what: str) -> None:
    session.flush()
    if not scope.can_see(session, ThemeRecord, record.id, actor):
        raise RecordRefused(f"此记录不在您的管辖范围内，无法{what}（按位置属于{record.region_code or '无网格'}）",
                            "geometry")


def _diff(before: dict, after: dict) -> dict:
    return {name: {"old": before.get(name), "new": after.get(name)}
            for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)}


def _state(record: ThemeRecord) -> dict:
    """What the history compares: each form field (as form_data.<name>) and the location."""
    state = {f"form_data.{name}": value for name, value in (record.form_data or {}).items()}
    state["geometry"] = location(record)
    return state


def _log(session: Session, actor: Actor, record: ThemeRecord, action: str, changes: dict) -> ThemeRecordChange:
    row = ThemeRecordChange(record_id=record.id, version=record.version, action=action, at=utcnow(),
                            actor_name=actor.name, actor_account_id=actor.account_id, changes=changes)
    session.add(row)
    return row


def create(platform, session: Session, actor: Actor, theme_key: str, data: dict, *,
           lon: float | None = None, lat: float | None = None, geometry: dict | None = None,
           client_id: str | None = None, version: ThemeVersion | None = None, client_id_is_new: bool = False,
           grid_regions: dict | None = None) -> ThemeRecord:
    """Put an object on a theme's layer, under the theme's newest published version.

    The data must pass the version's ``record`` form and the plugins' `validate_submission` (else
    RecordInvalid). The grid and region come from the location (a point, or a point inside `geometry`). A
    `client_id` seen before answers the record made then, so an app that resends after a lost answer does
    not make two. The record must fall within the actor's scope (RecordRefused).

    A caller storing many records (a ledger import) reads once what is the same for all of them: `version`,
    the theme's newest published version it read; `client_id_is_new`, that it already looked `client_id` up
    and found no record; `grid_regions`, a dict (grid id → region code) kept across the records.
    """
    if client_id is not None and not client_id_is_new:
        existing = session.scalar(select(ThemeRecord).where(ThemeRecord.client_id == client_id))
        if existing is not None:
            return existing
    _check_role(actor, "新增")
    theme = get_theme(platform, theme_key, session)
    if version is None:
        version = theme_version(session, theme_key)
    if not isinstance(data, dict):
        raise RecordInvalid(theme_key, [("", "表单数据应为对象")])
    errors = check_data(platform, session, theme_key, version.document["forms"].get("record"), data)
    if errors:
        raise RecordInvalid(theme_key, errors)
    columns = place(theme, lon=lon, lat=lat, geometry=geometry)
    grid_id, region_code = _locate(platform, session, columns, grid_regions)
    with session.begin_nested():   # a record outside the actor's scope leaves nothing behind
        record = ThemeRecord(theme_key=theme_key, theme_version=version.version, department_key=theme.department,
                             form_data=data, schema_version=schema_version(theme_key, version.version),
                             grid_id=grid_id, region_code=region_code, created_by=actor.name,
                             created_by_account_id=actor.account_id, client_id=client_id, **columns)
        session.add(record)
        _check_scope(session, actor, record, "新增")
    _log(session, actor, record, "create", _diff({}, _state(record)))
    record_change(session, actor, "theme_record.create", object_type="theme_record", object_id=record.id,
                  summary=f"在业务主题“{theme.title}”新增记录", details={"theme": theme_key,
                                                                   "version": version.version})
    return record


def _check_version(record: ThemeRecord, version) -> None:
    if version is None or isinstance(version, bool) or not isinstance(version, int) or version != record.version:
        raise StaleRecord(record.id, record.version, version)


def update(platform, session: Session, actor: Actor, record: ThemeRecord, *, version: int,
           data: dict | None = None, lon: float | None = None, lat: float | None = None,
           geometry: dict | None = None) -> ThemeRecord:
    """Edit a record: new form data (the whole document) and/or a new location, checked against the theme's
    newest record form (the record moves to that version). `version` is the record's version the caller read
    (StaleRecord when it moved on). Changes nothing when nothing differs."""
    _check_role(actor, "修改")
    if not scope.can_see(session, ThemeRecord, record.id, actor):
        raise RecordRefused("此记录不在您的管辖范围内，无法修改")
    if record.retired_at is not None:
        raise RecordRetired(record.id)
    _check_version(record, version)
    theme = get_theme(platform, record.theme_key, session)
    newest = theme_version(session, record.theme_key)
    data = dict(record.form_data or {}) if data is None else data
    if not isinstance(data, dict):
        raise RecordInvalid(record.theme_key, [("", "表单数据应为对象")])
    errors = check_data(platform, session, record.theme_key, newest.document["forms"].get("record"), data)
    if errors:
        raise RecordInvalid(record.theme_key, errors)
    moved = geometry is not None or lon is not None or lat is not None
    columns = place(theme, lon=lon, lat=lat, geometry=geometry) if moved else {}
    before = _state(record)
    for name, value in columns.items():
        setattr(record, name, value)
    record.form_data = data
    changes = _diff(before, _state(record))
    if newest.version != record.theme_version:
        changes["theme_version"] = {"old": record.theme_version, "new": newest.version}
    if not changes:
        session.expire(record)   # nothing to save: no new version, no history line
        return record
    record.theme_version, record.schema_version = newest.version, schema_version(record.theme_key, newest.version)
    if moved:
        record.grid_id, record.region_code = _locate(platform, session, columns)
    try:
        with session.begin_nested():
            _check_scope(session, actor, record, "移到此位置")
    except StaleDataError:
        raise StaleRecord(record.id, record.version, version) from None
    _log(session, actor, record, "update", changes)
    record_change(session, actor, "theme_record.update", object_type="theme_record", object_id=record.id,
                  summary=f"修改业务主题“{theme.title}”的记录 {record.id}（第 {record.version} 版）",
                  details={"theme": record.theme_key, "version": record.version, "fields": sorted(changes)})
    return record


def retire(session: Session, actor: Actor, record: ThemeRecord, *, version: int | None = None,
           reason: str = "") -> ThemeRecord:
    """Take a record off the ledger (退出台账): kept with who and when, hidden from layers and lists. `version`,
    when given, must be the record's current one (StaleRecord). Retiring a retired record changes nothing."""
    _check_role(actor, "退出")
    if not scope.can_see(session, ThemeRecord, record.id, actor):
        raise RecordRefused("此记录不在您的管辖范围内，无法退出台账")
    if record.retired_at is not None:
        return record
    if version is not None:
        _check_version(record, version)
    record.retired_at, record.retired_by = utcnow(), actor.name
    try:
        session.flush()
    except StaleDataError:
        raise StaleRecord(record.id, record.version, version) from None
    changes = {"retired_at": {"old": None, "new": record.retired_at.isoformat()}}
    if reason:
        changes["reason"] = {"old": None, "new": reason[:500]}
    _log(session, actor, record, "retire", changes)
    record_change(session, actor, "theme_record.retire", object_type="theme_record", object_id=record.id,
                  summary=f"业务主题“{record.theme_key}”的记录 {record.id} 退出台账",
                  details={"theme": record.theme_key, "version": record.version, "reason": reason[:500]})
    return record


# -- values as a viewer may see them --------------------------------------------------------------------------

def visible_text(viewer: Actor | None, spec: dict, text: str, key: str = "") -> str:
    """A text answer of a form as this viewer may see it: the one rule of the map's layers and the ledger export.
    ID numbers (``format: cn-id``, and in free text) are masked for everyone; mobile and landline numbers
    (``format: cn-mobile``, and in free text) and house numbers unless the viewer's role needs them
    (`core.privacy.masking.NEEDED_BY`); an address field (`key` in ADDRESS_FIELDS) keeps none of its numbers then."""
    fmt = spec.get("format") if isinstance(spec, dict) else None
    if fmt == "cn-id":
        return masking.show(viewer, masking.ID_NUMBER, text)
    if fmt == "cn-mobile":
        return masking.show(viewer, masking.PHONE, text)
    shown = masking.text_for(viewer, text)
    return masking.show(viewer, masking.ADDRESS, shown) if key in ADDRESS_FIELDS else shown


def visible_value(viewer: Actor | None, spec: dict, value, key: str = ""):
    """A form answer of any JSON type as this viewer may see it, its type kept: every text in it through
    `visible_text` with its own schema (an array's `items`, an object's `properties`)."""
    spec = spec if isinstance(spec, dict) else {}
    if isinstance(value, str):
        return visible_text(viewer, spec, value, key)
    if isinstance(value, list):
        return [visible_value(viewer, spec.get("items") or {}, item, key) for item in value]
    if isinstance(value, dict):
        properties = spec.get("properties") or {}
        return {name: visible_value(viewer, properties.get(name) or {}, item, name) for name, item in value.items()}
    return value


def shown_value(viewer: Actor | None, spec: dict, value, key: str = "") -> str:
    """A form answer as text for the viewer (the map's record fields): `visible_text` for texts, 是/否,
    attachments counted, arrays joined, objects as title：value pairs."""
    spec = spec if isinstance(spec, dict) else {}
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        if spec.get("format") == "attachment":
            return "1 个附件"
        return visible_text(viewer, spec, value, key)
    if isinstance(value, list):
        items = spec.get("items") or {}
        if items.get("format") == "attachment":
            return f"{len(value)} 个附件"
        return "；".join(part for part in (shown_value(viewer, items, item, key) for item in value) if part)
    if isinstance(value, dict):
        if spec.get("format") == "geo-point":
            return ""   # the record's place on the map says it
        properties = spec.get("properties") or {}
        parts = ((properties.get(name) or {}, item, name) for name, item in value.items())
        return "，".join(f"{(sub.get('title') or name)}：{text}" for sub, item, name in parts
                        if (text := shown_value(viewer, sub, item, name)))
    return masking.text_for(viewer, json.dumps(value, ensure_ascii=False))
