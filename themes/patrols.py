"""Patrols of theme records: a theme's ``patrol_every_days`` says how often each of its records must be seen.

A record is due when its last patrol (or, never patrolled, its creation) is older than that; one query for
all themes, limited to what the viewer may see. Retired records are never due; nor are the records of themes
whose plugin is disabled (their patrols cannot be recorded).

`record_patrol` is the one service of a patrol (巡查), whatever the page or client: it checks the record is in the
patroller's scope, the document against the theme's visit form and the plugins' `validate_submission`, the photos
are the patroller's own, and the distance from the record against the theme's ``patrol_distance``
(``{"max_m": 200, "policy": "flag"|"refuse"}``, default flag); then it stores the visit and marks the record
patrolled, audited, in the caller's transaction.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from minqing import forms
from minqing.core import attachments as uploads, memos, scope
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import Attachment, PluginState, ThemeRecord, ThemeVersion, Visit, utcnow
from minqing.forms import attachment_refs

from . import layers
from .records import active
from .registry import UnknownTheme, get_theme, registry
from .versions import UnknownFormVersion, check_data, theme_at

TARGET_KIND = "theme_record"            # Visit.target_kind of a patrol of a record
PATROL_ROLES = ("grid_worker",)         # who patrols: the grid workers of the record's grid
DEFAULT_MAX_M = 200
DEFAULT_POLICY = "flag"
PHOTOS = "photos"                        # the photo field added to a visit form that has none
DEFAULT_VISIT_FORM = {"type": "object", "title": "巡查记录",
                      "properties": {"summary": {"type": "string", "title": "巡查情况", "minLength": 2,
                                                 "maxLength": 2000}},
                      "required": ["summary"]}
PHOTOS_FIELD = {"type": "array", "title": "现场照片", "maxItems": 9,
                "items": {"type": "string", "format": "attachment",
                          "x-attachment": {"accept": ["image/*"], "maxBytes": 10485760}}}
METRES_PER_DEGREE = 111_320.0


class PatrolRefused(ValueError):
    """A patrol not stored; `errors` maps a field ("record", "location", a path of the visit form, "photos")
    to its Chinese messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("；".join(message for messages in errors.values() for message in messages))
        self.errors = errors


def last_seen():
    """When a record was last seen: its last patrol, or its creation."""
    return func.coalesce(ThemeRecord.last_patrolled_at, ThemeRecord.created_at)


def overdue_condition(platform, session: Session, now: dt.datetime):
    """One SQL condition: the record's theme (enabled) has a patrol period and the record was last seen before it."""
    return overdue_for({theme.key: theme.patrol_every_days for theme in registry(platform, session).themes.values()
                        if theme.patrol_every_days}, now)


def overdue_for(periods: dict[str, int], now: dt.datetime):
    """The same condition for given periods (theme key → days)."""
    seen = last_seen()
    by_days: dict[int, list[str]] = {}
    for key, days in periods.items():
        by_days.setdefault(days, []).append(key)
    clauses = [and_(ThemeRecord.theme_key.in_(keys), seen < now - dt.timedelta(days=days))
               for days, keys in sorted(by_days.items())]
    return or_(*clauses) if clauses else false()


SETTINGS_MEMO = "minqing.themes.patrols.published_settings"   # a session memo: enabled_only → settings


def published_settings(session: Session, *, enabled_only: bool = False) -> dict[str, tuple[int | None, str]]:
    """theme key → (``patrol_every_days`` or None, title) of each theme's newest published version: only those two
    fields are read, not the documents. `enabled_only` leaves out the themes of disabled plugins.

    Remembered per session until it could see other themes (`core.memos`: a dashboard asked four times, the
    patrol figures, their warning, the freshness panel and its figure)."""
    memo = memos.of(session, SETTINGS_MEMO)
    if enabled_only not in memo:
        memo[enabled_only] = _published_settings(session, enabled_only)
    return dict(memo[enabled_only])


def _published_settings(session: Session, enabled_only: bool) -> dict[str, tuple[int | None, str]]:
    newest = (select(ThemeVersion.theme_key, func.max(ThemeVersion.version).label("version"))
              .group_by(ThemeVersion.theme_key).subquery())
    statement = (select(ThemeVersion.theme_key, ThemeVersion.document["patrol_every_days"],
                        ThemeVersion.document["title"])
                 .join(newest, (ThemeVersion.theme_key == newest.c.theme_key)
                       & (ThemeVersion.version == newest.c.version)))
    if enabled_only:
        statement = statement.where(ThemeVersion.plugin_name.not_in(
            select(PluginState.name).where(PluginState.enabled.is_(False))))
    return {key: (int(every) if every else None, title if isinstance(title, str) else key)
            for key, every, title in session.execute(statement)}


def published_periods(session: Session) -> dict[str, int]:
    """theme key → ``patrol_every_days`` of each enabled plugin's theme whose newest published version has one
    (for callers without a plugin host: the early-warning rule, the figures, the panel)."""
    return {key: every for key, (every, _title) in published_settings(session, enabled_only=True).items() if every}


def due_for_patrol(platform, session: Session, viewer: Actor, now: dt.datetime | None = None,
                   limit: int = 1000) -> list[ThemeRecord]:
    """Records of the enabled themes whose patrol is overdue, oldest first."""
    now = now or utcnow()
    statement = active(select(ThemeRecord).where(overdue_condition(platform, session, now)))
    statement = scope.restrict(statement, ThemeRecord, viewer).order_by(last_seen(), ThemeRecord.id).limit(limit)
    return list(session.scalars(statement))


OVERDUE_MEMO = "minqing.themes.patrols.overdue_counts"   # a session memo: viewer → (now, counts)


def overdue_counts(session: Session, viewer: Actor, now: dt.datetime | None = None
                   ) -> list[tuple[str, int | None, str, int]]:
    """(department key, grid id, a region code of the group, overdue records) within the viewer's scope, the
    most first: one GROUP BY over the enabled plugins' published themes' periods, for the early-warning rule, the
    figures and the panel.

    Remembered per session and viewer, so one dashboard counts once: a call without `now` takes the remembered
    counts, a call with `now` those counted at that moment. Any flush, commit, rollback or write of the session
    forgets them (`core.memos`)."""
    memo = memos.of(session, OVERDUE_MEMO)
    key = (viewer.account_id, viewer.grants)
    remembered = memo.get(key)
    if remembered is not None and (now is None or remembered[0] == now):
        return list(remembered[1])
    now = now or utcnow()
    statement = active(select(ThemeRecord.department_key, ThemeRecord.grid_id, func.min(ThemeRecord.region_code),
                              func.count()).where(overdue_for(published_periods(session), now))
                       .group_by(ThemeRecord.department_key, ThemeRecord.grid_id))
    rows = session.execute(scope.restrict(statement, ThemeRecord, viewer)).all()
    counts = sorted(((row[0], row[1], row[2] or "", row[3]) for row in rows),
                    key=lambda row: (-row[3], row[0], row[1] or 0))
    memo[key] = (now, counts)
    return list(counts)


def mark_patrolled(session: Session, actor: Actor, record: ThemeRecord, at: dt.datetime | None = None,
                   details: dict | None = None) -> None:
    """Note that someone saw the record on patrol (the patrol's own form goes through the theme's visit form)."""
    record.last_patrolled_at = at or utcnow()
    record_change(session, actor, "theme_record.patrol", object_type="theme_record", object_id=record.id,
                  summary=f"巡查业务主题“{record.theme_key}”的记录", details=details)


# -- tasks ----------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class PatrolTask:
    record_id: int
    title: str
    theme_key: str
    theme_title: str
    last_seen: dt.datetime
    days_overdue: int


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def patrol_tasks(platform, session: Session, viewer: Actor, now: dt.datetime | None = None,
                 limit: int = 200) -> list[PatrolTask]:
    """The records due for patrol as tasks of the viewer's work list (巡查任务), the longest overdue first."""
    now = now or utcnow()
    themes_ = registry(platform, session).themes
    tasks = []
    for record in due_for_patrol(platform, session, viewer, now=now, limit=limit):
        theme = themes_.get(record.theme_key)
        seen = _aware(record.last_patrolled_at or record.created_at)
        due = seen + dt.timedelta(days=theme.patrol_every_days)
        tasks.append(PatrolTask(record_id=record.id, title=layers.record_title(viewer, record, theme.form("record")),
                                theme_key=record.theme_key,
                                theme_title=theme.title, last_seen=seen,
                                days_overdue=max((now - due).days, 0)))
    return tasks


# -- the form and the distance ------------------------------------------------------------------------------

def patrol_form(theme) -> dict:
    """The theme's visit form (or a short default), with a photo field when the form has none."""
    form = theme.form("visit") or DEFAULT_VISIT_FORM
    if forms.attachment_specs(form) or PHOTOS in form.get("properties", {}):
        return form
    return {**form, "properties": {**form.get("properties", {}), PHOTOS: PHOTOS_FIELD}}


def patrol_distance(theme) -> tuple[float, str]:
    """(max metres, "flag" or "refuse") of the theme's ``patrol_distance``, defaults filled in."""
    rule = theme.document.get("patrol_distance") or {}
    return float(rule.get("max_m", DEFAULT_MAX_M)), rule.get("policy", DEFAULT_POLICY)


def distance_m(record: ThemeRecord, lon: float, lat: float) -> float | None:
    """Metres from (lon, lat) to the record's geometry (0 inside a polygon), on a local flat projection."""
    import shapely   # loaded when a patrol is checked, not by every command
    from shapely.geometry import Point, shape

    if record.geometry:
        target = shape(record.geometry)
    elif record.lon is not None and record.lat is not None:
        target = Point(record.lon, record.lat)
    else:
        return None
    scale = (METRES_PER_DEGREE * math.cos(math.radians(lat)), METRES_PER_DEGREE)

    def flat(geometry):
        return shapely.transform(geometry, lambda coordinates: coordinates * scale)

    return float(flat(target).distance(flat(Point(lon, lat))))


# -- the service ----------------------------------------------------------------------------------------------

def _check_photos(session: Session, actor: Actor, refs: list[tuple[str, str]]) -> None:
    """Each photo the patrol names is the patroller's own upload, not yet part of a case or another visit."""
    usable = uploads.unclaimed(session, actor, [item for _path, item in refs])
    problems = {path: ["照片不存在或不是您上传的，请重新上传"] for path, item in refs if item not in usable}
    if problems:
        raise PatrolRefused(problems)


def _record_in_scope(session: Session, actor: Actor, record_id: int) -> ThemeRecord:
    if not actor.has_role(*PATROL_ROLES):
        raise PatrolRefused({"record": ["只有记录所在网格的网格员可以巡查"]})
    record = session.scalar(scope.restrict(select(ThemeRecord).where(ThemeRecord.id == record_id),
                                           ThemeRecord, actor))
    if record is None:
        raise PatrolRefused({"record": ["记录不存在或不在您的网格范围内"]})
    if record.retired_at is not None:
        raise PatrolRefused({"record": ["该记录已停用，无需巡查"]})
    return record


def _check_location(lon, lat) -> tuple[float, float]:
    if lon is None or lat is None:
        raise PatrolRefused({"location": ["巡查位置：请点“使用我的位置”或在地图上选点"]})
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise PatrolRefused({"location": ["巡查位置：经纬度应为数字"]}) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or math.isnan(lon) or math.isnan(lat):
        raise PatrolRefused({"location": ["巡查位置：经度应在 -180 到 180 之间，纬度应在 -90 到 90 之间"]})
    return lon, lat


def earlier_patrol(session: Session, actor: Actor, client_id: str | None) -> Visit | None:
    """The patrol an earlier submission with `client_id` recorded (a re-send answers it before its photos are stored
    again); None when there is none; PatrolRefused when the id is another account's or another kind of visit's."""
    if not client_id or (earlier := session.scalar(select(Visit).where(Visit.client_id == client_id))) is None:
        return None
    if earlier.visitor_account_id != actor.account_id or earlier.target_kind != TARGET_KIND:
        raise PatrolRefused({"client_id": ["该提交编号已被使用"]})
    return earlier


def record_patrol(platform, session: Session, actor: Actor, record_id: int, document: dict,
                  lon: float | None, lat: float | None, attachments: list[str] | tuple = (), *,
                  client_id: str | None = None, form_version: int | None = None,
                  now: dt.datetime | None = None) -> Visit:
    """Record a patrol of the record: a visit row (the visit form's document, where, how far) and the record
    marked patrolled, audited in the caller's transaction; PatrolRefused (nothing stored) otherwise.

    `attachments`: ids of photos uploaded apart from the document (an app), added to the form's photo field.
    A retried call with the same `client_id` answers the first visit. `form_version`: the published theme version
    the visit form was filled in under (a phone offline sends it later), checked against that version's form."""
    if (earlier := earlier_patrol(session, actor, client_id)) is not None:
        return earlier
    record = _record_in_scope(session, actor, record_id)
    try:
        theme = get_theme(platform, record.theme_key, session)
    except UnknownTheme:
        raise PatrolRefused({"record": ["该记录所属的业务主题已停用，无法巡查"]}) from None
    try:
        theme = theme_at(session, theme, form_version)
    except UnknownFormVersion as error:
        raise PatrolRefused({"form_version": [str(error)]}) from None
    lon, lat = _check_location(lon, lat)
    form = patrol_form(theme)
    document = dict(document) if isinstance(document, dict) else {}
    if attachments:
        if PHOTOS not in form.get("properties", {}):
            raise PatrolRefused({PHOTOS: ["本主题的巡查表单没有“照片”一项，请在表单的照片栏上传"]})
        document[PHOTOS] = [*document.get(PHOTOS, []), *attachments]
    errors: dict[str, list[str]] = {}
    for path, message in check_data(platform, session, theme.key, form, document, form="visit"):
        errors.setdefault(path, []).append(message)
    if errors:
        raise PatrolRefused(errors)
    photos = attachment_refs(form, document)
    _check_photos(session, actor, photos)
    metres = distance_m(record, lon, lat)
    max_m, policy = patrol_distance(theme)
    too_far = metres is not None and metres > max_m
    if too_far and policy == "refuse":
        raise PatrolRefused({"location": [
            f"巡查位置距“{layers.record_title(actor, record, theme.form('record'))}”约 {metres:.0f} 米，超过本主题允许的 {max_m:.0f} 米，请到现场后再提交"]})
    now = now or utcnow()
    visit = Visit(target_kind=TARGET_KIND, target_id=record.id, visitor_account_id=actor.account_id,
                  grid_id=record.grid_id, region_code=record.region_code, visited_at=now, lon=lon, lat=lat,
                  summary=_summary(document)[:2000], theme_key=theme.key, form_data=document,
                  schema_version=f"{theme.key}@patrol", client_id=client_id,
                  distance_m=round(metres, 1) if metres is not None else None, distance_flagged=too_far)
    try:
        with session.begin_nested():
            session.add(visit)
    except IntegrityError:   # the same client id arrived twice at once
        return session.scalar(select(Visit).where(Visit.client_id == client_id))
    photo_ids = list(dict.fromkeys(item for _path, item in photos))
    uploads.link_to_visit(session, actor, photo_ids, visit.id)
    mark_patrolled(session, actor, record, at=now, details={
        "visit_id": visit.id, "distance_m": visit.distance_m, "flagged": too_far, "max_m": max_m,
        "photos": photo_ids})
    return visit


def _summary(document: dict) -> str:
    text = document.get("summary")
    if isinstance(text, str) and text.strip():
        return text.strip()
    return "；".join(f"{key}：{value}" for key, value in document.items()
                    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and key != PHOTOS)


# -- what the department sees ---------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class FlaggedPatrol:
    visit_id: int
    record_id: int
    record_title: str
    theme_key: str
    visited_at: dt.datetime
    distance_m: float


def flagged_patrols(session: Session, viewer: Actor, limit: int = 50) -> list[FlaggedPatrol]:
    """Patrols made farther from their record than the theme allows (policy "flag"), of the records the viewer
    may see, the newest first."""
    statement = (select(Visit, ThemeRecord).join(ThemeRecord, ThemeRecord.id == Visit.target_id)
                 .where(Visit.target_kind == TARGET_KIND, Visit.distance_flagged.is_(True))
                 .order_by(Visit.visited_at.desc(), Visit.id.desc()).limit(limit))
    rows = session.execute(scope.restrict(statement, ThemeRecord, viewer)).all()
    return [FlaggedPatrol(visit_id=visit.id, record_id=record.id, record_title=layers.record_title(viewer, record),
                          theme_key=record.theme_key, visited_at=visit.visited_at, distance_m=visit.distance_m or 0)
            for visit, record in rows]


@dataclasses.dataclass(frozen=True)
class RecentPatrol:
    visit: Visit
    record_id: int
    record_title: str
    theme_key: str
    photos: list[Attachment]


def recent_patrols(session: Session, viewer: Actor, limit: int = 30) -> list[RecentPatrol]:
    """The latest patrols of the records the viewer may see, each with its photos (the department's view)."""
    statement = (select(Visit, ThemeRecord).join(ThemeRecord, ThemeRecord.id == Visit.target_id)
                 .where(Visit.target_kind == TARGET_KIND)
                 .order_by(Visit.visited_at.desc(), Visit.id.desc()).limit(limit))
    rows = session.execute(scope.restrict(statement, ThemeRecord, viewer)).all()
    photos = photos_of(session, [visit.id for visit, _record in rows])
    return [RecentPatrol(visit=visit, record_id=record.id, record_title=layers.record_title(viewer, record),
                         theme_key=record.theme_key, photos=photos.get(visit.id, [])) for visit, record in rows]


def photos_of(session: Session, visit_ids) -> dict[int, list[Attachment]]:
    """visit id → its photos (attachments linked to it), oldest first; the caller has checked the visits."""
    ids = list(visit_ids)
    found: dict[int, list[Attachment]] = {}
    if ids:
        for row in session.scalars(select(Attachment).where(Attachment.visit_id.in_(ids))
                                   .order_by(Attachment.created_at, Attachment.id)):
            found.setdefault(row.visit_id, []).append(row)
    return found


def patrols_of(session: Session, viewer: Actor, record_id: int, limit: int = 20) -> list[Visit]:
    """The patrols of one record the viewer may see, the newest first."""
    statement = (select(Visit).join(ThemeRecord, ThemeRecord.id == Visit.target_id)
                 .where(Visit.target_kind == TARGET_KIND, Visit.target_id == record_id)
                 .order_by(Visit.visited_at.desc(), Visit.id.desc()).limit(limit))
    return list(session.scalars(scope.restrict(statement, ThemeRecord, viewer)))


__all__ = ["FlaggedPatrol", "PatrolRefused", "PatrolTask", "RecentPatrol", "distance_m", "due_for_patrol",
           "flagged_patrols", "mark_patrolled", "overdue_counts", "patrol_distance", "patrol_form", "patrol_tasks",
           "patrols_of", "photos_of", "published_periods", "published_settings", "recent_patrols", "record_patrol"]
