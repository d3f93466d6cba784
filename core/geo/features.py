"""GeoJSON (RFC 7946: lon/lat, WGS84) of regions, grids and cases for maps and the API, within a viewer's scope.

Maps ask for a bounding box at a zoom level; the answer holds only what overlaps the box, at the level of detail
the zoom can show (large grids when the whole city is in view, small ones in a street), with outlines simplified
to about a pixel. Every geometry goes through `core.geojson` (winding, 7 decimals); outlines are cached per process
and rebuilt when the grids change. Each list is a page (`core.geojson.Page`) that says how many features matched.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from minqing.core import counters, scope
from minqing.core.clock import isoformat_local
from minqing.core.actors import Actor
from minqing.core.geo.geojson import GeometryCache, Page, collection
from minqing.core.geo.integrity import GRIDS_COUNTER
from minqing.core.models import Case, Grid, Region

BBox = tuple[float, float, float, float]
FINAL = ("closed", "voided")   # the statuses a case ends in; every other status is open


class BadBBox(ValueError):
    pass


def parse_bbox(text: str | None) -> BBox | None:
    """'min_lon,min_lat,max_lon,max_lat' → a tuple; a clear Chinese error for anything else."""
    if not text:
        return None
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise BadBBox("bbox 应为四个数字：最小经度,最小纬度,最大经度,最大纬度") from None
    if len(values) != 4:
        raise BadBBox("bbox 应为四个数字：最小经度,最小纬度,最大经度,最大纬度")
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise BadBBox("bbox 超出经纬度范围，或最小值大于最大值")
    return values  # type: ignore[return-value]


def grid_level_for_zoom(zoom: int) -> str:
    return "large" if zoom < 10 else ("medium" if zoom < 13 else "small")


def tolerance_for_zoom(zoom: int) -> float:
    """About one screen pixel in degrees at this zoom (256-pixel tiles)."""
    return 360.0 / (256 * 2 ** max(0, min(zoom, 20)))


def _overlaps(model, bbox: BBox):
    min_lon, min_lat, max_lon, max_lat = bbox
    return and_(model.max_lon >= min_lon, model.min_lon <= max_lon,
                model.max_lat >= min_lat, model.min_lat <= max_lat)


_outlines = GeometryCache()


def _paged(session: Session, statement, page: Page):
    """The rows of `statement` (a SELECT of columns) on `page`, and how many rows it matches in all. The count
    goes through the session (which flushes what is pending); the page's rows through Core, as plain rows (the
    ORM's row processing was about a tenth of a 10,000-case page's time in a profile)."""
    matched = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    return session.connection().execute(statement.offset(page.offset).limit(page.limit)).all(), matched


def feature_collection(features: Iterable[dict], *, matched: int | None = None) -> dict:
    return collection(features, matched=matched)


def grid_features(session: Session, viewer: Actor, *, bbox: BBox | None = None, zoom: int | None = None,
                  level: str | None = None, levels: Iterable[str] | None = None, page: Page = Page()) -> dict:
    """The grids the viewer may see, of the level the zoom shows (or `level`, or any of `levels`), overlapping
    `bbox`, one page of them (in id order) with the number that matched."""
    chosen = list(levels) if levels else [level or grid_level_for_zoom(zoom if zoom is not None else 14)]
    statement = select(Grid.id, Grid.code, Grid.name, Grid.level, Grid.colour, Grid.colour_reason,
                       Grid.region_code, Grid.dedicated, Grid.geometry).where(Grid.level.in_(chosen))
    if bbox:
        statement = statement.where(_overlaps(Grid, bbox))
    statement = scope.restrict(statement, Grid, viewer).order_by(Grid.id)
    generation = ("grids", counters.seen(session, GRIDS_COUNTER))
    rows, matched = _paged(session, statement, page)
    tolerance = tolerance_for_zoom(zoom) if zoom is not None else None
    features = [{"type": "Feature", "id": row.id,
                 "geometry": _outlines.get(generation, ("grid", row.id, zoom), row.geometry, tolerance),
                 "properties": {"code": row.code, "name": row.name, "level": row.level, "colour": row.colour,
                                "colour_reason": row.colour_reason, "region_code": row.region_code,
                                "dedicated": row.dedicated}} for row in rows]
    return feature_collection(features, matched=matched)


def region_features(session: Session, *, level: str | None = None, levels: Iterable[str] | None = None,
                    bbox: BBox | None = None, zoom: int | None = None, page: Page = Page()) -> dict:
    """Region outlines (the base map): public boundaries, the same for every viewer; one page of them."""
    chosen = list(levels) if levels else [level]
    statement = select(Region.id, Region.code, Region.name, Region.level, Region.geometry).where(
        Region.level.in_(chosen), Region.geometry.is_not(None))
    if bbox:
        statement = statement.where(_overlaps(Region, bbox))
    # region outlines change only with a region import, which moves the grids counter too (core/geo/integrity.py)
    generation = ("grids", counters.seen(session, GRIDS_COUNTER))
    rows, matched = _paged(session, statement.order_by(Region.id), page)
    tolerance = tolerance_for_zoom(zoom) if zoom is not None else None
    features = [{"type": "Feature", "id": row.id,
                 "geometry": _outlines.get(generation, ("region", row.id, zoom), row.geometry, tolerance),
                 "properties": {"code": row.code, "name": row.name, "level": row.level}} for row in rows]
    return feature_collection(features, matched=matched)


def open_or_recent(since: dt.datetime):
    """Cases still open, or reported since `since`: what a map of a city's year shows by default. Open is said as
    the partial index `ix_cases_open` says it, so PostgreSQL reads the open cases from that small index."""
    return or_(Case.status.not_in(FINAL), Case.created_at >= since)


def located_cases(statement, *, bbox: BBox | None = None, since: dt.datetime | None = None):
    """`statement` (over Case) narrowed to the cases with a location, in `bbox`, open or reported since `since`."""
    statement = statement.where(Case.lon.is_not(None))
    if bbox:
        min_lon, min_lat, max_lon, max_lat = bbox
        statement = statement.where(Case.lon.between(min_lon, max_lon), Case.lat.between(min_lat, max_lat))
    if since is not None:
        statement = statement.where(open_or_recent(since))
    return statement


# What a case's point shows (`case_point`, `case_properties`), read as columns.
CASE_COLUMNS = (Case.id, Case.title, Case.status, Case.theme_key, Case.urgency, Case.lon, Case.lat, Case.created_at,
                Case.state_deadline_at)


def case_rows(session: Session, viewer: Actor, *, bbox: BBox | None = None, page: Page = Page(),
              theme_key: str | None = None, since: dt.datetime | None = None):
    """The rows (`CASE_COLUMNS`) of the cases `case_features` shows on `page`, and how many matched in all.

    With `theme_key`, PostgreSQL reads both from the index `ix_cases_theme_newest` alone (migration 0039: the
    theme's cases newest first, with the columns of the scope, the box and the point)."""
    statement = located_cases(select(*CASE_COLUMNS), bbox=bbox, since=since)
    if theme_key is not None:
        statement = statement.where(Case.theme_key == theme_key)
    return _paged(session, scope.restrict(statement, Case, viewer).order_by(Case.id.desc()), page)


def case_point(row) -> dict:
    return {"type": "Point", "coordinates": [round(row.lon, 7), round(row.lat, 7)]}


def case_properties(row) -> dict:
    return {"title": row.title, "status": row.status, "theme": row.theme_key, "urgency": row.urgency,
            "created_at": isoformat_local(row.created_at),   # RFC 3339, city time, as every answer
            "deadline": isoformat_local(row.state_deadline_at)}


def case_features(session: Session, viewer: Actor, *, bbox: BBox | None = None, page: Page = Page(),
                  theme_key: str | None = None, since: dt.datetime | None = None) -> dict:
    """Cases with a location, as points coloured by status on the client, within the viewer's scope
    (only those of one theme with `theme_key`; with `since`, only those open or reported since then), newest
    first, one page of them."""
    rows, matched = case_rows(session, viewer, bbox=bbox, page=page, theme_key=theme_key, since=since)
    return feature_collection(({"type": "Feature", "id": row.id, "geometry": case_point(row),
                                "properties": case_properties(row)} for row in rows), matched=matched)
