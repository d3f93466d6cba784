"""热点 hotspots: where a period's cases of one category crowd together, and how that changed since the period
before.

Method (docs/briefs.md): the period's cases (reported in [start, end), within the viewer's scope, void cases and
merged duplicates left out, located ones only) are grouped by category; each category's points are projected to
metres (`space.py`) and clustered with DBSCAN (scikit-learn): a case with at least `min_cases` cases (itself
included) within `eps_m` metres is a core case, and a hotspot is a set of core cases reachable from each other
through such neighbourhoods, with the cases on their edge. Cases in no hotspot are noise and are not shown.

The parameters are settings (`settings_of`, stored as the `hotspots` setting, checked against `SCHEMA` and
recorded when changed); a brief can be asked for others (`minqing brief --eps-m --min-cases`).

Each current hotspot is matched to the nearest hotspot of the same category in the previous period whose centre
lies within `eps_m` plus both radii: unmatched it is **new**; matched, **grown** or **shrunk** when it has more or
fewer cases, **unchanged** otherwise; a previous hotspot no current one matched is **gone**.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import numpy as np
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from minqing.core import city, clock, scope, warning_rules
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import Case, CaseMilestone, Setting

from .space import Projection, projection_for

SETTING = "hotspots"
DEFAULTS = {"eps_m": 300, "min_cases": 5}
SCHEMA = {"type": "object", "additionalProperties": False, "required": ["eps_m", "min_cases"], "properties": {
    "eps_m": {"type": "integer", "minimum": 10, "maximum": 5000, "title": "邻域半径（米）"},
    "min_cases": {"type": "integer", "minimum": 2, "maximum": 500, "title": "最少事件数"}}}
MAX_CASES = 50_000        # per window, the newest: a bound on memory and time (DBSCAN's neighbourhoods)
UNCATEGORISED = "未分类"
CHANGES = {"new": "新出现", "grown": "扩大", "shrunk": "缩小", "unchanged": "持平", "gone": "消失"}


@dataclasses.dataclass(frozen=True)
class Hotspot:
    key: str                              # category and rank within it, e.g. "市容环境#1" (largest first)
    category: str
    case_ids: tuple[int, ...]
    lon: float                            # the centre (mean of the cases' points)
    lat: float
    radius_m: float                       # the farthest case from the centre
    outline: tuple[tuple[float, float], ...]   # lon, lat ring: the cases' convex hull widened by eps_m / 2

    @property
    def cases(self) -> int:
        return len(self.case_ids)


@dataclasses.dataclass(frozen=True)
class Change:
    status: str                           # new, grown, shrunk, unchanged, gone
    category: str
    current: Hotspot | None
    previous: Hotspot | None

    @property
    def title(self) -> str:
        return CHANGES[self.status]

    @property
    def hotspot(self) -> Hotspot:
        return self.current or self.previous


def settings_of(session: Session) -> dict:
    row = session.get(Setting, SETTING)
    return {**DEFAULTS, **(json.loads(row.value) if row is not None else {})}


def _as_rule() -> dict:
    return {"key": SETTING, "title": "热点识别", "settings": DEFAULTS, "schema": SCHEMA}


def validate_settings(values: dict) -> dict:
    """The full settings, or `warning_rules.SettingsInvalid` naming each bad field in Chinese (the same checks
    as an early-warning rule's settings)."""
    return warning_rules.validate_settings(_as_rule(), values)


def save_settings(session: Session, actor: Actor, values: dict) -> dict:
    merged = validate_settings(values)
    row = session.get(Setting, SETTING)
    before = json.loads(row.value) if row is not None else {}
    if row is None:
        row = Setting(name=SETTING, value="{}")
        session.add(row)
    row.value = json.dumps(merged, sort_keys=True)
    record_change(session, actor, "hotspots.settings", object_type="setting", object_id=SETTING,
                  summary="修改热点识别参数", details={"before": before, "after": merged})
    return merged


def located_cases(session: Session, viewer: Actor, start: dt.datetime, end: dt.datetime, limit: int = MAX_CASES):
    """(id, category, lon, lat) of the located cases reported in [start, end) the viewer may see, by id: the
    newest `limit` of them when there are more (a city's busy month holds more than `MAX_CASES`: the recent ones
    count, as in places.py).

    On PostgreSQL from indexes alone (0041): the window from ``ix_cases_created_at``, which carries the points and
    the scope's columns, the void cases left out through the small partial index of voided milestones."""
    voided = exists().where(CaseMilestone.case_id == Case.id, CaseMilestone.voided)
    statement = (select(Case.id, Case.category, Case.lon, Case.lat)
                 .where(Case.created_at >= start, Case.created_at < end, Case.lon.is_not(None),
                        Case.lat.is_not(None), Case.merged_into_id.is_(None), ~voided, Case.status != "voided")
                 .order_by(Case.id.desc()).limit(limit))
    return session.execute(scope.restrict(statement, Case, viewer)).all()[::-1]


def cluster(rows, *, eps_m: float, min_cases: int, projection: Projection | None = None) -> list[Hotspot]:
    """Hotspots of (id, category, lon, lat) rows, per category, the largest first within each category."""
    from sklearn.cluster import DBSCAN    # imported when clustering, not with the workflows package

    by_category: dict[str, list] = {}
    for row in rows:
        by_category.setdefault(row[1] or UNCATEGORISED, []).append(row)
    projection = projection or projection_for([row[2] for row in rows])
    found = []
    for category in sorted(by_category):
        members = by_category[category]
        if len(members) < min_cases:
            continue
        points = projection.forward([row[2] for row in members], [row[3] for row in members])
        labels = DBSCAN(eps=eps_m, min_samples=min_cases).fit_predict(points)
        groups = [np.flatnonzero(labels == label) for label in sorted(set(labels) - {-1})]
        groups.sort(key=lambda index: (-len(index), members[index[0]][0]))
        for rank, index in enumerate(groups, start=1):
            found.append(_hotspot(f"{category}#{rank}", category, [members[i] for i in index], points[index],
                                  eps_m, projection))
    return found


def _hotspot(key, category, members, points, eps_m, projection) -> Hotspot:
    centre = points.mean(axis=0)
    radius = float(np.max(np.hypot(*(points - centre).T)))
    from shapely.geometry import MultiPoint   # loaded when a hotspot is drawn, not with every command

    outline = MultiPoint([tuple(point) for point in points]).convex_hull.buffer(eps_m / 2, quad_segs=4)
    [(lon, lat)] = projection.inverse([centre])
    return Hotspot(key=key, category=category, case_ids=tuple(int(row[0]) for row in members), lon=lon, lat=lat,
                   radius_m=round(radius, 1), outline=tuple(projection.inverse(outline.exterior.coords)))


def hotspots(session: Session, viewer: Actor, start: dt.datetime, end: dt.datetime, *, eps_m: float,
             min_cases: int) -> list[Hotspot]:
    return cluster(located_cases(session, viewer, start, end), eps_m=eps_m, min_cases=min_cases)


def _distance_m(first: Hotspot, second: Hotspot) -> float:
    mean_lat = math.radians((first.lat + second.lat) / 2)
    dx = (first.lon - second.lon) * 111_320 * math.cos(mean_lat)
    return math.hypot(dx, (first.lat - second.lat) * 110_574)


def changes(current: list[Hotspot], previous: list[Hotspot], *, eps_m: float) -> list[Change]:
    """What changed since the previous period: each current hotspot matched (nearest first) to at most one of the
    previous period's of its category; the previous ones left over are gone."""
    pairs = sorted((_distance_m(now, then), index, other)
                   for index, now in enumerate(current) for other, then in enumerate(previous)
                   if now.category == then.category
                   and _distance_m(now, then) <= eps_m + now.radius_m + then.radius_m)
    matched: dict[int, int] = {}
    taken: set[int] = set()
    for _, index, other in pairs:
        if index not in matched and other not in taken:
            matched[index] = other
            taken.add(other)
    found = []
    for index, now in enumerate(current):
        then = previous[matched[index]] if index in matched else None
        if then is None:
            status = "new"
        else:
            status = "grown" if now.cases > then.cases else "shrunk" if now.cases < then.cases else "unchanged"
        found.append(Change(status, now.category, now, then))
    found += [Change("gone", then.category, None, then) for other, then in enumerate(previous) if other not in taken]
    return found


def features(found, *, computed_at: dt.datetime | None = None) -> list[dict]:
    """GeoJSON polygons of the current hotspots (and, dashed by the map's style, none of the gone ones), each
    saying when it was computed when `computed_at` is given (the map's layer keeps its answer a few minutes)."""
    stamp = f"；统计于 {city.local(computed_at):%m-%d %H:%M}" if computed_at is not None else ""
    shown = []
    for change in found:
        spot = change.current
        if spot is None:
            continue
        before = f"，上期 {change.previous.cases} 件" if change.previous else ""
        properties = {"kind": "hotspot", "title": f"热点：{spot.category}（{spot.cases} 件）",
                      "reason": f"{change.title}{before}；半径约 {spot.radius_m:.0f} 米{stamp}",
                      "category": spot.category, "cases": spot.cases, "change": change.status}
        if computed_at is not None:
            properties["computed_at"] = clock.isoformat_local(computed_at)
        shown.append({"type": "Feature", "id": f"hotspot:{spot.key}", "geometry": mapping_ring(spot.outline),
                      "properties": properties})
    return shown


def mapping_ring(ring) -> dict:
    return {"type": "Polygon", "coordinates": [[list(point) for point in ring]]}


__all__ = ["CHANGES", "Change", "DEFAULTS", "Hotspot", "SCHEMA", "changes", "cluster", "features", "hotspots",
           "located_cases", "save_settings", "settings_of", "validate_settings"]
