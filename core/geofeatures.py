"""GeoJSON (RFC 7946: lon/lat, WGS84) of regions, grids and cases for maps and the API, within a viewer's scope.

Maps ask for a bounding box at a zoom level; the answer holds only what overlaps the box, at the level of detail
the zoom can show (large grids when the whole city is in view, small ones in a street), with outlines simplified
to about a pixel. Simplified outlines are cached per process and rebuilt when the grids change.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable

import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from . import counters, scope
from .actors import Actor
from .integrity import GRIDS_COUNTER
from .models import Case, Grid, Region

BBox = tuple[float, float, float, float]
MAX_FEATURES = 5000


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


class _SimplifiedCache:
    """Simplified outlines by (grid id, zoom), dropped when the grids counter moves."""

    def __init__(self):
        self._lock = threading.Lock()
        self._generation = -1
        self._outlines: dict[tuple[int, int], dict] = {}

    def outline(self, generation: int, grid_id: int, zoom: int, geometry: dict) -> dict:
        key = (grid_id, zoom)
        with self._lock:
            if generation != self._generation:
                self._outlines, self._generation = {}, generation
            found = self._outlines.get(key)
        if found is None:
            found = mapping(shapely.simplify(shape(geometry), tolerance_for_zoom(zoom), preserve_topology=True))
            with self._lock:
                self._outlines[key] = found
        return found


_cache = _SimplifiedCache()


def feature_collection(features: Iterable[dict]) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def grid_features(session: Session, viewer: Actor, *, bbox: BBox | None = None, zoom: int | None = None,
                  level: str | None = None) -> dict:
    """The grids the viewer may see, of the level the zoom shows (or `level`), overlapping `bbox`."""
    level = level or grid_level_for_zoom(zoom if zoom is not None else 14)
    statement = select(Grid.id, Grid.code, Grid.name, Grid.level, Grid.colour, Grid.colour_reason,
                       Grid.region_code, Grid.dedicated, Grid.geometry).where(Grid.level == level)
    if bbox:
        statement = statement.where(_overlaps(Grid, bbox))
    statement = scope.restrict(statement, Grid, viewer).order_by(Grid.id).limit(MAX_FEATURES)
    generation = counters.value(session, GRIDS_COUNTER)
    features = []
    for row in session.execute(statement):
        geometry = row.geometry if zoom is None else _cache.outline(generation, row.id, zoom, row.geometry)
        features.append({"type": "Feature", "id": row.id, "geometry": geometry, "properties": {
            "code": row.code, "name": row.name, "level": row.level, "colour": row.colour,
            "colour_reason": row.colour_reason, "region_code": row.region_code, "dedicated": row.dedicated}})
    return feature_collection(features)


def region_features(session: Session, *, level: str, bbox: BBox | None = None, zoom: int | None = None) -> dict:
    """Region outlines (the base map): public boundaries, the same for every viewer."""
    statement = select(Region.id, Region.code, Region.name, Region.level, Region.geometry).where(
        Region.level == level, Region.geometry.is_not(None))
    if bbox:
        statement = statement.where(_overlaps(Region, bbox))
    features = []
    for row in session.execute(statement.order_by(Region.id).limit(MAX_FEATURES)):
        geometry = row.geometry
        if zoom is not None:
            geometry = mapping(shapely.simplify(shape(geometry), tolerance_for_zoom(zoom), preserve_topology=True))
        features.append({"type": "Feature", "id": row.id, "geometry": geometry,
                          "properties": {"code": row.code, "name": row.name, "level": row.level}})
    return feature_collection(features)


def case_features(session: Session, viewer: Actor, *, bbox: BBox | None = None, limit: int = MAX_FEATURES,
                  theme_key: str | None = None) -> dict:
    """Cases with a location, as points coloured by status on the client, within the viewer's scope
    (only those of one theme with `theme_key`)."""
    statement = select(Case.id, Case.title, Case.status, Case.theme_key, Case.urgency, Case.lon, Case.lat,
                       Case.created_at, Case.state_deadline_at).where(Case.lon.is_not(None))
    if theme_key is not None:
        statement = statement.where(Case.theme_key == theme_key)
    if bbox:
        min_lon, min_lat, max_lon, max_lat = bbox
        statement = statement.where(Case.lon.between(min_lon, max_lon), Case.lat.between(min_lat, max_lat))
    statement = scope.restrict(statement, Case, viewer).order_by(Case.id.desc()).limit(limit)
    return feature_collection({
        "type": "Feature", "id": row.id,
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": {"title": row.title, "status": row.status, "theme": row.theme_key, "urgency": row.urgency,
                       "created_at": row.created_at.isoformat(),
                       "deadline": row.state_deadline_at.isoformat() if row.state_deadline_at else None},
    } for row in session.execute(statement))
